"""No guess may lose data: short pages, clamped and filtered offsets, repeated last pages,
base64 cursors (DESIGN §3)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from restsync.errors import PaginationError
from restsync.paginate import CursorPaginator, OffsetPaginator, PageNumberPaginator
from restsync.paginate import _base as paginate_base

from .fake_api import BASE, dataset, drive, respond

# --- short pages are not the end --------------------------------------------------------

#: Page sizes of an API that serves pages of 10 and filters records out of some of them.
FILTERED_PAGES = [10, 9, 10, 10, 3]


def filtered_page_api(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params["page"])
    start = sum(FILTERED_PAGES[: page - 1])
    size = FILTERED_PAGES[page - 1] if page <= len(FILTERED_PAGES) else 0
    return respond(request, {"data": dataset(100)[start : start + size]})


def test_page_number_without_a_total_reads_past_a_filtered_short_page() -> None:
    run = drive(PageNumberPaginator(limit=10), filtered_page_api)
    assert run.ids == list(range(42))
    # five pages and the empty one that proves the end
    assert [u.split("page=")[1].split("&")[0] for u in run.urls] == ["1", "2", "3", "4", "5", "6"]


def test_page_number_stop_condition_still_ends_on_a_short_page_when_asked() -> None:
    run = drive(PageNumberPaginator(limit=10, stop_condition="len(records) < 5"), filtered_page_api)
    assert run.ids == list(range(42))
    assert len(run.urls) == 5


def clamping_offset_api(request: httpx.Request) -> httpx.Response:
    """Asked for 500, serves at most 250; never gives a total."""
    offset = int(request.url.params["offset"])
    size = min(int(request.url.params["limit"]), 250)
    return respond(request, {"data": dataset(990)[offset : offset + size]})


def test_offset_clamped_by_the_api_reads_every_record_once() -> None:
    run = drive(OffsetPaginator(limit=500), clamping_offset_api)
    assert run.ids == list(range(990))
    offsets = [httpx.URL(u).params["offset"] for u in run.urls]
    assert offsets == ["0", "250", "500", "750", "990"]


def filtering_offset_api(request: httpx.Request) -> httpx.Response:
    """Covers `limit` positions per request but leaves out every record whose id ends in 5."""
    offset = int(request.url.params["offset"])
    limit = int(request.url.params["limit"])
    window = dataset(60)[offset : offset + limit]
    return respond(request, {"data": [r for r in window if r["id"] % 10 != 5]})


def test_offset_after_a_filtered_short_page_loads_no_record_twice() -> None:
    paginator = OffsetPaginator(limit=10)
    run = _drive_skipping(paginator, filtering_offset_api)
    expected = [i for i in range(60) if i % 10 != 5]
    assert sorted(run) == expected
    assert len(run) == len(expected)  # nothing appended twice
    assert len(paginator.warnings) == 1  # one line, with a running count
    assert "already read on the previous, short, page" in paginator.warnings[0]


def test_offset_overlap_without_an_identity_is_loaded_as_served_with_a_warning() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        window = [{"v": i} for i in range(30)][offset : offset + 10]
        return respond(request, {"data": [r for r in window if r["v"] != 5]})

    paginator = OffsetPaginator(limit=10)
    records = _drive_skipping(paginator, api, key="v")
    # records cannot be told from equal ones: nothing dropped, the repeat is a WARNING
    assert records.count(9) == 2
    assert any("loaded as served" in w for w in paginator.warnings)


def _drive_skipping(paginator: OffsetPaginator, api: Any, key: str = "id") -> list[Any]:
    """Like `drive`, dropping the records the paginator marks as already read."""
    kept: list[Any] = []
    original = paginator.update_state

    def update_state(response: httpx.Response, body: Any, records: list[Any]) -> None:
        original(response, body, records)
        kept.extend(r[key] for r in records[paginator.skip_records :])

    paginator.update_state = update_state  # type: ignore[method-assign]
    drive(paginator, api, data_selector="data")
    return kept


# --- an API that repeats its last page forever ------------------------------------------


def repeating_api(request: httpx.Request) -> httpx.Response:
    """Three pages, then page 3 again for every later page number; each record carries
    the time it was fetched, so no two responses are byte-equal."""
    page = min(int(request.url.params["page"]), 3)
    stamp = next(_clock)
    records = [dict(r, fetched_at=stamp) for r in dataset(30)[(page - 1) * 10 : page * 10]]
    return respond(request, {"data": records})


_clock = itertools.count()


def test_a_repeated_last_page_with_per_response_fields_is_caught_by_record_identity() -> None:
    with pytest.raises(PaginationError) as info:
        drive(PageNumberPaginator(), repeating_api, max_requests=50)
    message = str(info.value)
    assert "page 4 returned the same 10 records as page 3" in message
    assert "id" in message


def test_a_repeated_page_is_compared_by_the_primary_key() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = min(int(request.url.params["page"]), 2)
        stamp = next(_clock)
        return respond(request, [{"sku": f"s{page}-{i}", "at": stamp} for i in range(5)])

    paginator = PageNumberPaginator()
    paginator.primary_key = ["sku"]
    with pytest.raises(PaginationError, match="primary key sku"):
        drive(paginator, api, max_requests=50)


def test_an_endless_pagination_stops_at_the_safety_cap_naming_a_real_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(paginate_base, "DEFAULT_PAGE_CAP", 25)

    def api(request: httpx.Request) -> httpx.Response:  # new records on every page, forever
        page = int(request.url.params["page"])
        return respond(request, {"data": [{"fetched_at": next(_clock), "n": page}]})

    with pytest.raises(PaginationError) as info:
        drive(PageNumberPaginator(), api, max_requests=100)
    assert "stopped after 25 pages" in str(info.value)
    assert "endpoint.paginator.maximum_page" in (info.value.hint or "")

    with pytest.raises(PaginationError) as info:
        drive(OffsetPaginator(limit=1), _endless_offset_api, max_requests=100)
    assert "endpoint.paginator.maximum_offset" in (info.value.hint or "")


def _endless_offset_api(request: httpx.Request) -> httpx.Response:
    return respond(request, {"data": [{"at": next(_clock)}]})


def test_maximum_page_set_on_purpose_lifts_the_cap_without_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(paginate_base, "DEFAULT_PAGE_CAP", 5)

    def api(request: httpx.Request) -> httpx.Response:
        return respond(request, {"data": [{"id": int(request.url.params["page"])}]})

    run = drive(PageNumberPaginator(maximum_page=8), api)
    assert run.ids == list(range(1, 9))


# --- cursors that start with "/" --------------------------------------------------------


@pytest.mark.parametrize("token", ["/3q2+7w==", "/abc/def==", "?x=1", "./weird"])
def test_a_cursor_starting_like_a_path_is_sent_as_a_cursor(token: str) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor is None:
            return respond(request, {"data": dataset(4)[:2], "next_cursor": token})
        assert cursor == token
        return respond(request, {"data": dataset(4)[2:], "next_cursor": None})

    run = drive(CursorPaginator(cursor_path="next_cursor"), api)
    assert run.ids == [0, 1, 2, 3]
    assert httpx.URL(run.urls[1]).path == httpx.URL(BASE).path
    assert httpx.URL(run.urls[1]).params["cursor"] == token
    assert run.follow_ups == [False, False]


def test_an_absolute_next_url_in_the_cursor_is_still_followed() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if "after" not in request.url.params:
            return respond(request, {"data": dataset(4)[:2], "next": f"{BASE}?after=2"})
        return respond(request, {"data": dataset(4)[2:], "next": None})

    run = drive(CursorPaginator(cursor_path="next"), api)
    assert run.ids == [0, 1, 2, 3]
    assert run.urls[1] == f"{BASE}?after=2"
    assert run.follow_ups == [False, True]
