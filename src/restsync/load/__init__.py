"""The load step: a complete stage into a destination, in one transaction.

    staged = open_stage(stage_dir)
    stats = load_stage(destination, staged, "shop")

`load_stage` runs begin -> ensure_tables -> write (parents before children) -> commit
(state + load record with the rows). On any error it rolls back and raises `LoadError`:
nothing of the load remains, and the stage can be loaded again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from restsync.errors import LoadError
from restsync.faultpoints import checkpoint
from restsync.load._destination import Destination, DestinationInfo, TableInfo, TableLoadStats
from restsync.load._merge import RefreshPlan
from restsync.schema._model import Schema, Table
from restsync.state import load_record, utcnow

if TYPE_CHECKING:
    from restsync.stage._writer import StagedLoad


@dataclass
class LoadStats:
    """What one load did: per table stats, the DDL applied, and whether it was skipped.

    `skipped` is true when the destination had already committed this load id (a stage
    loaded again after a crash between COMMIT and the stage's removal).
    """

    load_id: str
    pipeline: str
    destination: str
    tables: dict[str, TableLoadStats] = field(default_factory=dict)
    ddl: list[str] = field(default_factory=list)
    skipped: bool = False

    @property
    def rows(self) -> dict[str, int]:
        """Rows written per table (inserted + updated)."""
        return {n: s.inserted + s.updated for n, s in self.tables.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_id": self.load_id,
            "pipeline": self.pipeline,
            "destination": self.destination,
            "skipped": self.skipped,
            "ddl": list(self.ddl),
            "tables": {n: s.to_dict() for n, s in self.tables.items()},
        }


def tables_to_write(schema: Schema, staged: StagedLoad) -> list[Table]:
    """The tables a load touches, parents before children.

    A table with staged rows; and every table of a replace resource that ran (its tables
    are emptied even when this run returned no rows for them), and every child table of a
    merge root with staged rows (child rows of replaced parents go away).
    """
    ran = set(staged.resources)
    out: list[Table] = []
    for table in schema.tables.values():
        root = table
        while root.parent is not None and root.parent in schema.tables:
            root = schema.tables[root.parent]
        if root.write_disposition == "skip":
            continue  # dlt's `skip`: nothing of it is loaded
        replaced = root.write_disposition == "replace" and root.resource in ran
        merged = root.write_disposition == "merge" and staged.rows(root.name) > 0
        if staged.rows(table.name) or replaced or merged:
            out.append(table)
    return out


def load_stage(
    destination: Destination,
    staged: StagedLoad,
    pipeline_name: str,
    refresh: RefreshPlan | None = None,
) -> LoadStats:
    """Load a complete stage into `destination` in one transaction; see the module docstring.

    Raises:
        LoadError: the destination refused the load; it was rolled back.
    """
    schema = staged.schema
    stats = LoadStats(staged.load_id, pipeline_name, getattr(destination, "name", "?"))
    started = utcnow()
    destination.open()
    if destination.is_committed(staged.load_id):
        stats.skipped = True
        return stats
    step = "begin"
    current: str | None = None
    try:
        destination.begin()
        checkpoint("load_begin")
        if refresh is not None:
            step = "refresh"
            stats.ddl = destination.refresh(refresh, pipeline_name)
            checkpoint("load_refresh")
        step = "ensure_tables"
        stats.ddl += destination.ensure_tables(schema)
        step = "write"
        for table in tables_to_write(schema, staged):
            current = table.name
            stats.tables[table.name] = destination.write(table, staged, staged.load_id)
            checkpoint("load_table")
        current = None
        step = "commit"
        _commit(destination, staged, pipeline_name, started, stats.tables)
    except BaseException as exc:
        with contextlib.suppress(Exception):  # the original error is the one to report
            destination.rollback()
        if not isinstance(exc, Exception):
            raise
        raise _load_failed(exc, staged.load_id, stats.destination, step, current) from exc
    checkpoint("after_commit")
    return stats


def _commit(
    destination: Destination,
    staged: StagedLoad,
    pipeline_name: str,
    started: datetime,
    tables: dict[str, TableLoadStats],
) -> None:
    """Commit the load's state and its load record (with the rows written per table)."""
    record = load_record(
        load_id=staged.load_id,
        pipeline=pipeline_name,
        started_at=started,
        rows={n: s.to_dict() for n, s in tables.items()},
    )
    checkpoint("before_commit")
    destination.commit(staged.state, record)


def _load_failed(
    exc: Exception, load_id: str, destination: str, step: str, table: str | None
) -> LoadError:
    """The `LoadError` for a load that failed at `step` (writing `table`) and was rolled back."""
    where = f" table '{table}'" if table else ""
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, LoadError):
        detail = str(exc)
    msg = (
        f"load {load_id} into {destination}{where} failed at {step}: {detail}\n"
        "  rolled back, nothing of this load was stored; the stage is kept: fix the cause "
        "and run again"
    )
    return LoadError(msg)


__all__ = [
    "Destination",
    "DestinationInfo",
    "LoadStats",
    "RefreshPlan",
    "TableInfo",
    "TableLoadStats",
    "load_stage",
    "tables_to_write",
]
