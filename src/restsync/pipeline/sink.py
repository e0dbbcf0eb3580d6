"""Where extracted records go: normalization into Arrow tables and the stage files.

Two sinks share one interface:

- `LocalSink` normalizes in the calling thread. Small runs use it: nothing to start.
- `WorkerSink` normalizes in a separate Python process (`python -m restsync.pipeline.worker`),
  so that a large run uses the machine's second core: the main process fetches, parses and
  filters pages while the worker builds Arrow tables and writes the stage. Records cross as
  JSON bytes: the response bodies themselves where they can (`pack_body`; the worker reads
  them with `pyarrow.json` once the schema has settled, see `Normalizer.normalize_pages`),
  else orjson's encoding; the worker owns the schema and the stage writer until the stage is
  complete.

`SwitchingSink` starts local and moves to a worker the first time a resource fills a whole
batch mid-run (a run big enough for the second core to pay off); the schema is handed over.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from restsync.errors import DataError, RestsyncError
from restsync.extract.packing import pack_records, raw_pages, unpack_records
from restsync.schema.model import Schema

_HEADER = struct.Struct("!BQ")
# message kinds
INIT, BATCH, FINISH, COMPLETE, ACK, RESULT, FAILED = range(7)
MAX_IN_FLIGHT = 4  # batches sent but not acknowledged: bounds the memory of both processes


@dataclass
class NormalizerSpec:
    """How to build one resource's normalizer (plain data, so it can cross a process)."""

    resource: str
    table_name: str
    write_disposition: str = "append"
    primary_key: list[str] = field(default_factory=list)
    merge_key: list[str] = field(default_factory=list)
    columns: dict[str, Any] = field(default_factory=dict)
    max_table_nesting: int | None = None
    schema_contract: Any = None
    row_hash: bool = False  # SCD2: root row ids are content hashes

    def build(self, schema: Schema) -> Any:
        from restsync.schema.normalize import Normalizer

        return Normalizer(
            schema,
            self.resource,
            self.table_name,
            write_disposition=self.write_disposition,  # type: ignore[arg-type]
            primary_key=self.primary_key,
            merge_key=self.merge_key,
            columns=self.columns,
            max_table_nesting=self.max_table_nesting,
            schema_contract=self.schema_contract,
            row_hash=self.row_hash,
        )


@dataclass
class BatchError:
    """A batch the normalizer refused: which one, and the error (record index in the batch)."""

    batch_id: int
    resource: str
    error: DataError


class Sink(Protocol):
    """Takes batches of one resource's records; ends in a complete stage."""

    def submit(self, batch_id: int, resource: str, records: list[Any], seq_start: int) -> None: ...

    def submit_packed(
        self, batch_id: int, resource: str, payloads: list[bytes], seq_start: int
    ) -> None: ...

    def errors(self) -> list[BatchError]: ...

    def finish(self) -> tuple[Schema, dict[str, list[Any]]]: ...

    def complete(
        self,
        schema: Schema,
        state: Mapping[str, Any],
        counts: Mapping[str, Any],
        resources: list[str],
        exclude_tables: list[str],
    ) -> Path: ...

    def close(self) -> None: ...


