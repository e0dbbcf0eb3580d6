"""The aiohttp-backed transport raises the httpx errors restsync's retries know."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from restsync.http._retry import RETRYABLE_ERRORS
from restsync.http._transport import PooledTransport, default_transport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _get(url: str, *, timeout: float = 5.0) -> httpx.Response:
    async with httpx.AsyncClient(transport=PooledTransport(), timeout=timeout) as client:
        response = await client.get(url)
        await response.aread()
        return response


def _run(handler: Handler, *, timeout: float = 5.0) -> httpx.Response:
    async def main() -> httpx.Response:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await _get(f"http://127.0.0.1:{port}/items", timeout=timeout)

    return asyncio.run(main())


async def _read_head(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


def test_a_plain_response_comes_back_as_httpx_response() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_head(reader)
        body = b'{"data": [1, 2]}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    response = _run(handler)
    assert response.status_code == 200
    assert response.json() == {"data": [1, 2]}
    assert response.reason_phrase == "OK"


def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as info:
        asyncio.run(_get(f"http://127.0.0.1:{port}/items"))
    assert isinstance(info.value, RETRYABLE_ERRORS)
    assert info.value.request.url.port == port


def test_a_body_cut_short_is_a_retryable_protocol_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b'{"data": [')
        await writer.drain()
        writer.close()

    with pytest.raises(httpx.HTTPError) as info:
        _run(handler)
    assert isinstance(info.value, RETRYABLE_ERRORS)
    assert isinstance(info.value, httpx.RemoteProtocolError)


def test_a_server_that_closes_without_answering_is_retryable() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_head(reader)
        writer.close()

    with pytest.raises(httpx.HTTPError) as info:
        _run(handler)
    assert isinstance(info.value, RETRYABLE_ERRORS)
    assert not isinstance(info.value, httpx.ConnectTimeout)  # it did connect


def test_a_silent_server_is_a_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_head(reader)
        await asyncio.sleep(2)
        writer.close()

    with pytest.raises(httpx.ReadTimeout):
        _run(handler, timeout=0.2)


def test_the_httpx_pool_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(default_transport(), PooledTransport)
    monkeypatch.setenv("RESTSYNC_HTTP_TRANSPORT", "httpx")
    assert isinstance(default_transport(), httpx.AsyncHTTPTransport)


def test_tls_follows_ssl_cert_file_like_httpx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    import certifi

    bundle = tmp_path / "corporate.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    transport = PooledTransport()
    assert transport.ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert transport.ssl_context.get_ca_certs()  # loaded from the file the variable names
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(OSError):  # the variable is read, not ignored
        PooledTransport()
    assert PooledTransport(verify=False).ssl_context.verify_mode == ssl.CERT_NONE
