"""json-server (npm, installed once into a cache folder; skipped when npm or the registry is
not reachable) serving a db.json this module writes: `_page`/`_limit` pagination with a
`Link` header and `X-Total-Count`, synced with explicit paginators and with auto-detection,
and an incremental second run after records change through json-server's own API (PUT and
POST: no restart, so the second run never meets a server that is reloading)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Runner, Server, free_port, serve, start_server
from .data import assert_exact, item, items

VERSION = "0.17.4"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "restsync-tests" / "npm"
N_ITEMS = 240
N_EVENTS = 100


def _json_server_bin() -> Path:
    """json-server's entry point, installed into CACHE on first use (under a lock)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm are not installed")
    prefix = CACHE / f"json-server-{VERSION}"
    entry = prefix / "node_modules" / "json-server" / "lib" / "cli" / "bin.js"
    prefix.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not entry.exists():
            try:
                done = subprocess.run(
                    [
                        "npm",
                        "install",
                        "--prefix",
                        str(prefix),
                        "--no-audit",
                        "--no-fund",
                        "--prefer-offline",  # npm's own cache first
                        "--fetch-retries=1",
                        "--fetch-retry-mintimeout=2000",
                        "--fetch-retry-maxtimeout=5000",
                        "--fetch-timeout=30000",
                        f"json-server@{VERSION}",
                    ],
                    capture_output=True,
                    timeout=120,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                pytest.skip("npm install json-server timed out (registry unreachable?)")
            if done.returncode != 0 or not entry.exists():
                tail = done.stderr.decode(errors="replace")[-500:]
                pytest.skip(f"npm install json-server failed (registry unreachable?): {tail}")
    return entry


@pytest.fixture(scope="module")
def json_server(module_dir: Path) -> Iterator[tuple[Server, Path]]:
    entry = _json_server_bin()
    db = module_dir / "db.json"
    db.write_text(json.dumps({"items": items(N_ITEMS), "events": items(N_EVENTS)}))
    port = free_port()
    server = start_server(
        "json-server",
        # no --watch: a change of db.json would make json-server close its port and reload
        # (connection refused meanwhile, and a second change event during the reload may
        # start it twice); the data changes through its API instead
        ["node", str(entry), str(db), "--host", "127.0.0.1", "--port", str(port)],
        port=port,
        ready_path="/items?_page=1&_limit=1",
        log_dir=module_dir,
    )
    for running in serve(server):
        yield running, db


def _config(url: str, path: str, **endpoint: Any) -> dict[str, Any]:
    return {
        "client": {"base_url": url},
        "resources": [
            {
                "name": path,
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {"path": path, **endpoint},
            }
        ],
    }


EXPLICIT: dict[str, dict[str, Any]] = {
    "header_link": {
        "params": {"_page": 1, "_limit": 35},
        "paginator": {"type": "header_link"},
    },
    "page_number": {
        "paginator": {
            "type": "page_number",
            "base_page": 1,
            "page_param": "_page",
            "limit_param": "_limit",
            "limit": 35,
            "total_path": None,
        },
    },
}


@pytest.mark.parametrize("case", sorted(EXPLICIT))
def test_explicit(case: str, json_server: tuple[Server, Path], runner: Runner) -> None:
    server, _ = json_server
    synced = runner.run(f"js_{case}", _config(server.url, "items", **EXPLICIT[case]))
    assert_exact(synced.db, synced.dataset, "items", items(N_ITEMS))


def test_auto_detected(json_server: tuple[Server, Path], runner: Runner) -> None:
    """No paginator: the first page (asked with `_page=1&_limit=35`) has a Link header."""
    server, _ = json_server
    config = _config(server.url, "items", params={"_page": 1, "_limit": 35})
    synced = runner.run("js_auto", config)
    assert synced.info.resources["items"].pages >= N_ITEMS // 35
    assert_exact(synced.db, synced.dataset, "items", items(N_ITEMS))


def test_incremental_second_run(json_server: tuple[Server, Path], runner: Runner) -> None:
    """json-server filters with `version_gte` (it has no strict `_gt`); the second run asks
    from the stored cursor on, and the merge keeps one row per id."""
    server, _ = json_server
    config = _config(
        server.url,
        "events",
        params={"_page": 1, "_limit": 30},
        paginator={"type": "header_link"},
        incremental={"cursor_path": "version", "start_param": "version_gte", "initial_value": 1},
    )
    first = runner.run("js_incremental", config)
    served = {r["id"]: r for r in items(N_EVENTS)}
    assert_exact(first.db, first.dataset, "events", list(served.values()))

    changed = [item(i, version=2, name=f"renamed {i}") for i in range(4, N_EVENTS, 7)]
    added = [item(i, version=2) for i in range(N_EVENTS + 1, N_EVENTS + 26)]
    served.update({r["id"]: r for r in changed + added})
    with httpx.Client(base_url=server.url, timeout=10) as api:
        for record in changed:  # PUT replaces the whole record
            answer = api.put(f"/events/{record['id']}", json=record)
            assert answer.status_code == 200, answer.text
        for record in added:
            answer = api.post("/events", json=record)
            assert answer.status_code == 201, answer.text
        assert api.get("/events", params={"_limit": 1000}).json() == list(served.values())

    second = runner.run("js_incremental", config)
    assert second.info.resources["events"].records == len(changed) + len(added)
    assert_exact(second.db, second.dataset, "events", list(served.values()))
