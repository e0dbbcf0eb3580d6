"""Auto-detection of common framework shapes, and a WARNING when it can only guess one page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from restsync.paginate import AutoPaginator, CursorPaginator, OffsetPaginator, PageNumberPaginator
from restsync.paginate._auto import detect

from .fake_api import dataset, drive, respond


def _int(request: httpx.Request, name: str, default: int) -> int:
    value = request.url.params.get(name)
    return int(value) if value is not None else default


def offset_total_api(records_key: str, default_limit: int, n: int) -> Any:
    """`{"data": [...], "total": 7, "offset": 0, "limit": 2}` and the like."""

    def api(request: httpx.Request) -> httpx.Response:
        offset = _int(request, "offset", 0)
        limit = _int(request, "limit", default_limit)
        page = dataset(n)[offset : offset + limit]
        return respond(request, {records_key: page, "total": n, "offset": offset, "limit": limit})

    return api


def skip_api(request: httpx.Request) -> httpx.Response:
    """dummyjson's shape: `{"products": [...], "total": 45, "skip": 0, "limit": 30}`."""
    skip, limit = _int(request, "skip", 0), _int(request, "limit", 30)
    body = {"products": dataset(45)[skip : skip + limit], "total": 45, "skip": skip, "limit": limit}
    return respond(request, body)


def next_number_api(request: httpx.Request) -> httpx.Response:
    """`{"data": [...], "next": 2, "last": 5, "pages": 5}`: an integer `next`."""
    page = _int(request, "page", 1)
    nxt = page + 1 if page < 5 else None
    body = {"data": dataset(48)[(page - 1) * 10 : page * 10], "next": nxt, "last": 5, "pages": 5}
    return respond(request, body)


def meta_next_page_api(request: httpx.Request) -> httpx.Response:
    """`{"data": [...], "meta": {"current_page": 1, "next_page": 2}}`."""
    page = _int(request, "page", 1)
    meta = {"current_page": page, "next_page": page + 1 if page < 4 else None}
    return respond(request, {"data": dataset(35)[(page - 1) * 10 : page * 10], "meta": meta})


def page_size_total_api(request: httpx.Request) -> httpx.Response:
    """`{"items": [...], "page": 1, "size": 10, "total": 23}` (fastapi-pagination's Page)."""
    page = _int(request, "page", 1)
    body = {
        "items": dataset(23)[(page - 1) * 10 : page * 10],
        "page": page,
        "size": 10,
        "total": 23,
    }
    return respond(request, body)


@pytest.mark.parametrize(
    ("api", "n", "kind", "first_urls"),
    [
        (offset_total_api("data", 2, 7), 7, OffsetPaginator, ["", "offset=2&limit=2"]),
        (offset_total_api("items", 50, 5000), 5000, OffsetPaginator, ["", "offset=50&limit=50"]),
        (skip_api, 45, OffsetPaginator, ["", "skip=30&limit=30"]),
        (next_number_api, 48, CursorPaginator, ["", "page=2"]),
        (meta_next_page_api, 35, CursorPaginator, ["", "page=2"]),
        (page_size_total_api, 23, PageNumberPaginator, ["", "page=2"]),
    ],
)
def test_auto_reads_every_page_of_common_shapes(
    api: Any, n: int, kind: type, first_urls: list[str]
) -> None:
    paginator = AutoPaginator()
    run = drive(paginator, api)
    assert run.ids == list(range(n))
    assert type(paginator.delegate) is kind
    assert [httpx.URL(u).query.decode() for u in run.urls[:2]] == first_urls
    assert paginator.warnings == []
    assert paginator.detection is not None
    assert paginator.detection.as_dict()["paginator"] == kind.type_name


@pytest.mark.parametrize(
    ("body", "sign"),
    [
        ({"rows": [{"id": 1}, {"id": 2}], "total": 50}, "a total 'total': 50"),
        ({"rows": [{"id": 1}], "meta": {"pages": 9}}, "a page count 'meta.pages': 9"),
        ({"rows": [{"id": 1}], "has_more": True}, "'has_more': true"),
    ],
)
def test_a_single_page_guess_against_signs_of_more_is_a_warning(
    body: dict[str, Any], sign: str
) -> None:
    found = detect(respond(httpx.Request("GET", "https://x/"), body), body, body["rows"])
    assert found.paginator.type_name == "single_page"
    assert found.warning is not None
    assert sign in found.warning
    assert "endpoint.paginator" in found.warning
    assert found.as_dict()["evidence"]


@pytest.mark.parametrize(
    "body",
    [
        {"rows": [{"id": 1}, {"id": 2}], "total": 2},  # the total is what was served
        {"rows": [{"id": 1}], "has_more": False},
        [{"id": 1}],
    ],
)
def test_a_complete_single_page_is_no_warning(body: Any) -> None:
    records = body if isinstance(body, list) else body["rows"]
    found = detect(respond(httpx.Request("GET", "https://x/"), body), body, records)
    assert found.paginator.type_name == "single_page"
    assert found.warning is None
