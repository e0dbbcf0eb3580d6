"""Paginators one response at a time; the registry; auto-detection; Link headers."""

from __future__ import annotations

import logging
from typing import Any, get_args, get_type_hints

import httpx
import pytest

from restsync.errors import PaginationError
from restsync.http._request import PageRequest
from restsync.paginate import (
    PAGINATORS,
    AutoPaginator,
    CursorPaginator,
    HeaderCursorPaginator,
    HeaderLinkPaginator,
    JSONLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
    PaginatorType,
    SinglePagePaginator,
    build_paginator,
    paginator_params,
    parse_link_header,
    register_paginator,
)
from restsync.paginate._auto import detect_paginator

URL = "https://api.example.com/v1/items"


def response(
    body: Any = None, headers: dict[str, str] | None = None, url: str = URL
) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers, request=httpx.Request("GET", url))


# --- registry ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", get_args(PaginatorType))
def test_every_type_has_a_class(kind: str) -> None:
    assert issubclass(PAGINATORS[kind], Paginator)
    assert PAGINATORS[kind].type_name == kind


def test_registry_and_literal_are_in_step() -> None:
    builtins = {k for k in PAGINATORS if PAGINATORS[k].__module__.startswith("restsync.")}
    assert builtins == set(get_args(PaginatorType))


