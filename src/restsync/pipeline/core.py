"""`restsync.pipeline(name, destination)`: extract -> normalize -> stage -> load, in one run.

Extraction runs in its own thread (an asyncio loop over all resources); pages cross a bounded
queue to the calling thread, which normalizes them into Arrow tables and appends them to the
stage. Only when every resource has ended is the destination touched: one transaction writes
the rows of the resources that succeeded, their incremental state and the load record.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from restsync.errors import DataError, RestsyncError
from restsync.extract.engine import ResourceRun
from restsync.extract.model import Page
from restsync.extract.source import RestApiSource
from restsync.faultpoints import checkpoint
from restsync.http.redact import redact_text
from restsync.pipeline.extraction import DONE, DONE_INDEX, ExtractionThread
from restsync.pipeline.gcpolicy import relaxed_gc, release_free_memory
from restsync.pipeline.info import LoadInfo, ResourceInfo, TableInfo
from restsync.schema.model import Schema

log = logging.getLogger("restsync.pipeline")

# Records normalized together; bounds the memory held per resource between flushes.
BATCH_RECORDS = 5000
#: Records buffered for one resource at which the normalizer process is started (ahead of
#: its first batch, so that its start-up overlaps the extraction).
PREPARE_RECORDS = 1000


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
        from restsync.load.hints import check_refresh

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
        from restsync.destinations.registry import destination_from_url

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
        from restsync.load.hints import check_refresh

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
        load_id = new_load_id()
        info = LoadInfo(
            pipeline=self.name,
            destination=self._display_destination(),
            dataset=self.dataset_name,
            load_id=load_id,
            started_at=datetime.now(timezone.utc).isoformat(),
        )
        # the HTTP client is built while the destination opens; no request before `begin`
        selected = {p.name for p in source.plans if p.selected}
        extraction = ExtractionThread(source, selected, name=self.name, transport=self.transport)
        try:
            dest = self.destination()
            dest.open()
        except BaseException:
            extraction.close()
            raise
        try:
            try:
                from restsync.load.hints import (
                    apply_write_settings,
                    keep_failed,
                    plan_refresh,
                    write_settings,
                )

                stored = dest.stored_schema() or Schema(self.dataset_name)
                refresh_plan, schema, state = plan_refresh(
                    refresh, stored, dest.stored_state(self.name), selected
                )
                extraction.begin(state)
                before = set(schema.tables)  # tables the destination already has
                writes = {p.name: write_settings(p.config) for p in source.plans if p.selected}
                # what only normalizing and loading need is imported while requests are out
                from restsync.pipeline.sink import NormalizerSpec, SwitchingSink

                stage_root = self.pipelines_dir / self.name / "stage"
                if stage_root.exists():
                    shutil.rmtree(stage_root, ignore_errors=True)  # an earlier run's leftovers
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
                        row_hash=writes[p.name].scd2
                        and "row_version_column" not in writes[p.name].hints,
                    )
                    for p in source.plans
                    if p.selected
                ]
                sink = SwitchingSink(schema, specs, stage_root, load_id, mode=self.normalize_mode)
                try:
                    runs = self._extract(extraction, sink, progress)
                    schema, changes = sink.finish()
                    apply_write_settings(schema, writes)
                    self._changes = changes
                    failed = {n for n, r in runs.items() if not r.ok}
                    new_state: dict[str, dict[str, Any]] = {}
                    for n, r in runs.items():
                        if r.ok and r.incremental is not None:
                            new_state[n] = r.incremental.new_state()
                    for n, r in runs.items():  # a page_number pagination's first page
                        base = getattr(r, "page_base", None)
                        if r.ok and base is not None:
                            new_state.setdefault(n, {})["page_base"] = base
                    for n, r in runs.items():
                        info.resources[n] = self._resource_info(n, r)
                    failed_tables = [t.name for t in schema.tables.values() if t.resource in failed]
                    for t in list(schema.tables.values()):
                        if t.resource in failed and t.name not in before:
                            del schema.tables[t.name]
                    # a failed resource is not refreshed: its stored tables and state stay
                    refresh_plan = keep_failed(refresh_plan, schema, stored, failed)
                    ran = sorted(n for n, r in runs.items() if r.ok)
                    stage_dir = sink.complete(
                        schema,
                        new_state,
                        {n: r.records for n, r in runs.items()},
                        ran,
                        failed_tables,
                    )
                finally:
                    sink.close()
            finally:
                extraction.close()
            from restsync.load import load_stage
            from restsync.stage import open_stage

            staged = open_stage(stage_dir)
            if staged is None:
                raise RestsyncError(f"the stage in {stage_dir} is incomplete; run again")
            checkpoint("stage_complete")
            release_free_memory()  # what extraction freed, before the load adds its own
            progress.loading()
            stats = load_stage(dest, staged, self.name, refresh_plan)
            info.loaded = True
            for tname, tstats in stats.tables.items():
                table = schema.tables.get(tname)
                info.tables[tname] = TableInfo(
                    name=tname,
                    resource=table.resource if table else "",
                    inserted=tstats.inserted,
                    updated=tstats.updated,
                    deleted=tstats.deleted,
                )
            info.schema_changes = self._schema_changes(schema, failed)
            info.ddl = list(stats.ddl)
            shutil.rmtree(stage_root / load_id, ignore_errors=True)
        except BaseException:  # an error or Ctrl-C: this run's stage goes with it
            shutil.rmtree(self.pipelines_dir / self.name / "stage" / load_id, ignore_errors=True)
            raise
        finally:
            dest.close()
        info.duration = time.monotonic() - started
        progress.done(info)
        return info

    def _display_destination(self) -> str:
        from restsync.http.redact import redact_url

        return redact_url(self.destination_url)

    def _schema_changes(self, schema: Schema, failed: set[str]) -> list[str]:
        """What the normalizers noticed for the loaded resources (new tables summarized;
        variants, promotions, name collisions listed)."""
        found = [
            change
            for name, changes in getattr(self, "_changes", {}).items()
            if name not in failed
            for change in changes
            if change.kind != "nullable"
        ]
        new_tables = {c.table for c in found if c.kind == "new_table"}
        return [
            f"new table {c.table} ({len(schema.tables[c.table].columns)} columns)"
            if c.kind == "new_table" and c.table in schema.tables
            else str(c)
            for c in found
            if not (c.kind == "new_column" and c.table in new_tables)
        ]

    @staticmethod
    def _locate(exc: DataError, batch: list[Page]) -> DataError:
        """The normalizer's error, pointed at the page (and record on it) it came from."""
        index = exc.record_index or 0
        page = batch[-1]
        for candidate in batch:
            if index < candidate.count:
                page = candidate
                break
            index -= candidate.count
        message = exc.message.replace("on this page", f"on page {page.index + 1}", 1)
        message = re.sub(r"^record \d+", f"record {index}", message)
        located = DataError(
            f"{message} ({page.url})", resource=page.resource, url=page.url, hint=exc.hint
        )
        located.record_index = index
        return located

    def _resource_info(self, name: str, run: ResourceRun) -> ResourceInfo:
        stats = None
        client_stats = getattr(self, "_client_stats", {})
        if isinstance(client_stats, Mapping):
            stats = client_stats.get(name)
        return ResourceInfo(
            name=name,
            pages=run.pages,
            records=run.records,
            requests=int(getattr(stats, "requests", 0) or 0),
            retries=int(getattr(stats, "retries", 0) or 0),
            bytes=run.bytes,
            throttled_seconds=float(getattr(stats, "throttled_seconds", 0.0) or 0.0),
            duration=max(0.0, run.finished - run.started) if run.started else 0.0,
            error=redact_text(str(run.error)) if run.error is not None else None,
            cursor=run.incremental.last_value if run.incremental is not None else None,
            warnings=[redact_text(w) for w in getattr(run, "warnings", ())],
            pagination=getattr(run, "pagination", None),
        )

    # -- extraction ----------------------------------------------------------------------
    def _extract(
        self, extraction: ExtractionThread, sink: Any, progress: Progress
    ) -> dict[str, ResourceRun]:
        """Read the extraction's pages into `sink` in batches, until every resource ended."""
        plans = {p.name: p for p in extraction.source.plans}
        selected = extraction.selected
        progress.start([p.name for p in extraction.source.plans if p.selected])
        watch = getattr(progress, "watch", None)
        if watch is not None:  # a display that reads the figures as they change
            watch(extraction.snapshot)
        seq = 0
        buffers: dict[str, list[Page]] = {}
        buffered: dict[str, int] = {}
        batches: dict[int, list[Page]] = {}
        batch_ids = itertools.count()
        run_of = extraction.run_of

        def take_errors() -> None:
            for failed in sink.errors():
                run = run_of(failed.resource)
                batch = batches.get(failed.batch_id, [])
                if run is not None and run.error is None and batch:
                    run.error = self._locate(failed.error, batch)
            if len(batches) > 64:  # keep only the recent batches' page lists
                for old in sorted(batches)[:-64]:
                    del batches[old]

        def flush(resource: str, *, mid_run: bool) -> None:
            # Pages are normalized in batches: the per-batch cost of building Arrow columns
            # is paid once per BATCH_RECORDS records, not once per (often small) page.
            nonlocal seq
            batch = buffers.pop(resource, [])
            buffered.pop(resource, None)
            run = run_of(resource)
            if not batch or (run is not None and run.error is not None):
                return
            payloads = [p.payload for p in batch if p.payload is not None]
            for p in batch:
                p.payload = None  # the page stays for locating errors, without its records
            batch_id = next(batch_ids)
            batches[batch_id] = batch
            sink.submit_packed(batch_id, resource, payloads, seq, mid_run=mid_run)
            seq += sum(p.count for p in batch)
            take_errors()

        prepared = False
        try:
            while True:
                item = extraction.pages.get()
                if item is DONE:
                    break
                page: Page = item
                if page.index == DONE_INDEX:  # the resource ended: normalize what it left
                    flush(page.resource, mid_run=False)
                    continue
                run = run_of(page.resource)
                if run is not None and run.error is not None:
                    continue
                if page.resource in selected and page.count:
                    buffers.setdefault(page.resource, []).append(page)
                    count = buffered[page.resource] = buffered.get(page.resource, 0) + page.count
                    if count >= BATCH_RECORDS:
                        flush(page.resource, mid_run=True)
                    elif count >= PREPARE_RECORDS and not prepared:
                        # a resource that may fill a batch: have the normalizer process ready
                        prepared = True
                        sink.prepare()
                checkpoint("page")
                if run is not None:
                    progress.page(page.resource, page.count, run)
            if extraction.error is None:
                for resource in list(buffers):
                    flush(resource, mid_run=False)
        except BaseException:
            extraction.abort()
            raise
        finally:
            extraction.join()
        if extraction.error is not None:
            raise extraction.error
        self._client_stats = extraction.client_stats
        runs = extraction.runs
        assert runs is not None  # the thread ended without an error
        if hasattr(sink, "worker") and sink.worker is not None:
            sink.worker.finish_batches()
        take_errors()
        for name, run in runs.items():
            progress.resource_done(name, run)
        return {n: r for n, r in runs.items() if plans[n].selected or not r.ok}


def pipeline(
    name: str,
    destination: str = "duckdb",
    dataset_name: str | None = None,
    **kwargs: Any,
) -> Pipeline:
    """A pipeline named `name` loading into `destination` (`duckdb`, `duckdb:///path`,
    `postgresql://...`, `parquet:///path`)."""
    return Pipeline(name, destination, dataset_name, **kwargs)
