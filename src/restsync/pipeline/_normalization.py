"""Normalization during a run: batches of packed pages in, a schema and a complete stage out.

The pipeline talks to one `Normalization` and nothing else of it:

    normalization.submit(batch)         # a resource's pages, packed (see `restsync.pipeline._sink`)
    errors = normalization.drain()      # the batches refused so far (wait=True: all submitted)
    result = normalization.finish()     # the schema and the changes the normalizers noticed
    stage_dir = normalization.complete(schema, state, counts, resources, exclude_tables)
    normalization.close()

Implementations:

- `LocalNormalization` normalizes in the calling thread (a `Normalizer` per resource) and
  writes the stage directly. Small runs use it: nothing to start.
- `WorkerNormalization` (`restsync.pipeline._worker`) normalizes in a separate Python
  process, so that a large run uses the machine's second core: the main process fetches,
  parses and filters pages while the worker builds Arrow tables and writes the stage.
- `SwitchingNormalization` (what a run uses) starts local and moves a resource to a worker
  when its first batch is full mid-run (a run big enough for the second core to pay off).

A refused batch comes back as a `BatchError` whose `DataError` is located: the page (number
and URL) and the record's index on it, found from the batch's `PageRef`s.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from restsync.errors import DataError
from restsync.extract._packing import pack_records, raw_pages, unpack_records
from restsync.schema._model import Schema

if TYPE_CHECKING:
    from restsync.extract._model import Page
    from restsync.pipeline._worker import WorkerNormalization
    from restsync.schema._evolve import SchemaChange
    from restsync.schema._normalize import Normalizer

#: Records normalized together; bounds the memory held per resource between flushes.
BATCH_RECORDS = 5000
#: Records buffered for one resource at which the normalizer process is started (ahead of
#: its first batch, so that its start-up overlaps the extraction).
PREPARE_RECORDS = 1000


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

    def build(self, schema: Schema) -> Normalizer:
        from restsync.schema._normalize import Normalizer

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


@dataclass(frozen=True)
class PageRef:
    """Where a batch's page came from: its 1-based number, its URL, its record count."""

    number: int
    url: str
    count: int


@dataclass
class Batch:
    """Pages of one resource, normalized together. `final`: the resource ended with it."""

    id: int
    resource: str
    seq_start: int  # the `_restsync_seq` of its first record
    payloads: list[bytes]
    pages: list[PageRef]
    final: bool = False

    @classmethod
    def of_records(
        cls, id: int, resource: str, records: list[Any], seq_start: int = 0, *, url: str = ""
    ) -> Batch:
        """A batch of one page holding `records`."""
        page = PageRef(1, url, len(records))
        return cls(id, resource, seq_start, [pack_records(records)], [page])

    def locate(self, error: DataError) -> DataError:
        """The normalizer's `error` (record index in this batch), pointed at the page it came
        from and the record's index there."""
        index = error.record_index or 0
        page = self.pages[-1]
        for candidate in self.pages:
            if index < candidate.count:
                page = candidate
                break
            index -= candidate.count
        return error.located(
            resource=self.resource,
            page=page.number,
            url=page.url,
            record_index=None if error.record_index is None else index,
        )


@dataclass
class BatchError:
    """A batch the normalizer refused: which one, and the error, located on its page."""

    batch_id: int
    resource: str
    error: DataError


@dataclass
class Normalized:
    """What the normalizers made of a run: the schema, and per resource what they noticed
    (new tables and columns, variants, promotions)."""

    schema: Schema
    changes: dict[str, list[SchemaChange]]


class Normalization(Protocol):
    """Takes batches of the run's resources; ends in a complete stage."""

    def prepare(self) -> None:
        """A batch that fills `BATCH_RECORDS` may come soon: start what takes a while."""
        ...

    def submit(self, batch: Batch) -> None:
        """Normalize `batch` (now, or in the background)."""
        ...

    def drain(self, *, wait: bool = False) -> list[BatchError]:
        """The batches refused since the last call; `wait`: once every batch submitted was
        normalized."""
        ...

    def finish(self) -> Normalized:
        """Every batch is normalized: the schema as it now stands, and what changed."""
        ...

    def complete(
        self,
        schema: Schema,
        state: Mapping[str, Any],
        counts: Mapping[str, Any],
        resources: list[str],
        exclude_tables: list[str],
    ) -> Path:
        """Complete the stage under the final `schema`; returns its directory."""
        ...

    def close(self) -> None:
        """Release what `complete` did not (a process, open files)."""
        ...


