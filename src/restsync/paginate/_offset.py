"""`offset`: an offset and a page size sent as query parameters (or in the JSON body)."""

from __future__ import annotations

from typing import Any

import httpx

from restsync.http._request import PageRequest
from restsync.paginate._base import (
    DEFAULT_PAGE_CAP,
    Paginator,
    as_bool,
    as_int,
    content_bytes,
    identity_bytes,
    record_identity,
    set_body_path,
)
from restsync.paginate._stop_condition import StopCondition
from restsync.util.paths import find_first

__all__ = ["OffsetPaginator"]


class OffsetPaginator(Paginator):
    """Offset/limit pagination: `?offset=0&limit=100`, then `?offset=100&limit=100`, ...

    The next offset advances by the number of records received, not by `limit`, so an
    API that serves fewer records than asked (asked 500, serves 250) is still read
    without gaps. Pagination ends, in this order of precedence:

    - on an empty page (the next request would be the same one);
    - at `maximum_offset`, or at the total, read from `total_path` (default `total`)
      whenever the body has a number there; a total seen once (say, only on the first
      page) is remembered, and a missing or null total is simply not used. The total is
      believed once the page at the offset it names confirms it (asked for too, and
      fetched ahead): empty, or only the last page's records again, it ends the
      pagination; with new records the total was low: a WARNING says so, the total is no
      longer read, and pages are read on until an empty one;
    - when `has_more_path` holds a false flag (`false`, `"false"`, `0`), or when
      `stop_condition` holds;
    - otherwise only on an empty page: a short page is not the end (the API may clamp
      its page size or filter records out of a page), so one more page is asked for.

    Advancing by the records received never skips a record; when the API filtered
    records out of a short page, the next page starts inside the range already read,
    and the records it repeats (the previous page's last ones, equal as whole records;
    with a primary key or `id` field) are recognised and dropped (`skip_records`), with a
    warning, so an append loads each record once (a key come back with other values is a
    new version, and loaded). A page holding nothing but records read on the
    two pages before it (an API answering an offset past its end with its last page) is an
    error, not records to load again. Without a total or `maximum_offset`, a
    pagination longer than `DEFAULT_PAGE_CAP` pages stops with an error.

    Example config: `{"type": "offset", "limit": 100, "total_path": "meta.total"}`.
    """

    type_name = "offset"

    def __init__(
        self,
        limit: int,
        offset: int = 0,
        offset_param: str = "offset",
        limit_param: str = "limit",
        offset_body_path: str | None = None,
        limit_body_path: str | None = None,
        total_path: str | None = "total",
        maximum_offset: int | None = None,
        stop_after_empty_page: bool = True,
        has_more_path: str | None = None,
        stop_condition: str | StopCondition | None = None,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(stop_condition=stop_condition, max_pages=max_pages)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
        self.limit = limit
        self.offset = offset
        self.offset_param = offset_param
        self.limit_param = limit_param
        self.offset_body_path = offset_body_path
        self.limit_body_path = limit_body_path
        self.total_path = total_path
        self.maximum_offset = maximum_offset
        self.stop_after_empty_page = stop_after_empty_page
        self.has_more_path = has_more_path
        #: The total number of records, once the API has said it.
        self.total: int | None = None
        #: True once a page past the API's total had records: the total is no longer read.
        self.total_was_low = False
        self.largest_page = 0
        #: The last two pages' records (their lists, not copies).
        self._recent: list[list[Any]] = []
        #: The previous page's records serialized whole, when it was shorter than `limit`.
        self._short_tail: list[bytes] = []
        #: Overlapping pages and records met so far, by whether records have a key.
        self._overlaps: dict[bool, list[int]] = {}

    def init_request(self, request: PageRequest) -> None:
        """Send the starting offset and the page size."""
        self._write(request)

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """Advance by the records received and decide whether another page exists."""
        received = len(records)
        confirmed = self.told_end_holds(records)
        if confirmed:  # the page after the total: empty, or the last page's records again
            self.skip_records = received
            self.has_next_page = False
            return
        if confirmed is False:  # records past the total: it was low
            self._total_was_low()
        overlap = self._overlap(records)
        if overlap < received and self._already_read(records[overlap:]):
            # An API answering an offset past its end with its last page again (its total
            # too high): beyond the overlap of a short page, nothing new, all read before.
            raise self._repeat_error(
                f"{received - overlap} records all read on the two pages before it"
            )
        self._recent = [*self._recent[-1:], records]
        if overlap:
            self._note_overlap(overlap, identified=self._identified(records))
        self.offset += received
        self.largest_page = max(self.largest_page, received)
        self._short_tail = [content_bytes(r) for r in records] if received < self.limit else []
        if self.total_path is not None and not self.total_was_low:
            total = as_int(find_first(body, self.total_path))
            if total is not None:
                self.total = total
        has_more = as_bool(find_first(body, self.has_more_path)) if self.has_more_path else None
        self.has_next_page = self._more(received, has_more)
        if self.has_next_page and self.total is not None and self.offset >= self.total:
            self.expect_told_end(records)

    def _total_was_low(self) -> None:
        self.warn(
            f"the total at '{self.total_path}' said {self.total} record(s), but offset "
            f"{self.offset} still had records: the total is low, so it is no longer used and "
            "pages are read until an empty one",
            key="total-low",
        )
        self.total = None
        self.total_was_low = True

    def _more(self, received: int, has_more: bool | None) -> bool:
        if received == 0:
            if self.total is not None and self.offset < self.total:
                self.warn(
                    f"offset {self.offset} had no records although the total is {self.total}; "
                    "the pagination ended there, since the next request would be the same",
                    key="empty-before-total",
                )
            return False
        if self.maximum_offset is not None and self.offset >= self.maximum_offset:
            return False
        if self.total is not None and self.offset >= self.total:
            # The total is believed only once the page after it confirms it (empty, or the
            # last page's records again): a total lower than the records served would lose
            # records.
            return has_more is not False
        if has_more is not None:
            return has_more
        if self.total is None and self.maximum_offset is None:
            self.check_page_cap("maximum_offset", 2 * DEFAULT_PAGE_CAP * self.limit)
        return True

    def _note_overlap(self, overlap: int, *, identified: bool) -> None:
        counts = self._overlaps.setdefault(identified, [0, 0, self.offset])
        counts[0] += 1
        counts[1] += overlap
        pages, repeated, first = counts
        if identified:
            self.skip_records = overlap
            self.warn(
                f"{pages} page(s), the first at offset {first}, started with "
                f"{repeated} record(s) in all already read on the previous, short, page (the "
                "API left records out of it); each was loaded once",
                key="overlap",
            )
        else:
            self.warn(
                f"{pages} page(s) started with {repeated} record(s) in all equal to the "
                "previous, short, page's last ones; with no primary key or id field restsync "
                "cannot tell a repeat from equal records, so they were loaded as served (set "
                "the resource's primary_key to load repeats once)",
                key="overlap-unidentified",
            )

    def _overlap(self, records: list[Any]) -> int:
        """How many leading records of this page end the previous, short, page.

        Only a page shorter than `limit` can cause an overlap (the API covered more
        positions than it served), and only its last records can come back. They are
        compared whole: a record whose key comes back with other values is a new version
        (an update between the two requests), and is loaded."""
        tail = self._short_tail
        if not tail or not records:
            return 0
        head = [content_bytes(r) for r in records[: len(tail)]]
        for start, value in enumerate(tail):
            if value == head[0] and tail[start:] == head[: len(tail) - start]:
                return len(tail) - start
        return 0

    def _already_read(self, records: list[Any]) -> bool:
        """Whether every one of `records` was on the last two pages (by identity). Only a
        page that ends with the previous page's last record is compared record by record."""
        if not self._recent or not self._recent[-1]:
            return False
        key = self.primary_key
        if identity_bytes(records[-1], key) != identity_bytes(self._recent[-1][-1], key):
            return False
        seen = {identity_bytes(r, key) for page in self._recent for r in page}
        return all(identity_bytes(r, key) in seen for r in records)

    def _identified(self, records: list[Any]) -> bool:
        """Whether records are told apart by a key (primary key or `id` field), not by
        their whole content, so a repeat is surely the same record."""
        first = records[0]
        return record_identity(first, self.primary_key) is not first

    def update_request(self, request: PageRequest) -> None:
        """Send the offset reached so far."""
        self._write(request)

    def lookahead(self, request: PageRequest, depth: int) -> list[PageRequest]:
        """Once the total is known: the offsets that follow if every page is as large as the
        largest seen. A page served shorter makes them differ from the real next offsets,
        and the engine then drops them (the offset still advances by records received)."""
        if self.total is None or not self.has_next_page or self.largest_page < 1:
            return []
        ahead = []
        offset = self.offset
        for _ in range(depth):
            offset += self.largest_page
            if self.maximum_offset is not None and offset >= self.maximum_offset:
                break
            following = request.copy()
            self._write(following, offset)
            ahead.append(following)
            if offset >= self.total:  # the page that confirms the total
                break
        return ahead

    def _write(self, request: PageRequest, offset: int | None = None) -> None:
        offset = self.offset if offset is None else offset
        if self.offset_body_path:
            set_body_path(request, self.offset_body_path, offset)
        else:
            request.params[self.offset_param] = offset
        if self.limit_body_path:
            set_body_path(request, self.limit_body_path, self.limit)
        else:
            request.params[self.limit_param] = self.limit

    def describe(self) -> str:
        """One line for `restsync check`."""
        where = f"body '{self.offset_body_path}'" if self.offset_body_path else self.offset_param
        stops = ["on an empty page"]
        if self.total_path:
            stops.append(
                f"at the total in '{self.total_path}' when present, once the page past it "
                "confirms it (a low total is read past, with a warning)"
            )
        if self.maximum_offset is not None:
            stops.append(f"at offset {self.maximum_offset}")
        if self.has_more_path:
            stops.append(f"when '{self.has_more_path}' is false")
        stops.append("else only on an empty page")
        ahead = (
            "; once the total is known, later pages are fetched ahead" if self.total_path else ""
        )
        return (
            f"offset paginator: {where}={self.offset}, {self.limit_param}={self.limit}, "
            f"advancing by the records received; stops {', '.join(stops)}{ahead}"
            f"{self.describe_guards()}"
        )
