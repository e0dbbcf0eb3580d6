"""The extraction thread of one run: an asyncio loop over all resources of a source.

The thread starts first, so that its HTTP client (TLS context, connection pool, auth) is
built while the calling thread opens the destination and reads the stored state; requests
start when `begin(state)` hands that state over. Pages cross a bounded queue to the calling
thread, packed as bytes (see `pack_records`), and `DONE` ends the queue.

    extraction = ExtractionThread(source, selected, name="shop")
    try:
        extraction.begin(destination.stored_state("shop"))
        for item in iter(extraction.pages.get, DONE): ...
    except BaseException:
        extraction.abort()
        raise
    finally:
        extraction.join()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from restsync.errors import ResourceError
from restsync.extract._engine import Extractor, ResourceRun
from restsync.extract._model import Page
from restsync.extract._packing import pack_body, pack_records
from restsync.extract._source import RestApiSource

if TYPE_CHECKING:
    from restsync.http._retry import ResourceStats

DONE = object()
DONE_INDEX = -1  # a Page with this index marks the end of its resource
QUEUE_PAGES = 64  # pages between the two threads: bounds the memory of a slow consumer


class _Abandoned(Exception):
    """The run ended before its requests could start (e.g. the destination did not open)."""


class ExtractionThread:
    """Runs the source's resources in a thread; see the module docstring."""

    def __init__(
        self, source: RestApiSource, selected: set[str], *, name: str, transport: Any = None
    ) -> None:
        self.source = source
        self.selected = selected
        self.transport = transport  # for tests: an httpx transport
        self.pages: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_PAGES)
        self.extractor: Extractor | None = None
        self.runs: dict[str, ResourceRun] | None = None
        self.client_stats: dict[str, ResourceStats] = {}
        self.error: BaseException | None = None
        self._aborted = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._state: concurrent.futures.Future[Mapping[str, Mapping[str, Any]]] = (
            concurrent.futures.Future()
        )
        self._thread = threading.Thread(target=self._main, name=f"restsync-extract-{name}")
        self._thread.start()

    def begin(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Start the requests, from the stored incremental `state`."""
        self._state.set_result(state)

    def abort(self) -> None:
        """The caller stops reading pages: the resources end, no request starts any more."""
        self._aborted = True
        if not self._state.done():
            self._state.set_exception(_Abandoned())
        loop, task = self._loop, self._task
        if loop is not None and task is not None:  # the requests in flight stop now
            with contextlib.suppress(RuntimeError):  # the loop has ended meanwhile
                loop.call_soon_threadsafe(task.cancel)

    def join(self) -> None:
        """Wait for the thread; after `abort`, pages still queued are dropped meanwhile."""
        while self._thread.is_alive():
            if self._aborted:
                self._drain()
            self._thread.join(0.05)
        if self._aborted:
            self._drain()

    def close(self) -> None:
        """`abort` and `join`: after the pages were all read, only the join is left."""
        self.abort()
        self.join()

    def snapshot(self) -> dict[str, tuple[ResourceRun, Any]]:
        """Each resource's run and HTTP counters as they stand (for a live display)."""
        extractor = self.extractor
        if extractor is None or self._aborted:  # stopped: its runs end without finishing
            return {}
        stats = getattr(extractor.client, "stats", None) or {}
        return {name: (run, stats.get(name)) for name, run in list(extractor.runs.items())}

    def run_of(self, resource: str) -> ResourceRun | None:
        return self.extractor.runs[resource] if self.extractor else None

    def _drain(self) -> None:
        while True:
            try:
                self.pages.get_nowait()
            except queue.Empty:
                return

    def _main(self) -> None:
        try:
            self.runs = asyncio.run(self._extract())
        except _Abandoned:
            pass
        except asyncio.CancelledError as exc:  # `abort` stopped the requests
            if not self._aborted:
                self.error = exc
        except BaseException as exc:  # reported in the calling thread
            self.error = exc
        finally:
            self._put(DONE)

    def _put(self, item: Any) -> None:
        while not self._aborted:
            try:
                self.pages.put(item, timeout=0.05)
                return
            except queue.Full:
                continue
        if item is not DONE:  # the caller is gone: each resource ends at its next page
            raise ResourceError("run aborted", resource=item.resource)

    def _on_page(self, page: Page) -> None:
        if page.records and page.resource in self.selected:
            # packed at once, while the records are hot (see `pack_records`), or the body
            # as it came when it holds them as they are; the page keeps its `count`
            packed = pack_body(*page.raw) if page.raw is not None else None
            page.payload = packed if packed is not None else pack_records(page.records)
            page.records = []
        page.raw = None
        self._put(page)

    def _on_done(self, resource: str) -> None:
        if self._aborted:  # nobody reads the end marks any more
            return
        self._on_page(Page(resource, [], "", DONE_INDEX))

    async def _extract(self) -> dict[str, ResourceRun]:
        from restsync.extract._source import build_client

        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        cc = self.source.client_config
        async with build_client(cc, transport=self.transport) as client:
            state = await asyncio.wrap_future(self._state)
            extractor = Extractor(
                self.source.plans,
                client,
                client_config=cc,
                state=state,
                on_page=self._on_page,
                on_done=self._on_done,
            )
            self.extractor = extractor
            runs = await extractor.run()
            self.client_stats = dict(client.stats)
            return runs
