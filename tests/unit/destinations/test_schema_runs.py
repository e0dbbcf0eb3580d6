"""Schema rules across runs, through a whole pipeline, on DuckDB, Postgres and Parquet.

Each test serves records from an in-memory API (one page per run) and checks the tables
after two or three runs: stored values are never rewritten lossily, key values keep one
type, the key -> column mapping never moves, nullability and `schema_contract` as in dlt.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from rs_helpers import rows

import restsync
from restsync.destinations._registry import destination_from_url
from restsync.errors import ConfigError, LoadError
from restsync.pipeline._info import LoadInfo

DESTS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres), "parquet"]
SQL_DESTS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


class Target:
    """One destination and dataset, and the runs of one pipeline into it."""

    def __init__(
        self, kind: str, tmp_path: Path, request: pytest.FixtureRequest, mode: str = "local"
    ) -> None:
        self.kind = kind
        self.mode = mode  # where records are normalized: "local" or "worker" (a process)
        self.dataset = f"ds_{uuid.uuid4().hex[:10]}"
        if kind == "duckdb":
            self.url = f"duckdb:///{tmp_path / 'dest.duckdb'}"
        elif kind == "parquet":
            self.url = f"parquet:///{tmp_path / 'lake'}"
        else:
            self.url = str(request.getfixturevalue("postgres_url"))
        self.pipelines_dir = tmp_path / "pipelines"

    def run(self, records: list[Any], **resource: Any) -> LoadInfo:
        """One run of a resource `items` serving `records` (one page)."""

        def api(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=orjson.dumps({"data": records}))

        config = {
            "client": {"base_url": "https://api.test/"},
            "resources": [
                {
                    "name": "items",
                    "endpoint": {
                        "path": "items",
                        "data_selector": "data",
                        "paginator": "single_page",
                    },
                    **resource,
                }
            ],
        }
        pipe = restsync.pipeline(
            "runs",
            destination=self.url,
            dataset_name=self.dataset,
            pipelines_dir=self.pipelines_dir,
            transport=httpx.MockTransport(api),
            normalize_mode=self.mode,
        )
        return pipe.run(restsync.rest_api_source(config))

    def read(self, table: str = "items", order_by: str = "_dlt_id") -> list[dict[str, Any]]:
        dest = destination_from_url(self.url, pipeline_name="runs", dataset_name=self.dataset)
        dest.open()
        try:
            return rows(dest, table, order_by)
        finally:
            dest.close()

    def columns(self, table: str = "items") -> dict[str, tuple[str, bool]]:
        """`{column: (restsync type, nullable)}` of the stored schema."""
        dest = destination_from_url(self.url, pipeline_name="runs", dataset_name=self.dataset)
        dest.open()
        try:
            schema = dest.stored_schema()
        finally:
            dest.close()
        assert schema is not None
        t = schema.tables[table]
        return {c.name: (c.data_type, c.nullable) for c in t.columns.values()}


@pytest.fixture(params=DESTS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    return Target(request.param, tmp_path, request)


@pytest.fixture(params=SQL_DESTS)
def sql_target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    return Target(request.param, tmp_path, request)


def _data(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if not k.startswith("_dlt")} for r in rs]


WIDE = 9007199254740993  # 2**53 + 1: a double would make it 9007199254740992


def test_a_stored_bigint_is_never_rewritten_as_a_double(target: Target) -> None:
    merge: dict[str, Any] = {"primary_key": "id", "write_disposition": "merge"}
    target.run([{"id": 1, "amount": WIDE}], **merge)
    info = target.run([{"id": 2, "amount": 1.5}], **merge)
    assert not info.has_failures
    assert any("amount__v_double" in c for c in info.schema_changes), info.schema_changes
    target.run([{"id": 1, "amount": WIDE, "note": "again"}], **merge)
    got = sorted(_data(target.read()), key=lambda r: r["id"])
    assert [r["id"] for r in got] == [1, 2]
    assert got[0]["amount"] == WIDE
    assert got[0]["amount__v_double"] is None
    assert got[1]["amount"] is None
    assert got[1]["amount__v_double"] == 1.5
    if target.kind != "parquet":
        assert target.columns()["amount"][0] == "bigint"


def test_a_bigint_column_of_small_ints_still_takes_doubles(sql_target: Target) -> None:
    # no stored value changes: the safe promotion to double stays
    sql_target.run([{"id": 1, "amount": 3}])
    sql_target.run([{"id": 2, "amount": 1.5}])
    got = sorted(_data(sql_target.read()), key=lambda r: r["id"])
    assert [r["amount"] for r in got] == [3.0, 1.5]
    assert sql_target.columns()["amount"][0] == "double"


@pytest.mark.parametrize("second", [1.0, "1"])
def test_a_key_value_converts_to_the_key_column_type(target: Target, second: Any) -> None:
    merge: dict[str, Any] = {"primary_key": "id", "write_disposition": "merge"}
    target.run([{"id": 1, "name": "a"}], **merge)
    info = target.run([{"id": second, "name": "b"}], **merge)
    assert not info.has_failures, info.failed_resources
    got = _data(target.read())
    assert got == [{"id": 1, "name": "b"}]
    assert type(got[0]["id"]) is int
    if target.kind != "parquet":
        assert target.columns()["id"][0] == "bigint"


def test_key_values_of_two_json_types_in_one_batch_are_one_key(target: Target) -> None:
    merge: dict[str, Any] = {"primary_key": "id", "write_disposition": "merge"}
    info = target.run([{"id": 1, "v": 1}, {"id": "1", "v": 2}, {"id": 2.0, "v": 3}], **merge)
    assert not info.has_failures, info.failed_resources
    got = sorted(_data(target.read()), key=lambda r: r["id"])
    assert got == [{"id": 1, "v": 2}, {"id": 2, "v": 3}]


def test_a_key_value_that_does_not_convert_is_an_error(target: Target) -> None:
    merge: dict[str, Any] = {"primary_key": "id", "write_disposition": "merge"}
    target.run([{"id": 1, "name": "a"}], **merge)
    info = target.run([{"id": "x1", "name": "b"}], **merge)
    err = info.failed_resources["items"]
    assert "'id'" in err
    assert "x1" in err
    assert _data(target.read()) == [{"id": 1, "name": "a"}]


def test_the_key_to_column_mapping_never_moves(target: Target) -> None:
    target.run([{"id": 1, "userId": "u1"}])
    info = target.run([{"id": 2, "user_id": "u2"}])
    assert any("user_id_2" in c for c in info.schema_changes), info.schema_changes
    target.run([{"id": 3, "userId": "u3", "user_id": "x3"}])
    got = sorted(_data(target.read()), key=lambda r: r["id"])
    assert [(r["user_id"], r["user_id_2"]) for r in got] == [
        ("u1", None),
        (None, "u2"),
        ("u3", "x3"),
    ]


def test_columns_are_nullable_unless_a_hint_says_not(sql_target: Target) -> None:
    hints = {"code": {"data_type": "text", "nullable": False}}
    sql_target.run([{"id": 1, "name": "a", "code": "c"}], columns=hints)
    dest = destination_from_url(
        sql_target.url, pipeline_name="runs", dataset_name=sql_target.dataset
    )
    dest.open()
    try:
        stored = dest._existing_columns("items")
    finally:
        dest.close()
    assert stored is not None
    assert stored["name"][1] is True  # another writer may leave it empty
    assert stored["id"][1] is True
    assert stored["code"][1] is False
    assert sql_target.columns()["name"] == ("text", True)


def test_a_null_in_a_not_null_column_fails_the_resource(target: Target) -> None:
    hints = {"code": {"data_type": "text", "nullable": False}}
    target.run([{"id": 1, "code": "a"}], columns=hints)
    info = target.run([{"id": 2, "code": "b"}, {"id": 3, "code": None}], columns=hints)
    err = info.failed_resources["items"]
    assert "'code'" in err
    assert "NOT NULL" in err
    assert sorted(r["id"] for r in target.read()) == [1]  # nothing of the second run
    info = target.run([{"id": 4}], columns=hints)
    assert "'code'" in info.failed_resources["items"]


def test_a_hinted_column_missing_from_the_data_is_created(target: Target) -> None:
    hints = {"price": {"data_type": "decimal", "precision": 10, "scale": 2}}
    info = target.run([{"id": 1}], columns=hints)
    assert not info.has_failures, info.failed_resources
    assert _data(target.read()) == [{"id": 1, "price": None}]
    if target.kind != "parquet":
        assert target.columns()["price"] == ("decimal", True)


def test_columns_as_a_list_of_hints(target: Target) -> None:
    hints = [
        {"name": "price", "data_type": "decimal", "precision": 12, "scale": 2},
        {"name": "sku", "data_type": "text"},
    ]
    info = target.run([{"id": 1, "price": 1.25, "sku": 7}], columns=hints)
    assert not info.has_failures, info.failed_resources
    got = _data(target.read())
    assert got == [{"id": 1, "price": Decimal("1.25"), "sku": "7"}]


# ---------------------------------------------------------------- schema_contract


def test_freeze_refuses_a_new_column_and_loads_nothing_of_the_resource(target: Target) -> None:
    target.run([{"id": 1, "name": "a"}])
    info = target.run(
        [{"id": 2, "name": "b"}, {"id": 3, "name": "c", "extra": 5}], schema_contract="freeze"
    )
    err = info.failed_resources["items"]
    assert "'extra'" in err
    assert "'items'" in err
    assert "page 1" in err
    assert "https://api.test/items" in err
    assert sorted(r["id"] for r in target.read()) == [1]
    assert "extra" not in target.read()[0]


def test_freeze_refuses_a_new_table(target: Target) -> None:
    info = target.run([{"id": 1}], schema_contract={"tables": "freeze"})
    assert "new table 'items'" in info.failed_resources["items"]


def test_freeze_refuses_a_variant(target: Target) -> None:
    target.run([{"id": 1, "n": 5}])
    info = target.run([{"id": 2, "n": "five"}], schema_contract={"data_type": "freeze"})
    err = info.failed_resources["items"]
    assert "'n'" in err
    assert "n__v_text" in err
    assert sorted(r["id"] for r in target.read()) == [1]


def test_a_new_table_takes_every_column_under_a_frozen_columns_contract(target: Target) -> None:
    info = target.run([{"id": 1, "a": 1}, {"id": 2, "b": 2}], schema_contract={"columns": "freeze"})
    assert not info.has_failures, info.failed_resources
    assert len(target.read()) == 2


def test_discard_row_and_discard_value(target: Target) -> None:
    target.run([{"id": 1, "n": 5, "tags": [{"t": "x"}]}])
    info = target.run(
        [{"id": 2, "n": 6, "extra": 1, "tags": [{"t": "y"}]}, {"id": 3, "n": "bad"}, {"id": 4}],
        schema_contract={"columns": "discard_row", "data_type": "discard_value"},
    )
    assert not info.has_failures, info.failed_resources
    got = sorted(_data(target.read()), key=lambda r: r["id"])
    # row 2 carried a new column: dropped with its child rows; row 3's text is dropped
    assert got == [{"id": 1, "n": 5}, {"id": 3, "n": None}, {"id": 4, "n": None}]
    assert [r["t"] for r in target.read("items__tags")] == ["x"]


def test_discard_value_drops_a_new_column_and_discard_row_a_variant(target: Target) -> None:
    target.run([{"id": 1, "n": 5}])
    target.run(
        [{"id": 2, "n": 6, "extra": 1}, {"id": 3, "n": "bad"}],
        schema_contract={"columns": "discard_value", "data_type": "discard_row"},
    )
    got = sorted(_data(target.read()), key=lambda r: r["id"])
    assert got == [{"id": 1, "n": 5}, {"id": 2, "n": 6}]


def test_a_frozen_data_type_keeps_a_bigint_from_becoming_double(sql_target: Target) -> None:
    sql_target.run([{"id": 1, "n": 5}])
    info = sql_target.run([{"id": 2, "n": 1.5}], schema_contract={"data_type": "discard_row"})
    assert not info.has_failures, info.failed_resources
    assert _data(sql_target.read()) == [{"id": 1, "n": 5}]
    assert sql_target.columns()["n"][0] == "bigint"


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        ("frozen", "schema_contract"),
        ({"columns": "freez"}, "columns"),
        ({"table": "freeze"}, "table"),
    ],
)
def test_a_bad_schema_contract_is_refused_at_validation(contract: Any, message: str) -> None:
    config = {
        "client": {"base_url": "https://api.test/"},
        "resources": [{"name": "items", "endpoint": "items", "schema_contract": contract}],
    }
    with pytest.raises(ConfigError, match=message):
        restsync.rest_api_source(config)


def test_a_schema_stored_without_the_wide_mark_is_not_promoted_lossily(
    sql_target: Target,
) -> None:
    # a schema stored before restsync marked columns that held ints beyond 2**53: the
    # destination checks the stored values before it would turn the column into double
    sql_target.run([{"id": 1, "amount": WIDE}])
    dest = destination_from_url(
        sql_target.url, pipeline_name="runs", dataset_name=sql_target.dataset
    )
    dest.open()
    try:
        schema = dest.stored_schema()
        assert schema is not None
        schema.tables["items"].columns["amount"].wide = False
        dest.begin()
        dest._schema = schema
        dest._store_schema("legacy", None)
        dest._tx_commit()
    finally:
        dest.close()
    with pytest.raises(LoadError, match="beyond"):
        sql_target.run([{"id": 2, "amount": 1.5}])
    assert [r["amount"] for r in sql_target.read()] == [WIDE]


def test_in_the_normalizer_process_too(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # the stored mapping, the wide mark, key conversion and the contract cross the process
    target = Target("duckdb", tmp_path, request, mode="worker")
    merge: dict[str, Any] = {"primary_key": "id", "write_disposition": "merge"}
    target.run([{"id": 1, "userId": "u1", "amount": WIDE}], **merge)
    info = target.run([{"id": "1", "user_id": "x1", "amount": 1.5}], **merge)
    assert not info.has_failures, info.failed_resources
    info = target.run(
        [{"id": 2, "extra": 1}, {"id": 3}], schema_contract={"columns": "discard_row"}, **merge
    )
    assert not info.has_failures, info.failed_resources
    got = sorted(_data(target.read()), key=lambda r: r["id"])
    assert got == [
        {"id": 1, "user_id": None, "amount": None, "amount__v_double": 1.5, "user_id_2": "x1"},
        {"id": 3, "user_id": None, "amount": None, "amount__v_double": None, "user_id_2": None},
    ]


def test_key_columns_are_not_null_as_in_dlt(target: Target) -> None:
    hints = {"region": {"data_type": "text", "merge_key": True}}
    info = target.run([{"id": 1, "region": "eu"}], primary_key="id", columns=hints)
    assert not info.has_failures, info.failed_resources
    if target.kind != "parquet":
        cols = target.columns()
        assert cols["id"] == ("bigint", False)
        assert cols["region"] == ("text", False)
    info = target.run([{"id": 2}], primary_key="id", columns=hints)
    assert "'region'" in info.failed_resources["items"]
    assert "merge key" in info.failed_resources["items"]
    info = target.run([{"region": "us"}], primary_key="id", columns=hints)
    assert "'id'" in info.failed_resources["items"]
    assert [r["id"] for r in target.read()] == [1]
