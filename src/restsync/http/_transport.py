"""The network transport under `SourceClient`: httpx's API over aiohttp's connection pool.

restsync speaks httpx everywhere (auth flows, `MockTransport` in tests, requests and
responses), but sends over `httpx-aiohttp`'s transport: aiohttp parses HTTP in C, and on the
bench API that halved the client's CPU time per page (0.38 ms against 0.75 ms with httpx's
own pool, 2,000 pages of 60 KB, four in flight). `RESTSYNC_HTTP_TRANSPORT=httpx` switches
back to httpx's pool.

What this module adds to `httpx_aiohttp.AiohttpTransport`:

- aiohttp keeps no cookies of its own (httpx's client does) and reads no proxy settings
  from the environment (httpx's client does, for the URLs they cover); TLS verification uses
  httpx's context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), `verify=False` turns it off;
- every aiohttp error is an httpx error, so retries and messages work as with httpx's pool:
  failures to connect are `ConnectError`, anything that breaks a response is
  `RemoteProtocolError` or `ReadError`, timeouts are `ReadTimeout`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["default_transport"]

#: Connections kept per client (aiohttp's pool); the host limits bound what is in flight.
MAX_CONNECTIONS = 100
KEEPALIVE_SECONDS = 30.0


def default_transport(*, verify: bool = True) -> httpx.AsyncBaseTransport:
    """The transport a `SourceClient` uses when it is given none."""
    if os.environ.get("RESTSYNC_HTTP_TRANSPORT", "").lower() == "httpx":
        return httpx.AsyncHTTPTransport(
            verify=verify,
            limits=httpx.Limits(
                max_connections=None,
                max_keepalive_connections=20,
                keepalive_expiry=KEEPALIVE_SECONDS,
            ),
        )
    return PooledTransport(verify=verify)


class PooledTransport(AiohttpTransport):
    """`httpx_aiohttp.AiohttpTransport` with restsync's session settings and error mapping."""

    def __init__(self, *, verify: bool = True) -> None:
        # trust_env here only lets the TLS context honour SSL_CERT_FILE / SSL_CERT_DIR, as
        # httpx's own pool does; proxies from the environment are httpx's client's business
        super().__init__(verify=verify, trust_env=True)
        self.client = self._session  # made on first use, inside the running event loop

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=self.ssl_context,
            limit=MAX_CONNECTIONS,
            keepalive_timeout=KEEPALIVE_SECONDS,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.HTTPError as exc:
            raise _remapped(exc, request, reading=False) from exc.__cause__
        except _AIOHTTP_ERRORS as exc:
            raise _mapped(exc, request, reading=False) from exc
        response.stream = _MappedStream(response.stream, request)
        return response


class _MappedStream(httpx.AsyncByteStream):
    """The body stream, with aiohttp's errors while reading turned into httpx's."""

    def __init__(self, inner: httpx.AsyncByteStream | httpx.SyncByteStream, request: httpx.Request):
        assert isinstance(inner, httpx.AsyncByteStream)
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.HTTPError as exc:
            raise _remapped(exc, self._request, reading=True) from exc.__cause__
        except _AIOHTTP_ERRORS as exc:
            raise _mapped(exc, self._request, reading=True) from exc

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        except (httpx.HTTPError, *_AIOHTTP_ERRORS):
            pass  # the connection is dropped either way


_AIOHTTP_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


def _remapped(exc: httpx.HTTPError, request: httpx.Request, *, reading: bool) -> httpx.HTTPError:
    """httpx_aiohttp's own mapping, redone by `_mapped` (it calls a dropped connection a
    connect timeout) and given the request."""
    cause = exc.__cause__
    if isinstance(cause, _AIOHTTP_ERRORS):
        return _mapped(cause, request, reading=reading)
    exc.request = request
    return exc


def _mapped(exc: BaseException, request: httpx.Request, *, reading: bool) -> httpx.HTTPError:
    """The httpx error that httpx's own pool raises in the same situation."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, asyncio.TimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError) and not reading:
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError)):
        # a response cut short: what httpx calls a protocol error
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, OSError):
        return httpx.ReadError(message, request=request)
    return httpx.RemoteProtocolError(message, request=request)
