"""The stage: IPC files per table, atomic manifest, conformed reads."""

from __future__ import annotations

import decimal
from pathlib import Path

import pyarrow as pa
import pytest

from restsync.errors import LoadError
from restsync.schema._model import Column, Schema, Table
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


def _normalized_then_staged(
    tmp_path: Path, batches: list[list[dict[str, object]]]
) -> tuple[dict[str, list[dict[str, object]]], dict[str, list[dict[str, object]]]]:
    """(staged batch by batch with one normalizer and read back, all batches normalized at
    once): the rows of each table, with the staged-only seq and the load-dependent ids."""
    from restsync.schema._normalize import Normalizer

    schema = Schema("p")
    norm = Normalizer(schema, "r", "r")
    w = StageWriter(tmp_path, "L1")
    seq = 0
    for b in batches:
        for name, t in norm.normalize(b, "L1", seq).items():
            w.write(name, t)
        seq += len(b)
    staged = w.complete(schema, {}, {})
    got = {
        name: pa.Table.from_batches(list(staged.read_table(name)), staged.arrow_schema(name))
        for name in staged.files
    }
    together_schema = Schema("p")
    records = [r for b in batches for r in b]
    together = Normalizer(together_schema, "r", "r").normalize(records, "L1", 0)
    assert set(got) == set(together)
    for name, t in together.items():
        assert set(got[name].schema.names) == set(t.schema.names), name  # order may differ
    return (
        {n: t.to_pylist() for n, t in got.items()},
        {n: t.to_pylist() for n, t in together.items()},
    )


def test_staged_batches_load_as_if_normalized_under_the_final_schema(tmp_path: Path) -> None:
    wide = [2**53 + 1, -(2**60), 2**63 - 1]
    a: list[dict[str, object]] = [{"n": v, "t": "abc", "d": "2024-05-01"} for v in wide]
    b: list[dict[str, object]] = [
        {"n": 1.5, "t": 7, "d": "2024-05-01T10:00:00Z"},
        {"n": 2.0, "t": 8.25, "d": None},
    ]
    got, together = _normalized_then_staged(tmp_path, [a, b])  # bigint, text, date first
    assert got == together
    rows = got["r"]
    assert [r["n__v_decimal"] for r in rows[:3]] == [decimal.Decimal(v) for v in wide]
    assert [r["n"] for r in rows] == [None, None, None, 1.5, 2.0]
    assert [r["t__v_text"] for r in rows[:3]] == ["abc"] * 3


def test_staged_child_tables_conform_too(tmp_path: Path) -> None:
    a = [{"id": 1, "items": [{"q": 2**62}, {"q": "x"}]}]
    b = [{"id": 2, "items": [{"q": 0.5}]}]
    got, together = _normalized_then_staged(tmp_path, [a, b])
    assert got == together


def test_read_with_an_arrow_schema_uses_variant_names(tmp_path: Path) -> None:
    w = StageWriter(tmp_path, "L1")
    w.write("t", _batch([1, 2], [2**60, 3]))  # staged while amount was bigint
    final = _schema("double")
    final.tables["t"].columns["amount__v_decimal"] = Column(
        "amount__v_decimal", "decimal", precision=38, scale=0, variant_of="amount"
    )
    staged = w.complete(final, {}, {})
    target = staged.arrow_schema("t")
    out = pa.Table.from_batches(list(staged.read_table("t", target)), target).to_pylist()
    assert [(r["amount"], r["amount__v_decimal"]) for r in out] == [
        (None, decimal.Decimal(2**60)),
        (3.0, None),
    ]


def _with_ids(ids: list[str]) -> pa.Table:
    return _batch(list(range(len(ids))), [1] * len(ids)).append_column(
        "_dlt_id", pa.array(ids, pa.string())
    )


@pytest.mark.parametrize(
    ("files", "limit", "want"),
    [
        ([["a", "b"], ["c"]], 10, True),
        ([["a", "b"], ["b"]], 10, False),  # the same id in two files
        ([["a", "a"]], 10, False),
        ([["a", "b"], ["c"]], 2, False),  # above the limit: not read, not claimed unique
    ],
)
def test_ids_unique_across_files(
    tmp_path: Path, files: list[list[str]], limit: int, want: bool
) -> None:
    w = StageWriter(tmp_path, "L1", flush_rows=2)
    for ids in files:
        w.write("t", _with_ids(ids))
    staged = w.complete(_schema(), {}, {})
    assert len(staged.files["t"]) == len(files)
    assert staged.ids_unique("t", limit=limit) is want
    assert staged.ids_unique("absent") is False


def test_ids_unique_without_an_id_column_is_false(tmp_path: Path) -> None:
    w = StageWriter(tmp_path, "L1")
    w.write("t", _batch([1, 2], [1, 2]))
    assert w.complete(_schema(), {}, {}).ids_unique("t") is False


@pytest.mark.parametrize("durable", [True, False])
def test_a_durable_stage_is_fsynced_and_a_run_s_own_stage_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool
) -> None:
    import os

    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    w = StageWriter(stage_root(tmp_path, "p"), "L1", flush_rows=4, durable=durable)
    for i in range(3):
        w.write("t", _batch([2 * i, 2 * i + 1], [1, 2]))
    staged = w.complete(_schema(), {}, {})
    # files, folder and manifest: fsynced only when durable; complete and readable either way
    assert bool(synced) is durable
    assert staged.rows("t") == 6
    assert sum(b.num_rows for b in staged.read_table("t")) == 6


def test_the_pipeline_s_sink_writes_a_stage_without_fsync(tmp_path: Path) -> None:
    from restsync.pipeline._normalization import LocalNormalization

    sink = LocalNormalization(_schema(), [], tmp_path, "L1")
    assert sink.writer.durable is False


def test_batches_staged_under_the_final_schema_are_read_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what the normalizer stages equals the final Arrow schema (`_restsync_seq` included):
    # such batches are not rebuilt on the way to the destination
    from restsync.schema._normalize import Normalizer
    from restsync.stage import _types as types

    schema = Schema("p")
    normalizer = Normalizer(schema, "orders", "orders", primary_key=["id"])
    w = StageWriter(stage_root(tmp_path, "p"), "L1")
    records = [{"id": i, "total": 1.5, "lines": [{"sku": "a"}]} for i in range(3)]
    for name, table in normalizer.normalize(records, "L1", 0).items():
        w.write(name, table)
    staged = w.complete(schema, {}, {})

    def rebuilt(*args: object, **kwargs: object) -> None:
        raise AssertionError("a batch staged under the final schema was rebuilt")

    monkeypatch.setattr(types, "conform", rebuilt)
    assert sum(b.num_rows for b in staged.read_table("orders")) == 3
    assert sum(b.num_rows for b in staged.read_table("orders__lines")) == 3
