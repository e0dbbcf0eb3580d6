"""Paginators driven against fake APIs: every record read exactly once, and no more requests."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restsync.errors import PaginationError
from restsync.paginate import (
    CursorPaginator,
    HeaderLinkPaginator,
    JSONLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    build_paginator,
)

from .fake_api import BASE, CursorAPI, LinkAPI, OffsetAPI, PageAPI, dataset, drive, respond


def _at_most(n: int, served: int) -> int:
    """Requests needed at most: one per page, plus one empty page when the end is unknown."""
    return math.ceil(n / served) + 1


# --- offset -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "expected_requests"),
    [
        (OffsetAPI(1000, total="always"), 3),  # the total reached, one page confirms it
        (OffsetAPI(1000, clamp=250, total="always"), 5),  # asked 500, served 250; confirmed
        (OffsetAPI(1000, clamp=250, total="never"), 5),  # last page full: one empty page
        (OffsetAPI(990, clamp=250, total="never"), 5),  # a short page is no end: one empty page
        (OffsetAPI(1000, clamp=250, total="first"), 5),  # total only on the first page
        (OffsetAPI(1000, clamp=250, total="null"), 5),  # "total": null is not a failure
        (OffsetAPI(1000, clamp=250, has_more="str"), 4),  # "true"/"false" strings
        (OffsetAPI(1000, clamp=250, has_more="bool", total="never"), 4),
        (OffsetAPI(0, total="never"), 1),
        (OffsetAPI(0, total="always"), 1),
        (OffsetAPI(500, total="never"), 2),  # exactly one full page, then an empty one
    ],
)
def test_offset_reads_everything_once(api: OffsetAPI, expected_requests: int) -> None:
    has_more_path = "has_more" if api.has_more else None
    run = drive(OffsetPaginator(limit=500, has_more_path=has_more_path), api)
    assert run.ids == list(range(api.n))
    assert len(run.urls) == expected_requests
    assert len(set(run.urls)) == len(run.urls)


def test_offset_advances_by_records_received_not_by_limit() -> None:
    run = drive(OffsetPaginator(limit=500), OffsetAPI(600, clamp=250, total="never"))
    assert run.urls == [
        f"{BASE}?offset=0&limit=500",
        f"{BASE}?offset=250&limit=500",
        f"{BASE}?offset=500&limit=500",
        f"{BASE}?offset=600&limit=500",  # a short page is not the end: the empty page is
    ]


def test_offset_seed_configs_build_and_run() -> None:
    for config in (
        {"type": "offset", "limit": 100},
        {"type": "offset", "limit": 200, "offset_param": "offset"},
    ):
        paginator = build_paginator(config)
        run = drive(paginator, OffsetAPI(450, total="always"), data_selector="data")
        assert run.ids == list(range(450))


def test_offset_maximum_offset_stops_without_error() -> None:
    run = drive(OffsetPaginator(limit=100, maximum_offset=250), OffsetAPI(1000))
    assert run.ids == list(range(300))
    assert len(run.urls) == 3


def test_offset_total_path_none_ignores_total() -> None:
    api = OffsetAPI(300, total="always")
    run = drive(OffsetPaginator(limit=100, total_path=None), api)
    assert run.ids == list(range(300))
    assert len(run.urls) == 4  # no total used: the end is an empty page


def test_offset_in_the_json_body() -> None:
    seen: list[Any] = []

    def api(request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content)
        seen.append(body)
        start = body["page"]["offset"]
        return respond(request, {"data": dataset(25)[start : start + 10]})

    from restsync.http._request import PageRequest

    paginator = OffsetPaginator(
        limit=10, offset_body_path="page.offset", limit_body_path="page.size"
    )
    request = PageRequest("POST", BASE, json={"filter": "x"})
    paginator.init_request(request)
    ids: list[int] = []
    while True:
        response = api(httpx.Request("POST", request.url, json=request.json))
        body = response.json()
        paginator.update_state(response, body, body["data"])
        ids += [r["id"] for r in body["data"]]
        if not paginator.has_next_page:
            break
        paginator.update_request(request)
    assert ids == list(range(25))
    assert seen[1] == {"filter": "x", "page": {"offset": 10, "size": 10}}


# --- page number ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "paginator", "expected_requests"),
    [
        (PageAPI(120), PageNumberPaginator(limit=50, limit_param="limit"), 4),  # short, then empty
        (PageAPI(100), PageNumberPaginator(limit=50), 3),  # full last page, then empty
        # the last page by the count, then one page more confirms the count
        (PageAPI(100, total_pages="always"), PageNumberPaginator(limit=50), 3),
        (PageAPI(100, total_pages="first"), PageNumberPaginator(limit=50), 3),
        (PageAPI(1000, clamp=250), PageNumberPaginator(limit=500), 5),
        (PageAPI(990, clamp=250), PageNumberPaginator(limit=500), 5),
        (PageAPI(120, base=0), PageNumberPaginator(base_page=0, limit=50), 4),
        (PageAPI(0), PageNumberPaginator(limit=50), 1),
    ],
)
def test_page_number_reads_everything_once(
    api: PageAPI, paginator: PageNumberPaginator, expected_requests: int
) -> None:
    run = drive(paginator, api)
    assert run.ids == list(range(api.n))
    assert len(run.urls) == expected_requests
    assert len(set(run.urls)) == len(run.urls)


def test_page_number_seed_004_starts_at_page_1() -> None:
    config = {"type": "page_number", "page_param": "page", "limit_param": "limit", "limit": 50}
    run = drive(build_paginator(config), PageAPI(75, base=1), data_selector="data")
    assert run.urls[0] == f"{BASE}?page=1&limit=50"
    assert run.ids == list(range(75))


def test_page_number_maximum_page_is_inclusive() -> None:
    run = drive(PageNumberPaginator(limit=10, maximum_page=3), PageAPI(1000))
    assert [u.split("?")[1] for u in run.urls] == ["page=1&limit=10", "page=2&limit=10",
                                                   "page=3&limit=10"]  # fmt: skip
    assert run.ids == list(range(30))


def test_page_number_api_that_ignores_the_page_param_is_caught() -> None:
    with pytest.raises(PaginationError) as info:
        drive(PageNumberPaginator(limit=10), PageAPI(1000, ignore_page=True))
    assert "page 2 returned the same 10 records as page 1" in str(info.value)
    assert "ignore the page parameter" in str(info.value)


def test_page_number_api_repeating_its_full_last_page_is_caught() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = min(int(request.url.params["page"]), 3)  # clamps to its last page
        return respond(request, {"data": dataset(30)[(page - 1) * 10 : page * 10]})

    with pytest.raises(PaginationError, match="page 4 returned the same 10 records as page 3"):
        drive(PageNumberPaginator(), api)


# --- cursor -----------------------------------------------------------------------------


def _next_page_paginator(mode: str) -> CursorPaginator | JSONLinkPaginator:
    # a cursor value is followed only when it is an absolute URL; a relative next URL is
    # json_link's job (a cursor may start with "/", as base64 ones do)
    if mode == "relative":
        return JSONLinkPaginator(next_url_path="pagination.nextPageUrl")
    return CursorPaginator(cursor_path="pagination.nextPageUrl")


@pytest.mark.parametrize("mode", ["token", "absolute", "relative"])
def test_cursor_modes_read_everything_once(mode: str) -> None:
    paginator = _next_page_paginator(mode)
    run = drive(paginator, CursorAPI(95, size=10, mode=mode), data_selector="data")
    assert run.ids == list(range(95))
    assert len(run.urls) == 10
    assert run.follow_ups == [False] + [mode != "token"] * 9


def test_cursor_seed_003_absolute_next_urls() -> None:
    config = {
        "type": "cursor",
        "cursor_path": "pagination.nextPageUrl",
        "stop_condition": "not pagination.nextPageUrl",
    }
    base = "https://api.example.com/1.0/commerce/inventory"

    def api(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get_list("cursor") in ([], [request.url.params.get("cursor")])
        assert len(request.url.params.get_list("modifiedAfter")) == 1
        cursor = request.url.params.get("cursor")
        start = int(cursor) if cursor else 0
        nxt = f"{base}?modifiedAfter=2024-01-01&cursor={start + 10}" if start + 10 < 35 else None
        return respond(
            request,
            {"inventory": dataset(35)[start : start + 10], "pagination": {"nextPageUrl": nxt}},
        )

    run = drive(
        build_paginator(config),
        api,
        url=base,
        params={"modifiedAfter": "2024-01-01"},
        data_selector="inventory",
    )
    assert run.ids == list(range(35))
    assert run.urls == [
        f"{base}?modifiedAfter=2024-01-01",
        f"{base}?modifiedAfter=2024-01-01&cursor=10",
        f"{base}?modifiedAfter=2024-01-01&cursor=20",
        f"{base}?modifiedAfter=2024-01-01&cursor=30",
    ]
    assert run.follow_ups == [False, True, True, True]


def test_repeated_cursor_raises_with_a_hint() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        n = len(request.url.params.get("cursor", ""))
        return respond(request, {"data": [{"id": n}], "cursors": {"next": "c_81f"}})

    paginator = CursorPaginator()
    paginator.resource = "events"
    with pytest.raises(PaginationError) as info:
        drive(paginator, api)
    assert str(info.value) == (
        "resource 'events': cursor 'c_81f' came back twice (page 2); stopped to avoid an "
        "endless loop\n  if the API signals the end another way, set "
        'endpoint.paginator.stop_condition, e.g. "not meta.has_more"'
    )


def test_cursor_cycle_a_b_a_is_caught() -> None:
    order = {"": "a", "a": "b", "b": "a"}

    def api(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor", "")
        return respond(request, {"data": [{"id": cursor}], "cursors": {"next": order[cursor]}})

    with pytest.raises(PaginationError, match=r"cursor 'a' came back twice \(page 3\)"):
        drive(CursorPaginator(), api)


def test_repeated_cursor_on_a_page_the_stop_condition_ends_is_fine() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        last = cursor == "x"
        return respond(
            request,
            {"data": [{"id": 1 if last else 0}], "next": "x", "has_more": not last},
        )

    run = drive(CursorPaginator(cursor_path="next", stop_condition="not has_more"), api)
    assert run.ids == [0, 1]


def test_cursor_has_more_false_wins_over_a_cursor() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        return respond(request, {"data": [{"id": 0}], "next": "abc", "has_more": "false"})

    run = drive(CursorPaginator(cursor_path="next", has_more_path="has_more"), api)
    assert len(run.urls) == 1


# --- links ------------------------------------------------------------------------------


@pytest.mark.parametrize("relative", [False, True])
def test_json_link_reads_everything_once(relative: bool) -> None:
    run = drive(
        JSONLinkPaginator(), LinkAPI(42, relative=relative), params={"start": 0, "size": 10}
    )
    assert run.ids == list(range(42))
    assert len(run.urls) == 5
    for url in run.urls:  # the next URL's own params are not sent twice
        params = httpx.URL(url).params
        assert len(params.get_list("start")) == 1
        assert len(params.get_list("size")) <= 1


def test_header_link_reads_everything_once() -> None:
    run = drive(HeaderLinkPaginator(), LinkAPI(42, in_header=True))
    assert run.ids == list(range(42))
    assert len(run.urls) == 5
    assert run.follow_ups == [False, True, True, True, True]


def test_next_link_pointing_back_at_itself_is_caught() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("start", "0"))
        nxt = f"{BASE}?start={min(start + 10, 20)}"  # the last page links to itself
        return respond(request, {"results": dataset(30)[start : start + 10], "next": nxt})

    with pytest.raises(PaginationError, match=r"next URL '.*start=20' came back twice"):
        drive(JSONLinkPaginator(), api)


# --- guards -----------------------------------------------------------------------------


def test_max_pages_is_a_safety_cap_with_an_error() -> None:
    with pytest.raises(PaginationError, match=r"stopped after 3 pages \(max_pages\)"):
        drive(OffsetPaginator(limit=10, max_pages=3), OffsetAPI(100))
    run = drive(OffsetPaginator(limit=10, max_pages=10), OffsetAPI(100))  # exactly enough
    assert run.ids == list(range(100))


def test_stop_condition_on_any_paginator() -> None:
    run = drive(OffsetPaginator(limit=10, stop_condition="data[-1].id >= 25"), OffsetAPI(100))
    assert run.ids == list(range(30))


def test_secrets_do_not_leak_into_loop_errors() -> None:
    from restsync.util.redact import register_secret

    register_secret("sk_live_abcdef123456")

    def api(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("n", "0"))
        nxt = f"{BASE}?api_key=sk_live_abcdef123456&n=1"
        return respond(request, {"results": [{"id": n}], "next": nxt})

    with pytest.raises(PaginationError) as info:
        drive(JSONLinkPaginator(), api)
    assert "sk_live_abcdef123456" not in str(info.value)


# --- properties -------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(0, 250),
    limit=st.integers(1, 60),
    clamp=st.none() | st.integers(3, 60),
    total=st.sampled_from(["always", "first", "never", "null"]),
    has_more=st.sampled_from([None, "bool", "str"]),
)
def test_offset_never_requests_a_page_twice(
    n: int, limit: int, clamp: int | None, total: str, has_more: str | None
) -> None:
    api = OffsetAPI(n, clamp=clamp, total=total, has_more=has_more)
    paginator = OffsetPaginator(limit=limit, has_more_path="has_more" if has_more else None)
    run = drive(paginator, api)
    assert run.ids == list(range(n))
    assert len(set(run.urls)) == len(run.urls)
    served = min(limit, clamp) if clamp else limit
    assert len(run.urls) <= _at_most(n, served)


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(0, 250),
    limit=st.integers(1, 60),
    clamp=st.none() | st.integers(3, 60),
    total_pages=st.sampled_from(["always", "first", "never"]),
    base=st.sampled_from([0, 1]),
)
def test_page_number_never_requests_a_page_twice(
    n: int, limit: int, clamp: int | None, total_pages: str, base: int
) -> None:
    api = PageAPI(n, base=base, clamp=clamp, total_pages=total_pages)
    run = drive(PageNumberPaginator(base_page=base, limit=limit), api)
    assert run.ids == list(range(n))
    assert len(set(run.urls)) == len(run.urls)
    served = min(limit, clamp) if clamp else limit
    assert len(run.urls) <= _at_most(n, served)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 200),
    size=st.integers(1, 40),
    mode=st.sampled_from(["token", "absolute", "relative"]),
)
def test_cursor_never_requests_a_page_twice(n: int, size: int, mode: str) -> None:
    run = drive(_next_page_paginator(mode), CursorAPI(n, size, mode))
    assert run.ids == list(range(n))
    assert len(set(run.urls)) == len(run.urls) == max(1, math.ceil(n / size))