def test_config_dialect_keys_are_accepted_by_the_constructors() -> None:
    dialect = pytest.importorskip("restsync.config._dialect")
    assert set(get_args(dialect.PaginatorType)) == set(get_args(PaginatorType))
    for kind, typed_dict in dialect.PAGINATOR_CONFIGS.items():
        keys = set(get_type_hints(typed_dict)) - {"type"}
        assert keys <= set(paginator_params(kind)), kind


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "offest", "limit": 1}, "unknown paginator 'offest' (did you mean 'offset'?)"),
        ({"type": "offset", "limt": 1},
         "paginator 'offset' has no option 'limt' (did you mean 'limit'?)"),
        ({"type": "offset"}, "paginator 'offset' needs 'limit'"),
        ("offset", "paginator 'offset' needs 'limit'"),
        ({"limit": 10}, "paginator needs a 'type'"),
        ({"type": 3}, "paginator type must be a string"),
        ({"type": "cursor", "stop_condition": "not a)"},
         "stop_condition: unexpected ')' at column 6"),
        ({"type": "offset", "limit": 0}, "limit must be a positive integer"),
        ({"type": "cursor", "cursor_param": "c", "cursor_body_path": "c"}, "not both"),
        (42, "paginator must be a type name, a dict or a Paginator"),
    ],
)  # fmt: skip
def test_build_paginator_errors(config: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        build_paginator(config)
    assert message in str(info.value)


def test_build_paginator_forms() -> None:
    assert isinstance(build_paginator(None), AutoPaginator)
    assert isinstance(build_paginator("auto"), AutoPaginator)
    assert isinstance(build_paginator({}), AutoPaginator)
    assert isinstance(build_paginator("single_page"), SinglePagePaginator)
    mine = JSONLinkPaginator()
    assert build_paginator(mine) is mine
    built = build_paginator({"type": "page_number", "limit": 50, "maximum_page": 3})
    assert isinstance(built, PageNumberPaginator)
    assert (built.base_page, built.limit, built.maximum_page) == (1, 50, 3)


def test_register_paginator() -> None:
    class SinceId(Paginator):
        def __init__(self, start: int = 0) -> None:
            super().__init__()
            self.last = start

        def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
            self.has_next_page = bool(records)
            if records:
                self.last = self.check_reference(records[-1]["id"], "since_id")

        def update_request(self, request: PageRequest) -> None:
            request.params["since_id"] = self.last

    register_paginator("since_id", SinceId)
    try:
        paginator = build_paginator({"type": "since_id", "start": 5})
        assert isinstance(paginator, SinceId)
        assert paginator.last == 5
        # the base class guards apply to your subclass too
        paginator.update_state(response({}), {}, [{"id": 1}])
        with pytest.raises(PaginationError, match="same 1 records"):
            paginator.update_state(response({}), {}, [{"id": 1}])
        assert "custom paginator (SinceId)" in paginator.describe()
    finally:
        del PAGINATORS["since_id"]
    with pytest.raises(TypeError):
        register_paginator("bad", dict)  # type: ignore[arg-type]


def test_describe_is_one_line_for_every_type() -> None:
    for kind, cls in PAGINATORS.items():
        paginator = cls(limit=10) if kind == "offset" else cls()
        text = paginator.describe()
        assert kind in text
        assert "\n" not in text


# --- single responses -------------------------------------------------------------------


def test_offset_state_from_single_responses() -> None:
    p = OffsetPaginator(limit=100, total_path="meta.total")
    request = PageRequest("GET", URL)
    p.init_request(request)
    assert request.params == {"offset": 0, "limit": 100}
    p.update_state(response(), {"meta": {"total": "250"}}, [{"id": i} for i in range(100)])
    assert p.has_next_page
    p.update_request(request)
    assert request.params == {"offset": 100, "limit": 100}
    p.update_state(response(), {"meta": {}}, [{"id": i} for i in range(100, 200)])
    p.update_state(response(), {"meta": {"total": None}}, [{"id": i} for i in range(200, 250)])
    assert p.has_next_page  # the total is reached: one page more confirms it
    p.update_request(request)
    assert request.params == {"offset": 250, "limit": 100}
    p.update_state(response(), {"meta": {"total": 250}}, [])
    assert not p.has_next_page
    assert p.total == 250


def test_page_number_page_override_and_body_path() -> None:
    p = PageNumberPaginator(page=3, page_body_path="paging.page")
    request = PageRequest("POST", URL, json={"q": 1})
    p.init_request(request)
    assert request.json == {"q": 1, "paging": {"page": 3}}
    assert request.params == {}


def test_page_number_explicit_total_path_none() -> None:
    p = PageNumberPaginator(total_path=None)
    p.update_state(response(), {"total_pages": 1}, [{"id": 1}])
    assert p.has_next_page  # the page count is not read


def test_cursor_token_and_body_path() -> None:
    p = CursorPaginator(cursor_path="$.meta.next", cursor_body_path="after")
    request = PageRequest("POST", URL, json={})
    p.update_state(response(), {"meta": {"next": "tok1"}}, [{"id": 1}])
    p.update_request(request)
    assert request.json == {"after": "tok1"}
    assert not p.next_url_is_follow_up
    p.update_state(response(), {"meta": {"next": ""}}, [{"id": 2}])
    assert not p.has_next_page


def test_cursor_pointing_at_an_object_is_an_error() -> None:
    p = CursorPaginator(cursor_path="cursors")
    with pytest.raises(PaginationError, match="cursor_path 'cursors' holds an object"):
        p.update_state(response(), {"cursors": {"next": "x"}}, [{"id": 1}])


def test_cursor_url_drops_stale_cursor_param() -> None:
    p = CursorPaginator(cursor_path="next")
    request = PageRequest("GET", URL, params={"cursor": "old", "filter": "a"})
    p.update_state(response(), {"next": "https://api.example.com/v1/items?cursor=new"}, [1])
    p.update_request(request)
    assert request.url == "https://api.example.com/v1/items?cursor=new&filter=a"
    assert request.params == {}
    assert p.next_url_is_follow_up


def test_header_cursor() -> None:
    p = HeaderCursorPaginator(cursor_key="X-Next-Cursor")
    request = PageRequest("GET", URL)
    p.update_state(response([], {"X-Next-Cursor": "abc"}), [], [1])
    p.update_request(request)
    assert request.params == {"cursor": "abc"}
    p.update_state(response([], {}), [], [2])
    assert not p.has_next_page


def test_json_link_hal_href_and_relative() -> None:
    p = JSONLinkPaginator(next_url_path="_links.next")
    request = PageRequest("GET", URL, params={"page_size": 10})
    body = {"_links": {"next": {"href": "items?page=2&page_size=10"}}}
    p.update_state(response(body), body, [1])
    p.update_request(request)
    assert request.url == "https://api.example.com/v1/items?page=2&page_size=10"
    assert request.params == {}


def test_json_link_key_with_dots() -> None:
    p = JSONLinkPaginator(next_url_path="@odata.nextLink")
    body = {"@odata.nextLink": "https://graph.example.com/v1.0/users?$skiptoken=X"}
    p.update_state(response(body), body, [1])
    assert p.next_url == body["@odata.nextLink"]


def test_single_page() -> None:
    p = SinglePagePaginator()
    p.update_state(response({}), {}, [1, 2])
    assert not p.has_next_page


def test_response_without_request_is_tolerated() -> None:
    p = OffsetPaginator(limit=10)
    p.update_state(httpx.Response(200, json={}), {}, [1])
    assert p.current_url is None


# --- Link header ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ('<https://x/?p=2>; rel="next"', [("https://x/?p=2", "next")]),
        ("<https://x/?p=2>; rel=next, <https://x/?p=9>; rel=last",
         [("https://x/?p=2", "next"), ("https://x/?p=9", "last")]),
        ('<https://x/?a=1,2>; title="a, b; c"; rel="next"', [("https://x/?a=1,2", "next")]),
        ('<https://x/2>; REL="prev next"', [("https://x/2", "prev next")]),
        ('<https://x/2>; rel="next"; rel="last"', [("https://x/2", "next")]),
        (['<https://x/1>; rel="first"', '<https://x/2>; rel="next"'],
         [("https://x/1", "first"), ("https://x/2", "next")]),
        ('garbage, <https://x/2>; rel="next"', [("https://x/2", "next")]),
        ('<https://x/2>; title="say \\"hi\\""; rel=next', [("https://x/2", "next")]),
        ("", []),
    ],
)  # fmt: skip
def test_parse_link_header(values: Any, expected: list[tuple[str, str]]) -> None:
    links = parse_link_header(values)
    assert [(link.url, link.params.get("rel", "")) for link in links] == expected


