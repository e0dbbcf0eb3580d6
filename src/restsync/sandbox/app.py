"""The sandbox API server: a raw ASGI app serving pre-serialized pages, with fault switches.

Why one module of this size: `SandboxApp` is one request path, switches -> ASGI dispatch ->
token endpoint -> auth, faults and rate limit -> page, and every step reads the same switches,
counters and lock. Split by step, the pieces would pass that state between modules or share it
through a mixin; the sections below keep the steps apart instead. Records, stores, options and
the API shapes already live in modules of their own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

import orjson

from restsync.sandbox.apis import APIS, ApiSpec, ResourceSpec
from restsync.sandbox.options import Faults, SandboxOptions
from restsync.sandbox.store import BenchStore, Store, parse_instant

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
STATS_PATH = "/_sandbox/stats"
ORDERS_SCOPE = "orders:read"
_JSON = [(b"content-type", b"application/json")]
_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1>"
    b"<p>The upstream server is temporarily unavailable.</p></body></html>"
)


@dataclass
class LoggedRequest:
    """One request the sandbox saw. `credential` is the API key or bearer token it carried
    (for the token endpoint: the client_id), None when it carried none."""

    number: int
    method: str
    path: str
    query: dict[str, str]
    query_items: list[tuple[str, str]]
    headers: dict[str, str]
    time: float
    credential: str | None
    resource: str | None = None
    status: int | None = None
    body: bytes = b""
    fault: str | None = None


@dataclass
class _Token:
    value: str
    expires: float
    scopes: frozenset[str]


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=lambda: list(_JSON))


def _client_credentials(
    form: dict[str, str], headers: dict[str, str]
) -> tuple[str | None, str | None]:
    """The client id and secret of a token request: HTTP Basic auth wins over the form's."""
    auth = headers.get("authorization", "")
    if auth[:6].lower() != "basic ":
        return form.get("client_id"), form.get("client_secret")
    try:
        user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return user, password


