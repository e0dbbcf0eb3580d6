"""The page after an API's own page count or total is asked for to confirm it; an API that
answers it with "no such page" (404, 400, ...) confirms the count, as an empty page does."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from tests.unit.extract.extract_helpers import run_extractor

from restsync import rest_api_source
from restsync.extract._model import Page

BASE = "http://api.test/v1"
RECORDS = [{"id": i} for i in range(10)]


def _run(paginator: dict[str, Any], api: Any) -> tuple[Any, list[Any], list[str]]:
    asked: list[str] = []

    def logged(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return api(request)

    source = rest_api_source(
        {
            "client": {"base_url": BASE},
            "resources": [
                {
                    "name": "items",
                    "endpoint": {"path": "items", "data_selector": "data", "paginator": paginator},
                }
            ],
        }
    )
    pages: list[Page] = []
    runs = asyncio.run(run_extractor(source, BASE, logged, pages))
    return runs["items"], [r["id"] for p in pages for r in p.records], asked


@pytest.mark.parametrize("status", [404, 400, 416, 422])
def test_page_number_past_the_count_refused_confirms_it(status: int) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        if page > 3:
            return httpx.Response(status, json={"detail": "Invalid page."})
        chunk = RECORDS[(page - 1) * 4 : page * 4]
        return httpx.Response(200, json={"data": chunk, "pages": 3})

    paginator = {"type": "page_number", "base_page": 1, "total_path": "pages"}
    run, ids, asked = _run(paginator, api)
    assert run.ok, run.error
    assert ids == list(range(10))
    assert len(asked) == 4  # three pages and the one that confirms the count


def test_offset_past_the_total_refused_confirms_it() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        if offset >= len(RECORDS):
            return httpx.Response(404, json={"detail": "out of range"})
        return httpx.Response(200, json={"data": RECORDS[offset : offset + limit], "total": 10})

    run, ids, asked = _run({"type": "offset", "limit": 4, "total_path": "total"}, api)
    assert run.ok, run.error
    assert ids == list(range(10))
    assert any("offset=10&" in u for u in asked)  # the page at the total, which confirms it


def test_a_404_before_the_count_ends_is_still_an_error() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        if page == 2:
            return httpx.Response(404, json={"detail": "gone"})
        return httpx.Response(200, json={"data": RECORDS[:4], "pages": 3})

    paginator = {"type": "page_number", "base_page": 1, "total_path": "pages"}
    run, _ids, _asked = _run(paginator, api)
    assert not run.ok
    assert "404" in str(run.error)
