"""Credential safety: credentials reach only base_url's origin and the token URL, and secret
values appear in no output or file of a run.

A second loopback server (`RecordingServer`) stands for "another origin" and records everything
it receives; each secret value is then looked for in it, and in every output and file of full
runs (logs at every level, JSON logs, errors, LoadInfo, progress, `restsync check`, the tables,
the staging files)."""

from __future__ import annotations

import http.server
import io
import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from rich.console import Console

from restsync.connectors import connector_config
from restsync.extract._source import RestApiSource
from restsync.sandbox import RecordingServer, SandboxOptions

from .conftest import CONNECTORS, LONG, Figures, fast_config, make_pipeline, run_cli, run_config


def _secret_values(sb: Any) -> dict[str, str]:
    values = {f"secret {k}": v for k, v in sb.secrets.items() if k != "token_url"}
    for i, token in enumerate(getattr(sb.app, "_tokens", {})):
        values[f"issued token {i}"] = token
    return values


def _received_text(other: RecordingServer) -> str:
    return "\n".join(
        f"{r.method} {r.path} {r.query} {r.headers} {r.body!r}" for r in other.received
    )


def _assert_clean(where: str, text: str, secrets: dict[str, str], figures: Figures) -> None:
    for label, value in secrets.items():
        figures.add("secret searches (value x output or file)", 1)
        leaked = value in text
        figures.add("secrets leaked", int(leaked))
        assert not leaked, f"{label} found in {where}"


@pytest.fixture
def other() -> Iterator[RecordingServer]:
    with RecordingServer(json_body={"data": [], "pagination": {"hasNextPage": False}}) as srv:
        yield srv


# ------------------------------------------------------------------ where credentials go


def test_cross_origin_next_page_is_refused_and_sends_nothing(
    tmp_path: Path, sandbox: Any, other: RecordingServer, figures: Figures
) -> None:
    sb = sandbox("commerce", records=120)
    sb.faults = sb.faults.with_changes(cross_origin_next=other.origin)
    info = run_config(tmp_path, "commerce", fast_config("commerce", sb.base_url))
    assert set(info.failed_resources) == set(sb.resources())
    error = info.failed_resources["inventory"]
    assert "the next page is on another origin" in error, error
    assert "allow_cross_origin_pagination" in error
    assert other.received == []
    _assert_clean("errors", json.dumps(info.to_dict(), default=str), _secret_values(sb), figures)


def test_cross_origin_next_page_when_allowed_goes_without_credentials(
    tmp_path: Path, sandbox: Any, other: RecordingServer, figures: Figures
) -> None:
    sb = sandbox("commerce", records=120)
    sb.faults = sb.faults.with_changes(cross_origin_next=other.origin)
    config = fast_config("commerce", sb.base_url, client={"allow_cross_origin_pagination": True})
    run_config(tmp_path, "commerce", config)
    assert len(other.received) >= 6  # every resource's second page went there
    for r in other.received:
        assert "authorization" not in r.headers
    _assert_clean("the other origin", _received_text(other), _secret_values(sb), figures)


@pytest.mark.parametrize("name", ["fulfillment", "inventory", "orders"])
def test_redirect_to_another_host_drops_credentials(
    tmp_path: Path, sandbox: Any, other: RecordingServer, figures: Figures, name: str
) -> None:
    sb = sandbox(name, records=30)
    config = fast_config(name, sb.base_url)
    first = config["resources"][0]["name"]
    path = str(sb.url(first))[len(sb.origin) :]
    sb.front.rules[path] = [f"redirect:{other.origin}/landing"]
    run_config(tmp_path, name, config)
    assert other.received, "the redirect was not followed"
    for r in other.received:
        assert "authorization" not in r.headers
        assert "api_key" not in r.query
    _assert_clean("the redirect target", _received_text(other), _secret_values(sb), figures)


def test_child_urls_built_from_response_data_get_no_credentials(
    tmp_path: Path, sandbox: Any, other: RecordingServer, figures: Figures
) -> None:
    sb = sandbox("inventory", records=5)
    config = connector_config("inventory", base_url=sb.base_url, incremental=False)
    customers = next(r for r in config["resources"] if r["name"] == "customers")
    customers["processing_steps"] = [
        {"map": lambda rec: {**rec, "profile_url": f"{other.origin}/profiles/{rec['id']}"}}
    ]
    child = {
        "name": "profiles",
        "primary_key": "id",
        "endpoint": {"path": "{resources.customers.profile_url}", "data_selector": "data"},
    }
    config["resources"] = [customers, child]
    info = run_config(tmp_path, "inventory", config)
    assert len(other.received) == 5, info
    for r in other.received:
        assert "authorization" not in r.headers
    _assert_clean("the child URLs' host", _received_text(other), _secret_values(sb), figures)


def test_oauth2_secret_goes_only_to_the_token_url(
    tmp_path: Path, sandbox: Any, figures: Figures
) -> None:
    sb = sandbox("orders", records=450)
    info = run_config(tmp_path, "orders", fast_config("orders", sb.base_url))
    assert not info.failed_resources
    token_path = sb.secrets["token_url"][len(sb.origin) :]
    api = [e for e in sb.requests if e.path != token_path]
    token = [e for e in sb.requests if e.path == token_path]
    assert token
    assert api
    text = "\n".join(f"{e.path} {e.query} {e.headers} {e.body!r}" for e in api)
    secret = sb.secrets["client_secret"]
    figures.add("secret searches (value x output or file)", 1)
    figures.add("secrets leaked", int(secret in text))
    assert secret not in text


