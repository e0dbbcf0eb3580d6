"""`auto`: pick the paginator from the first response when the config names none."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from restsync.http._request import PageRequest
from restsync.paginate._base import Paginator, as_int
from restsync.paginate._cursor import CursorPaginator, looks_like_url
from restsync.paginate._links import HeaderLinkPaginator, JSONLinkPaginator, find_link
from restsync.paginate._offset import OffsetPaginator
from restsync.paginate._page_number import PAGE_COUNT_KEYS, PageNumberPaginator
from restsync.paginate._single_page import SinglePagePaginator
from restsync.util.paths import compile_path
from restsync.util.redact import redact_text, redact_url

__all__ = [
    "CURSOR_PATHS",
    "NEXT_URL_PATHS",
    "AutoPaginator",
    "Detection",
    "detect",
    "detect_paginator",
]

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
_COUNT_NAMES = frozenset({k.rpartition(".")[2] for k in PAGE_COUNT_KEYS} | {"pages", "last"})

#: Where the next page's *number* is looked for (an integer; `next` also when it is one).
NEXT_PAGE_PATHS = tuple(
    f"{parent}{key}" for parent in _PAGE_PARENTS for key in ("next_page", "nextPage")
)
_TOTAL_KEYS = ("total", "total_count", "totalCount", "count")
_OFFSET_KEYS = ("offset", "skip")
_PAGE_SIZE_KEYS = ("per_page", "perPage", "page_size", "pageSize", "limit", "size")
#: Keys whose presence in a first response says something about more pages.
_EVIDENCE_KEYS = (
    *_TOTAL_KEYS,
    "total_pages",
    "totalPages",
    "pages",
    "page_count",
    "pageCount",
    "last_page",
    "lastPage",
    "last",
    "next",
    "next_page",
    "nextPage",
    "has_more",
    "hasMore",
    "more",
    "page",
    "offset",
    "limit",
)
_EVIDENCE_PARENTS = ("", "meta.", "pagination.", "paging.", "_meta.")


@dataclass
class Detection:
    """What auto-detection chose from a first response, and on what evidence.

    `as_dict()` is what `check --probe` and the run's `LoadInfo` show: the paginator's
    type and description, the reason in words, the paging values the first response
    carried (`evidence`, secrets masked) and the warning, when the choice is a guess
    that may lose pages."""

    paginator: Paginator
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The detection as plain data."""
        return {
            "paginator": self.paginator.type_name,
            "description": self.paginator.describe(),
            "reason": self.reason,
            "evidence": dict(self.evidence),
            "warning": self.warning,
        }


def _present(body: Any, path: str) -> tuple[bool, Any]:
    found = compile_path(path)(body)
    return (True, found[0]) if found else (False, None)


def detect_paginator(response: httpx.Response, body: Any) -> tuple[Paginator, str]:
    """Choose a paginator for a first response; returns it and the reason, in words."""
    found = detect(response, body)
    return found.paginator, found.reason


def detect(response: httpx.Response, body: Any, records: list[Any] | None = None) -> Detection:
    """Choose a paginator for a first response (whose records are `records`).

    When nothing is recognised the choice is a single page; if the body still carries a
    total beyond the records served, a page count above one, a next value or a true
    `has_more`, that guess may lose pages and `Detection.warning` says so."""
    paginator, reason = _choose(response, body)
    evidence = _evidence(body)
    warning = None
    if isinstance(paginator, SinglePagePaginator) and records:
        echo = _page_echo(response, body)
        if echo is not None:
            path, page = echo
            paginator = PageNumberPaginator(
                base_page=0 if page == 0 else 1, page=page, total_path=None
            )
            reason = f"the body echoes the page number at '{path}' ({page}) beside its records"
            warning = (
                f"no paginator configured; the first response echoes the page number at "
                f"'{path}' ({page}) and shows no page count, total or next value, so pages "
                f"{page + 1}, {page + 2}, ... are asked for as 'page' until an empty one. Set "
                "endpoint.paginator (page_number with its page_param, or single_page) to say "
                "how the API pages"
            )
            return Detection(paginator, reason, evidence, warning)
    if isinstance(paginator, SinglePagePaginator):
        more = _signs_of_more(evidence, len(records) if records is not None else None)
        if more:
            warning = (
                "no paginator configured and none recognised, so one page was read; but the "
                f"first response has {', '.join(more)}: the API may have more pages. Set "
                "endpoint.paginator (offset, page_number, cursor, json_link, ...) to read "
                "them, or single_page to say one page is all"
            )
    return Detection(paginator, reason, evidence, warning)


def _choose(response: httpx.Response, body: Any) -> tuple[Paginator, str]:
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
            if _page_number(value) is not None:
                return _next_page(path)
        for path in NEXT_PAGE_PATHS:
            present, value = _present(body, path)
            if present and (value is None or _page_number(value) is not None):
                return _next_page(path)
            if present and isinstance(value, str) and looks_like_url(value):
                return (
                    JSONLinkPaginator(next_url_path=path),
                    f"the body has a next URL at '{path}'",
                )
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
        for parent in _PAGE_PARENTS:
            chosen = _offset_or_page(body, parent)
            if chosen is not None:
                return chosen
    return SinglePagePaginator(), "the first response shows no sign of pagination"


