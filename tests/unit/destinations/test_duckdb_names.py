"""A DuckDB file may be named like its dataset: every table reference is qualified."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rs_helpers import CHILD, ROOT, make_schema, order, stage

from restsync.destinations._duckdb import DuckDBDestination
from restsync.load import load_stage


def test_a_file_named_like_the_dataset_loads_merges_and_shows(tmp_path: Path) -> None:
    # "shop.duckdb" is the catalog "shop"; the dataset is the schema "shop" inside it
    path = tmp_path / "shop.duckdb"
    dest = DuckDBDestination(path, "shop")
    s = make_schema("merge")
    load_stage(dest, stage(tmp_path / "st", "L1", s, [[order(1), order(2)]]), "shop")
    again = load_stage(dest, stage(tmp_path / "st", "L2", s, [[order(1, name="b")]]), "shop")
    assert (again.tables[ROOT].inserted, again.tables[ROOT].updated) == (0, 1)
    assert dest.stored_state("shop") == {"orders": {"last_value": "L2"}}
    shown = {t.name: t.rows for t in dest.show().tables}
    dest.close()
    assert shown == {ROOT: 2, CHILD: 4}
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(f'SELECT name FROM shop.shop."{ROOT}" ORDER BY id').fetchall()
    finally:
        con.close()
    assert names == [("b",), ("a",)]


def test_the_demo_summary_reads_a_file_named_like_the_dataset(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from restsync.cli.demo import summarize_duckdb

    path = tmp_path / "shop.duckdb"
    dest = DuckDBDestination(path, "shop")
    load_stage(dest, stage(tmp_path / "st", "L1", make_schema("append"), [[order(1)]]), "shop")
    dest.close()
    out = io.StringIO()
    summarize_duckdb(path, "shop", Console(file=out, width=120))
    assert f"{ROOT} (first 3 rows" in out.getvalue()
    counts = {
        cells[1].strip(): cells[2].strip()
        for cells in (line.split("│") for line in out.getvalue().splitlines())
        if len(cells) == 4
    }
    assert (counts[ROOT], counts[CHILD]) == ("1", "2")
