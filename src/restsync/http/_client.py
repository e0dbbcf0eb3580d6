"""`SourceClient`: one `httpx.AsyncClient` per source, and the policy around it.

The policy: credentials (auth, client headers) go only to base_url's origin (the auth's
own token URL aside); next-page URLs on another origin are refused unless allowed, and then
go without credentials; redirects are followed by hand so a redirect that leaves the origin
drops them; retries and throttling happen in `RetryTransport`; statuses that end a
resource become `HTTPStatusError`/`AuthError` with the URL redacted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx
import orjson

from restsync.auth import SourceAuth, build_auth
from restsync.errors import AuthError, HTTPStatusError, PaginationError, ResourceError
from restsync.http._limits import Clock, HostLimits, Sleep
from restsync.http._request import PageRequest
from restsync.http._retry import (
    RETRYABLE_ERRORS,
    TRACE_KEY,
    RequestTrace,
    ResourceStats,
    RetryPolicy,
    RetryTransport,
)
from restsync.http._transport import default_transport
from restsync.util.redact import (
    contains_secret,
    is_secret,
    is_sensitive_header,
    is_sensitive_param,
    redact_text,
    redact_url,
)
from restsync.util.urls import join_url, origin_of

log = logging.getLogger("restsync.http")

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_JSON_HEADERS = {"Content-Type": "application/json"}
ResponseAction = Mapping[str, Any] | Callable[..., Any]

__all__ = ["MAX_REDIRECTS", "ResourceStats", "SourceClient"]


class SourceClient:
    """Sends a source's requests: auth scoping, retries, throttling, clear errors.

    ```python
    async with SourceClient("https://api.example.com/v1", auth={"type": "bearer", "token": t}) as c:
        req = PageRequest("GET", c.build_url("orders"), params={"limit": 100})
        response = await c.send(req, resource="orders", policy=RetryPolicy())
    ```

    Pass `transport=httpx.MockTransport(app)` in tests, and `sleep`/`clock` to run in
    simulated time.
    """

    def __init__(
        self,
        base_url: str,
        auth: Mapping[str, Any] | httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        max_concurrency: int = 4,
        rate_limit: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        allow_cross_origin_pagination: bool = False,
        timeout: httpx.Timeout | float | None = None,
        verify: bool = True,
        wall_clock: Clock = time.time,
        rng: random.Random | None = None,
        retry_after_cap: float = 300,
    ) -> None:
        self.base_url = str(base_url)
        self.origin = origin_of(self.base_url)
        self.auth = build_auth(auth)
        if isinstance(self.auth, SourceAuth):
            self.auth.bind(self.base_url)
        self.headers = {str(k): str(v) for k, v in (headers or {}).items()}
        self._client_header_names = frozenset(k.lower() for k in self.headers)
        self.allow_cross_origin_pagination = allow_cross_origin_pagination
        self.stats: dict[str, ResourceStats] = {}
        self.limits = HostLimits(
            max_concurrency=max_concurrency,
            rate_limit=rate_limit,
            clock=clock,
            sleep=sleep,
            wall_clock=wall_clock,
            max_pause=retry_after_cap,
        )
        if transport is None:
            transport = default_transport(verify=verify)
        self.transport = RetryTransport(
            transport,
            limits=self.limits,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
            response_timeout=_whole_response_timeout(timeout),
        )
        self._clock = clock
        self._client = httpx.AsyncClient(
            transport=self.transport,
            timeout=timeout if timeout is not None else httpx.Timeout(60, connect=10),
            follow_redirects=False,
            headers={"User-Agent": "restsync", "Accept": "application/json"},
        )
        self._base_prefix = self.base_url.split("?", 1)[0]
        scheme_end = self._base_prefix.find("://")
        slash = self._base_prefix.find("/", scheme_end + 3) if scheme_end != -1 else -1
        # A fast, exact test for the common case; anything else goes through origin_of.
        self._origin_prefix = (
            self._base_prefix[: slash + 1] if slash != -1 else self._base_prefix + "/"
        )
        self._url_cache: dict[str, str] = {}
        self._endpoint_auths: dict[bytes, httpx.Auth | None] = {}

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> SourceClient:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        """Close the connections (the context manager does it for you)."""
        await self._client.aclose()

    # -- URLs -----------------------------------------------------------------------------

    def build_url(self, path: str) -> str:
        """Join `path` to base_url, keeping the base path; absolute URLs pass through."""
        url = self._url_cache.get(path)
        if url is None:
            url = join_url(self.base_url, path)
            if len(self._url_cache) < 4096:
                self._url_cache[path] = url
        return url

    def _on_base_origin(self, url: str) -> bool:
        prefix = self._origin_prefix
        if prefix and url.startswith(prefix):
            return True
        return origin_of(url.split("?", 1)[0].split("#", 1)[0]) == self.origin

    # -- auth ------------------------------------------------------------------------------

    def auth_for(
        self, resource: str, endpoint_auth: Mapping[str, Any] | httpx.Auth | None = None
    ) -> httpx.Auth | None:
        """The auth a resource's requests carry: its `endpoint.auth` when it has one (it
        replaces `client.auth` for that resource, as in dlt), else the client's.

        An endpoint auth is built once per config (resources sharing one, from
        `resource_defaults` say, share its OAuth2 token) and, like the client's, goes only
        to base_url's origin.
        """
        if endpoint_auth is None:
            return self.auth
        if isinstance(endpoint_auth, httpx.Auth):
            key = f"object {id(endpoint_auth)}".encode()
        else:
            key = orjson.dumps(endpoint_auth, option=orjson.OPT_SORT_KEYS, default=repr)
        if key in self._endpoint_auths:
            return self._endpoint_auths[key]
        auth = build_auth(endpoint_auth, path=f"resource '{resource}': endpoint.auth")
        if isinstance(auth, SourceAuth):
            auth.bind(self.base_url)
        self._endpoint_auths[key] = auth
        return auth

    # -- sending --------------------------------------------------------------------------

    async def send(
        self,
        request: PageRequest,
        *,
        resource: str,
        policy: RetryPolicy,
        response_actions: Sequence[ResponseAction] | None = None,
        follow_up: bool = False,
        auth: Mapping[str, Any] | httpx.Auth | None = None,
        check: Callable[[httpx.Response], Any] | None = None,
        unreadable: str | None = None,
    ) -> httpx.Response | None:
        """Send `request` and return the response, or None when a response action ignores it.

        `auth` is the resource's `endpoint.auth` config (see `auth_for`); None: the client's.
        `check` reads a successful response's body and raises `UnreadableBody` for one worth
        another attempt (see `RequestTrace.check`); what it returns is in
        `response.extensions[CHECKED_KEY]`. `unreadable`: why an earlier answer to this
        request (fetched ahead) could not be read; this asking is counted as a retry for it.

        Raises:
            PaginationError: `follow_up` URL on another origin while cross-origin pagination
                is not allowed.
            AuthError: 401/403, or the token endpoint failed.
            HTTPStatusError: any other status that is not retried, or retries used up.
            ResourceError: the connection kept failing after the retries.
        """
        url = self.build_url(request.url)
        trusted = self._on_base_origin(url)
        if follow_up and not trusted and not self.allow_cross_origin_pagination:
            raise PaginationError(
                f"the next page is on another origin ({redact_url(origin_of(url))}) "
                f"than base_url ({self.origin}): {request.method} {redact_url(url)}",
                resource=resource,
                url=redact_url(url),
                hint="set client.allow_cross_origin_pagination: true to follow it without"
                " credentials",
            )
        stats = self.stats.get(resource)
        if stats is None:
            stats = self.stats[resource] = ResourceStats()
        actions = list(response_actions) if response_actions else None
        trace = RequestTrace(
            policy,
            stats=stats,
            resource=resource,
            give_up=(lambda r: _matching_rule(actions, r) is not None) if actions else None,
            check=check,
            redo=unreadable,
        )
        http_request = self._build(request, url, trusted=trusted, trace=trace)
        scheme = self.auth_for(resource, auth)
        response = await self._send_following_redirects(
            http_request, trusted, trace, resource, scheme
        )
        if actions:
            result = self._apply_actions(actions, response, resource)
            if result is None:
                return None
            response = result
        if response.is_success:
            return response
        raise self._status_error(response, trace, resource, trusted, scheme)

    def _build(
        self, request: PageRequest, url: str, *, trusted: bool, trace: RequestTrace
    ) -> httpx.Request:
        if trusted:
            headers: dict[str, str] = (
                {**self.headers, **request.headers} if self.headers else request.headers
            )
            params: Mapping[str, Any] = request.params
        else:
            headers = _strip_headers(request.headers)
            params = _strip_params(request.params)
        if params and any(v is None for v in params.values()):
            params = {k: v for k, v in params.items() if v is not None}
        if params and "?" in url:
            # httpx drops a URL's own query string when `params` is given: merge them instead.
            url = str(httpx.URL(url).copy_merge_params(dict(params)))
            params = {}
        content: bytes | str | None = None
        data: Any = None
        if request.json is not None:
            content = orjson.dumps(request.json)
            headers = {**_JSON_HEADERS, **headers}
        elif isinstance(request.data, (bytes, str)):
            content = request.data
        elif request.data is not None:
            data = request.data
        return self._client.build_request(
            request.method,
            url,
            params=params or None,
            headers=headers or None,
            content=content,
            data=data,
            extensions={TRACE_KEY: trace},
        )

    async def _send_following_redirects(
        self,
        request: httpx.Request,
        trusted: bool,
        trace: RequestTrace,
        resource: str,
        auth: httpx.Auth | None,
    ) -> httpx.Response:
        for hop in range(MAX_REDIRECTS + 1):
            try:
                response = await self._client.send(
                    request, auth=auth if trusted else None, follow_redirects=False
                )
                _unbind(response)
            except ResourceError as exc:
                raise _with_resource(exc, resource) from None
            except RETRYABLE_ERRORS as exc:
                raise self._transport_error(exc, request, trace, resource, auth) from None
            except httpx.DecodingError as exc:
                raise ResourceError(
                    f"{request.method} {redact_url(request.url)}: the body cannot be"
                    f" decompressed ({redact_text(str(exc))})",
                    resource=resource,
                    url=redact_url(request.url),
                    hint="the API sent a Content-Encoding its body does not match; ask its"
                    " operators, or send 'Accept-Encoding: identity' in client.headers",
                ) from None
            except httpx.HTTPError as exc:
                raise ResourceError(
                    f"{request.method} {redact_url(request.url)} failed: "
                    f"{type(exc).__name__}: {redact_text(str(exc))}",
                    resource=resource,
                    url=redact_url(request.url),
                ) from None
            if response.status_code not in _REDIRECTS or "location" not in response.headers:
                return response
            if hop == MAX_REDIRECTS:
                raise HTTPStatusError(
                    f"{request.method} {redact_url(request.url)} -> more than {MAX_REDIRECTS}"
                    " redirects",
                    resource=resource,
                    url=redact_url(request.url),
                    status=response.status_code,
                    hint="check base_url and endpoint.path (http vs https, trailing slash)",
                )
            if trace.stats is not None:
                trace.stats.redirects += 1
            location = response.headers["location"]
            next_url = request.url.join(location)
            # Drop credentials when the redirect leaves base_url's origin.
            if trusted and not self._on_base_origin(str(next_url)):
                trusted = False
            request = self._redirect_request(request, response, next_url, trusted=trusted)
        raise AssertionError("unreachable")  # pragma: no cover

    def _redirect_request(
        self, request: httpx.Request, response: httpx.Response, url: httpx.URL, *, trusted: bool
    ) -> httpx.Request:
        method = request.method
        status = response.status_code
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method = "GET"
        keep_body = method == request.method
        headers = dict(request.headers)
        headers.pop("host", None)
        headers.pop("Host", None)
        if not keep_body:
            for name in ("content-length", "Content-Length", "content-type", "Content-Type"):
                headers.pop(name, None)
        if not trusted:
            # Client headers are meant for base_url's origin only, like the auth.
            headers = _strip_headers(
                {k: v for k, v in headers.items() if k.lower() not in self._client_header_names}
            )
            # The API may echo the key in the Location; never forward it elsewhere.
            params = [(k, v) for k, v in url.params.multi_items() if not _is_credential(k, v)]
            url = url.copy_with(params=params)
        return httpx.Request(
            method,
            url,
            headers=headers,
            content=request.content if keep_body else None,
            extensions=dict(request.extensions),
        )

    # -- response actions -----------------------------------------------------------------

    def _apply_actions(
        self, actions: Sequence[ResponseAction], response: httpx.Response, resource: str
    ) -> httpx.Response | None:
        # In order: a bare callable sees every response, a rule only the ones it matches.
        for action in actions:
            if isinstance(action, Mapping):
                if not _rule_matches(action, response):
                    continue
                todo = action.get("action")
            else:
                todo = action
            for step in todo if isinstance(todo, list) else [todo]:
                if step == "ignore":
                    log.info(
                        "resource '%s': %s %s -> %d ignored by a response action",
                        resource,
                        response.request.method,
                        redact_url(response.request.url),
                        response.status_code,
                    )
                    return None
                if callable(step):
                    result = step(response)
                    if isinstance(result, httpx.Response):
                        response = result
        return response

    # -- errors ---------------------------------------------------------------------------

    def _status_error(
        self,
        response: httpx.Response,
        trace: RequestTrace,
        resource: str,
        trusted: bool,
        auth: httpx.Auth | None,
    ) -> ResourceError:
        request = response.request
        url = redact_url(request.url)
        status = response.status_code
        head = f"{request.method} {url} -> {status} {response.reason_phrase}"
        excerpt = _excerpt(response)
        if status in trace.policy.retry_on_status_codes:
            if trace.retries:
                head += (
                    f" after {trace.attempts} attempts (retried {trace.retries} times over"
                    f" {trace.elapsed:.1f} s)"
                )
            else:
                head += " (not retried: max_retries is 0)"
            hint = "raise endpoint.error_handler.max_retries or check the API's status"
        else:
            head += " (not retried)"
            hint = _status_hint(status, trusted, auth)
        if excerpt:
            head += f": {excerpt}"
        cls = AuthError if status in (401, 403) else HTTPStatusError
        error = cls(head, resource=resource, url=url, status=status, hint=hint)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s", error)
        return error

    def _transport_error(
        self,
        exc: Exception,
        request: httpx.Request,
        trace: RequestTrace,
        resource: str,
        auth: httpx.Auth | None,
    ) -> ResourceError:
        failed = _request_of(exc) or request
        what = f"{type(exc).__name__}" + (f": {redact_text(str(exc))}" if str(exc) else "")
        where = f"{failed.method} {redact_url(failed.url)}"
        retried = (
            f" after {trace.attempts} attempts (retried {trace.retries} times over"
            f" {trace.elapsed:.1f} s)"
            if trace.retries
            else ""
        )
        failed_origin = origin_of(str(failed.url).split("?", 1)[0])
        if (
            isinstance(auth, SourceAuth)
            and failed_origin != origin_of(str(request.url).split("?", 1)[0])
            and failed_origin in auth.extra_origins()
        ):
            return AuthError(
                f"token request {where} failed: {what}",
                resource=resource,
                url=redact_url(failed.url),
                hint="check the token URL and that the token endpoint is reachable",
            )
        return ResourceError(
            f"{where} -> connection failed{retried}: {what}",
            resource=resource,
            url=redact_url(request.url),
            hint="check the API's host and network, or raise endpoint.error_handler.max_retries",
        )


#: Seconds a whole response may take when client.timeout is not set (each read: 60 s).
DEFAULT_RESPONSE_TIMEOUT = 300.0


def _whole_response_timeout(timeout: httpx.Timeout | float | None) -> float | None:
    """client.timeout bounds the whole response (body included), not only each read."""
    if timeout is None:
        return DEFAULT_RESPONSE_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout.read
    return float(timeout)


def _status_hint(status: int, trusted: bool, auth: httpx.Auth | None) -> str:
    if status in (401, 403):
        if not trusted:
            return "this URL is outside base_url's origin, so no credentials were sent"
        if isinstance(auth, SourceAuth):
            return auth.rejection_hint(status)
        if auth is None:
            return "no auth is configured; set client.auth (or the endpoint's auth)"
        return "the API rejected the credentials; check client.auth (or the endpoint's auth)"
    if status == 404:
        return (
            "check base_url and endpoint.path; to skip missing items add"
            " response_actions: [{status_code: 404, action: ignore}]"
        )
    if status == 429 or status >= 500:
        return "add it to endpoint.error_handler.retry_on_status_codes to retry it"
    return "check the endpoint's params and body against the API's documentation"


def _unbind(response: httpx.Response) -> None:
    """Let reference counting free `response` as soon as it is dropped.

    httpx binds a response's stream to the response itself (`BoundAsyncStream`), a cycle
    only the cyclic collector breaks. During a run the collector runs rarely (see
    `restsync._runtime`), and bodies waiting for it piled up: ~60 MB per 1,000
    pages of 60 KB (measured again with the runtime policy of `restsync._runtime`: 100,000
    bench records, the run's peak RSS 259 MB with this, 324 MB without). The body is read in
    full by the retry transport, so the stream is replaced by one over the bytes already read.
    """
    if isinstance(response.stream, httpx.ByteStream):
        return
    response.stream = httpx.ByteStream(response.content)


def _rule_matches(rule: Mapping[str, Any], response: httpx.Response) -> bool:
    status = rule.get("status_code")
    content = rule.get("content")
    if status is None and content is None:
        return False
    if status is not None:
        codes = status if isinstance(status, (list, tuple, set)) else (status,)
        if response.status_code not in {int(c) for c in codes}:
            return False
    return content is None or str(content) in response.text


def _matching_rule(
    actions: Sequence[ResponseAction], response: httpx.Response
) -> Mapping[str, Any] | None:
    """The first rule (not bare callable) that matches: its response is not retried."""
    for action in actions:
        if isinstance(action, Mapping) and _rule_matches(action, response):
            return action
    return None


def _with_resource(exc: ResourceError, resource: str) -> ResourceError:
    if exc.resource is not None:
        return exc
    return type(exc)(exc.message, resource=resource, url=exc.url, status=exc.status, hint=exc.hint)


def _request_of(exc: Exception) -> httpx.Request | None:
    try:
        req = exc.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return None
    return req if isinstance(req, httpx.Request) else None


def _is_credential(name: str, value: Any) -> bool:
    return is_sensitive_param(name) or (isinstance(value, str) and is_secret(value))


def _strip_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in params.items()
        if not _is_credential(k, v) and not (isinstance(v, str) and contains_secret(v))
    }


def _strip_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        k: v for k, v in headers.items() if not is_sensitive_header(k) and not contains_secret(v)
    }


def _excerpt(response: httpx.Response, limit: int = 200) -> str:
    raw = response.content
    if not raw:
        return ""
    text = raw[: limit * 4].decode(response.encoding or "utf-8", "replace")
    text = redact_text(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
