"""Running sandbox APIs: in a thread (`Sandbox`), in a process (`Sandbox.start_process`), or in
the foreground (`serve_forever`); plus `RecordingServer`, a loopback catch-all that records."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson

try:
    import uvicorn
except ImportError as exc:
    raise ImportError(
        "restsync.sandbox needs the sandbox extra: pip install 'restsync[sandbox]'"
    ) from exc

from restsync.sandbox.apis import APIS
from restsync.sandbox.app import TOKEN_PATH, LoggedRequest, Receive, SandboxApp, Scope, Send
from restsync.sandbox.options import Faults, SandboxOptions, parse_faults
from restsync.sandbox.records import Record

LOOPBACK = "127.0.0.1"
ASGIApp = Callable[[Scope, Receive, Send], Any]


class _ServerThread:
    """uvicorn (httptools) serving an ASGI app on a loopback socket, in a daemon thread."""

    def __init__(self, app: ASGIApp, port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((LOOPBACK, port))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            http="httptools",
            interface="asgi3",
            loop="asyncio",
            lifespan="off",
            log_config=None,
            log_level="critical",
            access_log=False,
            timeout_keep_alive=30,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"restsync-sandbox:{self.port}", daemon=True
        )
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # pragma: no cover - surfaced by start()
            self._error = exc

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"sandbox server did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox server did not start within 10 s")
            time.sleep(0.002)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


def _secrets(app: SandboxApp, origin: str) -> dict[str, str]:
    if app.spec.auth == "oauth2":
        return {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "token_url": origin + TOKEN_PATH,
        }
    return {"api_key": app.api_key}


def _env(secrets: dict[str, str]) -> dict[str, str]:
    return {key.upper(): value for key, value in secrets.items()}


class Sandbox:
    """One seed's API on 127.0.0.1 (an ephemeral port), served from a thread.

    ```python
    with Sandbox("inventory", records=120) as sb:
        r = httpx.get(sb.url("customers"), params={"page": 1, "limit": 50},
                      headers={"Authorization": f"Bearer {sb.secrets['api_key']}"})
        assert r.json()["data"] == sb.expected("customers")[:50]
    ```
    `records` is a count per resource or a dict resource -> count; the API's defaults otherwise.
    """

    def __init__(
        self,
        name: str,
        records: int | dict[str, int] | None = None,
        options: SandboxOptions | None = None,
        faults: Faults | None = None,
        *,
        port: int = 0,
        lazy: bool = False,
    ) -> None:
        self.name = name
        # lazy: each resource's records are generated on first use, not before serving
        self.app = SandboxApp(name, records, options, faults, lazy=lazy)
        self._port = port
        self._server: _ServerThread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        """Start serving (idempotent); returns self."""
        if self._server is None:
            server = _ServerThread(self.app, self._port)
            self.app.origin = f"http://{LOOPBACK}:{server.port}"
            server.start()
            self._server = server
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @classmethod
    def start_process(
        cls,
        name: str,
        records: int | dict[str, int] | None = None,
        options: SandboxOptions | None = None,
        faults: Faults | None = None,
        *,
        port: int = 0,
    ) -> SandboxProcess:
        """The same API served by a separate Python process (for benchmarks and the demo)."""
        return SandboxProcess.start(name, records, options, faults, port=port)

    # ------------------------------------------------------------------ facts

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:PORT`."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started; use `with Sandbox(...)` or .start()")
        return self.app.origin

    @property
    def port(self) -> int:
        """The port served on."""
        return int(self.origin.rsplit(":", 1)[1])

    @property
    def base_url(self) -> str:
        """The seed's `client.base_url` for this sandbox (commerce: ending in `/1.0/`)."""
        return self.origin + self.app.spec.base_path

    @property
    def secrets(self) -> dict[str, str]:
        """The credentials, keyed as the seed's `secrets[...]` names them."""
        return _secrets(self.app, self.origin)

    def env(self) -> dict[str, str]:
        """The credentials as env variables: API_KEY, or CLIENT_ID, CLIENT_SECRET, TOKEN_URL."""
        return _env(self.secrets)

    @property
    def restricted_credential(self) -> str:
        """A key/token the API knows but that may not read: answered with 403 (not for orders;
        there ask the token endpoint for a scope without `orders:read`)."""
        return self.app.restricted_key

    def resources(self) -> dict[str, str]:
        """Seed resource name -> path as the seed writes it (relative to `base_url`)."""
        return {res.name: res.seed_path for res in self.app.spec.resources}

    def url(self, resource: str) -> str:
        """The absolute URL of a resource."""
        return self.origin + self.app.spec.resource(resource).path

    def config(self) -> dict[str, Any]:
        """The seed's config dict pointed at this sandbox, with the secrets filled in."""
        return seed_config(self.name, self.base_url, self.secrets)

    def expected(self, resource: str) -> list[Record]:
        """Every record the API currently holds for `resource`, as served (in serving order)."""
        return self.app.stores[self.app.spec.resource(resource).name].records()

    def expected_since(self, resource: str, since: str) -> list[Record]:
        """The records a modified-since filter of `since` returns."""
        from restsync.sandbox.store import parse_instant

        store = self.app.stores[self.app.spec.resource(resource).name]
        return list(orjson.loads(orjson.dumps(store.matching(parse_instant(since)))))

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request seen so far (token requests included), oldest first."""
        return list(self.app.log)

    def requests_to(self, resource: str) -> list[LoggedRequest]:
        """The requests that addressed `resource`."""
        return [entry for entry in self.app.log if entry.resource == resource]

    def clear_requests(self) -> None:
        """Forget the request log and the counters."""
        self.app.log.clear()
        self.app.stats.clear()

    @property
    def stats(self) -> dict[str, int]:
        """Counters: requests, token_requests, status_<code>, fault_<kind>, rate_limited."""
        return dict(self.app.stats)

    @property
    def count_429(self) -> int:
        """How many 429 responses were sent (injected and rate-limited)."""
        return self.app.stats["status_429"]

    # ------------------------------------------------------------------ switches

    @property
    def faults(self) -> Faults:
        """The faults in force; assign to switch them (request numbering restarts at 1)."""
        return self.app.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.app.faults = value

    @property
    def options(self) -> SandboxOptions:
        """The options in force (max_page_size, clamp, send_total, ... may be changed live)."""
        return self.app.options

    def mutate(
        self, resource: str | None = None, updates: int = 0, inserts: int = 0
    ) -> dict[str, tuple[list[Any], list[Any]]]:
        """Change `updates` records and add `inserts` in `resource` (every resource when None).

        Changed and new records get a cursor (`updated_at`, `last_modified_date`, `modifiedOn`)
        past every existing one. Deterministic. Returns resource -> (updated keys, inserted keys).
        """
        names = (
            [resource] if resource is not None else [res.name for res in self.app.spec.resources]
        )
        out: dict[str, tuple[list[Any], list[Any]]] = {}
        for name in names:
            store = self.app.stores[self.app.spec.resource(name).name]
            out[name] = store.mutate(updates, inserts)
        return out

    def expire_tokens(self) -> None:
        """orders: make every issued token expired now (the next use answers 401)."""
        self.app.expire_tokens()


def seed_config(name: str, base_url: str, secrets: dict[str, str]) -> dict[str, Any]:
    """The seed's rest_api config for API `name`, with `base_url` and the secrets filled in."""
    spec = APIS[name]
    auth: dict[str, Any]
    if spec.auth == "query_key":
        auth = {
            "type": "api_key",
            "name": "api_key",
            "api_key": secrets["api_key"],
            "location": "query",
        }
    elif spec.auth == "bearer":
        auth = {"type": "bearer", "token": secrets["api_key"]}
    else:
        auth = {"type": "oauth2", **secrets}
    resources: list[dict[str, Any]] = []
    for res in spec.resources:
        paginator: dict[str, Any]
        if spec.pagination == "offset":
            paginator = {"type": "offset", "limit": 200 if name == "orders" else 100}
            if name == "orders":
                paginator["offset_param"] = "offset"
        elif spec.pagination == "page_number":
            limit = 100 if name == "bench" else 50
            paginator = {
                "type": "page_number",
                "page_param": "page",
                "limit_param": "limit",
                "limit": limit,
            }
        else:
            paginator = {
                "type": "cursor",
                "cursor_path": "pagination.nextPageUrl",
                "stop_condition": "not pagination.nextPageUrl",
            }
        endpoint: dict[str, Any] = {
            "path": res.seed_path,
            "data_selector": res.selector,
            "paginator": paginator,
        }
        resources.append({"name": res.name, "endpoint": endpoint})
    pk = spec.resources[0].primary_key
    return {
        "client": {"base_url": base_url, "auth": auth},
        "resource_defaults": {"primary_key": pk, "write_disposition": "merge"},
        "resources": resources,
    }


