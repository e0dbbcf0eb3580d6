"""dlt's rest_api meanings, run end to end: legacy endpoint forms, merges of typed defaults,
OAuth2 options, response actions, refusals that say what to use, and table names.

Each test builds the source with `rest_api_source` and runs it into DuckDB over an
`httpx.MockTransport`, asserting the requests made and the rows loaded.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import duckdb
import httpx
import orjson
import pytest

import restsync
from restsync.errors import ConfigError

BASE = "https://api.test"
Handler = Callable[[httpx.Request], httpx.Response]


class Api:
    """A MockTransport handler that records every request (method, path, query)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        return self.handler(request)

    def paths(self, host: str = "api.test") -> list[str]:
        return [r.url.raw_path.decode() for r in self.requests if r.url.host == host]


def json(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps(body))


def run(config: dict[str, Any], api: Api, tmp_path: Path, name: str = "t") -> Any:
    source = restsync.rest_api_source(config)
    pipe = restsync.pipeline(
        name,
        destination=f"duckdb:///{tmp_path}/{name}.duckdb",
        pipelines_dir=tmp_path / "pipelines",
        transport=httpx.MockTransport(api),
    )
    info = pipe.run(source)
    assert not info.has_failures, str(info)
    return info


def rows(tmp_path: Path, table: str, columns: str, name: str = "t") -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True)
    try:
        return con.execute(f"select {columns} from {name}_data.{table} order by 1").fetchall()
    finally:
        con.close()


def problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        restsync.rest_api_source(config)
    return [str(p) for p in info.value.problems]


# --- dlt's legacy endpoint forms ----------------------------------


