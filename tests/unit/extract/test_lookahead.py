"""Pages fetched ahead: only once the API has given a total, never changing what is read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from extract_helpers import run_extractor

from restsync.extract._engine import Extractor, ResourceRun
from restsync.extract._model import Page
from restsync.extract._source import rest_api_source
from restsync.http._client import SourceClient
from restsync.http._request import PageRequest
from restsync.http._retry import ResourceStats
from restsync.paginate import OffsetPaginator, PageNumberPaginator

BASE = "https://api.example.com/v1"


class CountingAPI:
    """An async fake API that counts how many requests are in flight at once."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.in_flight = 0
        self.most_in_flight = 0
        self.seen: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.seen.append(str(request.url.params))
        try:
            await asyncio.sleep(0.002)  # let the others start
            return self.answer(request)
        finally:
            self.in_flight -= 1


def items(n: int) -> list[dict[str, Any]]:
    return [{"id": i} for i in range(n)]


def page_api(n: int, size: int, *, total_pages: bool, fail_after: int | None = None) -> CountingAPI:
    data = items(n)

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        if fail_after is not None and page > fail_after:
            return httpx.Response(500, json={"error": "boom"})
        body: dict[str, Any] = {"data": data[(page - 1) * size : page * size]}
        if total_pages:
            body["total_pages"] = -(-n // size)
        if fail_after is not None:
            body["has_more"] = page < fail_after
        return httpx.Response(200, json=body)

    return CountingAPI(answer)


def offset_api(n: int, served: list[int]) -> CountingAPI:
    """Serves `served[i]` records on the i-th distinct offset asked (clamping), with a total."""
    data = items(n)

    def answer(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        size = served[min(offset // 100, len(served) - 1)]
        return httpx.Response(200, json={"data": data[offset : offset + size], "total": n})

    return CountingAPI(answer)


def extract(
    api: CountingAPI, paginator: dict[str, Any], *, max_concurrency: int = 4
) -> tuple[list[Any], ResourceRun]:
    config = {
        "client": {"base_url": BASE, "max_concurrency": max_concurrency},
        "resources": [
            {
                "name": "items",
                "endpoint": {"path": "items", "data_selector": "data", "paginator": paginator},
            }
        ],
    }
    source = rest_api_source(config)
    pages: list[Page] = []

    runs = asyncio.run(run_extractor(source, BASE, api, pages, max_concurrency=max_concurrency))
    records = [r for p in sorted(pages, key=lambda p: p.index) for r in p.records]
    assert [p.index for p in pages] == sorted(p.index for p in pages), "pages out of order"
    return records, runs["items"]


def test_page_number_with_a_page_count_fetches_ahead_and_reads_each_page_once() -> None:
    api = page_api(1000, 50, total_pages=True)
    records, run = extract(api, {"type": "page_number", "base_page": 1, "limit": 50})
    assert run.ok
    assert [r["id"] for r in records] == list(range(1000))
    # one request per page, and one past the last, which confirms the count
    assert len(api.seen) == 21
    assert len(set(api.seen)) == 21
    assert api.most_in_flight > 1


def test_page_number_without_a_count_stays_sequential() -> None:
    api = page_api(500, 50, total_pages=False)
    records, run = extract(api, {"type": "page_number", "base_page": 1, "limit": 50})
    assert run.ok
    assert [r["id"] for r in records] == list(range(500))
    assert api.most_in_flight == 1
    assert len(api.seen) == 11  # ten pages and the empty one that ends them


def test_max_concurrency_one_fetches_nothing_ahead() -> None:
    api = page_api(300, 50, total_pages=True)
    records, _run = extract(api, {"type": "page_number", "limit": 50}, max_concurrency=1)
    assert [r["id"] for r in records] == list(range(300))
    assert api.most_in_flight == 1


def test_offset_ahead_of_a_clamping_api_leaves_no_gap() -> None:
    # asked 100, the API serves 100, then 60 once (a clamp), then 100 again: the offsets
    # fetched ahead after the short page are wrong and must be dropped, not used
    api = offset_api(1000, [100, 100, 60, 100])
    records, run = extract(api, {"type": "offset", "limit": 100})
    assert run.ok
    assert [r["id"] for r in records] == list(range(1000))
    assert api.most_in_flight > 1


def test_an_error_on_a_page_fetched_ahead_but_never_needed_is_dropped() -> None:
    # the count says 10 pages, the has_more flag ends it after 3; pages 4.. answer 500
    api = page_api(1000, 100, total_pages=True, fail_after=3)
    records, run = extract(
        api,
        {"type": "page_number", "limit": 100, "has_more_path": "has_more"},
    )
    assert run.ok, run.error
    assert [r["id"] for r in records] == list(range(300))


def test_an_error_on_a_needed_page_fetched_ahead_fails_the_resource() -> None:
    data = items(500)

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        if page == 4:
            return httpx.Response(404, json={"error": "gone"})
        return httpx.Response(
            200, json={"data": data[(page - 1) * 100 : page * 100], "total_pages": 5}
        )

    _records, run = extract(CountingAPI(answer), {"type": "page_number", "limit": 100})
    assert not run.ok
    assert "404" in str(run.error)


@pytest.mark.parametrize("depth", [1, 3])
def test_lookahead_requests(depth: int) -> None:
    paginator = PageNumberPaginator(limit=10, maximum_page=4)
    request = PageRequest("GET", f"{BASE}/items")
    paginator.init_request(request)
    assert paginator.lookahead(request, depth) == []  # nothing known before a response
    paginator.total_pages = 9
    paginator.update_request(request)
    ahead = paginator.lookahead(request, depth)
    assert [r.params["page"] for r in ahead] == [2, 3, 4][:depth]
    assert request.params["page"] == 1  # the request itself is left alone

    offsets = OffsetPaginator(limit=10)
    offsets.total, offsets.largest_page, offsets.offset = 35, 10, 10
    request = PageRequest("GET", f"{BASE}/items")
    offsets.update_request(request)
    # 40: the page past the total, which confirms it
    assert [r.params["offset"] for r in offsets.lookahead(request, depth)] == [20, 30, 40][:depth]


def test_check_says_when_pages_are_fetched_ahead() -> None:
    assert "fetched ahead" in PageNumberPaginator(limit=10).describe()
    assert "fetched ahead" not in PageNumberPaginator(limit=10, total_path=None).describe()
    assert "fetched ahead" in OffsetPaginator(limit=10).describe()
    assert "fetched ahead" not in OffsetPaginator(limit=10, total_path=None).describe()


def _cut_once(pages: set[int], *, cut: str = "page") -> CountingAPI:
    """Five pages of 100 with a page count; the first answer to each page in `pages` is cut
    short (an unreadable body), later answers are whole."""
    data = items(500)
    served: set[int] = set()

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        body = httpx.Response(
            200, json={"data": data[(page - 1) * 100 : page * 100], "total_pages": 5}
        ).content
        if page in pages and page not in served:
            served.add(page)
            return httpx.Response(200, content=body[: len(body) // 2])
        return httpx.Response(200, content=body)

    return CountingAPI(answer)


def _extract_fast(
    api: CountingAPI, **error_handler: Any
) -> tuple[list[Any], ResourceRun, ResourceStats]:
    paginator = {"type": "page_number", "base_page": 1, "limit": 100}
    config = {
        "client": {"base_url": BASE},
        "resources": [
            {
                "name": "items",
                "endpoint": {
                    "path": "items",
                    "data_selector": "data",
                    "paginator": paginator,
                    "error_handler": {"backoff_factor": 0.001, **error_handler},
                },
            }
        ],
    }
    pages: list[Page] = []
    source = rest_api_source(config)

    async def run() -> tuple[dict[str, ResourceRun], ResourceStats]:
        async with SourceClient(BASE, transport=httpx.MockTransport(api)) as client:
            extractor = Extractor(
                source.plans, client, client_config={}, state={}, on_page=pages.append
            )
            return await extractor.run(), client.stats["items"]

    runs, stats = asyncio.run(run())
    records = [r for p in sorted(pages, key=lambda p: p.index) for r in p.records]
    return records, runs["items"], stats


def test_a_page_fetched_ahead_with_an_unreadable_body_is_asked_again_as_a_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pages fetched ahead are read when their turn comes; one whose body cannot be read is
    asked again, counted and logged as a retry like any other unreadable body."""
    api = _cut_once({3, 4})
    with caplog.at_level("INFO", logger="restsync"):
        records, run, stats = _extract_fast(api)
    assert run.ok, run.error
    assert [r["id"] for r in records] == list(range(500))
    assert api.seen.count("page=3&limit=100") == 2
    assert api.seen.count("page=4&limit=100") == 2
    assert stats.retries == 2
    retries = [r.getMessage() for r in caplog.records if "unreadable page" in r.getMessage()]
    assert len(retries) == 2, retries
    assert all("retry 1/3" in m for m in retries), retries


def test_a_page_fetched_ahead_unreadable_without_retries_fails_the_resource() -> None:
    api = _cut_once({3})
    _records, run, _stats = _extract_fast(api, max_retries=0)
    assert not run.ok
    assert "page=3" in str(run.error)
    assert api.seen.count("page=3&limit=100") == 1
