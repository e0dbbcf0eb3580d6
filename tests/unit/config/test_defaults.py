"""expand_resources: resource_defaults deep-merged, shorthands spelled out."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from restsync.config import (
    deep_merge,
    expand_resources,
    parent_resources,
    validate_config,
    write_disposition_of,
)

from .seed_configs import SEED_CONFIGS


def test_string_resource_becomes_a_dict() -> None:
    assert expand_resources({"resources": ["posts"]}) == [
        {"name": "posts", "endpoint": {"path": "posts"}}
    ]


def test_string_endpoint_and_default_path() -> None:
    config = {
        "resources": [
            {"name": "a", "endpoint": "v1/a"},
            {"name": "b"},
            {"name": "c", "endpoint": {"params": {"x": 1}}},
        ]
    }
    assert [r["endpoint"] for r in expand_resources(config)] == [
        {"path": "v1/a"},
        {"path": "b"},
        {"params": {"x": 1}, "path": "c"},
    ]


def test_defaults_deep_merge_resource_wins() -> None:
    config: dict[str, Any] = {
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {
                "params": {"per_page": 50, "status": "all"},
                "paginator": {"type": "offset", "limit": 50},
                "headers": {"Accept": "application/json"},
            },
            "include_from_parent": ["a", "b"],
        },
        "resources": [
            {
                "name": "orders",
                "primary_key": ["order_id", "line"],
                "endpoint": {
                    "params": {"status": "open"},
                    "paginator": {"limit": 10},
                },
                "include_from_parent": ["c"],
            }
        ],
    }
    before = copy.deepcopy(config)
    [orders] = expand_resources(config)
    assert orders == {
        "name": "orders",
        "primary_key": ["order_id", "line"],  # lists replace
        "write_disposition": "merge",
        "include_from_parent": ["c"],
        "endpoint": {
            "path": "orders",
            "params": {"per_page": 50, "status": "open"},  # dicts merge
            "paginator": {"type": "offset", "limit": 10},
            "headers": {"Accept": "application/json"},
        },
    }
    assert config == before  # nothing written into the user's dicts
    orders["endpoint"]["params"]["x"] = 1
    assert "x" not in config["resource_defaults"]["endpoint"]["params"]


def test_leaves_stay_the_same_objects() -> None:
    paginator = object()
    config = {"resource_defaults": {"endpoint": {"paginator": paginator}}, "resources": ["a", "b"]}
    assert all(r["endpoint"]["paginator"] is paginator for r in expand_resources(config))


def test_string_endpoint_in_defaults() -> None:
    config = {"resource_defaults": {"endpoint": "items"}, "resources": [{"name": "a"}]}
    assert expand_resources(config)[0]["endpoint"] == {"path": "items"}


def test_deep_merge() -> None:
    assert deep_merge({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "d": {"e": 1}}) == {
        "a": {"b": 1, "c": [2]},
        "d": {"e": 1},
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "append"),
        ("replace", "replace"),
        ("merge", "merge"),
        ({"disposition": "merge", "strategy": "upsert"}, "merge"),
        ({"disposition": "replace"}, "replace"),
    ],
)
def test_write_disposition_of(value: Any, expected: str) -> None:
    resource = {"name": "a"} if value is None else {"name": "a", "write_disposition": value}
    assert write_disposition_of(resource) == expected


def test_parent_resources() -> None:
    resource = {
        "name": "comments",
        "endpoint": {
            "path": "posts/{resources.posts.id}/comments",
            "params": {
                "user": {"type": "resolve", "resource": "users", "field": "login"},
                "since": "{incremental.start_value}",
            },
            "json": {"filter": {"tag": "{resources.tags.name}"}},
            "headers": {"X-Org": "{resources.orgs.meta.id}"},
        },
    }
    assert parent_resources(resource) == {"posts", "users", "tags", "orgs"}
    assert parent_resources({"name": "a", "endpoint": {"path": "a/{{literal}}"}}) == set()


@pytest.mark.parametrize("name", sorted(SEED_CONFIGS))
def test_seed_resources_expand_with_defaults(name: str) -> None:
    config = SEED_CONFIGS[name]
    validate_config(config)
    resources = expand_resources(config)
    assert [r["name"] for r in resources] == [r["name"] for r in config["resources"]]
    for r in resources:
        assert write_disposition_of(r) == "merge"
        assert r["primary_key"] == config["resource_defaults"]["primary_key"]
        assert r["endpoint"]["path"].startswith("/")
        assert parent_resources(r) == set()