def _posts_and_comments(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/posts":
        return json([{"id": 1}, {"id": 2}])
    if path.startswith("/posts/") and path.endswith("/comments"):
        post = int(path.split("/")[2])
        return json([{"id": post * 10, "body": f"on {post}"}])
    return json({"error": path}, 404)


def test_legacy_resolve_param_named_in_the_path_binds_into_the_path(tmp_path: Path) -> None:
    api = Api(_posts_and_comments)
    config = {
        "client": {"base_url": BASE, "paginator": "single_page"},
        "resources": [
            "posts",
            {
                "name": "comments",
                "endpoint": {
                    "path": "posts/{post_id}/comments",
                    "params": {"post_id": {"type": "resolve", "resource": "posts", "field": "id"}},
                },
            },
        ],
    }
    run(config, api, tmp_path)
    assert sorted(api.paths()) == ["/posts", "/posts/1/comments", "/posts/2/comments"]
    assert rows(tmp_path, "comments", "id, body") == [(10, "on 1"), (20, "on 2")]


def test_plain_params_named_in_the_path_go_into_it_encoded_not_into_the_query(
    tmp_path: Path,
) -> None:
    api = Api(lambda r: json([{"number": 1, "where": r.url.raw_path.decode()}]))
    config = {
        "client": {"base_url": BASE, "paginator": "single_page"},
        "resources": [
            {
                "name": "issues",
                "endpoint": {
                    "path": "repos/{org}/{repo}/issues",
                    "params": {"org": "dlt-hub", "repo": "a b/c", "state": "open"},
                },
            }
        ],
    }
    run(config, api, tmp_path)
    [request] = api.requests
    assert request.url.raw_path.decode() == "/repos/dlt-hub/a%20b%2Fc/issues?state=open"
    assert rows(tmp_path, "issues", "number") == [(1,)]


def test_a_path_binds_no_incremental_param(tmp_path: Path) -> None:
    config = {
        "client": {"base_url": BASE},
        "resources": [
            {
                "name": "events",
                "endpoint": {
                    "path": "events/{since}",
                    "params": {"since": {"type": "incremental", "cursor_path": "ts"}},
                },
            }
        ],
    }
    assert problems(config) == [
        "resources[0].endpoint.path: '{since}' names the param 'since', which a path cannot "
        "hold; a path binds plain values and {'type': 'resolve', ...} params only"
    ]


def test_legacy_incremental_param_is_the_endpoints_incremental(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        since = int(request.url.params["since"])
        return json([{"id": i, "ts": i} for i in range(since, 6)])

    api = Api(handler)
    config = {
        "client": {"base_url": BASE, "paginator": "single_page"},
        "resources": [
            {
                "name": "events",
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {
                    "path": "events",
                    "params": {
                        "since": {"type": "incremental", "cursor_path": "ts", "initial_value": 3}
                    },
                },
            }
        ],
    }
    run(config, api, tmp_path)
    run(config, api, tmp_path)
    queries = [dict(r.url.params) for r in api.requests]
    assert queries == [{"since": "3"}, {"since": "5"}]
    assert rows(tmp_path, "events", "id") == [(3,), (4,), (5,)]


def test_legacy_incremental_param_refuses_an_end_value() -> None:
    config = {
        "client": {"base_url": BASE},
        "resources": [
            {
                "name": "events",
                "endpoint": {
                    "params": {
                        "since": {
                            "type": "incremental",
                            "cursor_path": "ts",
                            "initial_value": 1,
                            "end_value": 9,
                        }
                    }
                },
            }
        ],
    }
    assert problems(config) == [
        "resources[0].endpoint.params.since.end_value: an incremental param takes no "
        "'end_value' (it is sent as the start value); for a window write "
        "endpoint.incremental with 'start_param' and 'end_param'"
    ]


# --- typed defaults are replaced by another type -----------------------------


@pytest.mark.parametrize("key", ["paginator", "auth"])
def test_a_resource_entry_of_another_type_replaces_the_default(tmp_path: Path, key: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("after")
        if cursor is None:
            return json({"data": [{"id": 1}], "next": "c2"})
        return json({"data": [{"id": 2}], "next": None})

    api = Api(handler)
    defaults = {
        "paginator": {"type": "page_number", "base_page": 1, "page_param": "p"},
        "auth": {"type": "api_key", "name": "X-Key", "api_key": "k-default"},
    }
    mine = {
        "paginator": {"type": "cursor", "cursor_path": "next", "cursor_param": "after"},
        "auth": {"type": "bearer", "token": "t-mine"},
    }
    config = {
        "client": {"base_url": BASE},
        "resource_defaults": {"endpoint": {"data_selector": "data", key: defaults[key]}},
        "resources": [
            {
                "name": "items",
                "endpoint": {
                    "path": "items",
                    key: mine[key],
                    # the other key keeps the default's meaning
                    **({"paginator": mine["paginator"]} if key == "auth" else {}),
                },
            }
        ],
    }
    source = restsync.rest_api_source(config)
    [plan] = source.plans
    assert plan.endpoint[key] == mine[key]
    if key == "paginator":
        run(config, api, tmp_path)
        assert [dict(r.url.params) for r in api.requests] == [{}, {"after": "c2"}]
        assert rows(tmp_path, "items", "id") == [(1,), (2,)]


def test_a_resource_entry_of_the_same_type_is_merged_into_the_default() -> None:
    config = {
        "client": {"base_url": BASE},
        "resource_defaults": {
            "endpoint": {"paginator": {"type": "page_number", "page_param": "p", "base_page": 1}}
        },
        "resources": [
            {"name": "items", "endpoint": {"paginator": {"type": "page_number", "limit": 5}}}
        ],
    }
    [plan] = restsync.rest_api_source(config).plans
    assert plan.endpoint["paginator"] == {
        "type": "page_number",
        "page_param": "p",
        "base_page": 1,
        "limit": 5,
    }


# --- OAuth2 options ----------------------------------------------------------


def _oauth_api(tokens: list[httpx.Request], accepted: set[str]) -> Api:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            tokens.append(request)
            return json({"access_token": "fresh-token", "expires_in": 3600})
        if request.headers.get("authorization") not in {f"Bearer {t}" for t in accepted}:
            return json({"error": "unauthorized"}, 401)
        return json([{"id": 1}])

    return Api(handler)


def _oauth_client_credentials(**auth: Any) -> dict[str, Any]:
    """A one-resource config whose client authenticates with dlt's OAuth2 client credentials."""
    return {
        "client": {
            "base_url": BASE,
            "paginator": "single_page",
            "auth": {
                "type": "oauth2_client_credentials",
                "access_token_url": f"{BASE}/token",
                "client_id": "cid",
                "client_secret": "csecret",
                **auth,
            },
        },
        "resources": ["items"],
    }


def test_oauth2_client_auth_basic_and_scope_are_sent(tmp_path: Path) -> None:
    tokens: list[httpx.Request] = []
    api = _oauth_api(tokens, {"fresh-token"})
    config = {
        "client": {
            "base_url": BASE,
            "paginator": "single_page",
            "auth": {
                "type": "oauth2",
                "token_url": f"{BASE}/token",
                "client_id": "cid",
                "client_secret": "csecret",
                "client_auth": "basic",
                "scope": "read write",
            },
        },
        "resources": ["items"],
    }
    run(config, api, tmp_path)
    [token_request] = tokens
    form = parse_qs(token_request.content.decode())
    assert form["scope"] == ["read write"]
    assert "client_secret" not in form
    expected = "Basic " + base64.b64encode(b"cid:csecret").decode()
    assert token_request.headers["authorization"] == expected
    assert rows(tmp_path, "items", "id") == [(1,)]


def test_dlt_oauth2_client_credentials_with_a_preset_access_token(tmp_path: Path) -> None:
    tokens: list[httpx.Request] = []
    api = _oauth_api(tokens, {"preset-token"})
    config = _oauth_client_credentials(
        access_token="preset-token",
        access_token_request_data={"audience": "api"},
        default_token_expiration=600,
    )
    run(config, api, tmp_path)
    assert tokens == []  # the pre-set token was used, none fetched
    assert rows(tmp_path, "items", "id") == [(1,)]


def test_a_rejected_preset_access_token_is_replaced(tmp_path: Path) -> None:
    tokens: list[httpx.Request] = []
    api = _oauth_api(tokens, {"fresh-token"})
    config = _oauth_client_credentials(
        access_token="stale-token", access_token_request_data={"audience": "api"}
    )
    run(config, api, tmp_path)
    [token_request] = tokens
    assert parse_qs(token_request.content.decode())["audience"] == ["api"]
    assert rows(tmp_path, "items", "id") == [(1,)]


# --- response actions and restsync's own hints ---------------------------


@pytest.mark.parametrize("code", [404, "404"])
def test_response_action_status_code_as_int_or_string(tmp_path: Path, code: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/gone":
            return json({"error": "no such thing"}, 404)
        return json([{"id": 1}])

    api = Api(handler)
    config = {
        "client": {"base_url": BASE, "paginator": "single_page"},
        "resources": [
            "items",
            {
                "name": "gone",
                "endpoint": {
                    "path": "gone",
                    "response_actions": [{"status_code": code, "action": "ignore"}],
                },
            },
        ],
    }
    info = run(config, api, tmp_path)
    assert not info.has_failures
    assert rows(tmp_path, "items", "id") == [(1,)]


def test_max_pages_named_by_the_loop_guard_hint_is_a_key(tmp_path: Path) -> None:
    api = Api(lambda r: json({"data": [{"id": int(r.url.params.get("page", "1"))}]}))
    config = {
        "client": {"base_url": BASE},
        "resources": [
            {
                "name": "items",
                "endpoint": {
                    "data_selector": "data",
                    "paginator": {"type": "page_number", "base_page": 1, "max_pages": 2},
                },
            }
        ],
    }
    source = restsync.rest_api_source(config)
    pipe = restsync.pipeline(
        "t",
        destination=f"duckdb:///{tmp_path}/t.duckdb",
        pipelines_dir=tmp_path / "pipelines",
        transport=httpx.MockTransport(api),
    )
    info = pipe.run(source)
    assert info.has_failures
    assert "stopped after 2 pages (max_pages)" in str(info)
    assert len(api.requests) == 2


# --- refused with what to use instead -----------------------------------


def test_json_response_paginator_is_refused_with_its_new_name() -> None:
    config = {
        "client": {"base_url": BASE, "paginator": {"type": "json_response", "next_url_path": "n"}},
        "resources": ["items"],
    }
    assert problems(config) == [
        "client.paginator.type: 'json_response' is the old name of the 'json_link' "
        "paginator; write 'json_link' (with 'next_url_path')"
    ]


def test_sessions_are_refused_with_what_to_use() -> None:
    config = {
        "client": {
            "base_url": BASE,
            "session": object(),
            "auth": {
                "type": "oauth2_client_credentials",
                "access_token_url": f"{BASE}/token",
                "client_id": "cid",
                "client_secret": "csecret",
                "session": object(),
            },
        },
        "resources": ["items"],
    }
    found = problems(config)
    assert found == [
        "client.session: not supported: restsync sends requests with httpx, not a "
        "requests.Session; use 'auth', 'headers' and 'timeout' instead",
        "client.auth.session: not supported: restsync fetches tokens with its own httpx "
        "client; set 'access_token_request_data' for extra form fields of the token request",
    ]


def test_a_dlt_resource_object_is_refused_with_what_to_write() -> None:
    class DltResource:  # what `@dlt.resource` returns, as far as a config can tell
        name = "extra"

    config = {"client": {"base_url": BASE}, "resources": ["items", DltResource()]}
    assert problems(config) == [
        "resources[1]: a dlt resource object cannot be part of a restsync config; "
        "write the resource as a dict ({'name': ..., 'endpoint': ...}), or run it with dlt"
    ]


# --- one table per resource --------------------------------------------


def test_resources_whose_names_normalize_to_one_table_are_refused() -> None:
    config = {"client": {"base_url": BASE}, "resources": ["a-b", "a_b", "A B"]}
    assert problems(config) == [
        "resources[0]: 'a-b' and resources[1] ('a_b'), resources[2] ('A B') would write one "
        "table, 'a_b' (names are normalized to snake_case); rename one, or give each the "
        "same 'table_name' to share the table on purpose"
    ]


def test_an_explicit_shared_table_name_is_allowed() -> None:
    config = {
        "client": {"base_url": BASE},
        "resources": [
            {"name": "open_orders", "table_name": "orders"},
            {"name": "closed_orders", "table_name": "orders"},
        ],
    }
    plans = restsync.rest_api_source(config).plans
    assert [(p.table_name, p.table_name_given) for p in plans] == [
        ("orders", True),
        ("orders", True),
    ]


@pytest.mark.parametrize("name", ["_restsync_loads", "_restsync_state", "_dlt_loads"])
def test_reserved_table_names_are_refused(name: str) -> None:
    assert problems({"client": {"base_url": BASE}, "resources": ["items", name]}) == [
        f"resources[1]: '{name}' would write the table '{name}', a name restsync reserves "
        "(tables starting with '_restsync_' or '_dlt_'); rename the resource or set 'table_name'"
    ]


def test_a_resource_named_like_another_resources_child_table_is_refused() -> None:
    config = {"client": {"base_url": BASE}, "resources": ["items", "items__tags"]}
    assert problems(config) == [
        "resources[1]: 'items__tags' would write the table 'items__tags', where resources[0] "
        "('items') keeps its nested lists ('items__<field>'); rename the resource or set "
        "another 'table_name'"
    ]


# --- a Python config file's pipeline ------------------------------------


def test_a_python_config_files_source_is_named_after_the_file(tmp_path: Path) -> None:
    from restsync.cli.main import load_source

    for stem in ("shop", "blog"):
        (tmp_path / f"{stem}.py").write_text(
            "from restsync import rest_api_source\n"
            "source = rest_api_source({'client': {'base_url': 'https://api.test'},"
            " 'resources': ['items']})\n"
        )
    names = [load_source(str(tmp_path / f"{stem}.py")).name for stem in ("shop", "blog")]
    assert names == ["shop", "blog"]
    named = tmp_path / "named.py"
    named.write_text(
        "from restsync import rest_api_source\n"
        "source = rest_api_source({'client': {'base_url': 'https://api.test'},"
        " 'resources': ['items']}, name='mine')\n"
    )
    assert load_source(str(named)).name == "mine"


def test_dlts_own_mixed_path_config_runs(tmp_path: Path) -> None:
    # plain params and a resolve param in one path, as in dlt's own valid test configurations
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/dlt-hub/dlt/issues/":
            return json([{"id": 7}, {"id": 8}])
        return json([{"id": 1, "seen_at": path}])

    api = Api(handler)
    config = {
        "client": {"base_url": BASE, "paginator": "single_page"},
        "resources": [
            {
                "name": "issues",
                "endpoint": {
                    "path": "{org}/{repo}/issues/",
                    "params": {"org": "dlt-hub", "repo": "dlt"},
                },
            },
            {
                "name": "comments",
                "endpoint": {
                    "path": "{org}/{repo}/issues/{id}/comments",
                    "params": {
                        "org": "dlt-hub",
                        "repo": "dlt",
                        "id": {"type": "resolve", "resource": "issues", "field": "id"},
                    },
                },
            },
        ],
    }
    run(config, api, tmp_path)
    assert sorted(api.paths()) == [
        "/dlt-hub/dlt/issues/",
        "/dlt-hub/dlt/issues/7/comments",
        "/dlt-hub/dlt/issues/8/comments",
    ]
    assert rows(tmp_path, "comments", "seen_at") == [
        ("/dlt-hub/dlt/issues/7/comments",),
        ("/dlt-hub/dlt/issues/8/comments",),
    ]


def test_a_path_placeholder_without_its_param_is_refused() -> None:
    config = {
        "client": {"base_url": BASE},
        "resources": [{"name": "issues", "endpoint": {"path": "{org}/{repo}/issues/"}}],
    }
    assert problems(config) == [
        "resources[0].endpoint.path: unknown placeholder '{org}'; use "
        "'{resources.<parent>.<field>}' or '{incremental.start_value}'",
        "resources[0].endpoint.path: unknown placeholder '{repo}'; use "
        "'{resources.<parent>.<field>}' or '{incremental.start_value}'",
    ]


def test_a_paginator_merged_from_the_defaults_is_validated_as_merged() -> None:
    config = {
        "client": {"base_url": BASE},
        "resource_defaults": {
            "endpoint": {"paginator": {"type": "offset", "limit": 10, "offset_param": "skip"}}
        },
        "resources": [
            {
                "name": "items",
                "endpoint": {"paginator": {"type": "offset", "offset_body_path": "page.skip"}},
            }
        ],
    }
    assert problems(config) == [
        "resources[0].endpoint.paginator: set either 'offset_param' or 'offset_body_path', not both"
    ]


def test_options_without_a_type_merge_into_the_defaults_entry() -> None:
    def config(paginator: dict[str, Any]) -> dict[str, Any]:
        return {
            "client": {"base_url": BASE},
            "resource_defaults": {
                "endpoint": {"paginator": {"type": "page_number", "page_param": "p"}}
            },
            "resources": [{"name": "items", "endpoint": {"paginator": paginator}}],
        }

    [plan] = restsync.rest_api_source(config({"limit": 5})).plans
    assert plan.endpoint["paginator"] == {"type": "page_number", "page_param": "p", "limit": 5}
    assert problems(config({"limt": 5})) == [
        "resources[0].endpoint.paginator: unknown key 'limt' (did you mean 'limit'?)"
    ]


def test_objects_as_params_and_old_incremental_keys_are_refused() -> None:
    class Incremental:  # what `dlt.sources.incremental(...)` returns, as far as a config can tell
        cursor_path = "ts"

    config = {
        "client": {"base_url": BASE},
        "resources": [
            {
                "name": "events",
                "endpoint": {
                    "params": {"since": Incremental(), "ids": [1, 2], "q": None},
                    "incremental": {"cursor_path": "ts", "transform": str},
                },
            }
        ],
    }
    assert problems(config) == [
        "resources[0].endpoint.params.since: expected a plain value (text, number, boolean, "
        "null or a list of them), got an Incremental object; for an incremental cursor write "
        "{'type': 'incremental', 'cursor_path': ...} or endpoint.incremental",
        "resources[0].endpoint.incremental.transform: the old name of 'convert'; write 'convert'",
    ]


def test_oauth2_options_are_checked_at_rest_api_source() -> None:
    config = {
        "client": {
            "base_url": BASE,
            "auth": {
                "type": "oauth2",
                "token_url": f"{BASE}/token",
                "client_id": "cid",
                "client_secret": "csecret",
                "scope": "a",
                "scopes": ["a"],
                "client_auth": "header",
            },
        },
        "resources": ["items"],
    }
    assert problems(config) == [
        "client.auth.client_auth: unknown client_auth 'header' (expected 'body' or 'basic')",
        "client.auth: set either 'scope' or 'scopes', not both",
    ]


def test_column_hints_in_list_form_and_dlts_complex_type_apply(tmp_path: Path) -> None:
    api = Api(lambda r: json([{"id": 1, "amount": 5, "meta": {"a": 1}}]))
    config = {
        "client": {"base_url": BASE, "paginator": "single_page"},
        "resources": [
            {
                "name": "items",
                "columns": [
                    {"name": "amount", "data_type": "text"},
                    {"name": "meta", "data_type": "complex"},
                ],
            }
        ],
    }
    run(config, api, tmp_path)
    con = duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True)
    try:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 't_data' and table_name = 'items'"
            ).fetchall()
        )
    finally:
        con.close()
    assert types["amount"] == "VARCHAR"
    assert "meta__a" not in types  # kept whole as JSON, not flattened
    assert rows(tmp_path, "items", "id, amount") == [(1, "5")]
