"""`auto`: pick the paginator from the first response when the config names none."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from restsync.extract.model import PageRequest
from restsync.paginate._path import compile_path
from restsync.paginate.base import Paginator, as_int
from restsync.paginate.cursor import CursorPaginator, looks_like_url
from restsync.paginate.links import HeaderLinkPaginator, JSONLinkPaginator, find_link
from restsync.paginate.page_number import PAGE_COUNT_KEYS, PageNumberPaginator
from restsync.paginate.single_page import SinglePagePaginator

__all__ = ["CURSOR_PATHS", "NEXT_URL_PATHS", "AutoPaginator", "detect_paginator"]

log = logging.getLogger("restsync.paginate")

#: Where a next page's URL is looked for, in this order.
NEXT_URL_PATHS = (
    "next",
    "next_url",
    "nextUrl",
    "next_page_url",
    "nextPageUrl",
    "next_link",
    "nextLink",
    "@odata.nextLink",
    "links.next",
    "_links.next",
    "pagination.next",
    "pagination.next_url",
    "pagination.nextUrl",
    "pagination.next_page_url",
    "pagination.nextPageUrl",
    "pagination.next_link",
    "pagination.nextLink",
    "paging.next",
    "meta.next",
    "meta.next_url",
    "meta.nextPageUrl",
)

_CURSOR_KEYS = ("next_cursor", "nextCursor", "next_page_token", "nextPageToken", "cursor", "after")
#: Where a cursor is looked for, in this order.
CURSOR_PATHS = (
    *_CURSOR_KEYS,
    *(
        f"{parent}.{key}"
        for parent in ("meta", "pagination", "paging", "response_metadata", "cursors")
        for key in _CURSOR_KEYS
    ),
    "cursors.next",
    "paging.cursors.after",
)

_PAGE_PARENTS = ("", "meta.", "pagination.")


def _present(body: Any, path: str) -> tuple[bool, Any]:
    found = compile_path(path)(body)
    return (True, found[0]) if found else (False, None)


def detect_paginator(response: httpx.Response, body: Any) -> tuple[Paginator, str]:
    """Choose a paginator for a first response; returns it and the reason, in words."""
    if find_link(response.headers.get_list("link"), "next") is not None:
        return HeaderLinkPaginator(), 'the response has a Link header with rel="next"'
    if isinstance(body, dict):
        for path in NEXT_URL_PATHS:
            present, value = _present(body, path)
            if not present:
                continue
            if isinstance(value, dict) and isinstance(value.get("href"), str):
                value = value["href"]
            if value is None or (isinstance(value, str) and looks_like_url(value)):
                return (
                    JSONLinkPaginator(next_url_path=path),
                    f"the body has a next URL at '{path}'",
                )
            if isinstance(value, str) and value:
                return CursorPaginator(cursor_path=path), f"the body has a cursor at '{path}'"
        for path in CURSOR_PATHS:
            present, value = _present(body, path)
            if present and (value is None or isinstance(value, (str, int))):
                return CursorPaginator(cursor_path=path), f"the body has a cursor at '{path}'"
        for path in PAGE_COUNT_KEYS:
            present, value = _present(body, path)
            if present and as_int(value) is not None:
                current = _current_page(body, path.rpartition(".")[0])
                return (
                    PageNumberPaginator(
                        base_page=0 if current == 0 else 1, page=current, total_path=path
                    ),
                    f"the body has a page count at '{path}'",
                )
        for parent in _PAGE_PARENTS:
            pages = _present(body, f"{parent}pages")[1]
            page = _present(body, f"{parent}page")[1]
            if as_int(pages) is not None and as_int(page) is not None:
                current = as_int(page)
                return (
                    PageNumberPaginator(
                        base_page=0 if current == 0 else 1,
                        page=current,
                        total_path=f"{parent}pages",
                    ),
                    f"the body has '{parent}page' and '{parent}pages'",
                )
    return SinglePagePaginator(), "the first response shows no sign of pagination"


def _current_page(body: Any, parent: str) -> int | None:
    for key in ("page", "current_page", "currentPage", "page_number", "pageNumber"):
        value = as_int(_present(body, f"{parent}.{key}" if parent else key)[1])
        if value is not None:
            return value
    return None


class AutoPaginator(Paginator):
    """Chooses the paginator from the first response (the default when none is set).

    In order: a `Link` header with `rel="next"` → `header_link`; a next URL in the body
    (`next`, `next_url`, `nextPageUrl`, `@odata.nextLink`, `links.next`,
    `pagination.next*`, ...) → `json_link`; a cursor (`next_cursor`, `cursor`,
    `next_page_token`, `nextPageToken`, `after`, also under `meta`/`pagination`/...)
    → `cursor`; a page count (`total_pages`, or `page` with `pages`) → `page_number`;
    otherwise `single_page`. The choice and the reason are logged at INFO on the
    `restsync.paginate` logger; name a paginator in the config to skip the guess.
    """

    type_name = "auto"
    # The chosen paginator runs the guards itself; running them here too would count twice.
    guarded = False

    def __init__(self) -> None:
        super().__init__()
        #: The paginator chosen after the first response.
        self.delegate: Paginator | None = None
        self.reason: str | None = None
        self._first: PageRequest | None = None

    def init_request(self, request: PageRequest) -> None:
        """Nothing is added to the first request; it is remembered for the chosen paginator."""
        self._first = request.copy()

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """On the first page, choose; then hand every page to the chosen paginator."""
        if self.delegate is None:
            self.delegate, self.reason = detect_paginator(response, body)
            self.delegate.resource = self.resource
            self.delegate.init_request((self._first or PageRequest("GET", "")).copy())
            where = f"resource '{self.resource}': " if self.resource else ""
            log.info(
                "%sno paginator configured; using %s because %s",
                where,
                self.delegate.describe(),
                self.reason,
            )
        self.delegate.update_state(response, body, records)
        self.has_next_page = self.delegate.has_next_page
        self.pages_seen = self.delegate.pages_seen
        self.current_url = self.delegate.current_url

    def update_request(self, request: PageRequest) -> None:
        """Let the chosen paginator build the next request."""
        assert self.delegate is not None, "update_request called before update_state"
        self.delegate.update_request(request)
        self.next_url_is_follow_up = self.delegate.next_url_is_follow_up

    def describe(self) -> str:
        """One line for `restsync check`."""
        if self.delegate is None:
            return (
                "auto: chosen from the first response (Link header, next URL, cursor, "
                "page count, else a single page)"
            )
        return f"auto ({self.reason}): {self.delegate.describe()}"