def _error(
    status: int, code: str, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> _Reply:
    body = orjson.dumps({"error": code, "message": message, "status": status})
    return _Reply(status, body, [*_JSON, *(headers or [])])


def credential_for(api: str, seed: int, kind: str) -> str:
    """A deterministic secret of sandbox `api`; kind: key, restricted, client_id, client_secret."""
    digest = hashlib.sha256(f"restsync-sandbox:{api}:{seed}:{kind}".encode()).hexdigest()
    prefix = {
        "key": "rs_live_",
        "restricted": "rs_ro_",
        "client_id": "cid_",
        "client_secret": "cs_",
    }
    return prefix.get(kind, "") + digest[:32]


class SandboxApp:
    """The ASGI app of one sandbox API. `Sandbox` runs it; you rarely build it yourself."""

    def __init__(
        self,
        api: str,
        records: int | dict[str, int] | None = None,
        options: SandboxOptions | None = None,
        faults: Faults | None = None,
        *,
        lazy: bool = False,
    ) -> None:
        if api not in APIS:
            raise KeyError(f"unknown sandbox API '{api}'; choose one of {', '.join(APIS)}")
        self.spec: ApiSpec = APIS[api]
        self.options = options or SandboxOptions()
        self.origin = "http://127.0.0.1"
        seed = self.options.seed
        self.api_key = credential_for(api, seed, "key")
        self.restricted_key = credential_for(api, seed, "restricted")
        self.client_id = credential_for(api, seed, "client_id")
        self.client_secret = credential_for(api, seed, "client_secret")
        self.stores: dict[str, Store] = {}
        self._routes: dict[str, ResourceSpec] = {}
        for res in self.spec.resources:
            count = res.default_records
            if isinstance(records, int):
                count = records
            elif isinstance(records, dict):
                unknown = set(records) - {x.name for x in self.spec.resources}
                if unknown:
                    raise KeyError(f"API '{api}' has no resource(s) {', '.join(sorted(unknown))}")
                count = records.get(res.name, count)
            drop = (
                ("id",)
                if api == "ecommerce"
                and res.name == "products"
                and self.options.products_without_id
                else ()
            )
            store_cls = BenchStore if api == "bench" else Store
            self.stores[res.name] = store_cls(res, api, seed, count, drop=drop, lazy=lazy)
            self._routes[res.path] = res
        self._faults = faults or Faults()
        self._fault_counter = 0
        self._lock = threading.Lock()
        self.log: list[LoggedRequest] = []
        self.stats: Counter[str] = Counter()
        self._tokens: dict[str, _Token] = {}
        self._token_serial = 0
        self._windows: dict[str, deque[float]] = {}
        self._cache: dict[tuple[Any, ...], bytes] = {}

    # ------------------------------------------------------------------ switches

    @property
    def faults(self) -> Faults:
        """The faults in force; setting them restarts the request numbering at 1."""
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        with self._lock:
            self._faults = value
            self._fault_counter = 0
            self._windows = {}

    @property
    def max_page_size(self) -> int:
        """The largest page served."""
        return self.options.max_page_size or self.spec.max_page_size

    @property
    def send_total(self) -> bool:
        """Whether bodies carry a total."""
        return True if self.options.send_total is None else self.options.send_total

    def expire_tokens(self) -> None:
        """Make every issued OAuth2 token expired now."""
        for token in self._tokens.values():
            token.expires = 0.0

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        raw_query: bytes = scope["query_string"]
        items = parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True) if raw_query else []
        query = dict(items)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = b""
        if method in ("POST", "PUT", "PATCH"):
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
        if path == STATS_PATH:
            await self._send(send, _Reply(200, orjson.dumps(self.snapshot())))
            return
        if path == TOKEN_PATH and self.spec.auth == "oauth2":
            await self._token_endpoint(send, method, query, headers, body, items)
            return
        await self._api_request(send, method, path, query, items, headers, body)

    async def _send(self, send: Send, reply: _Reply) -> None:
        headers = [*reply.headers, (b"content-length", str(len(reply.body)).encode())]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})

    def snapshot(self) -> dict[str, Any]:
        """Counters (requests, statuses, faults, rate-limited) as a dict."""
        return dict(self.stats)

    def _log(self, entry: LoggedRequest) -> None:
        if self.options.log_requests:
            self.log.append(entry)

    # ------------------------------------------------------------------ token endpoint

    async def _token_endpoint(
        self,
        send: Send,
        method: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        items: list[tuple[str, str]],
    ) -> None:
        self.stats["token_requests"] += 1
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = _client_credentials(form, headers)
        entry = LoggedRequest(
            0,
            method,
            TOKEN_PATH,
            query,
            items,
            headers,
            time.time(),
            client_id,
            "oauth_token",
            body=body,
        )
        self._log(entry)
        if method != "POST":
            reply = _error(
                405, "method_not_allowed", "use POST with a form body", [(b"allow", b"POST")]
            )
        elif form.get("grant_type") != "client_credentials":
            reply = _error(400, "unsupported_grant_type", "grant_type must be client_credentials")
        elif client_id != self.client_id or client_secret != self.client_secret:
            reply = _error(
                401,
                "invalid_client",
                "unknown client or wrong secret",
                [(b"www-authenticate", b'Basic realm="token"')],
            )
        else:
            reply = self._issue_token(form.get("scope", ORDERS_SCOPE))
        entry.status = reply.status
        self.stats[f"status_{reply.status}"] += 1
        await self._send(send, reply)

    def _issue_token(self, scope: str) -> _Reply:
        """A new access token for the scopes asked for (of the ones the sandbox knows)."""
        scopes = frozenset(set(scope.split()) & {ORDERS_SCOPE, "orders:write"})
        with self._lock:
            self._token_serial += 1
            serial = self._token_serial
        digest = hashlib.sha256(f"{self.client_id}:{serial}:{time.time_ns()}".encode())
        value = "at_" + digest.hexdigest()[:40]
        lifetime = self.options.token_lifetime
        self._tokens[value] = _Token(value, time.monotonic() + lifetime, scopes)
        expires_in: float = int(lifetime) if float(lifetime).is_integer() else lifetime
        payload = {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": " ".join(sorted(scopes)),
        }
        return _Reply(200, orjson.dumps(payload), [*_JSON, (b"cache-control", b"no-store")])

    # ------------------------------------------------------------------ API requests

    def _credential(self, query: dict[str, str], headers: dict[str, str]) -> str | None:
        if self.spec.auth == "query_key":
            return query.get("api_key")
        auth = headers.get("authorization")
        if auth and auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None

    def _check_auth(self, credential: str | None, resource: ResourceSpec | None) -> _Reply | None:
        bearer_challenge = [(b"www-authenticate", b'Bearer realm="restsync-sandbox"')]
        challenge = [] if self.spec.auth == "query_key" else bearer_challenge
        what = (
            "query parameter api_key"
            if self.spec.auth == "query_key"
            else "Authorization: Bearer <token>"
        )
        if not credential:
            return _error(401, "unauthorized", f"missing credential: send {what}", challenge)
        if self.spec.auth == "oauth2":
            token = self._tokens.get(credential)
            if token is None:
                return _error(401, "invalid_token", "unknown access token", challenge)
            if time.monotonic() >= token.expires:
                expired = [
                    (
                        b"www-authenticate",
                        b'Bearer error="invalid_token", error_description="expired"',
                    )
                ]
                return _error(401, "invalid_token", "the access token expired", expired)
            if ORDERS_SCOPE not in token.scopes:
                return _error(403, "insufficient_scope", f"token lacks scope {ORDERS_SCOPE}")
        elif credential == self.restricted_key:
            return _error(403, "forbidden", "this key is not allowed to read this resource")
        elif credential != self.api_key:
            return _error(401, "unauthorized", "invalid credential", challenge)
        if resource is not None and resource.name in self.options.forbidden_resources:
            return _error(403, "forbidden", f"access to {resource.name} is not granted to this key")
        return None

    def _draw(self, faults: Faults, number: int) -> int | str | None:
        planned = faults.fail_requests.get(number)
        if planned is not None:
            return planned
        rated = faults.rated()
        if not rated:
            return None
        u = random.Random(f"{faults.seed}:{number}").random()
        acc = 0.0
        for what, rate in rated:
            acc += rate
            if u < acc:
                return what
        return None

    def _retry_after(self, faults: Faults, seconds: int | None) -> list[tuple[bytes, bytes]]:
        if seconds is None:
            return []
        if faults.retry_after_format == "http-date":
            return [(b"retry-after", formatdate(time.time() + seconds, usegmt=True).encode())]
        return [(b"retry-after", str(seconds).encode())]

    def _rate_limited(self, faults: Faults, credential: str | None) -> int | None:
        """Seconds to wait when the credential is over the rate, else None (and count it)."""
        if faults.rate_limit is None:
            return None
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(credential or "", deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= faults.rate_limit:
                return max(1, math.ceil(1.0 - (now - window[0])))
            window.append(now)
        return None

    async def _api_request(
        self,
        send: Send,
        method: str,
        path: str,
        query: dict[str, str],
        items: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        faults = self._faults
        with self._lock:
            self._fault_counter += 1
            number = self._fault_counter
        self.stats["requests"] += 1
        credential = self._credential(query, headers)
        resource = self._routes.get(path)
        entry = LoggedRequest(
            number, method, path, query, items, headers, time.time(), credential,
            resource.name if resource else None, body=body,
        )  # fmt: skip
        self._log(entry)
        if faults.slow:
            await asyncio.sleep(faults.slow)
        reply: _Reply | None = None
        fault: int | str | None = None
        wait = self._rate_limited(faults, credential)
        if wait is not None:
            self.stats["rate_limited"] += 1
            fault = "rate_limit"
            reply = _error(
                429,
                "rate_limited",
                f"more than {faults.rate_limit:g} requests per second",
                self._retry_after(faults, wait),
            )
        else:
            fault = self._draw(faults, number)
            if isinstance(fault, int):
                extra = self._retry_after(faults, faults.retry_after) if fault in (429, 503) else []
                reply = _error(fault, "injected", f"sandbox fault on request {number}", extra)
        if reply is None:
            reply = self._check_auth(credential, resource)
        if reply is None:
            if resource is None:
                reply = _error(404, "not_found", f"no resource at {path}")
            elif method != "GET":
                reply = _error(405, "method_not_allowed", "use GET", [(b"allow", b"GET")])
            else:
                reply = self._page(resource, query)
        entry.status = reply.status
        entry.fault = str(fault) if fault is not None else None
        self.stats[f"status_{reply.status}"] += 1
        if fault is not None:
            self.stats[f"fault_{fault}"] += 1
        if reply.status == 200 and isinstance(fault, str) and fault != "rate_limit":
            await self._send_broken(send, reply, fault, resource)
            return
        await self._send(send, reply)

    async def _send_broken(
        self, send: Send, reply: _Reply, fault: str, resource: ResourceSpec | None
    ) -> None:
        body = reply.body
        if fault == "drop":
            length = str(len(body)).encode()
            start = {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_JSON, (b"content-length", length)],
            }
            await send(start)
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            return  # the server closes the connection: the body stays short of its Content-Length
        if fault == "truncate":
            reply = _Reply(200, body[: max(1, len(body) // 2)])
        elif fault == "html":
            reply = _Reply(200, _HTML_PAGE, [(b"content-type", b"text/html; charset=utf-8")])
        elif fault == "non_utf8":
            reply = _Reply(200, b'{"note":"Caf\xe9 cr\xe8me \xff",' + body[1:])
        elif fault == "shape" and resource is not None:
            prefix = b'{"' + resource.selector.encode() + b'":'
            reply = _Reply(
                200, b'{"items":' + body[len(prefix) :] if body.startswith(prefix) else body
            )
        await self._send(send, reply)

    # ------------------------------------------------------------------ pages

    def _int(self, query: dict[str, str], name: str, default: int) -> int | _Reply:
        text = query.get(name)
        if text is None or text == "":
            return default
        try:
            return int(text)
        except ValueError:
            return _error(400, "invalid_parameter", f"{name}: {text!r} is not an integer")

    def _since(self, query: dict[str, str]) -> float | _Reply | None:
        text = query.get(self.spec.since_param)
        if not text:
            return None
        try:
            return parse_instant(text)
        except ValueError:
            return _error(
                400,
                "invalid_parameter",
                f"{self.spec.since_param}: {text!r} is not an ISO-8601 timestamp",
            )

    def _limit(self, query: dict[str, str]) -> int | _Reply:
        limit = self._int(
            query,
            self.spec.limit_param,
            self.options.default_page_size or self.spec.default_page_size,
        )
        if isinstance(limit, _Reply):
            return limit
        if limit < 1:
            return _error(400, "invalid_parameter", f"{self.spec.limit_param} must be >= 1")
        if limit > self.max_page_size:
            if not self.options.clamp:
                return _error(
                    400,
                    "invalid_parameter",
                    f"{self.spec.limit_param} must be <= {self.max_page_size}",
                )
            limit = self.max_page_size
        return limit

    def _page(self, resource: ResourceSpec, query: dict[str, str]) -> _Reply:
        store = self.stores[resource.name]
        if self.spec.pagination == "cursor":
            return self._cursor_page(resource, store, query)
        since = self._since(query)
        if isinstance(since, _Reply):
            return since
        limit = self._limit(query)
        if isinstance(limit, _Reply):
            return limit
        if self.spec.pagination == "offset":
            offset = self._int(query, self.spec.offset_param, 0)
            if isinstance(offset, _Reply):
                return offset
            if offset < 0:
                return _error(400, "invalid_parameter", f"{self.spec.offset_param} must be >= 0")
            key: tuple[Any, ...] = (
                resource.name,
                store.version,
                "o",
                offset,
                limit,
                since,
                self.send_total,
            )
            body = self._cache.get(key)
            if body is None:
                array, total = store.window(since, offset, limit)
                tail = f',"offset":{offset},"limit":{limit}' + (
                    f',"total":{total}' if self.send_total else ""
                )
                body = b'{"' + resource.selector.encode() + b'":' + array + tail.encode() + b"}"
                self._remember(store, key, body)
            return _Reply(200, body)
        page = self._int(query, self.spec.page_param, 1)
        if isinstance(page, _Reply):
            return page
        if page == 0 and self.options.page_zero_as_first:
            page = 1
        if page < 1:
            return _error(
                400,
                "invalid_parameter",
                f"{self.spec.page_param} must be >= 1 (pages count from 1)",
            )
        key = (resource.name, store.version, "p", page, limit, since, self.send_total)
        body = self._cache.get(key)
        if body is None:
            array, total = store.window(since, (page - 1) * limit, limit)
            tail = f',"page":{page},"limit":{limit}'
            if self.send_total:
                tail += f',"total_count":{total},"total_pages":{-(-total // limit)}'
            body = b'{"' + resource.selector.encode() + b'":' + array + tail.encode() + b"}"
            self._remember(store, key, body)
        return _Reply(200, body)

    def _remember(self, store: Store, key: tuple[Any, ...], body: bytes) -> None:
        if not store.cacheable:
            return
        if len(self._cache) > 8192:
            self._cache.clear()
        self._cache[key] = body

    def _cursor_page(self, resource: ResourceSpec, store: Store, query: dict[str, str]) -> _Reply:
        cursor = query.get("cursor")
        if cursor:
            decoded = _decode_cursor(cursor, resource.name)
            if decoded is None:
                return _error(400, "invalid_cursor", "the cursor is not valid for this resource")
            offset, since_text = decoded
            since: float | None = parse_instant(since_text) if since_text else None
        else:
            offset = 0
            parsed = self._since(query)
            if isinstance(parsed, _Reply):
                return parsed
            since = parsed
            since_text = query.get(self.spec.since_param) or ""
        size = self.options.default_page_size or self.spec.default_page_size
        origin = self._faults.cross_origin_next or self.origin
        key = (resource.name, store.version, "c", offset, size, since, origin)
        body = self._cache.get(key)
        if body is None:
            array, total = store.window(since, offset, size)
            more = offset + size < total
            nxt = _encode_cursor(resource.name, offset + size, since_text) if more else None
            pagination = {
                "nextPageCursor": nxt,
                "nextPageUrl": f"{origin.rstrip('/')}{resource.path}?cursor={nxt}" if nxt else None,
                "hasNextPage": more,
            }
            body = (
                b'{"'
                + resource.selector.encode()
                + b'":'
                + array
                + b',"pagination":'
                + orjson.dumps(pagination)
                + b"}"
            )
            self._remember(store, key, body)
        return _Reply(200, body)


def _encode_cursor(resource: str, offset: int, since: str) -> str:
    raw = orjson.dumps([resource, offset, since])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, resource: str) -> tuple[int, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, offset, since = orjson.loads(raw)
    except (ValueError, binascii.Error, TypeError):
        return None
    if name != resource or not isinstance(offset, int) or offset < 0 or not isinstance(since, str):
        return None
    if since:
        try:
            parse_instant(since)
        except ValueError:
            return None
    return offset, since
