"""The normalizer sinks: local and worker process give the same stage; errors come back."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from restsync.pipeline.sink import LocalSink, NormalizerSpec, SwitchingSink, WorkerSink
from restsync.schema.model import Schema
from restsync.stage import open_stage

RECORDS = [
    {"id": i, "name": f"n{i}", "address": {"city": "Köln"}, "tags": ["a", "b"][: i % 3]}
    for i in range(50)
]


def _stage_rows(stage_dir: Path) -> dict[str, list[dict[str, object]]]:
    staged = open_stage(stage_dir)
    assert staged is not None
    out = {}
    for table in staged.schema.tables:
        batches = list(staged.read_table(table))
        out[table] = pa.Table.from_batches(batches).to_pylist() if batches else []
    return out


def _run(sink: LocalSink | WorkerSink | SwitchingSink) -> Path:
    try:
        sink.submit(0, "things", RECORDS[:30], 0)
        sink.submit(1, "things", RECORDS[30:], 30)
        schema, changes = sink.finish()
        assert "things" in schema.tables
        assert any(c.kind == "new_table" for c in changes["things"])
        return sink.complete(schema, {"things": {"last_value": 1}}, {}, ["things"], [])
    finally:
        sink.close()


SPEC = [NormalizerSpec("things", "things", "merge", ["id"])]


def test_worker_and_local_stage_the_same_rows(tmp_path: Path) -> None:
    local = _run(LocalSink(Schema("d"), SPEC, tmp_path / "a", "1.0"))
    worker = _run(WorkerSink(Schema("d"), SPEC, tmp_path / "b", "1.0"))
    assert _stage_rows(local) == _stage_rows(worker)
    assert open_stage(worker).state == {"things": {"last_value": 1}}  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["local", "worker"])
def test_data_errors_come_back_with_the_record_index(tmp_path: Path, kind: str) -> None:
    cls = LocalSink if kind == "local" else WorkerSink
    sink = cls(Schema("d"), SPEC, tmp_path, "1.0")
    try:
        sink.submit(7, "things", [{"id": 1}, {"name": "no id"}], 0)
        if isinstance(sink, WorkerSink):
            sink.finish_batches()
        (error,) = sink.errors()
    finally:
        sink.close()
    assert error.batch_id == 7
    assert error.resource == "things"
    assert error.error.record_index == 1
    assert "has no primary key 'id'" in error.error.message


def test_switching_sink_stays_local_for_end_of_run_batches(tmp_path: Path) -> None:
    sink = SwitchingSink(Schema("d"), SPEC, tmp_path, "1.0", mode="auto")
    sink.submit(0, "things", RECORDS, 0, mid_run=False)
    assert sink.worker is None
    sink.close()
    sink = SwitchingSink(Schema("d"), SPEC, tmp_path / "w", "1.0", mode="auto")
    sink.submit(0, "things", RECORDS, 0, mid_run=True)
    assert sink.worker is not None
    sink.finish()
    sink.close()


def test_the_worker_ends_when_its_parent_goes_away(tmp_path: Path) -> None:
    sink = WorkerSink(Schema("d"), SPEC, tmp_path, "1.0")
    sink._in.close()  # what the OS does when the parent is killed
    assert sink.proc.wait(timeout=20) == 0


def test_integers_beyond_64_bits_cross_to_the_worker_exactly(tmp_path: Path) -> None:
    sink = WorkerSink(Schema("d"), SPEC, tmp_path, "1.0")
    try:
        sink.submit(0, "things", [{"id": 1, "big": 2**70 + 1}], 0)
        schema, _ = sink.finish()
        stage_dir = sink.complete(schema, {}, {}, ["things"], [])
    finally:
        sink.close()
    rows = _stage_rows(stage_dir)["things"]
    assert any(str(2**70 + 1) in str(v) for v in rows[0].values())


def test_switching_sink_mixes_local_and_worker_resources(tmp_path: Path) -> None:
    specs = [
        NormalizerSpec("small", "small", "merge", ["id"]),
        NormalizerSpec("big", "big", "append"),
    ]
    sink = SwitchingSink(Schema("d"), specs, tmp_path, "1.0", mode="auto")
    try:
        sink.submit(0, "big", RECORDS[:25], 0, mid_run=True)
        sink.submit(1, "small", RECORDS[:5], 25, mid_run=False)
        sink.submit(2, "big", RECORDS[25:], 30, mid_run=False)  # stays with the worker
        assert sink.owner["big"] is sink.worker
        assert sink.owner["small"] is sink.local
        schema, changes = sink.finish()
        assert {"small", "big", "big__tags"} <= set(schema.tables)
        assert set(changes) >= {"small", "big"}
        stage_dir = sink.complete(schema, {}, {}, ["small", "big"], [])
    finally:
        sink.close()
    rows = _stage_rows(stage_dir)
    assert len(rows["big"]) == 50
    assert len(rows["small"]) == 5


def test_packed_pages_round_trip_exactly() -> None:
    from datetime import datetime, timezone

    from restsync.pipeline.sink import pack_records, unpack_records

    plain = [{"id": 1, "tags": ["a"], "price": 1.5}, {"id": 2, "none": None}]
    wide = [{"id": 2**70 + 1}]  # beyond 64 bits: orjson refuses it, pickle keeps it
    stamped = [{"at": datetime(2026, 1, 2, tzinfo=timezone.utc)}]  # stays a datetime
    packed = [pack_records(plain), pack_records(wide), pack_records(stamped)]
    assert [p[:1] for p in packed] == [b"J", b"P", b"P"]
    assert unpack_records(packed) == plain + wide + stamped
    assert isinstance(unpack_records(packed[2:])[0]["at"], datetime)


def test_a_prepared_worker_that_gets_no_batch_changes_nothing(tmp_path: Path) -> None:
    # started ahead for a resource that then ended below a batch: normalized locally, the
    # idle worker finishes with no tables of its own and the stage equals a local one
    local = _run(LocalSink(Schema("d"), SPEC, tmp_path / "l", "1.0"))
    sink = SwitchingSink(Schema("d"), SPEC, tmp_path / "s", "1.0", mode="auto")
    sink.prepare()
    assert sink.worker is not None
    sink.submit(0, "things", RECORDS[:30], 0, mid_run=False)
    sink.submit(1, "things", RECORDS[30:], 30, mid_run=False)
    assert sink.owner["things"] is sink.local
    schema, _changes = sink.finish()
    stage_dir = sink.complete(schema, {}, {"things": len(RECORDS)}, ["things"], [])
    sink.close()
    assert _stage_rows(stage_dir) == _stage_rows(local)
    none = SwitchingSink(Schema("d"), SPEC, tmp_path / "n", "1.0", mode="local")
    none.prepare()
    assert none.worker is None