def test_header_link_reads_every_link_header() -> None:
    headers = httpx.Headers(
        [("Link", '<https://x/1>; rel="first"'), ("Link", '<https://x/2>; rel="prev next"')]
    )
    resp = httpx.Response(200, json=[], headers=headers, request=httpx.Request("GET", URL))
    p = HeaderLinkPaginator()
    p.update_state(resp, [], [1])
    assert p.next_url == "https://x/2"


# --- auto-detection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "kind", "detail"),
    [
        ([], {"Link": '<https://x/2>; rel="next"'}, HeaderLinkPaginator, None),
        ({"data": [], "next": "https://x/2"}, {}, JSONLinkPaginator, "next"),
        ({"value": [], "@odata.nextLink": "https://g/x?$skiptoken=1"}, {}, JSONLinkPaginator,
         "@odata.nextLink"),
        ({"data": [], "links": {"next": "/v1/items?page=2"}}, {}, JSONLinkPaginator, "links.next"),
        ({"data": [], "pagination": {"nextPageUrl": None}}, {}, JSONLinkPaginator,
         "pagination.nextPageUrl"),
        ({"data": [], "next": "opaque123"}, {}, CursorPaginator, "next"),
        ({"data": [], "next_cursor": "abc"}, {}, CursorPaginator, "next_cursor"),
        ({"data": [], "nextPageToken": "abc"}, {}, CursorPaginator, "nextPageToken"),
        ({"data": [], "meta": {"next_cursor": "abc"}}, {}, CursorPaginator, "meta.next_cursor"),
        ({"data": [], "response_metadata": {"next_cursor": ""}}, {}, CursorPaginator,
         "response_metadata.next_cursor"),
        ({"data": [], "total_pages": 4}, {}, PageNumberPaginator, "total_pages"),
        ({"data": [], "page": 1, "pages": 4}, {}, PageNumberPaginator, "pages"),
        ({"data": [], "total": 100}, {}, SinglePagePaginator, None),
        ([{"id": 1}], {}, SinglePagePaginator, None),
    ],
)  # fmt: skip
def test_detect_paginator(
    body: Any, headers: dict[str, str], kind: type[Paginator], detail: str | None
) -> None:
    paginator, reason = detect_paginator(response(body, headers), body)
    assert type(paginator) is kind
    if detail is not None:
        path = (
            getattr(paginator, "next_url_path", None)
            or getattr(paginator, "cursor_path", None)
            or getattr(paginator, "total_path", None)
        )
        assert path == detail
        assert detail in reason


def test_auto_paginator_follows_pages_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    p = AutoPaginator()
    p.resource = "users"
    request = PageRequest("GET", URL, params={"per_page": 2})
    p.init_request(request)
    assert request.params == {"per_page": 2}
    with caplog.at_level(logging.INFO, logger="restsync.paginate"):
        body = {"data": [1, 2], "page": 1, "pages": 2}
        p.update_state(response(body), body, body["data"])
    assert "resource 'users': no paginator configured; using page_number" in caplog.text
    assert "'page' and 'pages'" in caplog.text
    assert p.has_next_page
    p.update_request(request)
    assert request.params == {"per_page": 2, "page": 2}
    body = {"data": [3, 4], "page": 2, "pages": 2}
    p.update_state(response(body), body, body["data"])
    assert p.has_next_page  # the last page by the count: page 3 confirms it
    p.update_request(request)
    assert request.params == {"per_page": 2, "page": 3}
    body = {"data": [], "page": 3, "pages": 2}
    p.update_state(response(body), body, body["data"])
    assert not p.has_next_page
    assert "auto (" in p.describe()


def test_auto_paginator_header_link_marks_follow_up() -> None:
    p = AutoPaginator()
    request = PageRequest("GET", URL)
    p.init_request(request)
    p.update_state(response([1], {"Link": "<https://api.example.com/v1/items?p=2>; rel=next"}),
                   [1], [1])  # fmt: skip
    p.update_request(request)
    assert p.next_url_is_follow_up
    assert request.url.endswith("?p=2")
