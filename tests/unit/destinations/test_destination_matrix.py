"""Write dispositions, evolution, state and atomicity, on every destination."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from rs_helpers import CHILD, ROOT, make_schema, order, rows, stage

from restsync.destinations._duckdb import DuckDBDestination
from restsync.destinations._parquet import ParquetDestination
from restsync.errors import LoadError
from restsync.load import load_stage
from restsync.stage import open_stage


def _ids(dest: Any, table: str = ROOT) -> list[Any]:
    return sorted(r["id"] for r in rows(dest, table))


def test_append_twice(dest: Any, tmp_path: Path) -> None:
    s = make_schema("append")
    load_stage(dest, stage(tmp_path / "st", "L1", s, [[order(1), order(2)], [order(3)]]), "shop")
    load_stage(dest, stage(tmp_path / "st", "L2", s, [[order(1)]]), "shop")
    assert _ids(dest) == [1, 1, 2, 3]
    assert len(rows(dest, CHILD)) == 8
    assert "_restsync_seq" not in rows(dest, ROOT)[0]
    assert {r["_dlt_load_id"] for r in rows(dest, ROOT)} == {"L1", "L2"}


def test_replace_empties_root_and_children(dest: Any, tmp_path: Path) -> None:
    s = make_schema("replace")
    load_stage(dest, stage(tmp_path / "st", "L1", s, [[order(1), order(2, items=3)]]), "shop")
    st = load_stage(dest, stage(tmp_path / "st", "L2", s, [[order(7, items=0)]]), "shop")
    assert _ids(dest) == [7]
    assert rows(dest, CHILD) == []  # children of the old rows went, none new
    assert st.tables[ROOT].deleted == 2
    assert st.tables[CHILD].deleted == 5


def test_merge_last_version_in_load_wins_with_its_children(dest: Any, tmp_path: Path) -> None:
    s = make_schema("merge")
    pages = [[order(1, name="old", items=3), order(2)], [order(1, name="new", items=1)]]
    st = load_stage(dest, stage(tmp_path / "st", "L1", s, pages), "shop")
    got = {r["id"]: r["name"] for r in rows(dest, ROOT)}
    assert got == {1: "new", 2: "a"}
    skus = sorted(r["sku"] for r in rows(dest, CHILD))
    assert skus == ["a-2-0", "a-2-1", "new-1-0"]
    assert st.tables[ROOT].inserted == 2


def test_merge_across_loads_updates_and_replaces_children(dest: Any, tmp_path: Path) -> None:
    s = make_schema("merge")
    load_stage(dest, stage(tmp_path / "st", "L1", s, [[order(1, items=3), order(2)]]), "shop")
    st = load_stage(
        dest, stage(tmp_path / "st", "L2", s, [[order(1, name="b", items=1), order(5)]]), "shop"
    )
    assert {r["id"]: r["name"] for r in rows(dest, ROOT)} == {1: "b", 2: "a", 5: "a"}
    skus = sorted(r["sku"] for r in rows(dest, CHILD))
    assert skus == ["a-2-0", "a-2-1", "a-5-0", "a-5-1", "b-1-0"]
    assert (st.tables[ROOT].inserted, st.tables[ROOT].updated) == (1, 1)
    assert st.tables[CHILD].deleted == 3
    # a parent whose new version has no list loses its children
    load_stage(dest, stage(tmp_path / "st", "L3", s, [[order(2, items=0)]]), "shop")
    assert sorted(r["sku"] for r in rows(dest, CHILD)) == ["a-5-0", "a-5-1", "b-1-0"]


def test_merge_with_several_versions_over_stored_rows(dest: Any, tmp_path: Path) -> None:
    # a key staged twice over rows already stored: the windowed merge (not the one-version
    # fast path) keeps the last version and its children only
    s = make_schema("merge")
    load_stage(dest, stage(tmp_path / "st", "L1", s, [[order(1, items=3), order(2)]]), "shop")
    pages = [[order(1, name="b", items=2), order(3)], [order(1, name="c", items=1)]]
    st = load_stage(dest, stage(tmp_path / "st", "L2", s, pages), "shop")
    assert {r["id"]: r["name"] for r in rows(dest, ROOT)} == {1: "c", 2: "a", 3: "a"}
    skus = sorted(r["sku"] for r in rows(dest, CHILD))
    assert skus == ["a-2-0", "a-2-1", "a-3-0", "a-3-1", "c-1-0"]
    assert (st.tables[ROOT].inserted, st.tables[ROOT].updated) == (1, 1)
    assert (st.tables[CHILD].inserted, st.tables[CHILD].deleted) == (3, 3)


@pytest.mark.parametrize("twice", [False, True], ids=["one-version", "two-versions"])
def test_merge_key_replaces_every_stored_row_of_the_key(
    dest: Any, tmp_path: Path, twice: bool
) -> None:
    s = make_schema("merge")
    s.tables[ROOT].merge_key = ["name"]
    first = [[order(1, items=3), order(2, items=1), order(3, name="b")]]
    load_stage(dest, stage(tmp_path / "st", "L1", s, first), "shop")
    pages = [[order(4, items=1)]] + ([[order(4, items=2)]] if twice else [])
    st = load_stage(dest, stage(tmp_path / "st", "L2", s, pages), "shop")
    # rows 1 and 2 share the staged merge key 'a': both go, with their children
    assert {r["id"]: r["name"] for r in rows(dest, ROOT)} == {3: "b", 4: "a"}
    want = ["a-4-0", "a-4-1"] if twice else ["a-4-0"]
    assert sorted(r["sku"] for r in rows(dest, CHILD)) == sorted(["b-3-0", "b-3-1", *want])
    assert st.tables[ROOT].deleted == 2


def test_merge_into_a_new_root_table_over_kept_child_rows(dest: Any, tmp_path: Path) -> None:
    # the root table was dropped by hand, its child table kept: a merge creates the root
    # anew (nothing to replace there) but must still replace the kept children of its keys
    if isinstance(dest, ParquetDestination):
        pytest.skip("tables of a Parquet destination are folders, dropped with their files")
    s = make_schema("merge")
    load_stage(dest, stage(tmp_path / "st", "L1", s, [[order(1, items=3), order(2)]]), "shop")
    dest.open()
    dest.begin()
    dest._exec(f"DROP TABLE {dest._t(ROOT)}")
    dest._tx_commit()
    dest._in_tx = False
    load_stage(dest, stage(tmp_path / "st", "L2", s, [[order(1, name="b", items=1)]]), "shop")
    assert _ids(dest) == [1]
    assert sorted(r["sku"] for r in rows(dest, CHILD)) == ["a-2-0", "a-2-1", "b-1-0"]


def test_merge_into_new_tables_inserts_the_winners_only(dest: Any, tmp_path: Path) -> None:
    s = make_schema("merge")
    pages = [[order(1, name="old", items=2), order(2)], [order(1, name="new", items=1)]]
    st = load_stage(dest, stage(tmp_path / "st", "L1", s, pages), "shop")
    assert {r["id"]: r["name"] for r in rows(dest, ROOT)} == {1: "new", 2: "a"}
    assert sorted(r["sku"] for r in rows(dest, CHILD)) == ["a-2-0", "a-2-1", "new-1-0"]
    assert (st.tables[ROOT].inserted, st.tables[ROOT].updated) == (2, 0)
    assert (st.tables[CHILD].inserted, st.tables[CHILD].deleted) == (3, 0)


def test_schema_evolution_new_column_and_promotion(dest: Any, tmp_path: Path) -> None:
    s1 = make_schema("append")
    load_stage(dest, stage(tmp_path / "st", "L1", s1, [[order(1, amount=5)]]), "shop")
    s2 = make_schema("append", amount="double", extra=True)
    # within the load, the first page was staged before the column existed / was promoted
    staged = stage(
        tmp_path / "st",
        "L2",
        s2,
        [[order(2, amount=7)], [order(3, amount=2.5, note="hi")]],
        schemas=[s1, s2],
    )
    st = load_stage(dest, staged, "shop")
    got = {r["id"]: (r["amount"], r.get("note")) for r in rows(dest, ROOT)}
    assert got == {1: (5, None), 2: (7, None), 3: (2.5, "hi")}
    assert any("note" in d for d in st.ddl)
    assert any("amount" in d for d in st.ddl)
    stored = dest.stored_schema()
    assert stored is not None
    assert stored.tables[ROOT].columns["amount"].data_type == "double"


def test_state_and_load_record_committed_with_rows(dest: Any, tmp_path: Path) -> None:
    s = make_schema("append")
    assert dest.stored_state("shop") == {}
    staged = stage(tmp_path / "st", "L1", s, [[order(1)]], state={"orders": {"last": "2024-01-02"}})
    load_stage(dest, staged, "shop")
    assert dest.stored_state("shop") == {"orders": {"last": "2024-01-02"}}
    info = dest.show()
    assert info.loads[0]["load_id"] == "L1"
    assert info.loads[0]["status"] == "committed"
    assert {t.name: t.rows for t in info.tables} == {ROOT: 1, CHILD: 2}
    assert info.schema is not None


def test_failure_during_write_rolls_back_everything(
    dest: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = make_schema("merge")
    load_stage(
        dest, stage(tmp_path / "st", "L1", s, [[order(1), order(2)]], {"orders": {"v": 1}}), "shop"
    )
    before = (rows(dest, ROOT), rows(dest, CHILD))
    s2 = make_schema("merge", extra=True)
    staged = stage(
        tmp_path / "st", "L2", s2, [[order(1, name="x", note="n"), order(9)]], {"orders": {"v": 2}}
    )
    real_write = type(dest).write

    def failing(self: Any, table: Any, st: Any, load_id: str) -> Any:
        if table.name == CHILD:
            raise RuntimeError("disk full")
        return real_write(self, table, st, load_id)

    monkeypatch.setattr(type(dest), "write", failing)
    with pytest.raises(LoadError, match=r"orders__items.*disk full"):
        load_stage(dest, staged, "shop")
    monkeypatch.undo()
    assert (rows(dest, ROOT), rows(dest, CHILD)) == before
    assert dest.stored_state("shop") == {"orders": {"v": 1}}
    assert not dest.is_committed("L2")
    # the kept stage loads fine afterwards
    load_stage(dest, staged, "shop")
    assert dest.stored_state("shop") == {"orders": {"v": 2}}
    assert _ids(dest) == [1, 2, 9]


def test_recommit_of_same_load_id_does_nothing(dest: Any, tmp_path: Path) -> None:
    s = make_schema("append")
    staged = stage(tmp_path / "st", "L1", s, [[order(1)]])
    load_stage(dest, staged, "shop")
    again = load_stage(dest, staged, "shop")
    assert again.skipped
    # and at the protocol level: write/commit of a committed load id are no-ops
    dest.begin()
    dest.ensure_tables(s)
    dest.write(s.tables[ROOT], staged, "L1")
    dest.commit({"orders": {"x": 1}}, {"load_id": "L1", "pipeline": "shop"})
    assert _ids(dest) == [1]
    assert dest.stored_state("shop") == {"orders": {"last_value": "L1"}}


def test_stage_without_manifest_is_ignored(tmp_path: Path) -> None:
    s = make_schema("append")
    staged = stage(tmp_path / "st", "L1", s, [[order(1)]])
    (staged.dir / "manifest.json").unlink()
    assert open_stage(staged.dir) is None


def test_parquet_read_by_duckdb_equals_duckdb_destination(tmp_path: Path) -> None:
    s = make_schema("merge")
    loads = [
        [[order(1, items=3), order(2)], [order(1, name="b", items=1)]],
        [[order(2, name="c"), order(3)]],
    ]
    ddb = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    pqd = ParquetDestination(tmp_path / "lake", "shop")
    for n, pages in enumerate(loads):
        staged = stage(tmp_path / "st", f"L{n}", s, pages)
        load_stage(ddb, staged, "shop")
        load_stage(pqd, staged, "shop")
    for table in (ROOT, CHILD):
        assert rows(ddb, table) == rows(pqd, table)
    con = duckdb.connect()
    n = con.execute(
        f"SELECT count(*) FROM read_parquet('{tmp_path}/lake/shop/{ROOT}/*.parquet')"
    ).fetchall()
    assert n == [(3,)]
    ddb.close()


def test_datasets_name_each_restsync_dataset_with_its_pipelines(dest: Any, tmp_path: Path) -> None:
    """What `restsync show` lists: every dataset with a load record or state, and the
    pipelines named there (the Postgres server is shared, so other tests' datasets may show)."""
    assert dest.dataset_name not in dest.datasets()
    s = make_schema("append")
    load_stage(dest, stage(tmp_path / "st", "L1", s, [[order(1)]]), "shop")
    load_stage(dest, stage(tmp_path / "st", "L2", s, [[order(2)]]), "backfill")
    assert dest.datasets()[dest.dataset_name] == ["backfill", "shop"]


def test_datasets_of_a_duckdb_file_read_only(tmp_path: Path) -> None:
    path = tmp_path / "shop.duckdb"
    dest = DuckDBDestination(str(path), dataset_name="shop_data")
    dest.open()
    load_stage(dest, stage(tmp_path / "st", "L1", make_schema("append"), [[order(1)]]), "shop")
    dest.close()
    before = path.stat().st_mtime_ns
    assert DuckDBDestination.datasets_in_file(path) == {"shop_data": ["shop"]}
    assert path.stat().st_mtime_ns == before
    (tmp_path / "notes.duckdb").write_text("not a database")
    assert DuckDBDestination.datasets_in_file(tmp_path / "notes.duckdb") is None