def _page_echo(response: httpx.Response, body: Any) -> tuple[str, int] | None:
    """A first page's number echoed in its body (`page`, also under `meta`/`pagination`):
    0 or 1, and the number sent as `page` when the request sent one; else None."""
    if not isinstance(body, dict):
        return None
    try:
        sent = response.request.url.params.get("page")
    except RuntimeError:  # a response built without a request
        sent = None
    for parent in _PAGE_PARENTS:
        value = _present(body, f"{parent}page")[1]
        page = _page_number(value)
        if page is not None and page in (0, 1) and sent in (None, str(page)):
            return f"{parent}page", page
    return None


def _page_number(value: Any) -> int | None:
    """An integer page number (not a boolean, not a string: a string is a cursor)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _next_page(path: str) -> tuple[Paginator, str]:
    # the API names the next page itself: send it back as `page` until it is null; an
    # empty page ends it too, in case the last page still names a following one
    paginator = CursorPaginator(cursor_path=path, cursor_param="page", stop_after_empty_page=True)
    return paginator, f"the body has the next page number at '{path}' (sent as 'page')"


def _offset_or_page(body: Any, parent: str) -> tuple[Paginator, str] | None:
    """Offset/limit (`offset` or `skip`, with `limit`) or page/size with a total."""
    limit = as_int(_present(body, f"{parent}limit")[1])
    total_key = next(
        (
            f"{parent}{k}"
            for k in _TOTAL_KEYS
            if as_int(_present(body, f"{parent}{k}")[1]) is not None
        ),
        None,
    )
    for key in _OFFSET_KEYS:
        offset = as_int(_present(body, f"{parent}{key}")[1])
        # without a total, only a body that holds a list of records is taken for a page
        listed = total_key is not None or any(type(v) is list for v in body.values())
        if offset is not None and limit is not None and limit > 0 and listed:
            paginator = OffsetPaginator(
                limit=limit,
                offset=offset,
                offset_param=key,
                total_path=total_key or f"{parent}total",
            )
            why = f"the body has '{parent}{key}' and '{parent}limit'"
            return paginator, why + (f" and a total at '{total_key}'" if total_key else "")
    page = as_int(_present(body, f"{parent}page")[1])
    size_key = next(
        (f"{parent}{k}" for k in _PAGE_SIZE_KEYS if as_int(_present(body, f"{parent}{k}")[1])),
        None,
    )
    if page is not None and total_key is not None and size_key is not None:
        by_page = PageNumberPaginator(base_page=0 if page == 0 else 1, page=page, total_path=None)
        return by_page, f"the body has '{parent}page', '{size_key}' and a total at '{total_key}'"
    return None


def _evidence(body: Any) -> dict[str, Any]:
    """The paging values a first response carries, by path (secrets masked)."""
    if not isinstance(body, dict):
        return {}
    found: dict[str, Any] = {}
    for parent in _EVIDENCE_PARENTS:
        for key in _EVIDENCE_KEYS:
            present, value = _present(body, f"{parent}{key}")
            if present and (value is None or isinstance(value, (bool, int, float, str))):
                if isinstance(value, str):
                    value = redact_url(value) if "://" in value else redact_text(value)
                    value = value if len(value) <= 200 else value[:197] + "..."
                found[f"{parent}{key}"] = value
    return found


def _signs_of_more(evidence: dict[str, Any], served: int | None) -> list[str]:
    """The evidence that says more pages follow, in words (empty: none)."""
    signs = []
    for path, value in evidence.items():
        key = path.rpartition(".")[2]
        number = as_int(value)
        if key in _TOTAL_KEYS and number is not None and (served is None or number > served):
            signs.append(f"a total '{path}': {number}")
        elif key in _COUNT_NAMES and number is not None and number > 1:
            signs.append(f"a page count '{path}': {number}")
        elif key in ("next", "next_page", "nextPage") and value not in (None, "", False):
            signs.append(f"a next value '{path}': {value!r}")
        elif key in ("has_more", "hasMore", "more") and value is True:
            signs.append(f"'{path}': true")
    return signs


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
    offset and limit → `offset`; only the page number echoed (`page`: 0 or 1 beside the
    records, no count, total or next value) → `page_number` until an empty page, with a
    WARNING that says it is a guess; otherwise `single_page`. The choice and the reason
    are logged at INFO on the `restsync.paginate` logger; name a paginator in the config
    to skip the guess.
    """

    type_name = "auto"
    # The chosen paginator runs the guards itself; running them here too would count twice.
    guarded = False

    def __init__(self) -> None:
        super().__init__()
        #: The paginator chosen after the first response.
        self.delegate: Paginator | None = None
        self.reason: str | None = None
        #: The choice and its evidence, after the first response (see `Detection`).
        self.detection: Detection | None = None
        self._first: PageRequest | None = None

    def init_request(self, request: PageRequest) -> None:
        """Nothing is added to the first request; it is remembered for the chosen paginator."""
        self._first = request.copy()

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """On the first page, choose; then hand every page to the chosen paginator."""
        if self.delegate is None:
            self.detection = detect(response, body, records)
            self.delegate, self.reason = self.detection.paginator, self.detection.reason
            self.delegate.resource = self.resource
            self.delegate.primary_key = self.primary_key
            self.delegate.warnings = self.warnings  # one list: the run summary reads it
            self.delegate._warning_slots = self._warning_slots
            self.delegate.init_request((self._first or PageRequest("GET", "")).copy())
            where = f"resource '{self.resource}': " if self.resource else ""
            log.info(
                "%sno paginator configured; using %s because %s",
                where,
                self.delegate.describe(),
                self.reason,
            )
            if self.detection.warning:
                self.warn(self.detection.warning)
        self.delegate.update_state(response, body, records)
        self.skip_records = self.delegate.skip_records
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
