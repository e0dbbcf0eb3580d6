from __future__ import annotations

import asyncio

import httpx

from restsync.http._client import SourceClient
from restsync.http._request import PageRequest
from restsync.http._retry import RetryPolicy


def test_params_merge_into_a_url_that_has_a_query() -> None:
    asyncio.run(_check())


async def _check() -> None:
    seen: list[httpx.URL] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"data": []})

    async with SourceClient("http://api.test", transport=httpx.MockTransport(app)) as client:
        req = PageRequest("GET", client.build_url("/v1/x?status=open"), params={"page": 2})
        await client.send(req, resource="x", policy=RetryPolicy())
    assert seen[0].params["status"] == "open"
    assert seen[0].params["page"] == "2"
