"""The page loop never takes a failure or a guess for the end of the data (DESIGN §3)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from extract_helpers import run_extractor

from restsync.errors import PaginationError, SelectorError
from restsync.extract._engine import ResourceRun
from restsync.extract._model import Page
from restsync.extract._source import rest_api_source

BASE = "https://api.example.com/v1"
SECRET = "s3cr3t-Key+/="


def extract(
    api: Any, paginator: Any, *, data_selector: str | None = "data", **resource: Any
) -> tuple[list[Any], ResourceRun]:
    endpoint: dict[str, Any] = {
        "path": "items",
        "paginator": paginator,
        "params": {"api_key": SECRET},
        "error_handler": {"max_retries": 1, "backoff_factor": 0.01},
    }
    if data_selector:
        endpoint["data_selector"] = data_selector
    config = {
        "client": {"base_url": BASE, "max_concurrency": 1},
        "resources": [{"name": "items", "endpoint": endpoint, **resource}],
    }
    pages: list[Page] = []
    runs = asyncio.run(run_extractor(rest_api_source(config), BASE, api, pages))
    records = [r for p in sorted(pages, key=lambda p: p.index) for r in p.records]
    return records, runs["items"]


def answer(body: Any) -> httpx.Response:
    """A 200 whose body is `body` as JSON (`None` is the body `null`, not an empty one)."""
    return httpx.Response(200, content=json.dumps(body).encode(), headers=JSON)


JSON = {"content-type": "application/json"}


def page_of(request: httpx.Request, name: str) -> int:
    return int(request.url.params[name])


def test_page_number_without_a_total_loads_all_42_records_of_filtered_pages() -> None:
    sizes = [10, 9, 10, 10, 3]

    def api(request: httpx.Request) -> httpx.Response:
        page = page_of(request, "page")
        start = sum(sizes[: page - 1])
        size = sizes[page - 1] if page <= len(sizes) else 0
        return httpx.Response(200, json={"data": [{"id": i} for i in range(start, start + size)]})

    records, run = extract(api, {"type": "page_number", "base_page": 1, "limit": 10})
    assert run.ok, run.error
    assert [r["id"] for r in records] == list(range(42))


def test_offset_after_a_filtered_page_appends_each_record_once() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        offset, limit = page_of(request, "offset"), page_of(request, "limit")
        window = range(offset, min(offset + limit, 45))
        return httpx.Response(200, json={"data": [{"id": i} for i in window if i % 10 != 3]})

    records, run = extract(api, {"type": "offset", "limit": 10}, write_disposition="append")
    assert run.ok, run.error
    ids = [r["id"] for r in records]
    assert ids == [i for i in range(45) if i % 10 != 3]
    assert len(run.warnings) == 1
    assert "already read" in run.warnings[0]


@pytest.mark.parametrize(
    ("bad_body", "what"),
    [
        (None, "an empty body (null)"),
        ({"error": "upstream timeout", "data": None}, "an error object (error:"),
        ({"data": None}, "'data' is null"),
        ({"message": "try later"}, "without 'data'"),
    ],
)
def test_a_failing_page_in_the_middle_is_an_error_not_the_end(bad_body: Any, what: str) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = page_of(request, "page")
        if page == 2:
            return answer(bad_body)
        if page > 3:
            return httpx.Response(200, json={"data": []})
        return httpx.Response(200, json={"data": [{"id": page * 10 + i} for i in range(5)]})

    records, run = extract(api, {"type": "page_number", "base_page": 1})
    assert isinstance(run.error, SelectorError)
    message = str(run.error)
    assert what in message
    assert "items" in message  # the resource
    assert "page=2" in message  # the page URL ...
    assert SECRET not in message  # ... with secrets masked
    assert "api_key=***" in message
    assert "records" in message  # what was expected
    assert [r["id"] for r in records] == [10, 11, 12, 13, 14]


def test_a_null_page_without_a_selector_is_an_error_too() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = page_of(request, "page")
        body: Any = None if page == 2 else {"results": [{"id": page}], "count": 3}
        return answer(body)

    _records, run = extract(api, {"type": "page_number", "base_page": 1}, data_selector=None)
    assert isinstance(run.error, SelectorError)
    assert "'results'" in str(run.error)


def test_a_stop_condition_that_holds_on_the_odd_page_ends_the_pagination() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = page_of(request, "page")
        body = {"data": None} if page == 3 else {"data": [{"id": page}]}
        return httpx.Response(200, json=body)

    records, run = extract(
        api, {"type": "page_number", "base_page": 1, "stop_condition": "data is null"}
    )
    assert run.ok, run.error
    assert [r["id"] for r in records] == [1, 2]


def test_a_glitch_that_a_retry_cures_costs_nothing() -> None:
    seen: list[int] = []

    def api(request: httpx.Request) -> httpx.Response:
        page = page_of(request, "page")
        seen.append(page)
        if page == 2 and seen.count(2) == 1:
            return answer(None)
        size = 5 if page <= 3 else 0
        return httpx.Response(200, json={"data": [{"id": page * 10 + i} for i in range(size)]})

    records, run = extract(api, {"type": "page_number", "base_page": 1})
    assert run.ok, run.error
    assert len(records) == 15


def test_an_auto_single_page_guess_is_a_warning_with_its_evidence() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        return answer({"rows": [{"id": 1}, {"id": 2}], "total": 50})

    config = {
        "client": {"base_url": "https://api.example.com/v1"},
        "resources": [{"name": "items", "endpoint": {"path": "items", "data_selector": "rows"}}],
    }
    pages: list[Page] = []
    runs = asyncio.run(
        run_extractor(rest_api_source(config), "https://api.example.com/v1", api, pages)
    )
    run = runs["items"]
    assert run.ok
    assert len(run.warnings) == 1
    assert "the API may have more pages" in run.warnings[0]
    assert run.pagination is not None
    assert run.pagination["paginator"] == "single_page"
    assert run.pagination["evidence"] == {"total": 50}


def test_an_api_repeating_its_last_page_with_fresh_timestamps_fails_instead_of_looping() -> None:
    calls = 0

    def api(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        page = min(page_of(request, "page"), 3)  # page 3 again for every later page
        data = [{"sku": f"s{i}", "fetched_at": calls} for i in range((page - 1) * 5, page * 5)]
        return answer({"data": data})

    records, run = extract(api, {"type": "page_number", "base_page": 1}, primary_key="sku")
    assert isinstance(run.error, PaginationError)
    assert "page 4 returned the same 5 records as page 3" in str(run.error)
    assert "primary key sku" in str(run.error)
    assert calls == 4
    assert len(records) == 15
