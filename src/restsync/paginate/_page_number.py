"""`page_number`: a page number sent as a query parameter (or in the JSON body)."""

from __future__ import annotations

import enum
from typing import Any

import httpx

from restsync.http._request import PageRequest
from restsync.paginate._base import DEFAULT_PAGE_CAP, Paginator, as_bool, as_int, set_body_path
from restsync.paginate._stop_condition import StopCondition
from restsync.util.paths import find_first

__all__ = ["PAGE_COUNT_KEYS", "PageNumberPaginator"]


class _Auto(enum.Enum):
    TOTAL_PAGES = "known page-count keys"


#: Where a page count is looked for when `total_path` is not given. A bare `total` is
#: not among them: most APIs mean the number of records by it, not of pages.
PAGE_COUNT_KEYS = (
    "total_pages",
    "totalPages",
    "page_count",
    "pageCount",
    "last_page",
    "lastPage",
    "meta.total_pages",
    "meta.totalPages",
    "meta.page_count",
    "meta.last_page",
    "pagination.total_pages",
    "pagination.totalPages",
    "pagination.page_count",
    "pagination.pageCount",
    "pagination.last_page",
)


class PageNumberPaginator(Paginator):
    """Page-number pagination: `?page=1`, `?page=2`, ...

    The first page is `base_page`. Without `base_page` (and `page`), restsync's
    extraction finds it on the first run (`needs_base_probe`): it asks for pages 0 and
    1, and takes base 0 only when page 0 answers records that page 1 does not (page 0
    refused, empty or equal to page 1: base 1); the base is then kept in the pipeline
    state and given back with `settle_base`. Driven by hand, the default is 1. `page`
    starts somewhere else. When you give
    `limit`, it is sent as `limit_param` (default `limit`) on every request. Pagination
    ends:

    - on an empty page (unless `stop_after_empty_page` is false and a page count or a
      `has_more` flag says more pages follow);
    - after `maximum_page` (the last page number requested, inclusive), or after the last
      page by the page count at `total_path` (a number of *pages*). Without `total_path`
      the usual keys are tried (`total_pages`, `totalPages`, `page_count`,
      `meta.total_pages`, ...); a missing or null count is simply not used. The count is
      believed once the page after its last one confirms it: that page is asked for too
      (fetched ahead with the others), and ends the pagination when it is empty or only
      repeats the last page (APIs that answer past their end with their last page); when
      it has new records the count was low: a WARNING says so, the count is no longer
      read, and pages are read on until an empty one. An empty page before the count's
      last one ends the pagination as `stop_after_empty_page` says, with a WARNING;
    - when `has_more_path` holds a false flag, or when `stop_condition` holds;
    - otherwise only on an empty page: a short page is not the end (APIs filter records
      out of their pages: 10, 9, 10, 10, 3), so one more page is asked for.

    Without a page count or `maximum_page`, a pagination longer than
    `DEFAULT_PAGE_CAP` pages stops with an error that says how to go further.

    Example config: `{"type": "page_number", "page_param": "page", "limit": 50}`.
    """

    type_name = "page_number"

    def __init__(
        self,
        base_page: int | None = None,
        page: int | None = None,
        page_param: str = "page",
        page_body_path: str | None = None,
        limit: int | None = None,
        limit_param: str | None = None,
        total_path: str | _Auto | None = _Auto.TOTAL_PAGES,
        maximum_page: int | None = None,
        stop_after_empty_page: bool = True,
        has_more_path: str | None = None,
        stop_condition: str | StopCondition | None = None,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(stop_condition=stop_condition, max_pages=max_pages)
        if base_page is not None and (
            isinstance(base_page, bool) or not isinstance(base_page, int)
        ):
            raise ValueError(f"base_page must be an integer, got {base_page!r}")
        #: True while the first page is unknown: neither `base_page` nor `page` was given.
        self.needs_base_probe = base_page is None and page is None
        base_page = 1 if base_page is None else base_page
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        self.base_page = base_page
        self.page = base_page if page is None else page
        self.page_param = page_param
        self.page_body_path = page_body_path
        self.limit = limit
        self.limit_param = limit_param or "limit"
        self.total_path = total_path
        self.maximum_page = maximum_page
        self.stop_after_empty_page = stop_after_empty_page
        self.has_more_path = has_more_path
        #: The number of pages, once the API has said it.
        self.total_pages: int | None = None
        #: True once a page past the API's count had records: the count is no longer read.
        self.count_was_low = False
        #: Where the page count was read.
        self._count_path = total_path if isinstance(total_path, str) else ""
        self.largest_page = 0

    def init_request(self, request: PageRequest) -> None:
        """Send the first page number (and the page size, when given)."""
        self._write(request)

    def probe_requests(self, request: PageRequest) -> tuple[PageRequest, PageRequest]:
        """Page 0's and page 1's versions of the first request, to find the first page."""
        zero, one = request.copy(), request.copy()
        self._write(zero, 0)
        self._write(one, 1)
        return zero, one

    def settle_base(self, base: int) -> bool:
        """Fix the first page (0 or 1) found by probing or read from the pipeline state,
        unless the config gave `base_page` or `page` (then False: nothing changes). Call
        `init_request` again afterwards."""
        if not self.needs_base_probe:
            return False
        self.base_page = self.page = base
        self.needs_base_probe = False
        return True

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """Decide whether a page after this one exists, and move to it."""
        received = len(records)
        self.largest_page = max(self.largest_page, received)
        confirmed = self.told_end_holds(records)
        if confirmed:  # the page after the told last one: empty, or the last one again
            self.skip_records = received
            self.has_next_page = False
            return
        if confirmed is False:  # records past the page count: it was low
            self._count_was_low()
        count = self._page_count(body)
        if count is not None:
            self.total_pages = count
        has_more = as_bool(find_first(body, self.has_more_path)) if self.has_more_path else None
        self.has_next_page = self._more(received, has_more)
        if self.has_next_page:
            if self._past_count():
                self.expect_told_end(records)
            self.page += 1

    def _count_was_low(self) -> None:
        self.warn(
            f"the page count at '{self._count_path}' said {self.total_pages} page(s), but "
            f"page {self.page} after them still had records: the count is low, so it is no "
            "longer used and pages are read until an empty one",
            key="page-count-low",
        )
        self.total_pages = None
        self.count_was_low = True

    def _page_count(self, body: Any) -> int | None:
        if self.total_path is None or self.count_was_low:
            return None
        paths = (self.total_path,) if isinstance(self.total_path, str) else PAGE_COUNT_KEYS
        for path in paths:
            count = as_int(find_first(body, path))
            if count is not None:
                self._count_path = path
                return count
        return None

    def _more(self, received: int, has_more: bool | None) -> bool:
        signalled = self.total_pages is not None or has_more is not None
        if received == 0 and (self.stop_after_empty_page or not signalled):
            if self.total_pages is not None and self.page < self._last_counted():
                self.warn(
                    f"page {self.page} had no records although the page count says "
                    f"{self.total_pages} page(s); the pagination ended there, as "
                    "stop_after_empty_page (true by default) says; set "
                    "endpoint.paginator.stop_after_empty_page: false to read on to the count",
                    key="empty-before-count",
                )
            return False
        following = self.page + 1
        if self.maximum_page is not None and following > self.maximum_page:
            return False
        if self._past_count():
            # The count is believed only once the page after it confirms it (empty, or the
            # last page again): a count lower than the pages served would lose records.
            return received > 0 and has_more is not False
        if has_more is not None:
            return has_more
        if self.total_pages is None and self.maximum_page is None:
            self.check_page_cap("maximum_page", 2 * DEFAULT_PAGE_CAP)
        return True

    def _past_count(self) -> bool:
        """Whether the page after this one is past the last page by the API's count."""
        return self.total_pages is not None and self.page + 1 > self._last_counted()

    def _last_counted(self) -> int:
        assert self.total_pages is not None
        return self.base_page + self.total_pages - 1

    def update_request(self, request: PageRequest) -> None:
        """Send the next page number."""
        self._write(request)

    def lookahead(self, request: PageRequest, depth: int) -> list[PageRequest]:
        """The pages after `request` up to the one after the last by the page count (which
        confirms the count), once the count is known."""
        if self.total_pages is None or not self.has_next_page:
            return []
        last = self._last_counted() + 1
        if self.maximum_page is not None:
            last = min(last, self.maximum_page)
        ahead = []
        for page in range(self.page + 1, min(last, self.page + depth) + 1):
            following = request.copy()
            self._write(following, page)
            ahead.append(following)
        return ahead

    def _write(self, request: PageRequest, page: int | None = None) -> None:
        page = self.page if page is None else page
        if self.page_body_path:
            set_body_path(request, self.page_body_path, page)
        else:
            request.params[self.page_param] = page
        if self.limit is not None:
            request.params[self.limit_param] = self.limit

    def describe(self) -> str:
        """One line for `restsync check`."""
        where = f"body '{self.page_body_path}'" if self.page_body_path else self.page_param
        size = f", {self.limit_param}={self.limit}" if self.limit is not None else ""
        if isinstance(self.total_path, str):
            count = f"after the page count in '{self.total_path}' when present, "
        elif self.total_path is None:
            count = ""
        else:
            count = "after the page count (total_pages, ...) when present, "
        maximum = f"after page {self.maximum_page}, " if self.maximum_page is not None else ""
        flag = f"when '{self.has_more_path}' is false, " if self.has_more_path else ""
        ahead = (
            "; the page after the count's last one is asked for to confirm the count (a low "
            "count is read past, with a warning); once the page count is known, later pages "
            "are fetched ahead"
            if count
            else ""
        )
        start = (
            "page 0 or 1 (no base_page: found by asking for both on the first run)"
            if self.needs_base_probe
            else str(self.page)
        )
        return (
            f"page_number paginator: {where} from {start}{size}; stops on an empty page, "
            f"{maximum}{count}{flag}else only on an empty page{ahead}"
            f"{self.describe_guards()}"
        )
