"""`restsync.load._hints`: a resource's write settings from its config, and refresh plans."""

from __future__ import annotations

import pytest

from restsync.config._validate import write_problems
from restsync.errors import ConfigError
from restsync.load._hints import (
    apply_write_settings,
    check_refresh,
    keep_failed,
    plan_refresh,
    write_settings,
)
from restsync.schema._model import Column, Schema, Table


def test_settings_normalize_names_and_read_both_columns_forms() -> None:
    w = write_settings(
        {
            "name": "r",
            "primaryKey": None,
            "primary_key": "orderId",
            "write_disposition": {"disposition": "merge", "strategy": "upsert"},
            "columns": [
                {"name": "isDeleted", "hard_delete": True},
                {"name": "updatedAt", "dedup_sort": "desc"},
            ],
        }
    )
    assert (w.disposition, w.strategy, w.primary_key) == ("merge", "upsert", ["order_id"])
    assert w.hints == {"hard_delete": "is_deleted", "dedup_sort": ["updated_at", "desc"]}


def test_scd2_settings_as_dlt_names_them() -> None:
    w = write_settings({"write_disposition": {"disposition": "merge", "strategy": "scd2"}})
    assert w.hints["validity_columns"] == ["_dlt_valid_from", "_dlt_valid_to"]
    assert w.hints["active_record_timestamp"] is None
    w = write_settings(
        {
            "write_disposition": {
                "disposition": "merge",
                "strategy": "scd2",
                "validity_column_names": ["ValidFrom", "ValidTo"],
                "active_record_timestamp": "9999-12-31",
                "row_version_column_name": "rowHash",
            }
        }
    )
    assert w.hints["validity_columns"] == ["valid_from", "valid_to"]
    assert w.hints["active_record_timestamp"] == "9999-12-31T00:00:00+00:00"
    assert w.hints["row_version_column"] == "row_hash"
    schema = Schema("s", {"d": Table("d", "dim")})
    apply_write_settings(schema, {"dim": w})
    table = schema.tables["d"]
    assert table.merge_strategy == "scd2"
    assert [c.data_type for c in table.columns.values()] == ["timestamp", "timestamp"]
    assert Table.from_dict(table.to_dict()) == table  # stored with the schema


def test_scd2_keys_outside_scd2_and_a_bad_timestamp_are_problems() -> None:
    scd2 = {"disposition": "merge", "strategy": "scd2", "active_record_timestamp": "x"}
    found = write_problems({"write_disposition": scd2}, "resources[0]")
    assert [(p.path, p.message) for p in found] == [
        (
            "resources[0].write_disposition",
            "expected an ISO-8601 date or timestamp (e.g. '9999-12-31'), got 'x'",
        )
    ]
    found = write_problems(
        {"write_disposition": {"disposition": "merge", "active_record_timestamp": "x"}},
        "resources[0]",
    )
    assert [p.path for p in found] == ["resources[0].write_disposition.active_record_timestamp"]
    found = write_problems(
        {
            "merge_key": "k",
            "write_disposition": {
                "disposition": "merge",
                "strategy": "delete-insert",
                "validity_column_names": ["a", "b"],
            },
        },
        "resources[0]",
    )
    assert [p.path for p in found] == ["resources[0].write_disposition.validity_column_names"]


def test_refresh_plans() -> None:
    stored = Schema(
        "s",
        {
            "a": Table("a", "a", {"x": Column("x", "text")}),
            "a__l": Table("a__l", "a", parent="a"),
            "b": Table("b", "b"),
        },
    )
    state = {"a": {"cursor": 1}, "b": {"cursor": 2}}
    plan, schema, start = plan_refresh("drop_resources", stored, state, {"a"})
    assert plan is not None
    assert (plan.tables, plan.resources) == (["a", "a__l"], ["a"])
    assert list(schema.tables) == ["b"]
    assert start == {"b": {"cursor": 2}}
    assert list(stored.tables) == ["a", "a__l", "b"]  # the stored schema is not changed
    plan, schema, start = plan_refresh("drop_data", stored, state, {"a"})
    assert plan is not None
    assert list(schema.tables) == ["a", "a__l", "b"]
    plan, schema, start = plan_refresh("drop_sources", stored, state, {"a"})
    assert plan is not None
    assert (plan.tables, schema.tables, start) == (["a", "a__l", "b"], {}, {})
    # a resource that failed is taken out, its tables back in the schema
    kept = keep_failed(plan, schema, stored, {"b"})
    assert kept is not None
    assert (kept.mode, kept.tables) == ("drop_resources", ["a", "a__l"])
    assert "b" in schema.tables
    assert plan_refresh(None, stored, state, {"a"}) == (None, stored, state)


def test_refresh_modes() -> None:
    assert check_refresh(None, full_refresh=True) == "drop_resources"
    assert check_refresh(None) is None
    assert check_refresh("drop_data", full_refresh=True) == "drop_data"
    with pytest.raises(ConfigError, match="unknown refresh mode 'all'"):
        check_refresh("all")