# ------------------------------------------------------------------ no secret in any output


def _grep_files(root: Path) -> str:
    chunks = []
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix not in {".duckdb", ".wal"}:
            chunks.append(f"== {f}\n" + f.read_bytes().decode("utf-8", "replace"))
    return "\n".join(chunks)


def _duckdb_text(db: Path) -> str:
    """Every value of every table (bookkeeping included), as text."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
        out = [repr(con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall()) for s, t in tables]
    finally:
        con.close()
    return "\n".join(out) + db.read_bytes().decode("latin-1")


#: query key and OAuth2 in the short form; all five (bearer too) with RESTSYNC_LONG=1
GREP_CONNECTORS = CONNECTORS if LONG else ("fulfillment", "orders")


@pytest.mark.parametrize("name", GREP_CONNECTORS)
def test_no_secret_in_any_output_or_file_of_a_full_run(
    tmp_path: Path, sandbox: Any, figures: Figures, name: str
) -> None:
    sb = sandbox(name, records=60, options=SandboxOptions(forbidden_resources=()))
    db = tmp_path / f"{name}.duckdb"
    env = sb.env()
    outputs: dict[str, str] = {}

    def cli(label: str, *args: str) -> subprocess.CompletedProcess[str]:
        done = run_cli(tmp_path, list(args), env)
        outputs[label] = done.stdout + "\n" + done.stderr
        return done

    dest = ["--destination", f"duckdb:///{db}", "--base-url", sb.base_url]
    assert cli("run -vv", "-vv", "run", name, *dest).returncode == 0, outputs["run -vv"][-2000:]
    assert (
        cli(
            "run --json-logs -vv --json", "-vv", "--json-logs", "run", name, *dest, "--json"
        ).returncode
        == 0
    )
    cli("check --probe", "-vv", "check", name, "--probe", "--base-url", sb.base_url)
    cli("show", "show", "--pipeline", name, "--destination", f"duckdb:///{db}")
    # a run killed after staging keeps its staging files for the grep
    killed = run_cli(
        tmp_path, ["-vv", "run", name, *dest], {**env, "RESTSYNC_KILL_AT": "stage_complete:1"}
    )
    outputs["killed run"] = killed.stdout + killed.stderr
    staged = list((tmp_path / ".restsync").rglob("*"))
    assert any(p.is_file() for p in staged), "no staging files left to inspect"
    # errors: a refused resource, and a wrong credential
    sb.options.forbidden_resources = (next(iter(sb.resources())),)
    failed = cli("run with a 403", "-vv", "run", name, *dest)
    assert failed.returncode == 1, outputs["run with a 403"][-2000:]
    sb.options.forbidden_resources = ()
    # progress display, LoadInfo, exceptions: through the library
    console_out = io.StringIO()
    from restsync.cli.progress import RichProgress

    progress = RichProgress(Console(file=console_out, force_terminal=True, width=200))
    info = make_pipeline(tmp_path / "lib", name).run(
        RestApiSource(connector_config(name, base_url=sb.base_url), name=name), progress=progress
    )
    outputs["progress"] = console_out.getvalue()
    outputs["LoadInfo"] = str(info) + info.to_json() + repr(info)
    secrets = _secret_values(sb)
    for label, text in outputs.items():
        _assert_clean(label, text, secrets, figures)
    _assert_clean("files under the working directory", _grep_files(tmp_path), secrets, figures)
    _assert_clean("the destination's tables", _duckdb_text(db), secrets, figures)
    # a wrong credential is a secret too: not in the 401 message
    wrong = {
        k: v + "-WRONG-0123456789" for k, v in env.items() if k in {"API_KEY", "CLIENT_SECRET"}
    }
    bad = run_cli(tmp_path, ["-vv", "run", name, *dest], {**env, **wrong})
    assert bad.returncode == 1, (bad.stdout + bad.stderr)[-2000:]
    _assert_clean(
        "a 401 error", bad.stdout + bad.stderr, {f"wrong {k}": v for k, v in wrong.items()}, figures
    )


# ------------------------------------------------------------------ TLS


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"data": []}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_tls_verification_is_on_by_default(tmp_path: Path, figures: Figures) -> None:
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        config = {
            "client": {"base_url": url, "auth": {"type": "bearer", "token": "tls-token-123456"}},
            "resources": [
                {
                    "name": "items",
                    "endpoint": {
                        "path": "/items",
                        "paginator": "single_page",
                        "error_handler": {"max_retries": 0},
                    },
                }
            ],
        }
        info = run_config(tmp_path, "tls", config)
    finally:
        server.shutdown()
        server.server_close()
    error = info.failed_resources.get("items", "")
    assert "CERTIFICATE_VERIFY_FAILED" in error or "certificate verify failed" in error, str(info)
    figures.add("TLS: self-signed certificate refused", 1)
