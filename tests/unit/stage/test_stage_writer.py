"""The stage: IPC files per table, atomic manifest, conformed reads."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from restsync.errors import LoadError
from restsync.schema.model import Column, Schema, Table
from restsync.stage import StageWriter, discard_incomplete, list_stages, open_stage, stage_root


def _schema(amount: str = "bigint", extra: bool = False) -> Schema:
    cols = [Column("id", "bigint"), Column("amount", amount)]  # type: ignore[arg-type]
    if extra:
        cols.append(Column("note", "text"))
    return Schema("p", {"t": Table("t", "t", {c.name: c for c in cols})})


def _batch(ids: list[int], amount: list[object], note: list[str] | None = None) -> pa.Table:
    d: dict[str, object] = {
        "id": pa.array(ids, pa.int64()),
        "amount": pa.array(amount),
        "_restsync_seq": pa.array(ids, pa.int64()),
    }
    if note is not None:
        d["note"] = pa.array(note)
    return pa.table(d)  # type: ignore[arg-type]


def test_files_rotate_and_manifest_lists_them(tmp_path: Path) -> None:
    root = stage_root(tmp_path, "p")
    w = StageWriter(root, "L1", flush_rows=4)
    for i in range(5):
        w.write("t", _batch([2 * i, 2 * i + 1], [1, 2]))
    staged = w.complete(_schema(), {"t": {"cursor": 9}}, {"t": 10})
    assert staged.rows("t") == 10
    assert len(staged.files["t"]) == 3  # 4 + 4 + 2 rows
    again = open_stage(root / "L1")
    assert again is not None
    assert again.state == {"t": {"cursor": 9}}
    assert again.resources == ["t"]
    assert [s.load_id for s in list_stages(root)] == ["L1"]


def test_read_conforms_to_final_schema(tmp_path: Path) -> None:
    w = StageWriter(tmp_path, "L1")
    w.write("t", _batch([1], [5]))  # before the column existed, amount still bigint
    w.write("t", _batch([2], [2.5], ["x"]))  # new schema: new file
    staged = w.complete(_schema("double", extra=True), {}, {})
    assert len(staged.files["t"]) == 2
    out = pa.Table.from_batches(list(staged.read_table("t")))
    assert out.schema.field("amount").type == pa.float64()
    assert out.to_pylist() == [
        {"id": 1, "amount": 5.0, "note": None, "_restsync_seq": 1},
        {"id": 2, "amount": 2.5, "note": "x", "_restsync_seq": 2},
    ]


def test_unknown_staged_column_is_a_load_error(tmp_path: Path) -> None:
    w = StageWriter(tmp_path, "L1")
    w.write("t", _batch([1], [5], ["x"]))
    staged = w.complete(_schema(), {}, {})
    with pytest.raises(LoadError, match="note"):
        list(staged.read_table("t"))


def test_incomplete_stage_is_discarded(tmp_path: Path) -> None:
    w = StageWriter(tmp_path, "L1")
    w.write("t", _batch([1], [5]))
    assert open_stage(tmp_path / "L1") is None
    done = StageWriter(tmp_path, "L2")
    done.write("t", _batch([1], [5]))
    done.complete(_schema(), {}, {})
    assert discard_incomplete(tmp_path) == [tmp_path / "L1"]
    assert [s.load_id for s in list_stages(tmp_path)] == ["L2"]
