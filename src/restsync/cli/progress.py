"""The live progress display of `restsync run`: one line per resource, redrawn 4 times a second.

Each line shows pages, records, records per second, retries, the time spent waiting on the
host's pacing (a rate limit, a 429's Retry-After, backoff) and, for a resource whose pages are
fetched ahead because the API told the page count or total, the pages read against that count.

The figures are read from the run as it goes (`watch(snapshot)`: the extraction's own counters),
so the screen moves even while the calling thread waits for the next page.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from restsync.extract._engine import ResourceRun
from restsync.pipeline._info import LoadInfo
from restsync.util.redact import redact_text

#: What `watch` is given: resource -> (its run, its HTTP counters or None), read live.
Snapshot = Callable[[], Mapping[str, tuple[ResourceRun, Any]]]


@dataclass
class Line:
    """One resource's figures as shown."""

    pages: int = 0
    records: int = 0
    retries: int = 0
    waited: float = 0.0
    total_pages: int | None = None
    started: float = 0.0
    finished: float = 0.0
    status: str = "waiting"
    error: str = ""


def bar(done: int, total: int, width: int = 12) -> str:
    """`done` of `total` as a text bar: `[#####-------] 12/30`."""
    total = max(total, 1)
    filled = min(width, round(width * min(done, total) / total))
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}"


def rate(records: int, started: float, until: float) -> str:
    """Records per second since `started`, as shown (`-` before the first second)."""
    elapsed = until - started
    if not started or elapsed < 0.5:
        return "-"
    per_second = records / elapsed
    return f"{per_second:,.0f}/s" if per_second >= 10 else f"{per_second:.1f}/s"


class RichProgress:
    """Renders the run on `console` (stderr), redrawn by rich's refresh thread."""

    def __init__(self, console: Console | None = None, refresh_per_second: float = 4) -> None:
        self.console = console or Console(stderr=True)
        self.lines: dict[str, Line] = {}
        self.live: Live | None = None
        self.phase = "extracting"
        self.refresh_per_second = refresh_per_second
        self._snapshot: Snapshot | None = None
        self._started = time.monotonic()

    # -- what the pipeline tells -----------------------------------------------------------
    def start(self, resources: list[str]) -> None:
        self._started = time.monotonic()
        self.lines = {r: Line() for r in resources}
        self.live = Live(
            console=self.console,
            get_renderable=self.render,
            auto_refresh=True,
            refresh_per_second=self.refresh_per_second,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.live.start(refresh=True)

    def watch(self, snapshot: Snapshot) -> None:
        """Read the figures from `snapshot` at every redraw."""
        self._snapshot = snapshot

    def page(self, resource: str, records: int, run: ResourceRun) -> None:
        self._take(resource, run, None)

    def resource_done(self, resource: str, run: ResourceRun) -> None:
        self._take(resource, run, None)
        self._refresh()

    def loading(self) -> None:
        self.phase = "loading"
        self._refresh()

    def done(self, info: LoadInfo) -> None:
        self.phase = "done" if info.loaded else "nothing loaded"
        self.stop()

    def stop(self, phase: str | None = None) -> None:
        """Draw the last state and stop redrawing (also on an interrupt: `phase`)."""
        if phase:
            self.phase = phase
            self._snapshot = None
            for line in self.lines.values():
                if line.status in ("waiting", "running"):
                    line.status = phase
        if self.live is not None:
            live, self.live = self.live, None
            live.refresh()
            live.stop()

    # -- rendering --------------------------------------------------------------------------
    def _refresh(self) -> None:
        if self.live is not None:
            self.live.refresh()

    def _take(self, name: str, run: ResourceRun, stats: Any) -> None:
        line = self.lines.setdefault(name, Line())
        line.pages, line.records = run.pages, run.records
        line.started, line.finished = run.started, run.finished
        line.total_pages = getattr(run, "total_pages", None)
        if stats is not None:
            line.retries = int(getattr(stats, "retries", 0) or 0)
            line.waited = float(getattr(stats, "throttled_seconds", 0.0) or 0.0) + float(
                getattr(stats, "backoff_seconds", 0.0) or 0.0
            )
        if run.error is not None:
            line.status = "failed"
            line.error = redact_text(str(run.error).splitlines()[0])[:80]
        elif run.finished:
            line.status = "done"
        elif run.started:
            line.status = "running"

    def _poll(self) -> None:
        if self._snapshot is None:
            return
        try:
            figures = dict(self._snapshot())
        except RuntimeError:  # the run's dicts changed while read: next redraw
            return
        for name, (run, stats) in figures.items():
            if name in self.lines:
                self._take(name, run, stats)

    def render(self) -> Table:
        """The table as drawn now."""
        self._poll()
        now = time.monotonic()
        elapsed = now - self._started
        table = Table(title=f"restsync: {self.phase} ({elapsed:.0f}s)", expand=False)
        for col, justify in (
            ("resource", "left"),
            ("pages", "right"),
            ("records", "right"),
            ("rate", "right"),
            ("retries", "right"),
            ("waited", "right"),
            ("status", "left"),
        ):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        for name, line in self.lines.items():
            table.add_row(
                name,
                str(line.pages),
                f"{line.records:,}",
                rate(line.records, line.started, line.finished or now),
                str(line.retries),
                f"{line.waited:.1f}s" if line.waited else "-",
                self._status(line),
            )
        return table

    @staticmethod
    def _status(line: Line) -> Text:
        if line.status == "failed":
            return Text(f"failed: {line.error}", style="red")
        if line.status == "done":
            return Text("done", style="green")
        if line.status == "running" and line.total_pages:
            return Text(bar(line.pages, line.total_pages))
        return Text(line.status)


def is_interactive() -> bool:
    return sys.stderr.isatty()
