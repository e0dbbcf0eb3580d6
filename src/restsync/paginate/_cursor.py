"""`cursor` and `header_cursor`: an opaque token (or a next URL) handed back by the API."""

from __future__ import annotations

from typing import Any

import httpx

from restsync.errors import PaginationError
from restsync.http._request import PageRequest
from restsync.paginate._base import Paginator, as_bool, set_body_path
from restsync.paginate._stop_condition import StopCondition
from restsync.util.paths import find_first

__all__ = ["CursorPaginator", "HeaderCursorPaginator", "is_absolute_url", "looks_like_url"]

_RELATIVE_PREFIXES = ("/", "./", "../", "?")


def looks_like_url(value: str) -> bool:
    """True for an absolute http(s) URL or an obviously relative one (`/`, `./`, `?`)."""
    low = value[:8].lower()
    return low.startswith(("http://", "https://")) or value.startswith(_RELATIVE_PREFIXES)


def is_absolute_url(value: str) -> bool:
    """True for an http(s) URL with a host: the only cursor value followed as a URL.

    A cursor may well start with `/` (base64: `/3q2+7w==`) or `?`; such a value is a
    token to send back, not a path to follow."""
    if not value[:8].lower().startswith(("http://", "https://")):
        return False
    try:
        return bool(httpx.URL(value).host)
    except httpx.InvalidURL:
        return False


class _TokenOrURL(Paginator):
    """Shared by the cursor paginators: follow a URL, or send a token as a parameter."""

    def __init__(
        self,
        cursor_param: str | None,
        cursor_body_path: str | None,
        stop_condition: str | StopCondition | None,
        max_pages: int | None,
    ) -> None:
        super().__init__(stop_condition=stop_condition, max_pages=max_pages)
        if cursor_param is not None and cursor_body_path is not None:
            raise ValueError("give cursor_param or cursor_body_path, not both")
        self.cursor_body_path = cursor_body_path
        self.cursor_param = cursor_param if cursor_param is not None else "cursor"
        #: The token to send next, or None when the next page is a URL.
        self.cursor: Any = None
        #: The URL to follow next, when the API handed one back.
        self.next_url: str | None = None

    def _take(self, value: Any, where: str) -> None:
        """Decide what `value` is and remember it; clears has_next_page when it is empty."""
        self.cursor = None
        self.next_url = None
        if value is None or value == "" or value is False:
            self.has_next_page = False
            return
        if isinstance(value, (dict, list)):
            raise PaginationError(
                f"{where} holds {'an object' if isinstance(value, dict) else 'a list'}, "
                "not a cursor",
                resource=self.resource,
                url=self._shown_url(),
                hint="point cursor_path at the cursor value itself, e.g. 'meta.next_cursor'",
            )
        if isinstance(value, str) and is_absolute_url(value):
            self.next_url = self.check_reference(value, "next URL")
        else:
            self.cursor = self.check_reference(value, "cursor")
        self.has_next_page = True

    def update_request(self, request: PageRequest) -> None:
        """Follow the next URL, or send the cursor."""
        if self.next_url is not None:
            request.params.pop(self.cursor_param, None)
            self.follow_url(request, self.next_url)
        elif self.cursor_body_path:
            set_body_path(request, self.cursor_body_path, self.cursor)
        else:
            request.params[self.cursor_param] = self.cursor


class CursorPaginator(_TokenOrURL):
    """A cursor read from the body at `cursor_path` (dotted or JSONPath).

    When the value is an absolute URL (scheme and host) it is followed as the next
    page's URL (the query parameters it carries replace those of the first request, so
    none is sent twice). Any other value, one starting with `/` included (base64
    cursors such as `/3q2+7w==`), is sent back as `cursor_param` (default `cursor`), or
    at `cursor_body_path` in a JSON body. For relative next URLs use `json_link`.
    Pagination ends when the cursor is null or empty, when `has_more_path` holds a false
    flag, on an empty page when `stop_after_empty_page` is true, or when
    `stop_condition` holds.

    Example config::

        {"type": "cursor", "cursor_path": "pagination.nextPageUrl",
         "stop_condition": "not pagination.nextPageUrl"}
    """

    type_name = "cursor"

    def __init__(
        self,
        cursor_path: str = "cursors.next",
        cursor_param: str | None = None,
        cursor_body_path: str | None = None,
        has_more_path: str | None = None,
        stop_after_empty_page: bool = False,
        stop_condition: str | StopCondition | None = None,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(cursor_param, cursor_body_path, stop_condition, max_pages)
        self.cursor_path = cursor_path
        self.has_more_path = has_more_path
        self.stop_after_empty_page = stop_after_empty_page

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """Read the cursor; an empty one, or a false `has_more`, ends pagination."""
        has_more = as_bool(find_first(body, self.has_more_path)) if self.has_more_path else None
        if has_more is False or (self.stop_after_empty_page and not records):
            self.cursor = self.next_url = None
            self.has_next_page = False
            return
        self._take(find_first(body, self.cursor_path), f"cursor_path '{self.cursor_path}'")

    def describe(self) -> str:
        """One line for `restsync check`."""
        send = f"body '{self.cursor_body_path}'" if self.cursor_body_path else self.cursor_param
        flag = f", or when '{self.has_more_path}' is false" if self.has_more_path else ""
        return (
            f"cursor paginator: cursor from '{self.cursor_path}', sent as {send} "
            f"(followed when it is a URL); stops when it is empty{flag}{self.describe_guards()}"
        )


class HeaderCursorPaginator(_TokenOrURL):
    """A cursor read from the response header `cursor_key`, sent back as `cursor_param`.

    A header value that is an absolute URL is followed like `cursor`'s. A missing or empty header
    ends pagination. Example config: `{"type": "header_cursor", "cursor_key": "X-Next"}`.
    """

    type_name = "header_cursor"

    def __init__(
        self,
        cursor_key: str = "next",
        cursor_param: str = "cursor",
        stop_condition: str | StopCondition | None = None,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(cursor_param, None, stop_condition, max_pages)
        self.cursor_key = cursor_key

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """Read the cursor header; a missing or empty one ends pagination."""
        value = response.headers.get(self.cursor_key)
        self._take(value.strip() if value else None, f"header '{self.cursor_key}'")

    def describe(self) -> str:
        """One line for `restsync check`."""
        return (
            f"header_cursor paginator: cursor from header '{self.cursor_key}', sent as "
            f"{self.cursor_param}; stops when the header is missing{self.describe_guards()}"
        )
