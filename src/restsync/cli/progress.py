"""The live progress display of `restsync run`: one line per resource (pages, rows, retries)."""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from restsync.extract.engine import ResourceRun
from restsync.pipeline.info import LoadInfo


class RichProgress:
    """Renders the run on stderr; refreshed at most 8 times a second."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.rows: dict[str, dict[str, Any]] = {}
        self.live: Live | None = None
        self.phase = "extracting"
        self._last = 0.0

    def _render(self) -> Table:
        table = Table(title=f"restsync: {self.phase}", expand=False)
        for col in ("resource", "pages", "rows", "status"):
            table.add_column(col, justify="right" if col in ("pages", "rows") else "left")
        for name, row in self.rows.items():
            table.add_row(name, str(row["pages"]), str(row["rows"]), row["status"])
        return table

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.live and (force or now - self._last > 0.125):
            self._last = now
            self.live.update(self._render())

    def start(self, resources: list[str]) -> None:
        self.rows = {r: {"pages": 0, "rows": 0, "status": "running"} for r in resources}
        self.live = Live(self._render(), console=self.console, transient=False, auto_refresh=False)
        self.live.start()

    def page(self, resource: str, records: int, run: ResourceRun) -> None:
        row = self.rows.setdefault(resource, {"pages": 0, "rows": 0, "status": "running"})
        row["pages"] = run.pages
        row["rows"] += records
        self._refresh()

    def resource_done(self, resource: str, run: ResourceRun) -> None:
        if resource in self.rows:
            first = str(run.error).splitlines()[0] if run.error else ""
            self.rows[resource]["status"] = (
                f"[red]failed[/red]: {first[:80]}" if run.error else "[green]done"
            )
            self.rows[resource]["pages"] = run.pages
        self._refresh(force=True)

    def loading(self) -> None:
        self.phase = "loading"
        self._refresh(force=True)

    def done(self, info: LoadInfo) -> None:
        self.phase = "done"
        if self.live:
            self._refresh(force=True)
            self.live.stop()
            self.live = None

    def stop(self) -> None:
        if self.live:
            self.live.stop()
            self.live = None


def is_interactive() -> bool:
    return sys.stderr.isatty()
