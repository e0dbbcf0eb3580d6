"""dlt's write semantics on every destination: merge by merge_key, the merge strategies
(delete-insert, upsert, insert-only, scd2), hard_delete and dedup_sort, refresh, skip.

Each test serves two or three runs of records from an in-process API and compares the table
contents with what dlt's "merge loading" / "refresh" documentation gives for the same inputs
(the examples there, mostly; `_dlt_load_id` and ids left out).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from restsync import rest_api_source
from restsync.errors import ConfigError
from restsync.pipeline import Pipeline

from .dest_helpers import column_types, query, tables

DESTS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres), "parquet"]


class Api:
    """Serves `data[resource]` at `/<resource>` (one page); change `data` between runs."""

    def __init__(self) -> None:
        self.data: dict[str, list[dict[str, Any]]] = {}
        self.failing: set[str] = set()  # resources answered with 404
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        name = request.url.path.strip("/")
        if name in self.failing:
            return httpx.Response(404, content=b'{"error": "gone"}')
        return httpx.Response(200, content=orjson.dumps({"data": self.data.get(name, [])}))


class Runner:
    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self.dataset = f"ws_{uuid.uuid4().hex[:8]}"
        self.api = Api()
        self.tmp = tmp

    def run(self, defs: list[dict[str, Any]], *, ok: bool = True, **kw: Any) -> Any:
        config = {
            "client": {"base_url": "http://api.test/", "paginator": "single_page"},
            "resource_defaults": {"endpoint": {"data_selector": "data"}},
            "resources": defs,
        }
        pipe = Pipeline(
            "ws",
            self.url,
            self.dataset,
            pipelines_dir=self.tmp / "pipelines",
            transport=httpx.MockTransport(self.api.handler),
        )
        info = pipe.run(rest_api_source(config), **kw)
        assert info.loaded, str(info)
        assert not info.failed_resources or not ok, str(info)
        return info

    def rows(self, table: str, cols: str, order: str | None = None) -> list[tuple[Any, ...]]:
        return query(
            self.url,
            self.dataset,
            f"SELECT {cols} FROM {{t:{table}}} ORDER BY {order or cols}",
        )

    def tables(self) -> list[str]:
        return tables(self.url, self.dataset)


@pytest.fixture(params=DESTS)
def runner(request: pytest.FixtureRequest, tmp_path: Path) -> Runner:
    kind = request.param
    if kind == "duckdb":
        url = f"duckdb:///{tmp_path / 'dest.duckdb'}"
    elif kind == "parquet":
        url = f"parquet:///{tmp_path / 'lake'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    return Runner(url, tmp_path)


def res(name: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "endpoint": {"path": name}, **kw}


# ---- merge_key only: delete-insert by merge key -------------------------------------------


def test_merge_key_only_deletes_the_keys_batch_and_inserts(runner: Runner) -> None:
    # dlt: rows whose merge key is in the new data are deleted, the new rows inserted
    r = res("days", write_disposition="merge", merge_key="day")
    runner.api.data["days"] = [
        {"day": "d1", "v": 1},
        {"day": "d1", "v": 2},
        {"day": "d2", "v": 3},
    ]
    runner.run([r])
    runner.api.data["days"] = [{"day": "d1", "v": 10}, {"day": "d1", "v": 11}]
    runner.run([r])
    assert runner.rows("days", "day, v") == [("d1", 10), ("d1", 11), ("d2", 3)]
    runner.api.data["days"] = [{"day": "d3", "v": 7}]
    runner.run([r])
    assert runner.rows("days", "day, v") == [("d1", 10), ("d1", 11), ("d2", 3), ("d3", 7)]


def test_merge_key_only_replaces_child_rows(runner: Runner) -> None:
    r = res("days", write_disposition="merge", merge_key="day")
    runner.api.data["days"] = [{"day": "d1", "tags": ["a", "b"]}, {"day": "d2", "tags": ["c"]}]
    runner.run([r])
    runner.api.data["days"] = [{"day": "d1", "tags": ["z"]}]
    runner.run([r])
    assert runner.rows("days__tags", "value") == [("c",), ("z",)]


# ---- strategies ---------------------------------------------------------------------------


def test_upsert_updates_and_inserts_by_primary_key(runner: Runner) -> None:
    r = res(
        "users",
        primary_key="id",
        write_disposition={"disposition": "merge", "strategy": "upsert"},
    )
    runner.api.data["users"] = [{"id": 1, "n": "a", "l": [1, 2]}, {"id": 2, "n": "b", "l": [3]}]
    runner.run([r])
    runner.api.data["users"] = [{"id": 1, "n": "a2", "l": [9]}, {"id": 3, "n": "c"}]
    runner.run([r])
    assert runner.rows("users", "id, n") == [(1, "a2"), (2, "b"), (3, "c")]
    assert runner.rows("users__l", "value") == [(3,), (9,)]


def test_insert_only_never_updates(runner: Runner) -> None:
    # dlt: insert a record if its key is new, skip it if the key exists (no update)
    r = res(
        "events",
        primary_key="id",
        write_disposition={"disposition": "merge", "strategy": "insert-only"},
        columns={"gone": {"hard_delete": True, "data_type": "bool"}},
    )
    runner.api.data["events"] = [{"id": 1, "n": "a", "l": [1]}, {"id": 2, "n": "b"}]
    runner.run([r])
    runner.api.data["events"] = [
        {"id": 1, "n": "changed", "l": [5]},
        {"id": 3, "n": "c"},
        {"id": 4, "n": "d", "gone": True},  # marked deleted: not inserted
        {"id": 2, "n": "b", "gone": True},  # stored rows are never deleted
    ]
    runner.run([r])
    assert runner.rows("events", "id, n") == [(1, "a"), (2, "b"), (3, "c")]
    assert runner.rows("events__l", "value") == [(1,)]


def test_upsert_refuses_a_merge_key_and_needs_a_primary_key() -> None:
    for resource, needle in (
        (
            res("u", write_disposition={"disposition": "merge", "strategy": "upsert"}),
            "needs a primary_key",
        ),
        (
            res(
                "u",
                primary_key="id",
                merge_key="day",
                write_disposition={"disposition": "merge", "strategy": "insert-only"},
            ),
            "does not use a merge_key",
        ),
    ):
        with pytest.raises(ConfigError, match=needle):
            rest_api_source({"client": {"base_url": "http://api.test/"}, "resources": [resource]})


# ---- scd2 -----------------------------------------------------------------------------------

SCD2 = {"disposition": "merge", "strategy": "scd2"}


def _scd2_rows(runner: Runner, table: str = "dim_customer") -> list[tuple[Any, ...]]:
    """(from, to, customer_key, c1, c2) with the validity instants as load numbers."""
    rows = runner.rows(
        table,
        "_dlt_valid_from, _dlt_valid_to, customer_key, c1, c2",
        "_dlt_valid_from, customer_key",
    )
    instants = sorted({r[0] for r in rows} | {r[1] for r in rows if r[1] is not None})
    num = {t: i + 1 for i, t in enumerate(instants)}
    return [(num[r[0]], num.get(r[1]), *r[2:]) for r in rows]


def test_scd2_as_in_dlts_example(runner: Runner) -> None:
    # dlt's docs, "Example: scd2 merge strategy": three runs, an update then a deletion
    r = res("dim_customer", write_disposition=SCD2)
    runner.api.data["dim_customer"] = [
        {"customer_key": 1, "c1": "foo", "c2": 1},
        {"customer_key": 2, "c1": "bar", "c2": 2},
    ]
    runner.run([r])
    assert _scd2_rows(runner) == [(1, None, 1, "foo", 1), (1, None, 2, "bar", 2)]
    runner.api.data["dim_customer"] = [
        {"customer_key": 1, "c1": "foo_updated", "c2": 1},
        {"customer_key": 2, "c1": "bar", "c2": 2},
    ]
    runner.run([r])
    assert _scd2_rows(runner) == [
        (1, 2, 1, "foo", 1),
        (1, None, 2, "bar", 2),
        (2, None, 1, "foo_updated", 1),
    ]
    runner.api.data["dim_customer"] = [{"customer_key": 1, "c1": "foo_updated", "c2": 1}]
    runner.run([r])
    assert _scd2_rows(runner) == [
        (1, 2, 1, "foo", 1),
        (1, 3, 2, "bar", 2),
        (2, None, 1, "foo_updated", 1),
    ]
    # `_dlt_id` is the row hash: the same content, the same id, in every version row
    ids = runner.rows("dim_customer", "c1, _dlt_id")
    assert len({i for c, i in ids if c == "foo_updated"}) == 1
    assert len({i for _c, i in ids}) == 3


def test_scd2_merge_key_does_not_retire_absent_keys(runner: Runner) -> None:
    # dlt's docs, "incremental scd2", case 1: the natural key as merge_key
    r = res("dim_customer", write_disposition=SCD2, merge_key="customer_key")
    runner.api.data["dim_customer"] = [
        {"customer_key": 1, "c1": "foo", "c2": 1},
        {"customer_key": 2, "c1": "bar", "c2": 2},
    ]
    runner.run([r])
    runner.api.data["dim_customer"] = [{"customer_key": 1, "c1": "foo_updated", "c2": 1}]
    runner.run([r])
    assert _scd2_rows(runner) == [
        (1, 2, 1, "foo", 1),
        (1, None, 2, "bar", 2),
        (2, None, 1, "foo_updated", 1),
    ]


def test_scd2_names_active_timestamp_and_children(runner: Runner) -> None:
    wd = {
        **SCD2,
        "validity_column_names": ["valid_from", "valid_to"],
        "active_record_timestamp": "9999-12-31",
    }
    r = res("dim", write_disposition=wd)
    runner.api.data["dim"] = [{"k": 1, "tags": ["a"]}, {"k": 2, "tags": ["b"]}]
    runner.run([r])
    runner.api.data["dim"] = [{"k": 1, "tags": ["a"]}, {"k": 3, "tags": ["c"]}]
    runner.run([r])
    rows = runner.rows("dim", "k, CAST(valid_to AS VARCHAR)", "k")
    active = [k for k, to in rows if to.startswith("9999-12-31")]
    assert active == [1, 3]
    assert [k for k, to in rows if not to.startswith("9999")] == [2]
    assert "_dlt_valid_from" not in str(runner.rows("dim", "*", "k"))
    # child rows: those of new versions go in once, none are removed
    assert runner.rows("dim__tags", "value") == [("a",), ("b",), ("c",)]


def test_scd2_a_version_inserted_again_after_retirement(runner: Runner) -> None:
    # dlt's insert-delete-reinsert pattern: two rows share the row hash, each with its own
    # validity window; the child rows (same ids) are stored once
    r = res("dim", write_disposition=SCD2)
    runner.api.data["dim"] = [{"k": 1, "tags": ["a"]}, {"k": 2}]
    runner.run([r])
    runner.api.data["dim"] = [{"k": 2}]
    runner.run([r])
    runner.api.data["dim"] = [{"k": 1, "tags": ["a"]}, {"k": 2}]
    runner.run([r])
    rows = runner.rows("dim", "k, _dlt_valid_to IS NULL", "k, _dlt_valid_to IS NULL")
    assert rows == [(1, False), (1, True), (2, True)]
    assert len({i for (i,) in runner.rows("dim", "_dlt_id") if i}) == 2
    assert runner.rows("dim__tags", "value") == [("a",)]


def test_scd2_nested_change_row_version_column_and_boundary(runner: Runner) -> None:
    # dlt hashes the whole record: a change in a nested list alone makes a new version
    r = res("dim", write_disposition=SCD2)
    runner.api.data["dim"] = [{"k": 1, "tags": ["a"]}]
    runner.run([r])
    runner.api.data["dim"] = [{"k": 1, "tags": ["a", "b"]}]
    runner.run([r])
    rows = runner.rows("dim", "k, _dlt_valid_to IS NULL", "k, _dlt_valid_to IS NULL")
    assert rows == [(1, False), (1, True)]
    assert runner.rows("dim__tags", "value") == [("a",), ("a",), ("b",)]
    # row_version_column_name: that column decides what is a new version; and a fixed
    # boundary_timestamp is the valid-from / valid-to of the load
    wd = {
        **SCD2,
        "row_version_column_name": "version",
        "boundary_timestamp": "2024-08-21T12:15:00+00:00",
    }
    r = res("dimv", write_disposition=wd)
    runner.api.data["dimv"] = [{"k": 1, "c": "x", "version": "v1"}]
    runner.run([r])
    runner.api.data["dimv"] = [{"k": 1, "c": "changed but same version", "version": "v1"}]
    runner.run([r])
    assert runner.rows("dimv", "k, c, version") == [(1, "x", "v1")]
    runner.api.data["dimv"] = [{"k": 1, "c": "y", "version": "v2"}]
    runner.run([r])
    got = runner.rows(
        "dimv",
        "c, CAST(_dlt_valid_from AS VARCHAR), CAST(_dlt_valid_to AS VARCHAR)",
        "c",
    )
    assert [c for c, _f, _t in got] == ["x", "y"]
    assert all(f.startswith("2024-08-21 12:15:00") for _c, f, _t in got)
    assert got[0][2].startswith("2024-08-21 12:15:00")
    assert got[1][2] is None


def test_hard_delete_and_dedup_sort_outside_merge_are_refused() -> None:
    base = {"client": {"base_url": "http://api.test/"}}
    cases = [
        (res("a", columns={"x": {"hard_delete": True}}), "hard_delete hint applies"),
        (res("a", columns={"x": {"dedup_sort": "desc"}}), "dedup_sort hint applies"),
        (
            res(
                "a", merge_key="d", write_disposition="merge", columns={"x": {"dedup_sort": "asc"}}
            ),
            "needs a primary_key",
        ),
    ]
    for resource, needle in cases:
        with pytest.raises(ConfigError, match=needle):
            rest_api_source({**base, "resources": [resource]})


def test_scd2_refuses_primary_key_and_hard_delete() -> None:
    base = {"client": {"base_url": "http://api.test/"}}
    with pytest.raises(ConfigError, match="content"):
        rest_api_source({**base, "resources": [res("d", primary_key="id", write_disposition=SCD2)]})
    with pytest.raises(ConfigError, match="hard_delete"):
        rest_api_source(
            {
                **base,
                "resources": [
                    res("d", write_disposition=SCD2, columns={"x": {"hard_delete": True}})
                ],
            }
        )


# ---- hard_delete and dedup_sort --------------------------------------------------------------


def test_hard_delete_and_dedup_sort_as_in_dlts_examples(runner: Runner) -> None:
    # dlt's docs, "with primary key and dedup_sort hint": the lsn 3 row wins; for id 2 the
    # latest version is a delete, so nothing is inserted
    r = res(
        "items",
        primary_key="id",
        write_disposition="merge",
        columns={"deleted_flag": {"hard_delete": True}, "lsn": {"dedup_sort": "desc"}},
    )
    runner.api.data["items"] = [
        {"id": 1, "val": "foo", "lsn": 1, "deleted_flag": None},
        {"id": 1, "val": "baz", "lsn": 3, "deleted_flag": None},
        {"id": 1, "val": "bar", "lsn": 2, "deleted_flag": True},
        {"id": 2, "val": "foo", "lsn": 1, "deleted_flag": False},
        {"id": 2, "lsn": 2, "deleted_flag": True},
        {"id": 3, "val": "x", "lsn": 1, "deleted_flag": False, "l": [1, 2]},
    ]
    runner.run([r])
    assert runner.rows("items", "id, val") == [(1, "baz"), (3, "x")]
    # a stored row is deleted by a record with only its key and the flag, children too
    runner.api.data["items"] = [{"id": 3, "deleted_flag": True}]
    runner.run([r])
    assert runner.rows("items", "id, val") == [(1, "baz")]
    assert runner.rows("items__l", "value") == []


def test_hard_delete_with_merge_key_and_non_bool_column(runner: Runner) -> None:
    # dlt's docs, "with merge key and non-boolean delete column"
    r = res(
        "items",
        merge_key="id",
        write_disposition="merge",
        columns={"deleted_at_ts": {"hard_delete": True}},
    )
    runner.api.data["items"] = [
        {"id": 1, "val": "foo", "deleted_at_ts": None},
        {"id": 1, "val": "bar", "deleted_at_ts": None},
        {"id": 2, "val": "baz", "deleted_at_ts": None},
    ]
    runner.run([r])
    assert runner.rows("items", "id, val") == [(1, "bar"), (1, "foo"), (2, "baz")]
    runner.api.data["items"] = [{"id": 1, "val": "foo", "deleted_at_ts": "2024-02-22T12:34:56Z"}]
    runner.run([r])
    assert runner.rows("items", "id, val") == [(2, "baz")]


def test_dedup_sort_asc_keeps_the_lowest(runner: Runner) -> None:
    r = res(
        "items", primary_key="id", write_disposition="merge", columns={"v": {"dedup_sort": "asc"}}
    )
    runner.api.data["items"] = [{"id": 1, "v": 5}, {"id": 1, "v": 2}, {"id": 1, "v": 9}]
    runner.run([r])
    assert runner.rows("items", "id, v") == [(1, 2)]


# ---- refresh --------------------------------------------------------------------------------


def test_full_refresh_drops_the_selected_resources_tables(runner: Runner) -> None:
    a = res("a")  # append
    b = res("b", primary_key="id", write_disposition="merge")
    runner.api.data["a"] = [{"id": 1, "l": [1]}, {"id": 2}, {"id": 3}]
    runner.api.data["b"] = [{"id": 1}, {"id": 2}]
    runner.run([a, b])
    runner.run([a, b])
    assert len(runner.rows("a", "id")) == 6
    runner.api.data["a"] = [{"id": 1, "l": [1]}, {"id": 2}, {"id": 3}]
    runner.api.data["b"] = [{"id": 5}]
    runner.run([a, b], resources=["a"], full_refresh=True)
    assert runner.rows("a", "id") == [(1,), (2,), (3,)]  # only this run's rows
    assert runner.rows("a__l", "value") == [(1,)]
    assert runner.rows("b", "id") == [(1,), (2,)]  # not selected: untouched
    runner.run([a, b], refresh="drop_resources")
    assert runner.rows("b", "id") == [(5,)]


def test_refresh_drop_sources_and_drop_data(runner: Runner) -> None:
    a = res("a")
    b = res("b")
    runner.api.data["a"] = [{"id": 1, "x": "t"}]
    runner.api.data["b"] = [{"id": 1}]
    runner.run([a, b])
    runner.api.data["a"] = [{"id": 2}]
    runner.run([a], refresh="drop_data")
    assert runner.rows("a", "id") == [(2,)]
    assert "x" in column_types(runner.url, runner.dataset)["a"]  # the schema is kept
    assert runner.rows("b", "id") == [(1,)]
    runner.run([a], refresh="drop_sources")
    assert runner.tables() == ["a"]  # every table of the dataset's schema went; a again
    assert runner.rows("a", "id") == [(2,)]
    assert "x" not in column_types(runner.url, runner.dataset)["a"]  # inferred anew


def test_refresh_leaves_a_resource_that_failed_in_the_run_as_it_was(runner: Runner) -> None:
    # dlt changes the destination only when extraction succeeded: a resource that fails in a
    # refresh run keeps its tables, rows and incremental state
    a = res("a")
    b = {
        **res("b"),
        "endpoint": {
            "path": "b",
            "incremental": {"cursor_path": "n", "initial_value": 0},
        },
    }
    runner.api.data["a"] = [{"id": 1}]
    runner.api.data["b"] = [{"id": 1, "n": 5, "l": [1]}]
    runner.run([a, b])
    runner.api.data["a"] = [{"id": 2}]
    runner.api.failing = {"b"}
    info = runner.run([a, b], ok=False, full_refresh=True)
    assert set(info.failed_resources) == {"b"}
    assert runner.rows("a", "id") == [(2,)]
    assert runner.rows("b", "id, n") == [(1, 5)]
    assert runner.rows("b__l", "value") == [(1,)]
    from .dest_helpers import stored_state

    assert stored_state(runner.url, runner.dataset, "ws")["b"]  # the cursor is still there


def test_pipeline_level_refresh_applies_to_every_run(tmp_path: Path) -> None:
    # dlt.pipeline(refresh=...): each run refreshes unless run() gives its own mode
    url = f"duckdb:///{tmp_path / 'd.duckdb'}"
    api = Api()
    api.data["a"] = [{"id": 1}, {"id": 2}]
    config = {
        "client": {"base_url": "http://api.test/", "paginator": "single_page"},
        "resources": [res("a")],
    }
    pipe = Pipeline(
        "pl",
        url,
        "pl_data",
        pipelines_dir=tmp_path / "p",
        transport=httpx.MockTransport(api.handler),
        refresh="drop_resources",
    )
    for _ in range(3):
        pipe.run(rest_api_source(config))
    assert query(url, "pl_data", "SELECT count(*) FROM {t:a}") == [(2,)]
    with pytest.raises(ConfigError, match="refresh mode"):
        Pipeline("pl", url, refresh="everything")


def test_refresh_mode_unknown_is_refused_before_any_request(tmp_path: Path) -> None:
    runner = Runner(f"duckdb:///{tmp_path / 'd.duckdb'}", tmp_path)
    with pytest.raises(ConfigError, match="refresh mode"):
        runner.run([res("a")], refresh="drop_everything")
    assert runner.api.requests == 0


# ---- skip, table_name, replace strategies ----------------------------------------------------


def test_skip_loads_nothing(runner: Runner) -> None:
    runner.api.data["a"] = [{"id": 1}]
    runner.api.data["s"] = [{"id": 1}]
    runner.run([res("a"), res("s", write_disposition="skip")])
    assert runner.tables() == ["a"]


def test_replace_strategies_are_the_one_transaction_swap(runner: Runner) -> None:
    for strategy in ("truncate-and-insert", "insert-from-staging", "staging-optimized"):
        r = res("a", write_disposition={"disposition": "replace", "strategy": strategy})
        runner.api.data["a"] = [{"id": 1}, {"id": 2}]
        runner.run([r])
        runner.api.data["a"] = [{"id": 3}]
        runner.run([r])
        assert runner.rows("a", "id") == [(3,)]


def test_table_name_function_is_refused_at_source_time() -> None:
    route: Callable[[Any], str] = lambda rec: rec["type"]  # noqa: E731
    with pytest.raises(ConfigError, match="table_name"):
        rest_api_source(
            {
                "client": {"base_url": "http://api.test/"},
                "resources": [res("events", table_name=route)],
            }
        )
