"""`LoadInfo`: what one `pipeline.run` did, for people and for schedulers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson


@dataclass
class ResourceInfo:
    """One resource's extraction figures."""

    name: str
    pages: int = 0
    records: int = 0
    requests: int = 0
    retries: int = 0
    bytes: int = 0
    throttled_seconds: float = 0.0
    duration: float = 0.0
    error: str | None = None
    cursor: Any = None
    #: Guesses restsync made for this resource (auto-detected pagination, page base, ...).
    warnings: list[str] = field(default_factory=list)
    #: How the pagination was auto-detected: the paginator chosen and the evidence.
    pagination: dict[str, Any] | None = None


@dataclass
class TableInfo:
    """One destination table's load figures."""

    name: str
    resource: str
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


@dataclass
class LoadInfo:
    """The outcome of `Pipeline.run`: rows per table, pages, retries, bytes, duration,
    schema changes and the errors of resources that failed."""

    pipeline: str
    destination: str
    dataset: str
    load_id: str
    started_at: str
    duration: float = 0.0
    resources: dict[str, ResourceInfo] = field(default_factory=dict)
    tables: dict[str, TableInfo] = field(default_factory=dict)
    schema_changes: list[str] = field(default_factory=list)
    ddl: list[str] = field(default_factory=list)  # statements the destination ran
    loaded: bool = False

    @property
    def failed_resources(self) -> dict[str, str]:
        return {n: r.error for n, r in self.resources.items() if r.error}

    @property
    def has_failures(self) -> bool:
        return bool(self.failed_resources)

    @property
    def nothing_loaded(self) -> bool:
        """No resource's rows or state reached the destination (every one failed, or the
        load did not happen)."""
        return not self.loaded or (
            bool(self.resources) and len(self.failed_resources) == len(self.resources)
        )

    @property
    def outcome(self) -> str:
        """What the summary's first line says happened to the load."""
        failed, total = len(self.failed_resources), len(self.resources)
        took = f"{self.duration:.2f}s"
        if not self.loaded:
            return f"NOT loaded: nothing was loaded ({took})"
        if total and failed == total:
            return f"NOT loaded: every resource failed ({failed}), nothing was loaded ({took})"
        if failed:
            return (
                f"partly loaded in {took}: {total - failed} of {total} resources, {failed} "
                "failed (none of their rows or state)"
            )
        return f"loaded in {took}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed_resources"] = self.failed_resources
        d["nothing_loaded"] = self.nothing_loaded
        return d

    def to_json(self) -> str:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2, default=str).decode()

    def __str__(self) -> str:
        total_rows = sum(t.inserted + t.updated for t in self.tables.values())
        total_records = sum(r.records for r in self.resources.values())
        pages = sum(r.pages for r in self.resources.values())
        retries = sum(r.retries for r in self.resources.values())
        nbytes = sum(r.bytes for r in self.resources.values())
        lines = [
            f"pipeline '{self.pipeline}' -> {self.destination} dataset '{self.dataset}': "
            f"load {self.load_id} {self.outcome}",
            f"  {total_records} records from {pages} pages ({nbytes / 1e6:.1f} MB, "
            f"{retries} retries) -> {total_rows} rows in {len(self.tables)} tables",
        ]
        for t in self.tables.values():
            extra = f", {t.updated} updated" if t.updated else ""
            lines.append(f"  table {t.name}: {t.inserted} inserted{extra}")
        for name, err in self.failed_resources.items():
            first, *rest = err.splitlines()
            lines.append(f"  FAILED resource '{name}': {first}")
            lines.extend(f"    {r.strip()}" for r in rest)
        for name, res in self.resources.items():
            lines.extend(f"  WARNING resource '{name}': {w}" for w in res.warnings)
        if self.schema_changes:
            lines.append(f"  schema changes: {len(self.schema_changes)}")
            lines.extend(f"    {c}" for c in self.schema_changes[:20])
            if len(self.schema_changes) > 20:
                lines.append(f"    ... {len(self.schema_changes) - 20} more")
        return "\n".join(lines)
