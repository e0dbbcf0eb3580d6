"""validate_config: the seeds pass; each invalid config gives exactly the expected problems."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

from restsync.config import find_problems, validate_config
from restsync.config._secrets import Secret
from restsync.errors import ConfigError
from restsync.util.redact import register_secret

from .seed_configs import SEED_CONFIGS

BASE_URL = "https://api.example.com"


def source(*resources: Any, client: Any = None, **top: Any) -> dict[str, Any]:
    """A valid config around the given resources (one 'orders' resource by default)."""
    config: dict[str, Any] = {
        "client": {"base_url": BASE_URL} if client is None else client,
        "resources": list(resources) or [{"name": "orders", "endpoint": {"path": "orders"}}],
    }
    config.update(top)
    return config


def endpoint(**endpoint: Any) -> dict[str, Any]:
    """A valid config whose one resource 'orders' has this endpoint."""
    return source({"name": "orders", "endpoint": {"path": "orders", **endpoint}})


def resource(**keys: Any) -> dict[str, Any]:
    """A valid config whose one resource is 'orders' with these keys."""
    return source({"name": "orders", "endpoint": {"path": "orders"}, **keys})


def auth(value: Any) -> dict[str, Any]:
    return source(client={"base_url": BASE_URL, "auth": value})


@dataclass
class Case:
    id: str
    config: Any
    expected: list[str]


INVALID_CONFIGS = [
    Case(
        "not-a-dict",
        ["orders"],
        ["the config must be a dict with 'client' and 'resources', got a list"],
    ),
    Case(
        "no-resources",
        {"client": {"base_url": BASE_URL}},
        ["the config needs 'resources', a list of resource names or dicts"],
    ),
    Case(
        "empty-resources",
        source(resources=[]) | {"resources": []},
        ["resources: the list is empty; add at least one resource"],
    ),
    Case(
        "top-level-typo",
        {"client": {"base_url": BASE_URL}, "resource": ["orders"]},
        [
            "unknown key 'resource' (did you mean 'resources'?)",
            "the config needs 'resources', a list of resource names or dicts",
        ],
    ),
    Case(
        "client-key-typo",
        source(client={"base_ur": BASE_URL}),
        [
            "client: unknown key 'base_ur' (did you mean 'base_url'?)",
            "client.base_url: missing, and resources[0] ('orders') has the relative path "
            "'orders'; set client.base_url or use absolute URLs",
        ],
    ),
    Case(
        "base-url-relative",
        source(client={"base_url": "api.example.com"}),
        ["client.base_url: must be an absolute http(s) URL, e.g. 'https://api.example.com'"],
    ),
    Case(
        "client-session-unsupported",
        source(client={"base_url": BASE_URL, "session": object()}),
        [
            "client.session: not supported: restsync sends requests with httpx, not a "
            "requests.Session; use 'auth', 'headers' and 'timeout' instead"
        ],
    ),
    Case(
        "client-numbers",
        source(client={"base_url": BASE_URL, "max_concurrency": 0, "rate_limit": "5/s"}),
        [
            "client.max_concurrency: must be a positive integer, got 0",
            "client.rate_limit: expected a number, got a string",
        ],
    ),
    Case(
        "paginator-type-typo",
        source(
            "customers",
            "products",
            {"name": "orders", "endpoint": {"paginator": {"type": "offest", "limit": 10}}},
        ),
        [
            "resources[2].endpoint.paginator.type: unknown paginator 'offest' "
            "(did you mean 'offset'?)"
        ],
    ),
    Case(
        "paginator-shorthand-typo",
        endpoint(paginator="pagenumber"),
        [
            "resources[0].endpoint.paginator: unknown paginator 'pagenumber' "
            "(did you mean 'page_number'?)"
        ],
    ),
    Case(
        "paginator-offset-shorthand-needs-limit",
        endpoint(paginator="offset"),
        [
            "resources[0].endpoint.paginator: the 'offset' paginator needs 'limit'; "
            "write {'type': 'offset', 'limit': ...}"
        ],
    ),
    Case(
        "paginator-offset-no-limit",
        endpoint(paginator={"type": "offset", "offset_param": "skip"}),
        ["resources[0].endpoint.paginator: the 'offset' paginator needs 'limit'"],
    ),
    Case(
        "paginator-limit-values",
        source(
            {"name": "a", "endpoint": {"paginator": {"type": "offset", "limit": 0}}},
            {"name": "b", "endpoint": {"paginator": {"type": "page_number", "limit": "50"}}},
        ),
        [
            "resources[0].endpoint.paginator.limit: must be a positive integer, got 0",
            "resources[1].endpoint.paginator.limit: expected an integer, got a string",
        ],
    ),
    Case(
        "paginator-base-page-and-unknown-key",
        endpoint(paginator={"type": "page_number", "base_page": "1", "page_size": 50}),
        [
            "resources[0].endpoint.paginator: unknown key 'page_size' (did you mean 'page'?)",
            "resources[0].endpoint.paginator.base_page: expected an integer, got a string",
        ],
    ),
    Case(
        "paginator-no-type",
        endpoint(paginator={"limit": 10}),
        [
            "resources[0].endpoint.paginator: a paginator dict needs a 'type' ('auto', "
            "'single_page', 'offset', 'page_number', 'cursor', 'json_link', 'header_link' "
            "or 'header_cursor')"
        ],
    ),
    Case(
        "cursor-param-and-body-path",
        endpoint(paginator={"type": "cursor", "cursor_param": "after", "cursor_body_path": "a"}),
        [
            "resources[0].endpoint.paginator: set either 'cursor_param' or "
            "'cursor_body_path', not both"
        ],
    ),
    Case(
        "page-param-on-json-link",
        endpoint(paginator={"type": "json_link", "page_param": "p"}),
        [
            "resources[0].endpoint.paginator: unknown key 'page_param' "
            "(expected 'max_pages', 'next_url_path', 'stop_condition' or 'type')"
        ],
    ),
    Case(
        "auth-api-key-missing-key",
        auth({"type": "api_key", "name": "api_key", "location": "query"}),
        ["client.auth: 'api_key' auth needs 'api_key'; got keys name, location"],
    ),
    Case(
        "auth-basic-missing-both",
        auth({"type": "http_basic"}),
        ["client.auth: 'http_basic' auth needs 'username' and 'password'; got no other keys"],
    ),
    Case(
        "auth-type-typo",
        auth({"type": "bearr", "token": "sk_live_0123456789"}),
        ["client.auth.type: unknown auth type 'bearr' (did you mean 'bearer'?)"],
    ),
    Case(
        "auth-type-looks-like-a-token",
        auth({"type": "sk_live_0123456789abcdef"}),
        [
            "client.auth.type: unknown auth type '***' (expected 'bearer', 'api_key', "
            "'http_basic', 'oauth2' or 'oauth2_client_credentials')"
        ],
    ),
    Case(
        "auth-no-type",
        auth({"key": "sk_live_0123456789"}),
        [
            "client.auth: auth needs a 'type' ('bearer', 'api_key', 'http_basic', 'oauth2' or "
            "'oauth2_client_credentials'), or a 'token' for bearer auth"
        ],
    ),
    Case(
        "auth-bare-token-string",
        auth("sk_live_0123456789"),
        ["client.auth: expected a dict such as {'type': 'bearer', 'token': ...}, got a string"],
    ),
    Case(
        "auth-null-and-wrong-type-secrets",
        auth({"type": "oauth2", "client_id": None, "client_secret": 1234567, "token_url": "x"}),
        [
            'client.auth.client_id: is null; set it, e.g. restsync.secrets["client_id"]',
            "client.auth.client_secret: expected a string, got an integer",
            "client.auth.token_url: must be an absolute http(s) URL",
        ],
    ),
    Case(
        "auth-location",
        auth({"type": "api_key", "api_key": "k" * 20, "location": "querry"}),
        ["client.auth.location: unknown location 'querry' (did you mean 'query'?)"],
    ),
    Case(
        "endpoint-auth-unknown-key",
        endpoint(auth={"token": "sk_live_0123456789", "tokne": "Bearer"}),
        [
            "resources[0].endpoint.auth: unknown key 'tokne' (did you mean 'token'?)",
        ],
    ),
    Case(
        "method-lowercase",
        endpoint(method="get"),
        ["resources[0].endpoint.method: unknown method 'get' (did you mean 'GET'?)"],
    ),
    Case(
        "method-secret-value",
        endpoint(method=Secret("TOPSECRETVALUE")),
        ["resources[0].endpoint.method: unknown method '***' (expected 'GET' or 'POST')"],
    ),
    Case(
        "data-selector-and-json-data",
        endpoint(data_selector=["data"], json={"a": 1}, data="a=1"),
        [
            "resources[0].endpoint: set either 'json' or 'data', not both",
            "resources[0].endpoint.data_selector: expected a string, got a list",
        ],
    ),
    Case(
        "endpoint-key-typo",
        endpoint(pagination={"type": "offset", "limit": 10}),
        ["resources[0].endpoint: unknown key 'pagination' (did you mean 'paginator'?)"],
    ),
    Case(
        "write-disposition-value",
        resource(write_disposition="upsert"),
        [
            "resources[0].write_disposition: unknown write_disposition 'upsert' "
            "(expected 'append', 'replace', 'merge' or 'skip')"
        ],
    ),
    Case(
        "write-disposition-scd2",
        resource(primary_key="id", write_disposition={"disposition": "merge", "strategy": "scd2"}),
        [
            "resources[0].primary_key: strategy 'scd2' keys its rows by a hash of their "
            "content, not by a primary_key (as in dlt); remove it, or use merge_key for the "
            "natural key"
        ],
    ),
    Case(
        "merge-without-key",
        resource(write_disposition="merge"),
        [
            "resources[0]: 'orders' uses write_disposition 'merge' but has no primary_key or "
            "merge_key; add e.g. 'primary_key': 'id' (here or in resource_defaults)"
        ],
    ),
    Case(
        "merge-from-defaults-without-key",
        source("orders", "customers", resource_defaults={"write_disposition": "merge"}),
        [
            "resources[0]: 'orders' uses write_disposition 'merge' but has no primary_key or "
            "merge_key; add e.g. 'primary_key': 'id' (here or in resource_defaults)",
            "resources[1]: 'customers' uses write_disposition 'merge' but has no primary_key "
            "or merge_key; add e.g. 'primary_key': 'id' (here or in resource_defaults)",
        ],
    ),
    Case(
        "primary-key-types",
        resource(primary_key=7, merge_key=["a", 3]),
        [
            "resources[0].primary_key: expected a column name or a list of column names, "
            "got an integer",
            "resources[0].merge_key[1]: expected a column name, got an integer",
        ],
    ),
    Case(
        "resource-without-name",
        source({"endpoint": {"path": "orders"}}),
        ["resources[0]: a resource needs a 'name'"],
    ),
    Case(
        "resource-not-a-dict",
        source("orders", 42),
        ["resources[1]: expected a resource dict or a resource name, got an integer"],
    ),
    Case(
        "duplicate-names",
        source("orders", {"name": "customers"}, {"name": "orders", "endpoint": "v2/orders"}),
        ["resources[2].name: duplicate resource name 'orders' (also resources[0])"],
    ),
    Case(
        "defaults-with-name",
        source("orders", resource_defaults={"name": "x", "primary_key": "id"}),
        ["resource_defaults.name: a name cannot be a default; give each resource its own 'name'"],
    ),
    Case(
        "placeholder-unknown-parent",
        source("posts", {"name": "comments", "endpoint": "posts/{resources.post.id}/comments"}),
        [
            "resources[1].endpoint.path: unknown resource 'post' (did you mean 'posts'?) in "
            "'{resources.post.id}'"
        ],
    ),
    Case(
        "placeholder-cycle",
        source(
            {"name": "a", "endpoint": {"path": "a", "params": {"b_id": "{resources.b.id}"}}},
            {"name": "b", "endpoint": "b/{resources.a.id}"},
        ),
        [
            "resources[0]: resources depend on each other in a cycle: a -> b -> a; a parent "
            "cannot read from its own children"
        ],
    ),
    Case(
        "placeholder-incremental-without-block",
        endpoint(params={"since": "{incremental.start_value}"}),
        [
            "resources[0].endpoint.params.since: '{incremental.start_value}' needs an "
            "'incremental' block in the endpoint, e.g. {'cursor_path': 'updated_at', "
            "'initial_value': ...}"
        ],
    ),
    Case(
        "placeholder-roots",
        endpoint(path="orders/{order_id}", params={"p": "{resource.posts.id}"}),
        [
            "resources[0].endpoint.path: unknown placeholder '{order_id}'; use "
            "'{resources.<parent>.<field>}' or '{incremental.start_value}'",
            "resources[0].endpoint.params.p: unknown placeholder root 'resource' (did you "
            "mean 'resources'?) in '{resource.posts.id}'",
        ],
    ),
    Case(
        "resolve-param-unknown-resource",
        source(
            "users",
            {
                "name": "repos",
                "endpoint": {
                    "path": "users/{user}/repos",
                    "params": {"user": {"type": "resolve", "resource": "user", "field": "login"}},
                },
            },
        ),
        [
            "resources[1].endpoint.params.user.resource: unknown resource 'user' (did you "
            "mean 'users'?)"
        ],
    ),
    Case(
        "include-from-parent-without-parent",
        resource(include_from_parent=["id"]),
        [
            "resources[0].include_from_parent: needs a parent resource: use "
            "'{resources.<parent>.<field>}' in the endpoint"
        ],
    ),
    Case(
        "error-handler-values",
        endpoint(
            error_handler={
                "retry_on_status_codes": [429, 600, "500"],
                "max_retries": -1,
                "backoff_factor": -2,
                "retry_on": [500],
            }
        ),
        [
            "resources[0].endpoint.error_handler: unknown key 'retry_on' (did you mean "
            "'retry_on_status_codes'?)",
            "resources[0].endpoint.error_handler.retry_on_status_codes[1]: 600 is not an HTTP "
            "status code (100-599)",
            "resources[0].endpoint.error_handler.retry_on_status_codes[2]: expected an HTTP "
            "status code, got a string",
            "resources[0].endpoint.error_handler.max_retries: must be at least 0, got -1",
            "resources[0].endpoint.error_handler.backoff_factor: must be at least 0, got -2",
        ],
    ),
    Case(
        "incremental-values",
        endpoint(
            incremental={
                "cursor_path": "updated_at",
                "lag": "1h",
                "on_cursor_value_missing": "skip",
                "end_value": "2024-02-01",
            }
        ),
        [
            "resources[0].endpoint.incremental: 'end_value' needs an 'initial_value'",
            "resources[0].endpoint.incremental.lag: expected a number, got a string",
            "resources[0].endpoint.incremental.on_cursor_value_missing: unknown "
            "on_cursor_value_missing 'skip' (expected 'raise', 'include' or 'exclude')",
        ],
    ),
    Case(
        "incremental-no-cursor-path",
        endpoint(incremental={"initial_value": 0}),
        [
            "resources[0].endpoint.incremental: incremental needs a 'cursor_path', the record "
            "field to track"
        ],
    ),
    Case(
        "response-actions",
        endpoint(response_actions=[{"action": "skip"}, {"status_code": 404}]),
        [
            "resources[0].endpoint.response_actions[0]: an action needs 'status_code' or "
            "'content' to match on",
            "resources[0].endpoint.response_actions[0].action: unknown action 'skip' "
            "(expected 'ignore')",
            "resources[0].endpoint.response_actions[1]: an action needs 'action': 'ignore' or "
            "a function",
        ],
    ),
    Case(
        "columns",
        resource(
            columns={
                "price": {"data_type": "wei"},
                "created": {"data_type": "timestmp", "nullable": "no"},
                "meta": {"data_type": "complex"},
            }
        ),
        [
            "resources[0].columns.price.data_type: data type 'wei' is not supported by "
            "restsync; use 'decimal' with precision and scale",
            "resources[0].columns.created.data_type: unknown data type 'timestmp' (did you "
            "mean 'timestamp'?)",
            "resources[0].columns.created.nullable: expected true or false, got a string",
        ],
    ),
    Case(
        "processing-steps",
        resource(processing_steps=[{"filter": "x > 1"}, {"map": len, "filter": len}]),
        [
            "resources[0].processing_steps[0].filter: expected a function, got a string",
            "resources[0].processing_steps[1]: a step has exactly one of 'filter', 'map' or "
            "'yield_map'",
        ],
    ),
    Case(
        "headers-values",
        source(client={"base_url": BASE_URL, "headers": {"X-Api-Version": 2}}),
        ["client.headers['X-Api-Version']: expected a string, got an integer"],
    ),
    Case(
        "several-problems-at-once",
        {
            "client": {
                "base_url": BASE_URL,
                "auth": {"type": "api_key", "name": "api_key", "location": "query"},
            },
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
            "resources": [
                "customers",
                {"name": "orders", "endpoint": {"path": "orders", "data_selectr": "data"}},
                {"name": "items", "endpoint": {"paginator": {"type": "offest", "limit": 100}}},
                {"name": "orders"},
            ],
        },
        [
            "client.auth: 'api_key' auth needs 'api_key'; got keys name, location",
            "resources[1].endpoint: unknown key 'data_selectr' (did you mean 'data_selector'?)",
            "resources[2].endpoint.paginator.type: unknown paginator 'offest' (did you mean "
            "'offset'?)",
            "resources[3].name: duplicate resource name 'orders' (also resources[1])",
        ],
    ),
]


@pytest.mark.parametrize("case", INVALID_CONFIGS, ids=lambda c: c.id)
def test_invalid_config_reports_every_problem(case: Case) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(case.config)
    assert [str(p) for p in info.value.problems] == case.expected


def test_there_are_enough_invalid_cases() -> None:
    assert len(INVALID_CONFIGS) >= 30
    assert len({c.id for c in INVALID_CONFIGS}) == len(INVALID_CONFIGS)


def test_message_lists_all_problems_under_one_header() -> None:
    case = next(c for c in INVALID_CONFIGS if c.id == "several-problems-at-once")
    with pytest.raises(ConfigError) as info:
        validate_config(case.config)
    assert str(info.value) == "\n".join(
        ["config error (4 problems), nothing was requested:", *(f"  {p}" for p in case.expected)]
    )


@pytest.mark.parametrize("name", sorted(SEED_CONFIGS))
def test_seed_configs_validate(name: str) -> None:
    validate_config(SEED_CONFIGS[name])


@pytest.mark.parametrize("name", sorted(SEED_CONFIGS))
def test_seed_configs_validate_with_secret_values(name: str) -> None:
    config = copy.deepcopy(SEED_CONFIGS[name])
    auth = config["client"]["auth"]
    for key, value in auth.items():
        if key not in ("type", "name", "location"):
            auth[key] = Secret(value)
    validate_config(config)


SECRET_VALUES = ["sk_live_0123456789", "hunter2-password", "client-secret-xyz"]


@pytest.mark.parametrize(
    "config",
    [
        auth("sk_live_0123456789"),
        auth({"type": "bearer", "token": ["sk_live_0123456789"]}),
        auth({"type": "http_basic", "username": "u", "password": 1, "pasword": "hunter2-password"}),
        auth({"type": "client-secret-xyz"}),
        auth({"type": "api_key", "api_key": "k", "location": "sk_live_0123456789"}),
        endpoint(paginator=Secret("sk_live_0123456789")),
        resource(write_disposition=Secret("hunter2-password")),
    ],
)
def test_secret_values_are_never_echoed(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(config)
    text = str(info.value)
    assert not any(s in text for s in SECRET_VALUES), text


def test_registered_secrets_are_masked_in_messages() -> None:
    register_secret("registered-secret-4711")
    problems = find_problems(endpoint(data_selector=1, paginator="registered-secret-4711"))
    assert [str(p) for p in problems] == [
        "resources[0].endpoint.data_selector: expected a string, got an integer",
        "resources[0].endpoint.paginator: unknown paginator '***'; check the spelling"
        if False
        else "resources[0].endpoint.paginator: unknown paginator '***' (expected 'auto', "
        "'single_page', 'offset', 'page_number', 'cursor', 'json_link', 'header_link' or "
        "'header_cursor')",
    ]


@pytest.mark.parametrize(
    "config",
    [
        # absolute paths need no base_url
        {"resources": [{"name": "a", "endpoint": "https://api.example.com/a"}]},
        # a bare string resource, a string endpoint, a dict without type is bearer auth
        source(
            "a",
            {"name": "b", "endpoint": "b"},
            client={"base_url": BASE_URL, "auth": {"token": "t"}},
        ),
        # parent/child with dotted fields, include_from_parent, incremental placeholders
        source(
            {"name": "posts", "endpoint": {"path": "posts", "paginator": "page_number"}},
            {
                "name": "comments",
                "include_from_parent": ["title"],
                "endpoint": {
                    "path": "posts/{resources.posts.id}/comments",
                    "params": {
                        "since": "{incremental.start_value}",
                        "author": "{resources.posts.author.id}",
                    },
                    "incremental": {"cursor_path": "updated_at", "initial_value": "2024-01-01"},
                    "json": {"query": "{ comments { id } }"},
                },
            },
        ),
        # legacy resolve param
        source(
            "users",
            {
                "name": "repos",
                "endpoint": {
                    "path": "users/{login}/repos",
                    "params": {"login": {"type": "resolve", "resource": "users", "field": "login"}},
                },
            },
        ),
        # dict write disposition, columns, objects as paginator and auth, callables
        source(
            {
                "name": "orders",
                "write_disposition": {"disposition": "merge", "strategy": "upsert"},
                "columns": {"id": {"data_type": "bigint", "primary_key": True, "nullable": False}},
                "processing_steps": [{"filter": bool}, {"map": dict}],
                "endpoint": {
                    "path": "orders",
                    "method": "POST",
                    "paginator": object(),
                    "auth": object(),
                    "response_actions": [{"status_code": 404, "action": "ignore"}, len],
                    "error_handler": {
                        "retry_on_status_codes": [429],
                        "max_retries": 0,
                        "backoff_factor": 0.5,
                    },
                },
            },
            client={
                "base_url": BASE_URL,
                "max_concurrency": 8,
                "rate_limit": 2.5,
                "timeout": 30,
                "allow_cross_origin_pagination": True,
                "auth": {
                    "type": "oauth2_client_credentials",
                    "access_token_url": "https://auth.example.com/token",
                    "client_id": "id",
                    "client_secret": "secret",
                    "default_token_expiration": 3600,
                },
            },
        ),
    ],
    ids=["absolute-paths", "shorthands", "parent-child", "resolve-param", "python-objects"],
)
def test_valid_configs(config: dict[str, Any]) -> None:
    validate_config(config)


def test_stop_condition_is_parsed_by_the_paginators_parser() -> None:
    from restsync.paginate._stop_condition import parse_stop_condition

    config = endpoint(
        paginator={"type": "cursor", "cursor_path": "next", "stop_condition": "a === b"}
    )
    with pytest.raises(ValueError, match="unexpected character") as refused:
        parse_stop_condition("a === b")
    assert [str(p) for p in find_problems(config)] == [
        f"resources[0].endpoint.paginator.stop_condition: {refused.value}"
    ]
    ok = endpoint(paginator={"type": "cursor", "cursor_path": "next", "stop_condition": "a == b"})
    assert find_problems(ok) == []


def test_validation_does_not_modify_the_config() -> None:
    config = copy.deepcopy(SEED_CONFIGS["001_2241679c14e8efea"])
    before = copy.deepcopy(config)
    validate_config(config)
    assert config == before
