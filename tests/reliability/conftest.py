"""Reliability fixtures: sandboxes with extra per-path faults, pipelines, snapshots, figures.

Every test that injects something (a fault, a kill, a bad input, a secret to look for) records
it with `figures.add(category, n)`; the counts are appended to `FIGURES_FILE` (one JSON line
per record, each xdist worker appending) and summed at the end of the session, so the numbers
in docs/RELIABILITY.md are the ones a run actually produced.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest

from restsync.connectors import connector_config
from restsync.extract._incremental import parse_instant
from restsync.extract._source import RestApiSource
from restsync.pipeline import Pipeline
from restsync.sandbox import Faults, Sandbox, SandboxOptions
from restsync.sandbox.app import Receive, Scope, Send
from restsync.sandbox.server import LOOPBACK, _ServerThread

_HERE = Path(__file__).parent
ROOT = _HERE.parents[1]
LONG = bool(os.environ.get("RESTSYNC_LONG"))
CONNECTORS = ("fulfillment", "ecommerce", "orders", "commerce", "inventory")
FIGURES_DIR = ROOT / ".pytest_cache" / "reliability"
#: One file per test run: the xdist run id (shared by the workers), else this process's.
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"{int(time.time())}-{os.getpid()}"
FIGURES_FILE = Path(os.environ.get("RESTSYNC_FIGURES_FILE") or FIGURES_DIR / f"{RUN_ID}.jsonl")
_STARTED = time.time()


# --------------------------------------------------------------------------- figures


class Figures:
    """Counts of what a test injected and survived, appended to FIGURES_FILE."""

    def __init__(self, test: str) -> None:
        self.test = test

    def add(self, category: str, n: int = 1) -> None:
        FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"test": self.test, "category": category, "n": n})
        with FIGURES_FILE.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    return Figures(request.node.nodeid)


# --------------------------------------------------------------------------- postgres


# --------------------------------------------------------------------------- sandboxes


class PathFaults:
    """Extra faults in front of a sandbox app, per path: `{path: [kind, ...]}` consumed in order
    (one per request to that path), or `{path: kind}` for every request. Kinds: a status
    (`503`, `429`: answered with a JSON error; `Retry-After: 0` on 429), `"sleep:S"` (wait S
    seconds, then answer normally: a timeout for a client with a shorter one), `"redirect:URL"`
    (302 to URL, the request's query string appended)."""

    def __init__(self, app: Any, rules: Mapping[str, Any]) -> None:
        self.app = app
        self.rules: dict[str, Any] = {
            k: (list(v) if isinstance(v, list) else v) for k, v in rules.items()
        }
        self.injected = 0
        #: every request that reached the front: (path, query string) -> how many times
        self.sent: Counter[tuple[str, bytes]] = Counter()

    def _next(self, path: str) -> Any:
        rule = self.rules.get(path)
        if isinstance(rule, list):
            return rule.pop(0) if rule else None
        return rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.sent[(scope.get("path", ""), scope.get("query_string", b""))] += 1
        kind = self._next(scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        self.injected += 1
        if isinstance(kind, str) and kind.startswith("sleep:"):
            await asyncio.sleep(float(kind.split(":", 1)[1]))
            await self.app(scope, receive, send)
            return
        if isinstance(kind, str) and kind.startswith("redirect:"):
            target = kind.split(":", 1)[1].encode() + b"?" + scope.get("query_string", b"")
            head = [(b"location", target), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 302, "headers": head})
            await send({"type": "http.response.body", "body": b""})
            return
        status = int(kind)
        body = json.dumps({"error": "injected", "status": status}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 429:
            headers.append((b"retry-after", b"0"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class FaultSandbox(Sandbox):
    """A `Sandbox` with `PathFaults` in front of it (the sandbox's own switches still apply)."""

    def __init__(
        self,
        name: str,
        records: int | dict[str, int] | None = None,
        options: SandboxOptions | None = None,
        faults: Faults | None = None,
        *,
        path_faults: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(name, records, options, faults)
        self.front = PathFaults(self.app, path_faults or {})

    def start(self) -> Sandbox:
        if self._server is None:
            server = _ServerThread(self.front, self._port)
            self.app.origin = f"http://{LOOPBACK}:{server.port}"
            server.start()
            self._server = server
        return self


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`sandbox(name, records=..., faults=..., path_faults=...)`: started, secrets in the env."""
    started: list[Sandbox] = []

    def start(name: str, **kwargs: Any) -> FaultSandbox:
        sb = FaultSandbox(name, **kwargs)
        sb.start()
        started.append(sb)
        for k, v in sb.env().items():
            monkeypatch.setenv(k, v)
        return sb

    yield start
    for sb in started:
        sb.stop()


# --------------------------------------------------------------------------- running


def fast_config(
    name: str,
    base_url: str,
    *,
    backoff: float = 0.05,
    max_retries: int = 3,
    incremental: bool = True,
    client: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The connector's config with a short backoff (same retry count as the seeds: 3), so
    fault runs take seconds; the retry logic is the same, only the wait is shorter."""
    config = connector_config(name, base_url=base_url, incremental=incremental)
    for res in config["resources"]:
        eh = dict(res["endpoint"].get("error_handler") or {})
        eh.update({"backoff_factor": backoff, "max_retries": max_retries})
        res["endpoint"]["error_handler"] = eh
    if client:
        config["client"].update(client)
    return config


def make_pipeline(tmp_path: Path, name: str, destination: str | None = None) -> Pipeline:
    dest = destination or f"duckdb:///{tmp_path / (name + '.duckdb')}"
    return Pipeline(name, dest, f"{name}_data", pipelines_dir=tmp_path / "pipelines")


def run_config(tmp_path: Path, name: str, config: dict[str, Any], **kwargs: Any) -> Any:
    dest = kwargs.pop("destination", None)
    return make_pipeline(tmp_path, name, dest).run(RestApiSource(config, name=name), **kwargs)


def snapshot(db: Path, dataset: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows (load ids left out), sorted, for equality checks."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                "AND table_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY 1",
                [dataset],
            ).fetchall()
        ]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for n in names:
            cols = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY column_name",
                    [dataset, n],
                ).fetchall()
                if r[0] != "_dlt_load_id"
            ]
            sel = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f'SELECT {sel} FROM "{dataset}"."{n}"').fetchall()
            out[n] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def state_rows(db: Path, dataset: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            f'SELECT resource, state FROM "{dataset}"."_restsync_state" ORDER BY resource'
        ).fetchall()
    finally:
        con.close()


def run_cli(
    cwd: Path,
    args: list[str],
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m restsync.cli.main ARGS` in `cwd`, with `env` added to a clean environment."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"RESTSYNC_KILL_AT", "API_KEY", "CLIENT_ID", "CLIENT_SECRET", "TOKEN_URL"}
        and not k.startswith("SOURCES__")
    }
    base.update(env or {})
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "restsync.cli.main", *args],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    done.duration = time.monotonic() - started  # type: ignore[attr-defined]
    return done


class PagesServer:
    """A loopback API serving `pages` (a list of bodies or record lists) by `?page=N` (1-based);
    a record list is wrapped as `{"data": [...], "total_pages": len(pages)}`; `raw` bodies
    (bytes) are served as they are, with `content_type` and the extra `headers`."""

    def __init__(
        self,
        pages: list[Any],
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.pages = pages
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.requests: list[dict[str, Any]] = []
        self._server: _ServerThread | None = None

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        from urllib.parse import parse_qsl

        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.requests.append({"path": scope["path"], "query": query, "headers": headers})
        n = int(query.get("page", "1") or 1)
        page = self.pages[n - 1] if 1 <= n <= len(self.pages) else []
        if isinstance(page, bytes):
            body = page
        elif isinstance(page, list):
            body = json.dumps({"data": page, "total_pages": len(self.pages)}).encode()
        else:
            body = json.dumps(page).encode()
        head = [
            (b"content-type", self.content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            *((k.encode(), v.encode()) for k, v in self.headers.items()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": body})

    def __enter__(self) -> PagesServer:
        self._server = _ServerThread(self._app, 0)
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://{LOOPBACK}:{self._server.port}"

    def config(self, **resource: Any) -> dict[str, Any]:
        """A one-resource config (`items`, page-number pagination) for this server."""
        endpoint = {
            "path": "/items",
            "data_selector": "data",
            "paginator": {"type": "page_number", "total_path": "total_pages"},
            "error_handler": {"max_retries": 1, "backoff_factor": 0.01},
            **resource.pop("endpoint", {}),
        }
        return {
            "client": {"base_url": self.base_url},
            "resources": [{"name": "items", "endpoint": endpoint, **resource}],
        }


class Reader:
    """Tables and state of a dataset, in DuckDB or Postgres."""

    def __init__(self, dest: str, dataset: str) -> None:
        self.dest = dest
        self.dataset = dataset

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        if self.dest.startswith("duckdb"):
            return snapshot(Path(self.dest.removeprefix("duckdb:///")), self.dataset)
        import psycopg

        out: dict[str, list[tuple[Any, ...]]] = {}
        with psycopg.connect(self.dest) as con:
            names = [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                    "AND table_name NOT LIKE '\\_%%' ORDER BY 1",
                    [self.dataset],
                ).fetchall()
            ]
            for n in names:
                cols = [
                    r[0]
                    for r in con.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema"
                        " = %s AND table_name = %s ORDER BY column_name",
                        [self.dataset, n],
                    ).fetchall()
                    if r[0] != "_dlt_load_id"
                ]
                sel = ", ".join(f'"{c}"' for c in cols)
                rows = con.execute(f'SELECT {sel} FROM "{self.dataset}"."{n}"').fetchall()
                out[n] = sorted(rows, key=repr)
        return out

    def _query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.dest.startswith("duckdb"):
            path = self.dest.removeprefix("duckdb:///")
            if not Path(path).exists():
                return []
            con = duckdb.connect(path, read_only=True)
            try:
                return con.execute(sql).fetchall()
            except duckdb.CatalogException:
                return []
            finally:
                con.close()
        import psycopg

        with psycopg.connect(self.dest) as con:
            try:
                return con.execute(sql).fetchall()  # type: ignore[arg-type]
            except psycopg.errors.UndefinedTable:
                return []

    def state(self) -> dict[str, Any]:
        import json

        rows = self._query(f'SELECT resource, state FROM "{self.dataset}"."_restsync_state"')
        return {r: (json.loads(s) if isinstance(s, str) else s) for r, s in rows}

    def assert_state_within_data(self) -> int:
        """Every stored cursor is at most the largest cursor value loaded in its table."""
        checked = 0
        for resource, st in self.state().items():
            col = st.get("cursor_path")
            last = parse_instant(st.get("last_value"))
            if not col or last is None:
                continue
            rows = self._query(f'SELECT max("{col}") FROM "{self.dataset}"."{resource}"')
            loaded = parse_instant(rows[0][0]) if rows else None
            assert loaded is not None, f"state of {resource} points at {last}, its table is empty"
            assert last <= loaded, f"state of {resource} ({last}) is past its data ({loaded})"
            checked += 1
        return checked
