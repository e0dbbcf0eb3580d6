"""client.timeout bounds the whole response, a body trickled byte by byte included."""

from __future__ import annotations

import asyncio

import pytest

from restsync.errors import ResourceError
from restsync.http._client import SourceClient
from restsync.http._request import PageRequest
from restsync.http._retry import RetryPolicy

BODY = b'{"data": [' + b" " * 200 + b"]}"
#: how many bytes of BODY the server wrote (one every 0.2 s: all of it would take 40 s)
written: list[int] = []


async def _trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    body = BODY
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
    )
    try:
        for i in range(len(body)):
            writer.write(body[i : i + 1])
            await writer.drain()
            written[-1] = i + 1
            await asyncio.sleep(0.2)
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_a_trickled_body_fails_at_the_client_timeout(
    transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if transport == "httpx":
        monkeypatch.setenv("RESTSYNC_HTTP_TRANSPORT", "httpx")

    async def main() -> BaseException | None:
        server = await asyncio.start_server(_trickle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with SourceClient(f"http://127.0.0.1:{port}", timeout=1.0) as c:
                request = PageRequest("GET", c.build_url("items"))
                try:
                    await c.send(request, resource="items", policy=RetryPolicy(max_retries=0))
                except ResourceError as exc:
                    return exc
                return None
        finally:
            server.close()

    written.append(0)
    error = asyncio.run(main())
    assert isinstance(error, ResourceError)
    assert "ReadTimeout" in str(error)
    assert "not complete within 1 s (client.timeout)" in str(error)
    # the client gave up on the body part-way: it did not wait for the trickle to finish
    assert 0 < written[-1] < len(BODY)
