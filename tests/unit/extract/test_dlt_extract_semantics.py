"""dlt's extraction semantics, through `rest_api_source` and the extraction engine against
`httpx.MockTransport` APIs: incremental windows (`end_value` backfill, `range_start` /
`range_end`, `row_order`, `last_value_func`, `primary_key`, JSONPath `cursor_path`, `lag`,
`convert`, digit-string cursors), `processing_steps` (`yield_map`, config order), parent
fields bound into `data` / `json`, missing parent fields, and path values percent-encoded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from restsync.errors import DataError
from restsync.extract._engine import Extractor, ResourceRun
from restsync.extract._incremental import Incremental
from restsync.extract._model import Page
from restsync.extract._source import rest_api_source
from restsync.http._client import SourceClient

BASE = "https://api.example.com/v1"
Handler = Callable[[httpx.Request], httpx.Response]


def _ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


def extract(
    resources: list[dict[str, Any]],
    api: Handler,
    state: dict[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, ResourceRun], dict[str, list[Any]], list[httpx.Request]]:
    """Run the resources against `api`: the runs, the records by resource, the requests."""
    source = rest_api_source({"client": {"base_url": BASE}, "resources": resources})
    pages: list[Page] = []
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return api(request)

    async def go() -> dict[str, ResourceRun]:
        transport = httpx.MockTransport(handler)
        async with SourceClient(BASE, transport=transport) as client:
            extractor = Extractor(
                source.plans,
                client,
                client_config=source.client_config,
                state=state or {},
                on_page=pages.append,
            )
            return await extractor.run()

    runs = asyncio.run(go())
    records: dict[str, list[Any]] = {}
    for page in pages:
        records.setdefault(page.resource, []).extend(page.records)
    return runs, records, sent


def _pages_api(pages: list[list[dict[str, Any]]]) -> Handler:
    """`/items?page=N` (1-based) serves `pages[N-1]` with a `next` link while there are more."""

    def api(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("page", "1"))
        body: dict[str, Any] = {"data": pages[n - 1] if n <= len(pages) else []}
        if n < len(pages):
            body["next"] = f"{BASE}/items?page={n + 1}"
        return _ok(body)

    return api


def _items(incremental: dict[str, Any], **resource: Any) -> dict[str, Any]:
    return {
        "name": "items",
        "endpoint": {
            "path": "items",
            "data_selector": "data",
            "paginator": {"type": "json_link", "next_url_path": "next"},
            "incremental": incremental,
        },
        **resource,
    }


def _seqs(records: dict[str, list[Any]]) -> list[Any]:
    return [r["seq"] for r in records.get("items", [])]


# -- incremental ---------------------------------------------------------------------------


def test_end_value_is_a_backfill_that_neither_reads_nor_moves_the_stored_cursor() -> None:
    stored = {"items": {"cursor_path": "seq", "last_value": 50, "boundary": []}}
    inc = {
        "cursor_path": "seq",
        "initial_value": 0,
        "end_value": 10,
        "start_param": "since",
        "end_param": "until",
    }
    api = _pages_api([[{"id": i, "seq": i} for i in range(12)]])
    runs, records, sent = extract([_items(inc)], api, stored)
    assert runs["items"].ok, runs["items"].error
    assert sent[0].url.params["since"] == "0"
    assert sent[0].url.params["until"] == "10"
    assert _seqs(records) == list(range(10))  # [initial_value, end_value)
    incremental = runs["items"].incremental
    assert incremental is not None
    assert incremental.new_state() == stored["items"]  # the stored cursor did not move


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        ({}, [5, 6, 7, 8, 9]),  # dlt's default: start closed, end open
        ({"range_start": "open"}, [6, 7, 8, 9]),
        ({"range_end": "closed"}, [5, 6, 7, 8, 9, 10]),
        ({"range_start": "open", "range_end": "closed"}, [6, 7, 8, 9, 10]),
    ],
)
def test_range_start_and_range_end(ranges: dict[str, str], expected: list[int]) -> None:
    inc = {"cursor_path": "seq", "initial_value": 5, "end_value": 10, **ranges}
    api = _pages_api([[{"id": i, "seq": i} for i in range(15)]])
    runs, records, _ = extract([_items(inc)], api)
    assert runs["items"].ok, runs["items"].error
    assert _seqs(records) == expected


def test_range_start_open_on_a_second_run_drops_every_record_at_the_stored_value() -> None:
    stored = {"items": {"cursor_path": "seq", "last_value": 5, "boundary": []}}
    inc = {"cursor_path": "seq", "range_start": "open"}
    api = _pages_api([[{"id": 1, "seq": 5}, {"id": 2, "seq": 5}, {"id": 3, "seq": 6}]])
    _, records, _ = extract([_items(inc)], api, stored)
    assert _seqs(records) == [6]


def test_row_order_asc_stops_paging_once_past_the_end_value() -> None:
    pages = [[{"id": i, "seq": i} for i in range(p * 3, p * 3 + 3)] for p in range(6)]
    inc = {"cursor_path": "seq", "initial_value": 0, "end_value": 7, "row_order": "asc"}
    runs, records, sent = extract([_items(inc)], _pages_api(pages))
    assert runs["items"].ok, runs["items"].error
    assert _seqs(records) == list(range(7))
    assert len(sent) == 3  # page 3 holds 7 and 8: no page after it is requested
    # without row_order every page is read (the order is not known)
    _, records, sent = extract(
        [_items({"cursor_path": "seq", "initial_value": 0, "end_value": 7})], _pages_api(pages)
    )
    assert _seqs(records) == list(range(7))
    assert len(sent) == 6


def test_row_order_desc_stops_paging_once_behind_the_stored_cursor() -> None:
    pages = [[{"id": i, "seq": i} for i in range(p, p - 3, -1)] for p in (20, 17, 14, 11, 8)]
    stored = {"items": {"cursor_path": "seq", "last_value": 15, "boundary": []}}
    runs, records, sent = extract(
        [_items({"cursor_path": "seq", "row_order": "desc"})], _pages_api(pages), stored
    )
    assert runs["items"].ok, runs["items"].error
    assert _seqs(records) == [20, 19, 18, 17, 16, 15]
    assert len(sent) == 3  # page 3 (14, 13, 12) falls behind 15; pages 4 and 5 are not read


def test_last_value_func_min_walks_the_cursor_downwards() -> None:
    stored = {"items": {"cursor_path": "seq", "last_value": 10, "boundary": []}}
    records_served = [{"id": i, "seq": i} for i in (12, 11, 10, 9, 7)]
    inc = {"cursor_path": "seq", "last_value_func": "min", "start_param": "before"}
    runs, records, sent = extract([_items(inc)], _pages_api([records_served]), stored)
    assert runs["items"].ok, runs["items"].error
    assert sent[0].url.params["before"] == "10"
    assert _seqs(records) == [10, 9, 7]
    incremental = runs["items"].incremental
    assert incremental is not None
    assert incremental.new_state()["last_value"] == 7


def test_last_value_func_as_a_function() -> None:
    inc = make_inc(last_value_func=min, initial_value=10)
    kept = inc.filter([{"seq": 11}, {"seq": 10}, {"seq": 3}], url="u")
    assert [r["seq"] for r in kept] == [10, 3]
    assert inc.last_value == 3

    def latest(values: Any) -> Any:  # a function of dlt's shape: the pick of a sequence
        return max(values, key=len)

    inc = make_inc(last_value_func=latest, initial_value="bb")
    kept = inc.filter([{"seq": "a"}, {"seq": "ccc"}, {"seq": "bb"}], url="u")
    assert [r["seq"] for r in kept] == ["ccc", "bb"]
    assert inc.last_value == "ccc"


def make_inc(stored: dict[str, Any] | None = None, **config: Any) -> Incremental:
    return Incremental.from_config("items", {"cursor_path": "seq", **config}, stored)


def test_primary_key_is_the_boundary_identity() -> None:
    first = make_inc(primary_key="id")
    first.filter([{"id": 1, "seq": 5, "v": "a"}], url="u")
    stored = first.new_state()
    # the same record, changed at the same cursor value: known by its key, not reloaded
    again = make_inc(stored, primary_key="id")
    kept = again.filter([{"id": 1, "seq": 5, "v": "b"}, {"id": 2, "seq": 5}], url="u")
    assert kept == [{"id": 2, "seq": 5}]
    # the resource's primary key is the identity when the incremental names none
    hinted = Incremental.from_config("items", {"cursor_path": "seq"}, stored, primary_key=["id"])
    assert hinted.filter([{"id": 1, "seq": 5, "v": "c"}], url="u") == []
    # without a key the whole record is the identity: the changed record is new
    whole = make_inc(stored)
    assert len(whole.filter([{"id": 1, "seq": 5, "v": "b"}], url="u")) == 1


def test_primary_key_empty_turns_boundary_deduplication_off() -> None:
    first = make_inc(primary_key=[])
    first.filter([{"id": 1, "seq": 5}], url="u")
    stored = first.new_state()
    assert stored["boundary"] == []
    again = make_inc(stored, primary_key=[])
    assert again.filter([{"id": 1, "seq": 5}], url="u") == [{"id": 1, "seq": 5}]


def test_primary_key_from_the_resource_through_the_engine() -> None:
    stored_inc = make_inc(primary_key="id")
    stored_inc.filter([{"id": 1, "seq": 5, "v": "a"}], url="u")
    stored = {"items": stored_inc.new_state()}
    api = _pages_api([[{"id": 1, "seq": 5, "v": "b"}, {"id": 2, "seq": 6}]])
    runs, records, _ = extract([_items({"cursor_path": "seq"}, primary_key="id")], api, stored)
    assert runs["items"].ok, runs["items"].error
    assert _seqs(records) == [6]


def test_cursor_path_as_jsonpath() -> None:
    served = [{"id": i, "meta": {"updated": f"2024-05-0{i}T00:00:00Z"}} for i in (1, 2, 3)]
    inc = {"cursor_path": "$.meta.updated", "initial_value": "2024-05-02T00:00:00Z"}
    runs, records, _ = extract([_items(inc)], _pages_api([served]))
    assert runs["items"].ok, runs["items"].error
    assert [r["id"] for r in records["items"]] == [2, 3]
    incremental = runs["items"].incremental
    assert incremental is not None
    assert incremental.new_state()["last_value"] == "2024-05-03T00:00:00Z"


def test_cursor_path_jsonpath_missing_value_policies() -> None:
    served = [{"id": 1, "meta": {"updated": 5}}, {"id": 2, "meta": {}}]
    for policy, ids in (("include", [1, 2]), ("exclude", [1])):
        inc = {"cursor_path": "$.meta.updated", "on_cursor_value_missing": policy}
        _, records, _ = extract([_items(inc)], _pages_api([served]))
        assert [r["id"] for r in records["items"]] == ids
    runs, _, _ = extract([_items({"cursor_path": "$.meta.updated"})], _pages_api([served]))
    assert isinstance(runs["items"].error, DataError)
    assert "no value at cursor_path '$.meta.updated'" in str(runs["items"].error)


def test_digit_string_cursors_compare_as_numbers() -> None:
    stored = {"items": {"cursor_path": "seq", "last_value": "9", "boundary": []}}
    served = [{"id": i, "seq": str(i)} for i in (8, 9, 10, 11)]
    runs, records, _ = extract([_items({"cursor_path": "seq"})], _pages_api([served]), stored)
    assert runs["items"].ok, runs["items"].error
    assert _seqs(records) == ["9", "10", "11"]
    incremental = runs["items"].incremental
    assert incremental is not None
    assert incremental.new_state()["last_value"] == "11"


def test_lag_follows_last_value_func_and_never_passes_initial_value() -> None:
    stored = {"cursor_path": "seq", "last_value": 100, "boundary": []}
    assert make_inc(stored, lag=10).start_value == 90
    assert make_inc(stored, lag=10, last_value_func="min").start_value == 110
    assert make_inc(stored, lag=10, initial_value=95).start_value == 95
    timestamps = {"cursor_path": "seq", "last_value": "2024-05-01T12:00:00Z", "boundary": []}
    assert make_inc(timestamps, lag=3600, last_value_func="min").start_value == (
        "2024-05-01T13:00:00Z"
    )


def test_convert_shapes_the_request_values() -> None:
    inc = {
        "cursor_path": "seq",
        "initial_value": "2024-05-01T00:00:00Z",
        "start_param": "since",
        "convert": lambda v: v[:10],
    }
    resource = _items(inc)
    resource["endpoint"]["params"] = {"from": "{incremental.start_value}"}
    _, _, sent = extract([resource], _pages_api([[]]))
    assert sent[0].url.params["since"] == "2024-05-01"
    assert sent[0].url.params["from"] == "2024-05-01"


# -- processing steps ------------------------------------------------------------------------


def test_processing_steps_yield_map_and_config_order() -> None:
    def explode(record: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"id": record["id"], "tag": t} for t in record["tags"]]

    resource = {
        "name": "items",
        "endpoint": {"path": "items", "data_selector": "data", "paginator": "single_page"},
        "processing_steps": [
            {"filter": lambda r: r["id"] != 2},
            {"yield_map": explode},
            {"map": lambda r: {**r, "tag": r["tag"].upper()}},
            {"filter": lambda r: r["tag"] != "C"},
        ],
    }
    served = [
        {"id": 1, "tags": ["a", "b"]},
        {"id": 2, "tags": ["x"]},
        {"id": 3, "tags": ["c", "d"]},
    ]
    runs, records, _ = extract([resource], lambda r: _ok({"data": served}))
    assert runs["items"].ok, runs["items"].error
    assert records["items"] == [
        {"id": 1, "tag": "A"},
        {"id": 1, "tag": "B"},
        {"id": 3, "tag": "D"},
    ]


def test_yield_map_returning_one_record_is_an_error_naming_the_step() -> None:
    resource = {
        "name": "items",
        "endpoint": {"path": "items", "data_selector": "data", "paginator": "single_page"},
        "processing_steps": [{"yield_map": lambda r: r}],
    }
    runs, _, _ = extract([resource], lambda r: _ok({"data": [{"id": 1}]}))
    error = runs["items"].error
    assert isinstance(error, DataError)
    assert "processing_steps[0].yield_map" in str(error)


# -- parent records --------------------------------------------------------------------------


def _blog(request: httpx.Request, posts: list[dict[str, Any]]) -> httpx.Response:
    if request.url.path == "/v1/posts":
        return _ok(posts)
    return _ok([{"cid": 1, "url": str(request.url), "body": request.content.decode()}])


def _posts_resource() -> dict[str, Any]:
    return {"name": "posts", "endpoint": {"path": "posts", "paginator": "single_page"}}


def test_parent_field_bound_into_a_form_body_and_a_json_body() -> None:
    form = {
        "name": "comments",
        "endpoint": {
            "path": "search",
            "method": "POST",
            "paginator": "single_page",
            "data": {"post_id": "{resources.posts.id}", "q": "x"},
        },
    }
    runs, _records, sent = extract(
        [_posts_resource(), form], lambda r: _blog(r, [{"id": 7}, {"id": 8}])
    )
    assert runs["comments"].ok, runs["comments"].error
    bodies = [parse_qs(r.content.decode()) for r in sent if r.url.path == "/v1/search"]
    assert bodies == [{"post_id": ["7"], "q": ["x"]}, {"post_id": ["8"], "q": ["x"]}]
    as_json = dict(form, name="c2")
    as_json["endpoint"] = dict(form["endpoint"], data=None, json={"post": "{resources.posts.id}"})
    del as_json["endpoint"]["data"]
    runs, _, sent = extract([_posts_resource(), as_json], lambda r: _blog(r, [{"id": 7}]))
    assert runs["c2"].ok, runs["c2"].error
    assert [r.content for r in sent if r.url.path == "/v1/search"] == [b'{"post":7}']


def test_include_from_parent_field_missing_is_an_error() -> None:
    child = {
        "name": "comments",
        "endpoint": {"path": "posts/{resources.posts.id}/comments", "paginator": "single_page"},
        "include_from_parent": ["title"],
    }
    runs, records, _ = extract(
        [_posts_resource(), child], lambda r: _blog(r, [{"id": 1, "title": "t"}, {"id": 2}])
    )
    error = runs["comments"].error
    assert isinstance(error, DataError)
    text = str(error)
    assert "resource 'comments'" in text
    assert "'title'" in text
    assert f"{BASE}/posts" in text  # the parent page
    assert records["comments"][0]["_posts_title"] == "t"


def test_placeholder_whose_parent_field_is_missing_is_an_error_and_sends_nothing() -> None:
    child = {
        "name": "comments",
        "endpoint": {"path": "posts/{resources.posts.id}/comments", "paginator": "single_page"},
    }
    runs, _, sent = extract(
        [_posts_resource(), child], lambda r: _blog(r, [{"slug": "a"}, {"id": None}])
    )
    error = runs["comments"].error
    assert isinstance(error, DataError)
    assert "no field 'id'" in str(error)
    assert "resource 'comments'" in str(error)
    assert [r.url.path for r in sent] == ["/v1/posts"]  # never /v1/posts//comments


@pytest.mark.parametrize(
    ("parent_id", "raw_path"),
    [
        ("x/../../admin", b"/v1/posts/x%2F..%2F..%2Fadmin/comments"),
        ("a b?c=d", b"/v1/posts/a%20b%3Fc=d/comments"),
        ("..", b"/v1/posts/%2E%2E/comments"),
        ("50%#frag", b"/v1/posts/50%25%23frag/comments"),
    ],
)
def test_parent_values_in_a_path_are_percent_encoded(parent_id: str, raw_path: bytes) -> None:
    child = {
        "name": "comments",
        "endpoint": {"path": "posts/{resources.posts.id}/comments", "paginator": "single_page"},
    }
    runs, _, sent = extract([_posts_resource(), child], lambda r: _blog(r, [{"id": parent_id}]))
    assert runs["comments"].ok, runs["comments"].error
    (request,) = [r for r in sent if r.url.path != "/v1/posts"]
    assert request.url.raw_path == raw_path
    assert request.url.query == b""


def test_legacy_resolve_param_named_in_the_path_is_bound_there_encoded() -> None:
    child = {
        "name": "comments",
        "endpoint": {
            "path": "posts/{post_id}/comments",
            "paginator": "single_page",
            "params": {"post_id": {"type": "resolve", "resource": "posts", "field": "id"}},
        },
    }
    runs, _, sent = extract([_posts_resource(), child], lambda r: _blog(r, [{"id": "a/b"}]))
    assert runs["comments"].ok, runs["comments"].error
    (request,) = [r for r in sent if r.url.path != "/v1/posts"]
    assert request.url.raw_path == b"/v1/posts/a%2Fb/comments"


def test_a_path_that_is_one_parent_field_holding_a_url_is_that_url() -> None:
    child = {
        "name": "profiles",
        "endpoint": {"path": "{resources.posts.link}", "paginator": "single_page"},
    }
    served = [{"id": 1, "link": "https://other.example.org/p/1?x=1"}, {"id": 2, "link": "a/../b"}]
    runs, _, sent = extract([_posts_resource(), child], lambda r: _blog(r, served))
    assert runs["profiles"].ok, runs["profiles"].error
    assert [str(r.url) for r in sent[1:]] == [
        "https://other.example.org/p/1?x=1",
        f"{BASE}/a%2F..%2Fb",  # not a URL: one encoded segment
    ]


def test_an_incremental_primary_key_missing_from_a_boundary_record_is_an_error() -> None:
    inc = make_inc(primary_key="uid")
    with pytest.raises(DataError, match="no primary key 'uid'"):
        inc.filter([{"id": 1, "seq": 5}], url="u")
    # the resource's key: the normalizer reports a record without it, naming the key
    hinted = Incremental.from_config("items", {"cursor_path": "seq"}, None, primary_key=["uid"])
    assert hinted.filter([{"id": 1, "seq": 5}], url="u") == [{"id": 1, "seq": 5}]