class LocalSink:
    """Normalizes in the calling thread and writes the stage directly."""

    def __init__(
        self, schema: Schema, specs: list[NormalizerSpec], stage_root: Path, load_id: str
    ) -> None:
        from restsync.stage import StageWriter

        self.schema = schema
        self.normalizers = {s.resource: s.build(schema) for s in specs}
        # the run loads this stage itself, and the next run discards what it leaves behind:
        # nothing reads the files after a crash, so they are not fsynced
        self.writer = StageWriter(stage_root, load_id, durable=False)
        self._errors: list[BatchError] = []

    def submit(self, batch_id: int, resource: str, records: list[Any], seq_start: int) -> None:
        try:
            tables = self.normalizers[resource].normalize(records, self.writer.load_id, seq_start)
        except DataError as exc:
            self._errors.append(BatchError(batch_id, resource, exc))
            return
        for name, table in tables.items():
            self.writer.write(name, table)

    def submit_packed(
        self, batch_id: int, resource: str, payloads: list[bytes], seq_start: int
    ) -> None:
        pages = raw_pages(payloads)
        if pages is not None:
            # whole response bodies: Arrow reads them without decoding them into Python objects
            # once the resource's schema has settled (`Normalizer.normalize_pages`)
            key, bodies = pages
            try:
                tables = self.normalizers[resource].normalize_pages(
                    bodies, key, self.writer.load_id, seq_start
                )
            except DataError as exc:
                self._errors.append(BatchError(batch_id, resource, exc))
                return
            if tables is not None:
                for name, table in tables.items():
                    self.writer.write(name, table)
                return
        self.submit(batch_id, resource, unpack_records(payloads), seq_start)

    def errors(self) -> list[BatchError]:
        out, self._errors = self._errors, []
        return out

    def finish(self) -> tuple[Schema, dict[str, list[Any]]]:
        return self.schema, {n: list(z.changes) for n, z in self.normalizers.items()}

    def close_files(self) -> dict[str, list[Any]]:
        """Close the stage files written so far; they stay for another writer to adopt."""
        return self.writer.close_files()

    def complete(
        self,
        schema: Schema,
        state: Mapping[str, Any],
        counts: Mapping[str, Any],
        resources: list[str],
        exclude_tables: list[str],
    ) -> Path:
        staged = self.writer.complete(
            schema, state, counts, resources=resources, exclude_tables=exclude_tables
        )
        return Path(staged.dir)

    def close(self) -> None:
        pass


def write_message(stream: IO[bytes], kind: int, payload: bytes) -> None:
    stream.write(_HEADER.pack(kind, len(payload)))
    stream.write(payload)
    stream.flush()


def read_message(stream: IO[bytes]) -> tuple[int, bytes]:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the other side closed the pipe")
    kind, size = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("the other side closed the pipe mid-message")
    return kind, payload


