"""The normalizations: local and worker process give the same stage; errors come back located."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from restsync.errors import DataError
from restsync.extract._packing import pack_records
from restsync.pipeline._normalization import (
    Batch,
    LocalNormalization,
    Normalization,
    NormalizerSpec,
    PageRef,
    SwitchingNormalization,
)
from restsync.pipeline._worker import WorkerNormalization
from restsync.schema._model import Schema
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


def _batch(
    id: int, resource: str, records: list[dict[str, object]], seq: int, *, final: bool = False
) -> Batch:
    batch = Batch.of_records(id, resource, records, seq)
    batch.final = final
    return batch


def _run(sink: Normalization) -> Path:
    try:
        sink.submit(_batch(0, "things", RECORDS[:30], 0))
        sink.submit(_batch(1, "things", RECORDS[30:], 30))
        assert sink.drain(wait=True) == []
        result = sink.finish()
        schema, changes = result.schema, result.changes
        assert "things" in schema.tables
        assert any(c.kind == "new_table" for c in changes["things"])
        return sink.complete(schema, {"things": {"last_value": 1}}, {}, ["things"], [])
    finally:
        sink.close()


SPEC = [NormalizerSpec("things", "things", "merge", ["id"])]


def test_worker_and_local_stage_the_same_rows(tmp_path: Path) -> None:
    local = _run(LocalNormalization(Schema("d"), SPEC, tmp_path / "a", "1.0"))
    worker = _run(WorkerNormalization(Schema("d"), SPEC, tmp_path / "b", "1.0"))
    assert _stage_rows(local) == _stage_rows(worker)
    assert open_stage(worker).state == {"things": {"last_value": 1}}  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["local", "worker"])
def test_data_errors_come_back_with_the_record_index(tmp_path: Path, kind: str) -> None:
    cls = LocalNormalization if kind == "local" else WorkerNormalization
    sink = cls(Schema("d"), SPEC, tmp_path, "1.0")
    try:
        sink.submit(Batch.of_records(7, "things", [{"id": 1}, {"name": "no id"}]))
        (error,) = sink.drain(wait=True)
    finally:
        sink.close()
    assert error.batch_id == 7
    assert error.resource == "things"
    assert error.error.record_index == 1
    assert "has no primary key 'id'" in error.error.message


def test_switching_sink_stays_local_for_end_of_run_batches(tmp_path: Path) -> None:
    sink = SwitchingNormalization(Schema("d"), SPEC, tmp_path, "1.0", mode="auto")
    sink.submit(_batch(0, "things", RECORDS, 0, final=True))
    assert sink.worker is None
    sink.close()
    sink = SwitchingNormalization(Schema("d"), SPEC, tmp_path / "w", "1.0", mode="auto")
    sink.submit(_batch(0, "things", RECORDS, 0))
    assert sink.worker is not None
    sink.finish()
    sink.close()


def test_the_worker_ends_when_its_parent_goes_away(tmp_path: Path) -> None:
    sink = WorkerNormalization(Schema("d"), SPEC, tmp_path, "1.0")
    sink._in.close()  # what the OS does when the parent is killed
    assert sink.proc.wait(timeout=20) == 0


def test_integers_beyond_64_bits_cross_to_the_worker_exactly(tmp_path: Path) -> None:
    sink = WorkerNormalization(Schema("d"), SPEC, tmp_path, "1.0")
    try:
        sink.submit(_batch(0, "things", [{"id": 1, "big": 2**70 + 1}], 0))
        schema = sink.finish().schema
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
    sink = SwitchingNormalization(Schema("d"), specs, tmp_path, "1.0", mode="auto")
    try:
        sink.submit(_batch(0, "big", RECORDS[:25], 0))
        sink.submit(_batch(1, "small", RECORDS[:5], 25, final=True))
        sink.submit(_batch(2, "big", RECORDS[25:], 30, final=True))  # stays with the worker
        assert sink.owner["big"] is sink.worker
        assert sink.owner["small"] is sink.local
        result = sink.finish()
        schema, changes = result.schema, result.changes
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

    from restsync.extract._packing import pack_records, unpack_records

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
    local = _run(LocalNormalization(Schema("d"), SPEC, tmp_path / "l", "1.0"))
    sink = SwitchingNormalization(Schema("d"), SPEC, tmp_path / "s", "1.0", mode="auto")
    sink.prepare()
    assert sink.worker is not None
    sink.submit(_batch(0, "things", RECORDS[:30], 0, final=True))
    sink.submit(_batch(1, "things", RECORDS[30:], 30, final=True))
    assert sink.owner["things"] is sink.local
    schema = sink.finish().schema
    stage_dir = sink.complete(schema, {}, {"things": len(RECORDS)}, ["things"], [])
    sink.close()
    assert _stage_rows(stage_dir) == _stage_rows(local)
    none = SwitchingNormalization(Schema("d"), SPEC, tmp_path / "n", "1.0", mode="local")
    none.prepare()
    assert none.worker is None


def _pages_batch(id: int, pages: list[list[object]]) -> Batch:
    """A batch of several pages, as the pipeline's `Batcher` makes them."""
    return Batch(
        id,
        "things",
        0,
        [pack_records(p) for p in pages],
        [
            PageRef(n + 3, f"https://api.test/things?page={n + 3}", len(p))
            for n, p in enumerate(pages)
        ],
    )