class LocalNormalization:
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

    def prepare(self) -> None:
        pass

    def submit(self, batch: Batch) -> None:
        try:
            tables = self._normalize(batch)
        except DataError as exc:
            self._errors.append(BatchError(batch.id, batch.resource, batch.locate(exc)))
            return
        for name, table in tables.items():
            self.writer.write(name, table)

    def _normalize(self, batch: Batch) -> dict[str, Any]:
        normalizer = self.normalizers[batch.resource]
        load_id = self.writer.load_id
        pages = raw_pages(batch.payloads)
        if pages is not None:
            # whole response bodies: Arrow reads them without decoding them into Python
            # objects once the resource's schema has settled (`Normalizer.normalize_pages`)
            key, bodies = pages
            tables = normalizer.normalize_pages(bodies, key, load_id, batch.seq_start)
            if tables is not None:
                return tables
        return normalizer.normalize(unpack_records(batch.payloads), load_id, batch.seq_start)

    def drain(self, *, wait: bool = False) -> list[BatchError]:
        out, self._errors = self._errors, []
        return out

    def finish(self) -> Normalized:
        return Normalized(self.schema, {n: list(z.changes) for n, z in self.normalizers.items()})

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


class SwitchingNormalization:
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
        self.local: LocalNormalization | None = None
        self.worker: WorkerNormalization | None = None
        self.owner: dict[str, Normalization] = {}

    def _local(self) -> LocalNormalization:
        if self.local is None:
            self.local = LocalNormalization(self.schema, self.specs, self.stage_root, self.load_id)
        return self.local

    def _worker(self) -> WorkerNormalization:
        if self.worker is None:
            from restsync.pipeline._worker import WorkerNormalization

            # the worker starts from the schema as it stands (stored + what was normalized here)
            self.worker = WorkerNormalization(
                self.schema, self.specs, self.stage_root, self.load_id
            )
        return self.worker

    def prepare(self) -> None:
        """Start the worker process now, before its first batch (it takes a few tenths of a
        second to import); without this, the first full batch waits for it."""
        if self.mode != "local":
            self._worker()

    def submit(self, batch: Batch) -> None:
        self._owner(batch.resource, mid_run=not batch.final).submit(batch)

    def _owner(self, resource: str, *, mid_run: bool) -> Normalization:
        owner = self.owner.get(resource)
        if owner is None:
            to_worker = self.mode == "worker" or (self.mode == "auto" and mid_run)
            owner = self._worker() if to_worker else self._local()
            self.owner[resource] = owner
        return owner

    def drain(self, *, wait: bool = False) -> list[BatchError]:
        out: list[BatchError] = []
        for side in (self.local, self.worker):
            if side is not None:
                out.extend(side.drain(wait=wait))
        return out

    def finish(self) -> Normalized:
        result = self._local().finish()
        if self.worker is not None:
            theirs = self.worker.finish()
            mine = {r for r, side in self.owner.items() if side is self.worker}
            for name, table in theirs.schema.tables.items():
                if table.resource in mine:
                    result.schema.tables[name] = table
            for resource in mine:
                result.changes[resource] = theirs.changes.get(resource, [])
        return result

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
            local.writer.adopt(self.worker.files)
        return local.complete(schema, state, counts, resources, exclude_tables)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


class Batcher:
    """Collects each resource's pages until they fill a batch of `BATCH_RECORDS` records.

    The per-batch cost of building Arrow columns is paid once per batch, not once per (often
    small) page. `seq` numbers the records submitted, across resources, in order.
    """

    def __init__(self, batch_records: int = BATCH_RECORDS) -> None:
        self.batch_records = batch_records
        self._pages: dict[str, list[Page]] = {}
        self._counts: dict[str, int] = {}
        self._ids = itertools.count()
        self._seq = 0

    def add(self, page: Page) -> int:
        """Keep `page`; returns the records now buffered for its resource."""
        self._pages.setdefault(page.resource, []).append(page)
        count = self._counts[page.resource] = self._counts.get(page.resource, 0) + page.count
        return count

    def take(self, resource: str, *, final: bool, keep: bool = True) -> Batch | None:
        """The pages buffered for `resource` as a batch (None when there are none); `keep`
        False drops them (a resource that failed)."""
        pages = self._pages.pop(resource, [])
        self._counts.pop(resource, None)
        if not pages or not keep:
            return None
        batch = Batch(
            id=next(self._ids),
            resource=resource,
            seq_start=self._seq,
            payloads=[p.payload for p in pages if p.payload is not None],
            pages=[PageRef(p.index + 1, p.url, p.count) for p in pages],
            final=final,
        )
        self._seq += sum(p.count for p in pages)
        return batch

    def resources(self) -> list[str]:
        """The resources with pages buffered."""
        return list(self._pages)