class WorkerSink:
    """Normalizes in a child process (see the module docstring)."""

    def __init__(
        self, schema: Schema, specs: list[NormalizerSpec], stage_root: Path, load_id: str
    ) -> None:
        env = {k: v for k, v in os.environ.items() if k != "RESTSYNC_KILL_AT"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "restsync.pipeline.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self._in: IO[bytes] = self.proc.stdin
        self._out: IO[bytes] = self.proc.stdout
        self._pending: deque[int] = deque()
        self._errors: list[BatchError] = []
        self._lock = threading.Lock()
        init = {
            "schema": schema.to_dict(),
            "specs": specs,
            "stage_root": str(stage_root),
            "load_id": load_id,
        }
        self._send(INIT, pickle.dumps(init))

    def _send(self, kind: int, payload: bytes) -> None:
        try:
            write_message(self._in, kind, payload)
        except (BrokenPipeError, ConnectionResetError):
            raise self._ended() from None

    def _ended(self) -> RestsyncError:
        code = self.proc.wait()
        return RestsyncError(
            f"the normalizer process ended unexpectedly (exit code {code}); nothing was "
            "loaded, run again"
        )

    def _receive(self) -> tuple[int, Any]:
        try:
            kind, payload = read_message(self._out)
        except EOFError:
            raise self._ended() from None
        message = pickle.loads(payload)  # noqa: S301 - our own child process
        if kind == FAILED:
            raise RestsyncError(f"the normalizer process failed: {message}")
        return kind, message

    def _drain_one(self) -> None:
        kind, message = self._receive()
        if kind != ACK:
            raise RestsyncError(f"the normalizer process answered {kind} to a batch")
        batch_id, error = message
        self._pending.remove(batch_id)
        if error is not None:
            resource, text, hint, index = error
            exc = DataError(text, resource=resource, hint=hint)
            exc.record_index = index
            self._errors.append(BatchError(batch_id, resource, exc))

    def submit(self, batch_id: int, resource: str, records: list[Any], seq_start: int) -> None:
        self.submit_packed(batch_id, resource, [pack_records(records)], seq_start)

    def submit_packed(
        self, batch_id: int, resource: str, payloads: list[bytes], seq_start: int
    ) -> None:
        while len(self._pending) >= MAX_IN_FLIGHT:
            self._drain_one()
        message = pickle.dumps(
            (batch_id, resource, seq_start, payloads), protocol=pickle.HIGHEST_PROTOCOL
        )
        self._send(BATCH, message)
        self._pending.append(batch_id)

    def errors(self) -> list[BatchError]:
        out, self._errors = self._errors, []
        return out

    def finish_batches(self) -> None:
        """Wait for every batch sent so far to be normalized (their errors then known)."""
        while self._pending:
            self._drain_one()

    def finish(self) -> tuple[Schema, dict[str, list[Any]]]:
        self.finish_batches()
        self._send(FINISH, b"")
        _kind, (schema_dict, changes, files) = self._receive()
        self.files: dict[str, list[Any]] = files
        return Schema.from_dict(schema_dict), changes

    def complete(
        self,
        schema: Schema,
        state: Mapping[str, Any],
        counts: Mapping[str, Any],
        resources: list[str],
        exclude_tables: list[str],
    ) -> Path:
        message = (schema.to_dict(), dict(state), dict(counts), resources, exclude_tables)
        self._send(COMPLETE, pickle.dumps(message))
        _kind, stage_dir = self._receive()
        return Path(stage_dir)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._in.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


class SwitchingSink:
    """Each resource goes local or to a worker process, decided by its first batch.

    `mode` "auto": a resource whose first batch is full mid-run (a big one) goes to the worker,
    one that ended with fewer records is normalized locally, at once; "worker": every
    resource goes to the worker; "local": none does. Resources own disjoint tables, so the
    final schema takes each table from the side that normalized its resource, and the stage
    is completed here with the worker's files adopted.
    """

    def __init__(
        self,
        schema: Schema,
        specs: list[NormalizerSpec],
        stage_root: Path,
        load_id: str,
        mode: str = "auto",
    ) -> None:
        self.specs = specs
        self.stage_root = stage_root
        self.load_id = load_id
        self.schema = schema
        self.mode = mode
        self.local: LocalSink | None = None
        self.worker: WorkerSink | None = None
        self.owner: dict[str, Sink] = {}

    def _local(self) -> LocalSink:
        if self.local is None:
            self.local = LocalSink(self.schema, self.specs, self.stage_root, self.load_id)
        return self.local

    def prepare(self) -> None:
        """Start the worker process now, before its first batch (it takes a few tenths of a
        second to import); without this, the first full batch waits for it."""
        if self.mode != "local":
            self._worker()

    def _worker(self) -> WorkerSink:
        if self.worker is None:
            # the worker starts from the schema as it stands (stored + what was normalized here)
            self.worker = WorkerSink(self.schema, self.specs, self.stage_root, self.load_id)
        return self.worker

    def submit(
        self,
        batch_id: int,
        resource: str,
        records: list[Any],
        seq_start: int,
        *,
        mid_run: bool = True,
    ) -> None:
        self._owner(resource, mid_run).submit(batch_id, resource, records, seq_start)

    def submit_packed(
        self,
        batch_id: int,
        resource: str,
        payloads: list[bytes],
        seq_start: int,
        *,
        mid_run: bool = True,
    ) -> None:
        self._owner(resource, mid_run).submit_packed(batch_id, resource, payloads, seq_start)

    def _owner(self, resource: str, mid_run: bool) -> Sink:
        sink = self.owner.get(resource)
        if sink is None:
            to_worker = self.mode == "worker" or (self.mode == "auto" and mid_run)
            sink = self._worker() if to_worker else self._local()
            self.owner[resource] = sink
        return sink

    def errors(self) -> list[BatchError]:
        out: list[BatchError] = []
        for sink in (self.local, self.worker):
            if sink is not None:
                out.extend(sink.errors())
        return out

    def finish(self) -> tuple[Schema, dict[str, list[Any]]]:
        schema, changes = self._local().finish()
        if self.worker is not None:
            worker_schema, worker_changes = self.worker.finish()
            mine = {r for r, s in self.owner.items() if s is self.worker}
            for name, table in worker_schema.tables.items():
                if table.resource in mine:
                    schema.tables[name] = table
            for resource in mine:
                changes[resource] = worker_changes.get(resource, [])
        return schema, changes

    def complete(
        self,
        schema: Schema,
        state: Mapping[str, Any],
        counts: Mapping[str, Any],
        resources: list[str],
        exclude_tables: list[str],
    ) -> Path:
        local = self._local()
        if self.worker is not None:
            local.writer.adopt(getattr(self.worker, "files", {}))
        return local.complete(schema, state, counts, resources, exclude_tables)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