@pytest.mark.parametrize("kind", ["local", "worker"])
def test_data_errors_cross_located_with_their_fields(tmp_path: Path, kind: str) -> None:
    # the third page's second record has no key: page 5 of the API, record 1 on it
    pages: list[list[object]] = [[{"id": 1}, {"id": 2}], [{"id": 3}], [{"id": 4}, {"x": 1}]]
    cls = LocalNormalization if kind == "local" else WorkerNormalization
    sink = cls(Schema("d"), SPEC, tmp_path, "1.0")
    try:
        sink.submit(_pages_batch(3, pages))
        (error,) = sink.drain(wait=True)
    finally:
        sink.close()
    exc = error.error
    assert isinstance(exc, DataError)
    assert (exc.resource, exc.page, exc.record_index) == ("things", 5, 1)
    assert exc.url == "https://api.test/things?page=5"
    assert exc.message == "has no primary key 'id'"
    assert str(exc).splitlines()[0] == (
        "resource 'things': record 1 on page 5 has no primary key 'id' "
        "(https://api.test/things?page=5)"
    )
    assert str(exc).splitlines()[1].startswith("  set primary_key to a field every record has")


def _normalize_with(mode: str, root: Path) -> tuple[object, ...]:
    specs = [
        NormalizerSpec("things", "things", "merge", ["id"]),
        NormalizerSpec("other", "other", "append"),
    ]
    sink = SwitchingNormalization(Schema("d"), specs, root / mode, "1.0", mode=mode)
    try:
        sink.submit(_batch(0, "things", RECORDS[:20], 0))
        sink.submit(_batch(1, "other", [{"a": 1}, 5], 20, final=True))
        sink.submit(_batch(2, "things", RECORDS[20:], 22, final=True))
        errors = [(e.batch_id, str(e.error)) for e in sink.drain(wait=True)]
        result = sink.finish()
        stage_dir = sink.complete(result.schema, {}, {}, ["things"], ["other"])
    finally:
        sink.close()
    if mode != "local":
        assert sink.owner["things"] is sink.worker  # its first batch was full mid-run
    changes = {r: [str(c) for c in cs] for r, cs in sorted(result.changes.items())}
    rows = _stage_rows(stage_dir)
    for table in rows.values():
        table.sort(key=lambda r: str(r.get("_dlt_id")))
    return errors, result.schema.to_dict(), changes, rows


def test_local_worker_and_switching_give_the_same_result(tmp_path: Path) -> None:
    # the same batches, one of them refused: the same errors, schema, changes and stage
    local = _normalize_with("local", tmp_path)
    assert local[0] == [
        (
            1,
            "resource 'other': record 1 on page 1 is int 5, not an object\n"
            "  point data_selector at the list of records (each record must be a JSON object)",
        )
    ]
    assert len(local[3]["things"]) == 50  # type: ignore[index]
    assert _normalize_with("worker", tmp_path) == local
    assert _normalize_with("auto", tmp_path) == local


def test_a_data_error_keeps_its_fields_through_a_pickle() -> None:
    import pickle

    from restsync.errors import HTTPStatusError

    exc = DataError("has no primary key 'id'", resource="things", hint="set it", record_index=4)
    located = exc.located(resource="things", page=2, url="https://api.test/t?p=2", record_index=1)
    for error in (exc, located):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is DataError
        assert (back.resource, back.url, back.hint, back.record_index, back.page) == (
            error.resource,
            error.url,
            error.hint,
            error.record_index,
            error.page,
        )
        assert str(back) == str(error)
    assert str(exc) == "resource 'things': record 4 on this page has no primary key 'id'\n  set it"
    assert str(located).startswith("resource 'things': record 1 on page 2 has no primary key")
    status = HTTPStatusError("GET /x -> 500", resource="r", url="/x", status=500)
    assert pickle.loads(pickle.dumps(status)).status == 500
