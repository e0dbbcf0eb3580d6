"""Incremental state: its JSON form, its round trip through every destination (committed with
a load, per pipeline and resource), and a damaged stored state as a clear `LoadError`."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
from rs_helpers import make_schema, order, stage

from restsync.destinations._parquet import STATE_FILE, ParquetDestination
from restsync.errors import LoadError
from restsync.load import load_stage
from restsync.schema._model import Column
from restsync.state import (
    COMMITTED,
    dumps,
    load_record,
    loads_json,
    parse_state,
    parse_state_file,
    schema_hash,
)

#: A state with the values incremental cursors hold: text, big and exact numbers, nesting.
STATE: dict[str, Any] = {
    "last_value": "2024-01-02T03:04:05.123456+00:00",
    "unique_hashes": ["a1", "b2"],
    "initial_value": None,
    "big": 2**62 + 1,
    "ratio": 0.1,
    "nested": {"ü": "ñ", "list": [1, {"k": True}]},
}


def test_dumps_is_stable_whatever_the_key_order() -> None:
    a = {"b": 1, "a": {"y": 2, "x": [3, 1]}}
    b = {"a": {"x": [3, 1], "y": 2}, "b": 1}
    assert dumps(a) == dumps(b) == '{"a":{"x":[3,1],"y":2},"b":1}'


def test_dumps_writes_datetimes_as_text() -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert loads_json(dumps({"at": when})) == {"at": str(when)}


@pytest.mark.parametrize("form", ["text", "bytes", "bytearray", "parsed"])
def test_loads_json_reads_each_form_a_driver_returns(form: str) -> None:
    text = dumps(STATE)
    value: Any = {
        "text": text,
        "bytes": text.encode(),
        "bytearray": bytearray(text.encode()),
        "parsed": json.loads(text),
    }[form]
    assert loads_json(value) == STATE


def test_schema_hash_ignores_the_version_not_the_content() -> None:
    s = make_schema("merge")
    h = schema_hash(s)
    s.version += 3
    assert schema_hash(s) == h
    s.tables["orders"].columns["extra"] = Column("extra", "text")
    assert schema_hash(s) != h


def test_load_record_defaults_to_committed_now() -> None:
    started = datetime(2024, 1, 1, tzinfo=timezone.utc)
    record = load_record(load_id="L1", pipeline="shop", started_at=started, rows={"orders": 2})
    assert record["status"] == COMMITTED
    assert record["finished_at"] >= started
    assert record["finished_at"].tzinfo is not None
    assert (record["load_id"], record["pipeline"], record["rows"]) == ("L1", "shop", {"orders": 2})


def test_state_round_trips_through_the_destination_with_its_load(dest: Any, tmp_path: Path) -> None:
    s = make_schema("append")
    assert dest.stored_state("shop") == {}
    state = {"orders": STATE, "customers": {"last_value": 7}}
    load_stage(dest, stage(tmp_path / "a", "L1", s, [[order(1)]], state=state), "shop")
    load_stage(
        dest, stage(tmp_path / "b", "L2", s, [[order(2)]], state={"orders": {"v": 1}}), "crm"
    )
    assert dest.stored_state("shop") == state
    assert dest.stored_state("crm") == {"orders": {"v": 1}}  # per pipeline
    assert dest.stored_state("other") == {}
    # a later load replaces the state of the resources it carries and keeps the others
    load_stage(
        dest, stage(tmp_path / "c", "L3", s, [[order(3)]], state={"orders": {"v": 2}}), "shop"
    )
    assert dest.stored_state("shop") == {"orders": {"v": 2}, "customers": {"last_value": 7}}
    assert dest.show().state["shop"] == {"orders": {"v": 2}, "customers": {"last_value": 7}}


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ('{"last_value": "2024-01', "not valid JSON"),
        ("", "not valid JSON"),
        ('["a"]', "is a list, not an object"),
        ("null", "is a NoneType, not an object"),
    ],
)
def test_parse_state_names_where_the_damage_is(value: str, match: str) -> None:
    with pytest.raises(LoadError, match=match) as exc:
        parse_state(value, "shop.orders")
    assert str(exc.value).startswith("shop.orders: ")


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ({"shop": ["orders"]}, "pipeline 'shop' holds no resources object"),
        ({"shop": {"orders": {"load_id": "L1"}}}, "resource 'orders' of 'shop' has no state"),
        ({"shop": {"orders": {"state": 3}}}, "shop.orders: the stored incremental state is a int"),
    ],
)
def test_parse_state_file_checks_the_document_shape(doc: Any, match: str) -> None:
    with pytest.raises(LoadError, match=match):
        parse_state_file(doc, "state.json")


def _parquet_with_state(tmp_path: Path) -> ParquetDestination:
    d = ParquetDestination(tmp_path / "lake", "shop")
    d.open()
    load_stage(d, stage(tmp_path / "st", "L1", make_schema("append"), [[order(1)]]), "shop")
    assert d.stored_state("shop") == {"orders": {"last_value": "L1"}}
    return d


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: text[: len(text) // 2], id="cut-in-half"),
        pytest.param(lambda text: "", id="empty"),
        pytest.param(lambda text: "\x00" * 8, id="zeros"),
    ],
)
def test_a_damaged_parquet_state_file_is_a_load_error_naming_it(
    tmp_path: Path, damage: Any
) -> None:
    d = _parquet_with_state(tmp_path)
    path = d.root / STATE_FILE
    path.write_text(damage(path.read_text()))
    with pytest.raises(LoadError, match="not valid JSON") as exc:
        d.stored_state("shop")
    assert str(path) in str(exc.value)
    with pytest.raises(LoadError):  # and no load goes on from it
        load_stage(d, stage(tmp_path / "st2", "L2", make_schema("append"), [[order(2)]]), "shop")


def test_a_parquet_state_file_of_the_wrong_shape_is_a_load_error(tmp_path: Path) -> None:
    d = _parquet_with_state(tmp_path)
    (d.root / STATE_FILE).write_text(json.dumps({"shop": {"orders": "L1"}}))
    with pytest.raises(LoadError, match="resource 'orders' of 'shop' has no state"):
        d.stored_state("shop")


def test_a_damaged_state_row_in_duckdb_is_a_load_error_naming_the_resource(
    tmp_path: Path,
) -> None:
    from restsync.destinations._duckdb import DuckDBDestination

    path = tmp_path / "shop.duckdb"
    d = DuckDBDestination(path, "shop")
    d.open()
    load_stage(d, stage(tmp_path / "st", "L1", make_schema("append"), [[order(1)]]), "shop")
    d.close()
    con = duckdb.connect(str(path))
    # the column is typed JSON (text that is not JSON cannot get in); a non-object can
    con.execute("UPDATE shop.shop._restsync_state SET state = '[1]'")
    con.close()
    d = DuckDBDestination(path, "shop")
    d.open()
    try:
        with pytest.raises(LoadError, match="is a list, not an object") as exc:
            d.stored_state("shop")
        assert "_restsync_state, resource 'orders'" in str(exc.value)
        with pytest.raises(LoadError, match="is a list, not an object"):
            d.show()
    finally:
        d.close()
