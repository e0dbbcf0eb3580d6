"""Fake paginated APIs and a driver that runs a paginator against them like restsync does."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from restsync.extract._select import select_records
from restsync.http._request import PageRequest
from restsync.paginate import Paginator

Handler = Callable[[httpx.Request], httpx.Response]
BASE = "https://api.example.com/v1/items"


def respond(
    request: httpx.Request, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers, request=request)


@dataclass
class Run:
    records: list[Any]
    urls: list[str]
    follow_ups: list[bool] = field(default_factory=list)

    @property
    def ids(self) -> list[Any]:
        return [r["id"] for r in self.records]


def drive(
    paginator: Paginator,
    handler: Handler,
    *,
    url: str = BASE,
    params: dict[str, Any] | None = None,
    data_selector: str | None = None,
    max_requests: int = 2000,
) -> Run:
    """The paging loop of restsync's extraction engine, without the network."""
    request = PageRequest("GET", url, params=dict(params or {}))
    paginator.init_request(request)
    run = Run([], [])
    follow_up = False
    while True:
        # as restsync's client does: httpx replaces the URL's query when params are given
        http_request = httpx.Request(request.method, request.url, params=request.params or None)
        run.urls.append(str(http_request.url))
        run.follow_ups.append(follow_up)
        response = handler(http_request)
        body = response.json()
        records = select_records(body, data_selector, resource="items", url=str(http_request.url))
        paginator.update_state(response, body, records)
        run.records.extend(records)
        if not paginator.has_next_page:
            return run
        paginator.update_request(request)
        follow_up = paginator.next_url_is_follow_up
        assert len(run.urls) < max_requests, "the paginator did not stop"


@functools.lru_cache(maxsize=64)
def dataset(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"item {i}"} for i in range(n)]


def _int(request: httpx.Request, name: str, default: int) -> int:
    value = request.url.params.get(name)
    return int(value) if value is not None else default


@dataclass
class OffsetAPI:
    """`?offset=&limit=`; serves at most `clamp` records; `total` always/first/never/null."""

    n: int
    clamp: int | None = None
    total: str = "always"
    has_more: str | None = None  # None, "bool" or "str"
    default_limit: int = 20

    def __call__(self, request: httpx.Request) -> httpx.Response:
        offset = _int(request, "offset", 0)
        limit = _int(request, "limit", self.default_limit)
        size = min(limit, self.clamp) if self.clamp else limit
        page = dataset(self.n)[offset : offset + size]
        body: dict[str, Any] = {"data": page}
        if self.total == "always" or (self.total == "first" and offset == 0):
            body["total"] = self.n
        elif self.total == "null":
            body["total"] = None
        if self.has_more:
            more = offset + len(page) < self.n
            body["has_more"] = more if self.has_more == "bool" else str(more).lower()
        return respond(request, body)


@dataclass
class PageAPI:
    """`?page=&limit=` counted from `base`; its own page size is min(limit, clamp)."""

    n: int
    base: int = 1
    clamp: int | None = None
    total_pages: str = "never"  # "always", "first", "never"
    default_limit: int = 20
    ignore_page: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        page = _int(request, "page", self.base)
        if self.ignore_page:
            page = self.base
        limit = _int(request, "limit", self.default_limit)
        size = min(limit, self.clamp) if self.clamp else limit
        start = (page - self.base) * size
        body: dict[str, Any] = {"data": dataset(self.n)[start : start + size] if start >= 0 else []}
        pages = -(-self.n // size)
        if self.total_pages == "always" or (self.total_pages == "first" and page == self.base):
            body["total_pages"] = pages
        return respond(request, body)


@dataclass
class CursorAPI:
    """Cursor pagination; the next page as a token, an absolute URL or a relative URL."""

    n: int
    size: int = 10
    mode: str = "token"  # "token", "absolute", "relative"
    path: str = "/v1/items"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        start = int(cursor.removeprefix("c_")) if cursor else 0
        page = dataset(self.n)[start : start + self.size]
        following = start + len(page)
        nxt: str | None = None
        if following < self.n:
            token = f"c_{following}"
            if self.mode == "token":
                nxt = token
            elif self.mode == "absolute":
                nxt = f"https://api.example.com{self.path}?cursor={token}&limit={self.size}"
            else:
                nxt = f"{self.path}?cursor={token}"
        return respond(request, {"data": page, "pagination": {"nextPageUrl": nxt}})


@dataclass
class LinkAPI:
    """Next URLs in the body (`next`) or in a `Link` header."""

    n: int
    size: int = 10
    in_header: bool = False
    relative: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        start = _int(request, "start", 0)
        page = dataset(self.n)[start : start + self.size]
        following = start + len(page)
        nxt = None
        if following < self.n:
            nxt = f"?start={following}" if self.relative else f"{BASE}?start={following}&size=10"
        if self.in_header:
            headers = {"Link": f'<{nxt}>; rel="next", <{BASE}?start=0>; rel="first"'} if nxt else {}
            return respond(request, page, headers)
        return respond(request, {"results": page, "next": nxt})
