"""`restsync.pipeline(name, destination)`: extract -> normalize -> stage -> load, in one run.

Extraction runs in its own thread (an asyncio loop over all resources); pages cross a bounded
queue to the calling thread, which groups them into batches for the run's `Normalization`
(Arrow tables appended to the stage, in this process or a worker process). Only when every
resource has ended is the destination touched: one transaction writes the rows of the
resources that succeeded, their incremental state and the load record.

`Pipeline.run` is a few steps, each returning what the next one needs:

    plan = self._plan(dest, source, refresh)               # RunPlan: stored schema and state
    result = self._extract_and_stage(extraction, plan, ...)  # RunResult: the complete stage
        extracted = self._extract(extraction, normalization, progress)  # Extracted: the runs
        return self._stage(normalization, extracted, plan)
    stats = self._load(dest, result, progress)              # LoadStats: one transaction
    self._report(info, result, stats)                       # LoadInfo, what the caller gets
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from restsync._runtime import relaxed_gc, release_free_memory
from restsync.errors import RestsyncError
from restsync.extract._engine import ResourceRun
from restsync.extract._source import RestApiSource
from restsync.faultpoints import checkpoint
from restsync.http._redact import redact_text
from restsync.pipeline._extraction import DONE, DONE_INDEX, ExtractionThread
from restsync.pipeline._info import LoadInfo, ResourceInfo, TableInfo
from restsync.pipeline._normalization import (
    BATCH_RECORDS,
    PREPARE_RECORDS,
    Batch,
    Batcher,
    BatchError,
    Normalization,
    NormalizerSpec,
    SwitchingNormalization,
)
from restsync.schema._model import Schema

if TYPE_CHECKING:
    from restsync.destinations._base import Destination
    from restsync.http._retry import ResourceStats
    from restsync.load import LoadStats
    from restsync.load._hints import WriteSettings
    from restsync.load._merge import RefreshPlan
    from restsync.schema._evolve import SchemaChange

log = logging.getLogger("restsync.pipeline")


class Progress(Protocol):
    """What a progress display is told during a run. Every method is optional to act on."""

    def start(self, resources: list[str]) -> None: ...
    def page(self, resource: str, records: int, run: ResourceRun) -> None: ...
    def resource_done(self, resource: str, run: ResourceRun) -> None: ...
    def loading(self) -> None: ...
    def done(self, info: LoadInfo) -> None: ...


class NoProgress:
    """The silent progress display."""

    def start(self, resources: list[str]) -> None:
        pass

    def page(self, resource: str, records: int, run: ResourceRun) -> None:
        pass

    def resource_done(self, resource: str, run: ResourceRun) -> None:
        pass

    def loading(self) -> None:
        pass

    def done(self, info: LoadInfo) -> None:
        pass


@dataclass
class RunPlan:
    """What a run starts from (read from the destination before any request)."""

    stored: Schema  # the schema of the last committed load
    schema: Schema  # the schema the normalizers start from (`stored` after the refresh)
    before: set[str]  # the tables of `schema` before the run (the destination has them)
    state: dict[str, dict[str, Any]]  # the incremental state the resources start from
    refresh: RefreshPlan | None
    writes: dict[str, WriteSettings]
    specs: list[NormalizerSpec]


@dataclass
class Extracted:
    """What the extraction step returns: the runs of the selected resources (and of any that
    failed), and the HTTP counters of each."""

    runs: dict[str, ResourceRun]
    client_stats: dict[str, ResourceStats]


@dataclass
class RunResult:
    """What extraction and normalization made, ready to load: the complete stage's directory,
    the final schema, the resources that failed (not loaded) and what the load refreshes."""

    extracted: Extracted
    schema: Schema
    changes: dict[str, list[SchemaChange]]
    failed: set[str]
    refresh: RefreshPlan | None
    stage_dir: Path


def new_load_id() -> str:
    """Sortable, unique enough for one pipeline: seconds since the epoch with microseconds."""
    return f"{time.time():.6f}"


class Pipeline:
    """Runs sources into one destination dataset.

    pipeline = restsync.pipeline("inventory", destination="duckdb")
    info = pipeline.run(source)
    """

    def __init__(
        self,
        name: str,
        destination: str = "duckdb",
        dataset_name: str | None = None,
        *,
        pipelines_dir: str | os.PathLike[str] | None = None,
        credentials: str | None = None,
        transport: Any = None,
        normalize_mode: str | None = None,
        refresh: str | None = None,
    ) -> None:
        from restsync.load._hints import check_refresh

        self.name = name
        self.refresh = check_refresh(refresh)  # dlt's: every run's refresh, unless run() says
        self.destination_url = destination
        self.dataset_name = dataset_name or f"{name}_data"
        self.pipelines_dir = Path(pipelines_dir or Path.cwd() / ".restsync" / "pipelines")
        self.credentials = credentials  # a destination password, when its URL has none
        self.transport = transport  # for tests: an httpx transport used by every source
        # "auto": a normalizer process once a run is big enough; "worker"; "local"
        self.normalize_mode = normalize_mode or os.environ.get("RESTSYNC_NORMALIZE", "auto")

    # -- destination ---------------------------------------------------------------------
    def destination(self) -> Any:
        from restsync.destinations._registry import destination_from_url

        return destination_from_url(
            self.destination_url,
            pipeline_name=self.name,
            dataset_name=self.dataset_name,
            pipelines_dir=self.pipelines_dir,
            credentials=self.credentials,
        )

    # -- run -----------------------------------------------------------------------------
    def run(
        self,
        source: RestApiSource,
        *,
        resources: list[str] | None = None,
        full_refresh: bool = False,
        progress: Progress | None = None,
        refresh: str | None = None,
    ) -> LoadInfo:
        """Extract every selected resource of `source`, then load them in one transaction.

        `refresh` is dlt's: `drop_sources` (every table of the dataset's schema and all of
        this pipeline's state go), `drop_resources` (the tables and state of the selected
        resources go), `drop_data` (their tables are emptied, their state goes); the load
        then recreates what this run extracted, in the same transaction.
        `full_refresh=True` means `drop_resources`.

        Returns a `LoadInfo`; resources that failed are listed there (`info.has_failures`)
        and none of their rows or state is loaded. Raises `ConfigError` before any request,
        and `LoadError` when the destination refuses the load (nothing of it remains).
        """
        from restsync.load._hints import check_refresh

        mode = check_refresh(refresh, full_refresh) or self.refresh
        with relaxed_gc():
            return self._run(source, resources, mode, progress)

    def _run(
        self,
        source: RestApiSource,
        resources: list[str] | None,
        refresh: str | None,
        progress: Progress | None,
    ) -> LoadInfo:
        progress = progress or NoProgress()
        if resources:
            source = source.with_resources(*resources)
        started = time.monotonic()
        info = LoadInfo(
            pipeline=self.name,
            destination=self._display_destination(),
            dataset=self.dataset_name,
            load_id=new_load_id(),
            started_at=datetime.now(timezone.utc).isoformat(),
        )
        # the HTTP client is built while the destination opens; no request before `begin`
        extraction = ExtractionThread(
            source, _selected(source), name=self.name, transport=self.transport
        )
        dest = self._open(extraction)
        try:
            with contextlib.closing(extraction):  # its thread ends here, whatever happens
                plan = self._plan(dest, source, refresh)
                extraction.begin(plan.state)
                result = self._extract_and_stage(extraction, plan, info.load_id, progress)
            stats = self._load(dest, result, progress)
        except BaseException:  # an error or Ctrl-C: this run's stage goes with it
            shutil.rmtree(self._stage_root() / info.load_id, ignore_errors=True)
            raise
        finally:
            dest.close()
        shutil.rmtree(self._stage_root() / info.load_id, ignore_errors=True)
        self._report(info, result, stats)
        info.duration = time.monotonic() - started
        progress.done(info)
        return info

    def _display_destination(self) -> str:
        from restsync.http._redact import redact_url

        return redact_url(self.destination_url)

    def _stage_root(self) -> Path:
        return self.pipelines_dir / self.name / "stage"

    def _open(self, extraction: ExtractionThread) -> Destination:
        """The destination, open; a destination that does not open ends the extraction."""
        try:
            dest: Destination = self.destination()
            dest.open()
        except BaseException:
            extraction.close()
            raise
        return dest

    # -- the steps of a run ----------------------------------------------------------------
    def _plan(self, dest: Destination, source: RestApiSource, refresh: str | None) -> RunPlan:
        """What the run starts from: the stored schema and state, after `refresh`."""
        from restsync.load._hints import plan_refresh, write_settings

        selected = _selected(source)
        stored = dest.stored_schema() or Schema(self.dataset_name)
        refresh_plan, schema, state = plan_refresh(
            refresh, stored, dest.stored_state(self.name), selected
        )
        writes = {p.name: write_settings(p.config) for p in source.plans if p.selected}
        specs = [
            NormalizerSpec(
                resource=p.name,
                table_name=p.table_name,
                write_disposition=p.write_disposition,
                primary_key=[] if writes[p.name].scd2 else list(p.primary_key),
                merge_key=list(p.merge_key),
                columns=dict(p.columns),
                max_table_nesting=p.max_table_nesting,
                schema_contract=p.config.get("schema_contract"),
                row_hash=writes[p.name].scd2 and "row_version_column" not in writes[p.name].hints,
            )
            for p in source.plans
            if p.selected
        ]
        return RunPlan(stored, schema, set(schema.tables), state, refresh_plan, writes, specs)

    def _extract_and_stage(
        self, extraction: ExtractionThread, plan: RunPlan, load_id: str, progress: Progress
    ) -> RunResult:
        """Extract every resource, normalizing its pages as they come; complete the stage."""
        stage_root = self._stage_root()
        if stage_root.exists():
            shutil.rmtree(stage_root, ignore_errors=True)  # an earlier run's leftovers
        normalization = SwitchingNormalization(
            plan.schema, plan.specs, stage_root, load_id, mode=self.normalize_mode
        )
        with contextlib.closing(normalization):
            extracted = self._extract(extraction, normalization, progress)
            return self._stage(normalization, extracted, plan)

    def _stage(
        self, normalization: Normalization, extracted: Extracted, plan: RunPlan
    ) -> RunResult:
        """The stage of the resources that succeeded: their rows, state and final schema.
        The tables a failed resource created in this run go; its stored ones stay."""
        from restsync.load._hints import apply_write_settings, keep_failed

        normalized = normalization.finish()
        schema = normalized.schema
        apply_write_settings(schema, plan.writes)
        runs = extracted.runs
        failed = {n for n, r in runs.items() if not r.ok}
        failed_tables = [t.name for t in schema.tables.values() if t.resource in failed]
        for name in failed_tables:
            if name not in plan.before:
                del schema.tables[name]
        # a failed resource is not refreshed: its stored tables and state stay
        refresh = keep_failed(plan.refresh, schema, plan.stored, failed)
        stage_dir = normalization.complete(
            schema,
            _new_state(runs),
            {n: r.records for n, r in runs.items()},
            sorted(n for n, r in runs.items() if r.ok),
            failed_tables,
        )
        return RunResult(extracted, schema, normalized.changes, failed, refresh, stage_dir)

    def _load(self, dest: Destination, result: RunResult, progress: Progress) -> LoadStats:
        """Load the complete stage in one transaction."""
        from restsync.load import load_stage
        from restsync.stage import open_stage

        staged = open_stage(result.stage_dir)
        if staged is None:
            raise RestsyncError(f"the stage in {result.stage_dir} is incomplete; run again")
        checkpoint("stage_complete")
        release_free_memory()  # what extraction freed, before the load adds its own
        progress.loading()
        return load_stage(dest, staged, self.name, result.refresh)

    def _report(self, info: LoadInfo, result: RunResult, stats: LoadStats) -> None:
        """Fill `info` with what the run did: per resource, per table, schema changes."""
        for name, run in result.extracted.runs.items():
            info.resources[name] = _resource_info(run, result.extracted.client_stats.get(name))
        info.loaded = True
        for tname, tstats in stats.tables.items():
            table = result.schema.tables.get(tname)
            info.tables[tname] = TableInfo(
                name=tname,
                resource=table.resource if table else "",
                inserted=tstats.inserted,
                updated=tstats.updated,
                deleted=tstats.deleted,
            )
        info.schema_changes = _schema_changes(result)
        info.ddl = list(stats.ddl)

    # -- extraction ----------------------------------------------------------------------
    def _extract(
        self, extraction: ExtractionThread, normalization: Normalization, progress: Progress
    ) -> Extracted:
        """Read the extraction's pages into `normalization` in batches, until every resource
        ended; the runs of the selected resources (and of any that failed)."""
        source = extraction.source
        progress.start([p.name for p in source.plans if p.selected])
        watch = getattr(progress, "watch", None)
        if watch is not None:  # a display that reads the figures as they change
            watch(extraction.snapshot)
        try:
            _feed(extraction, normalization, progress)
        except BaseException:
            extraction.abort()
            raise
        finally:
            extraction.join()
        if extraction.error is not None:
            raise extraction.error
        runs = extraction.runs
        assert runs is not None  # the thread ended without an error
        _mark_failed(extraction, normalization.drain(wait=True))
        for name, run in runs.items():
            progress.resource_done(name, run)
        selected = _selected(source)
        kept = {n: r for n, r in runs.items() if n in selected or not r.ok}
        return Extracted(kept, dict(extraction.client_stats))


def _selected(source: RestApiSource) -> set[str]:
    return {p.name for p in source.plans if p.selected}


def _feed(extraction: ExtractionThread, normalization: Normalization, progress: Progress) -> None:
    """Pages from the extraction thread into batches, and batches into `normalization`."""
    batcher = Batcher()
    prepared = False
    for page in iter(extraction.pages.get, DONE):
        run = extraction.run_of(page.resource)
        ok = run is None or run.error is None
        if page.index == DONE_INDEX:  # the resource ended: normalize what it left
            _submit(extraction, normalization, batcher.take(page.resource, final=True, keep=ok))
            continue
        if not ok:
            continue
        if page.resource in extraction.selected and page.count:
            count = batcher.add(page)
            if count >= BATCH_RECORDS:
                _submit(extraction, normalization, batcher.take(page.resource, final=False))
            elif count >= PREPARE_RECORDS and not prepared:
                # a resource that may fill a batch: have the normalizer process ready
                prepared = True
                normalization.prepare()
        checkpoint("page")
        if run is not None:
            progress.page(page.resource, page.count, run)
    if extraction.error is None:
        for resource in batcher.resources():
            run = extraction.run_of(resource)
            ok = run is None or run.error is None
            _submit(extraction, normalization, batcher.take(resource, final=True, keep=ok))


def _submit(
    extraction: ExtractionThread, normalization: Normalization, batch: Batch | None
) -> None:
    if batch is not None:
        normalization.submit(batch)
        _mark_failed(extraction, normalization.drain())


def _mark_failed(extraction: ExtractionThread, errors: list[BatchError]) -> None:
    """A refused batch ends its resource (its first error is the one reported)."""
    for failed in errors:
        run = extraction.run_of(failed.resource)
        if run is not None and run.error is None:
            run.error = failed.error


def _new_state(runs: Mapping[str, ResourceRun]) -> dict[str, dict[str, Any]]:
    """The incremental state the resources that succeeded end with."""
    state: dict[str, dict[str, Any]] = {}
    for name, run in runs.items():
        if run.ok and run.incremental is not None:
            state[name] = run.incremental.new_state()
    for name, run in runs.items():  # a page_number pagination's first page
        if run.ok and run.page_base is not None:
            state.setdefault(name, {})["page_base"] = run.page_base
    return state


def _schema_changes(result: RunResult) -> list[str]:
    """What the normalizers noticed for the loaded resources (new tables summarized;
    variants, promotions, name collisions listed)."""
    found = [
        change
        for name, changes in result.changes.items()
        if name not in result.failed
        for change in changes
        if change.kind != "nullable"
    ]
    tables = result.schema.tables
    new_tables = {c.table for c in found if c.kind == "new_table"}
    return [
        f"new table {c.table} ({len(tables[c.table].columns)} columns)"
        if c.kind == "new_table" and c.table in tables
        else str(c)
        for c in found
        if not (c.kind == "new_column" and c.table in new_tables)
    ]


def _resource_info(run: ResourceRun, stats: ResourceStats | None) -> ResourceInfo:
    return ResourceInfo(
        name=run.name,
        pages=run.pages,
        records=run.records,
        requests=stats.requests if stats is not None else 0,
        retries=stats.retries if stats is not None else 0,
        bytes=run.bytes,
        throttled_seconds=stats.throttled_seconds if stats is not None else 0.0,
        duration=max(0.0, run.finished - run.started) if run.started else 0.0,
        error=redact_text(str(run.error)) if run.error is not None else None,
        cursor=run.incremental.last_value if run.incremental is not None else None,
        warnings=[redact_text(w) for w in run.warnings],
        pagination=run.pagination,
    )


def pipeline(
    name: str,
    destination: str = "duckdb",
    dataset_name: str | None = None,
    **kwargs: Any,
) -> Pipeline:
    """A pipeline named `name` loading into `destination` (`duckdb`, `duckdb:///path`,
    `postgresql://...`, `parquet:///path`)."""
    return Pipeline(name, destination, dataset_name, **kwargs)
