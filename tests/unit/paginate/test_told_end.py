"""A page count or total is believed only once the page after it confirms it; an API that
answers past its end with stale records is caught; auto-detection reads a bare page echo."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from restsync.errors import PaginationError
from restsync.paginate import AutoPaginator, OffsetPaginator, PageNumberPaginator
from restsync.paginate._auto import detect
from restsync.paginate._shape import PageShape

from .fake_api import BASE, dataset, drive, respond


def page_api(n: int, size: int, pages: int, *, past_end: str = "empty") -> Any:
    """`?page=` from 1, `size` records a page, saying `total_pages: pages` (maybe a lie);
    past its end an empty page, or (`past_end="last"`) its last page again."""

    def api(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        start = (page - 1) * size
        if start >= n and past_end == "last":
            start = (n - 1) // size * size
        return respond(request, {"data": dataset(n)[start : start + size], "total_pages": pages})

    return api


def offset_api(
    n: int, total: int, *, past_end: str = "empty", hidden: frozenset[int] = frozenset()
) -> Any:
    """`?offset=&limit=`, saying `total` (maybe a lie); past its end an empty page, or
    (`past_end="last"`) its last page (by the asked limit) again; `hidden` positions are
    filtered out of their pages."""

    def api(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        if offset >= n and past_end == "last":
            offset = (n - 1) // limit * limit
        rows = [r for i, r in enumerate(dataset(n)) if offset <= i < offset + limit]
        rows = [r for r in rows if r["id"] not in hidden]
        return respond(request, {"data": rows, "total": total})

    return api


# --- a page count lower than the pages served -------------------------------------------


def test_a_low_page_count_is_read_past_with_a_warning() -> None:
    # 21 records, 4 a page: 6 pages, but the API says 5 (a floor instead of a ceiling)
    paginator = PageNumberPaginator(limit=4, base_page=1)
    run = drive(paginator, page_api(21, 4, 5), data_selector="data")
    assert run.ids == list(range(21))  # before: 0..19, and record 20 lost
    assert [u.split("page=")[1].split("&")[0] for u in run.urls] == list("1234567")
    assert paginator.count_was_low
    assert any("page count at 'total_pages' said 5 page(s)" in w for w in paginator.warnings)


def test_a_right_page_count_is_confirmed_by_one_empty_page_without_a_warning() -> None:
    paginator = PageNumberPaginator(limit=4, base_page=1)
    run = drive(paginator, page_api(20, 4, 5), data_selector="data")
    assert run.ids == list(range(20))
    assert len(run.urls) == 6  # five pages, and the sixth, empty, confirms the count
    assert paginator.warnings == []


def test_a_right_page_count_of_an_api_that_repeats_its_last_page_is_no_error() -> None:
    # page 6 answers page 5 again: that confirms the count, and is not loaded twice
    paginator = PageNumberPaginator(limit=4, base_page=1)
    request_count = 0

    def api(request: httpx.Request) -> httpx.Response:
        nonlocal request_count
        request_count += 1
        return page_api(20, 4, 5, past_end="last")(request)

    run = drive(paginator, api, data_selector="data")
    assert request_count == 6
    assert run.ids == list(range(20)) + list(range(16, 20))  # as served
    assert paginator.skip_records == 4  # the engine drops the repeated records
    assert not paginator.has_next_page
    assert paginator.warnings == []


def test_a_new_version_of_a_record_past_the_count_is_no_repeat() -> None:
    # page 2, past the count of 1, serves record 1 again with a new name: a new version
    # (loaded under append), not the last page again
    def api(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        rows = {1: [{"id": 1, "name": "a"}], 2: [{"id": 1, "name": "b"}]}.get(page, [])
        return respond(request, {"data": rows, "total_pages": 1})

    paginator = PageNumberPaginator(limit=1, base_page=1)
    run = drive(paginator, api, data_selector="data")
    assert [r["name"] for r in run.records] == ["a", "b"]
    assert paginator.skip_records == 0
    assert paginator.count_was_low


def test_a_low_page_count_then_a_repeated_last_page_is_an_error() -> None:
    # the count was low (page 6 has records), so it no longer ends the pagination; page 7
    # repeating page 6 is then the usual repeated page
    with pytest.raises(PaginationError, match="same 1 records as page 6"):
        drive(PageNumberPaginator(limit=4, base_page=1), page_api(21, 4, 5, past_end="last"),
              data_selector="data")  # fmt: skip


def test_max_pages_at_the_count_stops_there_with_a_warning() -> None:
    paginator = PageNumberPaginator(limit=4, base_page=1, max_pages=5)
    run = drive(paginator, page_api(20, 4, 5), data_selector="data")
    assert run.ids == list(range(20))
    assert len(run.urls) == 5
    assert any("was not asked for" in w for w in paginator.warnings)


def test_an_empty_page_before_the_count_ends_it_with_a_warning() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        rows = [] if page == 2 else dataset(12)[(page - 1) * 4 : page * 4]
        return respond(request, {"data": rows, "total_pages": 3})

    paginator = PageNumberPaginator(limit=4, base_page=1)
    drive(paginator, api, data_selector="data")
    assert any("page 2 had no records although the page count says 3" in w
               for w in paginator.warnings)  # fmt: skip


# --- a total lower than the records served ----------------------------------------------


def test_a_low_total_is_read_past_with_a_warning() -> None:
    # 21 records, 4 a page, total 20: offset 20 reaches the total, record 20 follows
    paginator = OffsetPaginator(limit=4)
    run = drive(paginator, offset_api(21, 20), data_selector="data")
    assert run.ids == list(range(21))  # before: 0..19, and record 20 lost
    assert paginator.total_was_low
    assert any("total at 'total' said 20 record(s)" in w for w in paginator.warnings)


def test_a_right_total_of_an_api_that_repeats_its_last_page_is_no_error() -> None:
    paginator = OffsetPaginator(limit=4)
    run = drive(paginator, offset_api(20, 20, past_end="last"), data_selector="data")
    assert run.urls[-1].endswith("offset=20&limit=4")
    assert run.ids == list(range(20)) + list(range(16, 20))  # as served
    assert paginator.skip_records == 4  # the engine drops the repeated records
    assert paginator.warnings == []


def test_offset_past_the_end_answered_with_stale_records_is_an_error() -> None:
    # 7 records, the first filtered out, total 9 (too high): offset 7 is past the end and
    # the API answers it with its last page (records 4..6, all read already); before, they
    # were loaded a second time
    with pytest.raises(PaginationError, match="all read on the two pages before it"):
        drive(OffsetPaginator(limit=4),
              offset_api(7, 9, past_end="last", hidden=frozenset({0})),
              data_selector="data")  # fmt: skip


def test_a_filtered_last_page_ending_in_an_overlap_is_no_error() -> None:
    # 3 records, record 1 filtered out: offset 0 serves 0, 2 (short); offset 2 serves 2
    # again (the overlap) and nothing else: the end, not a repeat
    paginator = OffsetPaginator(limit=3, total_path=None)
    run = drive(paginator, offset_api(3, 0, hidden=frozenset({1})), data_selector="data")
    assert run.ids == [0, 2, 2]  # as served; the engine drops the overlap (skip_records)
    assert len(run.urls) == 3  # and the empty page at offset 3 ends it
    assert any("already read on the previous, short, page" in w for w in paginator.warnings)


def test_a_new_version_after_a_short_page_is_no_overlap() -> None:
    # offset 0 serves records 0, 1 (short: one filtered out); offset 2 starts with record
    # 1 again: the same record is an overlap, but with a new name it is an update made
    # between the two requests, and loaded
    def run(second: dict[str, Any]) -> list[int]:
        pages = {0: [{"id": 0, "n": "a"}, {"id": 1, "n": "a"}], 2: [second, {"id": 2, "n": "a"}]}

        def api(request: httpx.Request) -> httpx.Response:
            return respond(request, {"data": pages.get(int(request.url.params["offset"]), [])})

        paginator = OffsetPaginator(limit=3, total_path=None)
        skipped: list[int] = []
        original = paginator.update_state

        def update_state(response: httpx.Response, body: Any, records: list[Any]) -> None:
            original(response, body, records)
            skipped.append(paginator.skip_records)

        paginator.update_state = update_state  # type: ignore[method-assign]
        drive(paginator, api, data_selector="data")
        return skipped

    assert run({"id": 1, "n": "a"}) == [0, 1, 0]  # the overlap is dropped
    assert run({"id": 1, "n": "b"}) == [0, 0, 0]  # before: [0, 1, 0], the update dropped


# --- a page equal to the one before the previous -----------------------------------------


def test_a_page_equal_to_the_one_before_the_previous_is_an_error() -> None:
    pages = {1: [1, 2], 2: [3], 3: [1, 2]}

    def api(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return respond(request, {"data": [{"id": i} for i in pages.get(page, [])]})

    with pytest.raises(PaginationError, match="page 3 returned the same 2 records as page 1"):
        drive(PageNumberPaginator(base_page=1, total_path=None), api, data_selector="data")


# --- auto-detection of a bare page echo ---------------------------------------------------


def echo_api(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params.get("page", "1"))
    return respond(request, {"data": dataset(10)[(page - 1) * 4 : page * 4], "page": page})


def test_a_bare_page_echo_is_detected_as_page_number_with_a_warning() -> None:
    paginator = AutoPaginator()
    run = drive(paginator, echo_api, data_selector="data")
    assert run.ids == list(range(10))  # before: 0..3, one page, and no warning
    assert isinstance(paginator.delegate, PageNumberPaginator)
    assert [w for w in paginator.warnings if "echoes the page number at 'page' (1)" in w]


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        ({"data": [{"id": 1}], "page": 3}, None),  # not a first page
        ({"data": [{"id": 1}], "page": 1}, "2"),  # not the page asked for
        ({"data": [], "page": 1}, None),  # no records: nothing to page through
        ({"data": [{"id": 1}], "page": "1"}, None),  # a string is not a page number
    ],
)
def test_what_is_no_page_echo(body: Any, sent: str | None) -> None:
    url = f"{BASE}?page={sent}" if sent else BASE
    response = respond(httpx.Request("GET", url), body)
    assert detect(response, body, body["data"]).paginator.type_name == "single_page"


# --- an error object as the first page ----------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "body", "problem"),
    [
        ("data", {"error": "upstream timeout", "data": None}, "an error object"),
        (None, {"errors": [{"message": "try later"}]}, "an error object"),
        ("data", {"data": None}, None),  # an empty collection (a Go nil slice)
        ("data", None, None),
        ("data", {"error": "partial", "data": [{"id": 1}]}, None),  # records beside it
        (None, {"errors": [], "items": []}, None),
    ],
)
def test_a_first_page_error_object_is_a_mismatch(
    selector: str | None, body: Any, problem: str | None
) -> None:
    found = PageShape(selector).mismatch(body)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)
