from __future__ import annotations

import pytest

from restsync.errors import ConfigError
from restsync.extract._resources import build_plan, order_plans, render


def test_plan_from_expanded_resource():
    plan = build_plan(
        {
            "name": "orders",
            "endpoint": {"path": "/v1/orders", "params": {"status": "open"}},
            "primary_key": "order_id",
            "write_disposition": {"disposition": "merge", "strategy": "delete-insert"},
        }
    )
    assert plan.primary_key == ["order_id"]
    assert plan.write_disposition == "merge"
    assert plan.parent is None
    assert plan.table_name == "orders"


def test_parent_from_placeholder_and_legacy_resolve():
    child = build_plan(
        {"name": "comments", "endpoint": {"path": "/posts/{resources.posts.id}/comments"}}
    )
    assert child.parent == "posts"
    legacy = build_plan(
        {
            "name": "c2",
            "endpoint": {
                "path": "/comments",
                "params": {"post_id": {"type": "resolve", "resource": "posts", "field": "id"}},
            },
        }
    )
    assert legacy.parent == "posts"
    # the legacy form is planned in its canonical form: a placeholder the run binds
    assert legacy.endpoint["params"] == {"post_id": "{resources.posts.id}"}


def test_render_keeps_types_for_whole_placeholders():
    parent = {"id": 7, "meta": {"slug": "a b"}}
    assert render("{resources.posts.id}", parent=parent, incremental=None) == 7
    assert render("/p/{resources.posts.id}/c", parent=parent, incremental=None) == "/p/7/c"
    assert render({"q": "{resources.posts.meta.slug}"}, parent=parent, incremental=None) == {
        "q": "a b"
    }
    assert render(
        {"since": "{incremental.start_value}"}, parent=None, incremental={"start_value": "x"}
    ) == {"since": "x"}
    assert render("{literal}", parent=None, incremental=None) == "{literal}"


def test_order_parents_first_and_reject_unknown_and_cycles():
    a = build_plan({"name": "a", "endpoint": {"path": "/a/{resources.b.id}"}})
    b = build_plan({"name": "b", "endpoint": {"path": "/b"}})
    assert [p.name for p in order_plans([a, b])] == ["b", "a"]
    with pytest.raises(ConfigError, match="unknown parent resource 'b'"):
        order_plans([a])
    c1 = build_plan({"name": "c1", "endpoint": {"path": "/x/{resources.c2.id}"}})
    c2 = build_plan({"name": "c2", "endpoint": {"path": "/y/{resources.c1.id}"}})
    with pytest.raises(ConfigError, match="cycle"):
        order_plans([c1, c2])