class SandboxProcess:
    """A sandbox API served by a child process; see `Sandbox.start_process`."""

    def __init__(self, proc: subprocess.Popen[bytes], info: dict[str, Any]) -> None:
        self._proc = proc
        self.name: str = info["name"]
        self.base_url: str = info["base_url"]
        self.origin: str = info["origin"]
        self.secrets: dict[str, str] = info["secrets"]
        self._resources: dict[str, str] = info["resources"]
        self.pid = proc.pid

    @classmethod
    def start(
        cls,
        name: str,
        records: int | dict[str, int] | None = None,
        options: SandboxOptions | None = None,
        faults: Faults | None = None,
        *,
        port: int = 0,
    ) -> SandboxProcess:
        """Start `python -m restsync.sandbox NAME --json` and wait until it serves."""
        if name not in APIS:
            raise KeyError(f"unknown sandbox API '{name}'; choose one of {', '.join(APIS)}")
        argv = [sys.executable, "-m", "restsync.sandbox", name, "--port", str(port), "--json"]
        if records is not None:
            argv += ["--records", json.dumps(records)]
        if options is not None:
            argv += ["--options", json.dumps(options.to_dict())]
        if faults is not None:
            argv += ["--faults-json", json.dumps(faults.to_dict())]
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=10)
            raise RuntimeError(
                f"sandbox process for '{name}' exited with {proc.returncode} before serving"
            )
        return cls(proc, json.loads(line))

    def env(self) -> dict[str, str]:
        """The credentials as environment variables."""
        return _env(self.secrets)

    def resources(self) -> dict[str, str]:
        """Seed resource name -> path as the seed writes it."""
        return dict(self._resources)

    def config(self) -> dict[str, Any]:
        """The seed's config dict pointed at this sandbox, with the secrets filled in."""
        return seed_config(self.name, self.base_url, self.secrets)

    def stats(self) -> dict[str, int]:
        """The child's counters (requests, statuses, faults), fetched over loopback."""
        return dict(httpx.get(self.origin + "/_sandbox/stats", timeout=5).json())

    def stop(self) -> None:
        """Terminate the child and wait for it."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    name: str,
    port: int = 0,
    records: int | dict[str, int] | None = None,
    faults: Faults | str | None = None,
    options: SandboxOptions | None = None,
    *,
    as_json: bool = False,
    out: Callable[[str], None] | None = None,
) -> None:
    """Serve API `name` on 127.0.0.1 until interrupted; print its base URL and credentials first.

    `faults` may be a spec string (`"429=0.1,slow=50ms"`, see `parse_faults`). With `as_json`,
    one JSON line (name, base_url, origin, secrets, resources) is printed instead of text.
    """
    emit = out or (lambda text: print(text, flush=True))  # noqa: T201
    parsed = parse_faults(faults) if isinstance(faults, str) else faults
    sandbox = Sandbox(name, records, options, parsed, port=port, lazy=True).start()
    info = {
        "name": name,
        "base_url": sandbox.base_url,
        "origin": sandbox.origin,
        "secrets": sandbox.secrets,
        "resources": sandbox.resources(),
    }
    if as_json:
        emit(json.dumps(info))
    else:
        emit(f"restsync sandbox '{name}' serving at {sandbox.base_url}")
        for key, value in sandbox.env().items():
            emit(f"  export {key}={value}")
        for res, path in sandbox.resources().items():
            emit(f"  {res:<26} {path}")
        emit("Ctrl-C to stop.")
    threading.Thread(
        target=_build_records, args=(sandbox, None if as_json else emit), daemon=True
    ).start()
    stop = threading.Event()
    try:
        import signal

        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    except ValueError:  # not the main thread
        pass
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


def _build_records(sandbox: Sandbox, emit: Callable[[str], None] | None) -> None:
    """Generate each resource's records while serving (a request waits for its own), and say
    how far it got when there are many (`PROGRESS_RECORDS`)."""
    started = time.monotonic()
    stores = list(sandbox.app.stores.items())
    if sum(len(store) for _, store in stores) < PROGRESS_RECORDS:
        emit = None
    for done, (name, store) in enumerate(stores, 1):
        store.build()
        if emit is not None:
            emit(f"  records ready: {name} ({len(store)}), {done} of {len(stores)} resources")
    if emit is not None:
        emit(f"  every resource's records are ready ({time.monotonic() - started:.1f} s)")


#: Records (all resources) from which `serve_forever` says how the generation goes.
PROGRESS_RECORDS = 5000


@dataclass
class Received:
    """One request the `RecordingServer` received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    time: float


class RecordingServer:
    """A loopback server that answers any path with a configurable JSON body and records what
    it receives; use it as "another origin" to prove credentials never reach it.

    ```python
    with RecordingServer(json_body={"data": []}) as other:
        ...  # point a next-page URL at other.origin
        assert all("authorization" not in r.headers for r in other.received)
    ```
    """

    def __init__(self, json_body: Any = None, status: int = 200, *, port: int = 0) -> None:
        self.json_body: Any = {} if json_body is None else json_body
        self.status = status
        self.received: list[Received] = []
        self._port = port
        self._server: _ServerThread | None = None

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.received.append(
            Received(
                scope["method"],
                scope["path"],
                dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)),
                {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
                body,
                time.time(),
            )
        )
        payload = orjson.dumps(self.json_body)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def start(self) -> RecordingServer:
        """Start serving; returns self."""
        if self._server is None:
            self._server = _ServerThread(self._app, self._port)
            self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:PORT`."""
        if self._server is None:
            raise RuntimeError("the recording server is not started")
        return f"http://{LOOPBACK}:{self._server.port}"

    def __enter__(self) -> RecordingServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
