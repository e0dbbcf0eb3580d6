"""`json_link` and `header_link`: the next page's URL handed back by the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from restsync.http._request import PageRequest
from restsync.paginate._base import Paginator
from restsync.paginate._stop_condition import StopCondition
from restsync.util.paths import find_first

__all__ = ["HeaderLinkPaginator", "JSONLinkPaginator", "Link", "find_link", "parse_link_header"]


class _LinkPaginator(Paginator):
    """Shared by the link paginators: follow `self.next_url` when there is one."""

    def __init__(self, stop_condition: str | StopCondition | None, max_pages: int | None) -> None:
        super().__init__(stop_condition=stop_condition, max_pages=max_pages)
        #: The URL to follow next (absolute), or None at the end.
        self.next_url: str | None = None

    def _take(self, url: str | None) -> None:
        if url:
            self.next_url = self.check_reference(self.resolve_url(url), "next URL")
            self.has_next_page = True
        else:
            self.next_url = None
            self.has_next_page = False

    def update_request(self, request: PageRequest) -> None:
        """Point the request at the next URL (its own query parameters win)."""
        if self.next_url is not None:
            self.follow_url(request, self.next_url)


class JSONLinkPaginator(_LinkPaginator):
    """The next page's URL found in the body at `next_url_path` (dotted or JSONPath).

    A relative URL is resolved against the current page's URL, and query parameters the
    URL carries are not sent a second time. A HAL-style `{"href": ...}` object is read
    through its `href`. A missing, null or empty value ends pagination.
    Example config: `{"type": "json_link", "next_url_path": "links.next"}`.
    """

    type_name = "json_link"

    def __init__(
        self,
        next_url_path: str = "next",
        stop_condition: str | StopCondition | None = None,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(stop_condition, max_pages)
        self.next_url_path = next_url_path

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """Read the next URL from the body."""
        value = find_first(body, self.next_url_path)
        if isinstance(value, dict):
            value = value.get("href")
        self._take(value.strip() if isinstance(value, str) else None)

    def describe(self) -> str:
        """One line for `restsync check`."""
        return (
            f"json_link paginator: next URL from '{self.next_url_path}'; stops when it is "
            f"empty{self.describe_guards()}"
        )


class HeaderLinkPaginator(_LinkPaginator):
    """The next page's URL from the `Link` response header (RFC 8288), `rel="next"`.

    Every `Link` header of the response is read, each may list several links, and
    parameters may be quoted (`rel="next last"` counts as `next`). A response without a
    next link ends pagination. Example config: `{"type": "header_link"}`.
    """

    type_name = "header_link"

    def __init__(
        self,
        links_next_key: str = "next",
        stop_condition: str | StopCondition | None = None,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(stop_condition, max_pages)
        self.links_next_key = links_next_key

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """Read the next link from the `Link` headers."""
        link = find_link(response.headers.get_list("link"), self.links_next_key)
        self._take(link.url if link else None)

    def describe(self) -> str:
        """One line for `restsync check`."""
        return (
            f'header_link paginator: follows Link rel="{self.links_next_key}"; stops when '
            f"there is none{self.describe_guards()}"
        )


# --- RFC 8288 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One link of a `Link` header: its target and its (lower-cased) parameters."""

    url: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def rels(self) -> list[str]:
        """The relation types, lower-cased (`rel="next last"` gives both)."""
        return self.params.get("rel", "").lower().split()


def parse_link_header(values: str | Iterable[str]) -> list[Link]:
    """Parse one or several `Link` header values into links, skipping malformed ones.

    >>> parse_link_header('<https://x/?p=2>; rel="next", <https://x/?p=9>; rel=last')[0].url
    'https://x/?p=2'
    """
    if isinstance(values, str):
        values = [values]
    links: list[Link] = []
    for value in values:
        links.extend(_parse_one(value))
    return links


def find_link(values: str | Iterable[str], rel: str) -> Link | None:
    """The first link whose relation types include `rel` (case-insensitive)."""
    wanted = rel.lower()
    for link in parse_link_header(values):
        if wanted in link.rels:
            return link
    return None


def _parse_one(text: str) -> list[Link]:
    links: list[Link] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        if i >= n:
            break
        if text[i] != "<":
            i = _skip_to_next_link(text, i)
            continue
        end = text.find(">", i + 1)
        if end < 0:
            break
        url = text[i + 1 : end].strip()
        i = end + 1
        params: dict[str, str] = {}
        while True:
            while i < n and text[i] in " \t":
                i += 1
            if i >= n or text[i] != ";":
                break
            i += 1
            while i < n and text[i] in " \t":
                i += 1
            start = i
            while i < n and text[i] not in "=;, \t":
                i += 1
            name = text[start:i].lower()
            while i < n and text[i] in " \t":
                i += 1
            value = ""
            if i < n and text[i] == "=":
                i += 1
                while i < n and text[i] in " \t":
                    i += 1
                if i < n and text[i] == '"':
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != '"':
                        if text[i] == "\\" and i + 1 < n:
                            i += 1
                        chars.append(text[i])
                        i += 1
                    i += 1  # the closing quote
                    value = "".join(chars)
                else:
                    start = i
                    while i < n and text[i] not in ";,":
                        i += 1
                    value = text[start:i].strip()
            # RFC 8288 §3.3: occurrences after the first of the same parameter are ignored.
            if name and name not in params:
                params[name] = value
        links.append(Link(url, params))
        i = _skip_to_next_link(text, i)
    return links


def _skip_to_next_link(text: str, i: int) -> int:
    """Move past the next comma that is outside quotes and angle brackets."""
    quoted = False
    n = len(text)
    while i < n:
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            return i
        elif ch == ",":
            return i + 1
        i += 1
    return i
