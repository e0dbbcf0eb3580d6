"""The `Destination` protocol every destination module implements, and what it reports.

The load step defines it (it drives a destination through it); the destinations, above
the load in restsync's layers, implement it. `restsync.destinations._base` gives the same
names to whoever writes a destination.

A load drives a destination in this order, all inside one transaction:

    dest.open()
    dest.begin()
    dest.refresh(plan, pipeline)                  # only on a refresh run: drop / empty
    ddl = dest.ensure_tables(schema)              # create tables / add and promote columns
    for table in schema.tables.values():          # parents before children
        stats = dest.write(table, staged, load_id)
    dest.commit(state, load_record)               # state + load record + schema, then COMMIT
    # on any error: dest.rollback()

`write` takes the whole `StagedLoad` (not a list of files): it reads the table's batches
with `staged.read_table(table.name, table)`, already conformed to the final schema, and
implements the table's write disposition. To add a destination (ClickHouse, say), write
one module with a class that follows this protocol and register it in
`restsync.destinations._registry` under its URL scheme.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from restsync.schema._model import Schema, Table

if TYPE_CHECKING:
    from restsync.load._merge import RefreshPlan
    from restsync.stage._writer import StagedLoad

# restsync's bookkeeping tables, next to the data tables in the dataset.
STATE_TABLE = "_restsync_state"
LOADS_TABLE = "_restsync_loads"
SCHEMA_TABLE = "_restsync_schema"
BOOKKEEPING_TABLES = (STATE_TABLE, LOADS_TABLE, SCHEMA_TABLE)


@dataclass
class TableLoadStats:
    """What `write` did to one table.

    `inserted`: rows added for new keys (append/replace: every row written);
    `updated`: under merge, stored rows whose key came again (replaced by the new version);
    `deleted`: rows removed without a new version (replace emptying the table, child rows
    of replaced parents, hard deletes, rows of a merge key); under scd2, rows retired.
    """

    table: str
    write_disposition: str
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "write_disposition": self.write_disposition,
            "inserted": self.inserted,
            "updated": self.updated,
            "deleted": self.deleted,
        }


@dataclass
class TableInfo:
    """A data table as `show` reports it."""

    name: str
    rows: int
    columns: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DestinationInfo:
    """Everything `restsync show` prints about a destination's dataset."""

    destination: str
    dataset: str
    tables: list[TableInfo]
    loads: list[dict[str, Any]]
    state: dict[str, dict[str, dict[str, Any]]]  # pipeline -> resource -> state
    schema: Schema | None


@runtime_checkable
class Destination(Protocol):
    """A place restsync loads into: one dataset (schema / folder) of a database or filesystem.

    Every method between `begin` and `commit` belongs to one transaction; `rollback`
    leaves the dataset exactly as `begin` found it. `write` and `commit` do nothing for a
    load id the destination already committed, so running a committed stage again is safe.
    """

    name: str
    dataset_name: str

    def open(self) -> None:
        """Connect (and finish or undo a commit a crash interrupted, where that applies)."""
        ...

    def stored_schema(self) -> Schema | None:
        """The schema stored by the last committed load, or None."""
        ...

    def stored_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        """The committed incremental state of `pipeline`: resource -> state."""
        ...

    def is_committed(self, load_id: str) -> bool:
        """Whether `load_id` was already committed here."""
        ...

    def begin(self) -> None:
        """Start the load's transaction."""
        ...

    def refresh(self, plan: RefreshPlan, pipeline: str) -> list[str]:
        """dlt's `refresh`: drop the plan's tables (`drop_data`: empty them) and wipe the
        state of its resources (`drop_sources`: all of `pipeline`'s), in the transaction."""
        ...

    def ensure_tables(self, schema: Schema) -> list[str]:
        """Create tables, add columns, promote bigint to double; returns the DDL applied."""
        ...

    def write(self, table: Table, staged: StagedLoad, load_id: str) -> TableLoadStats:
        """Write the staged rows of `table` with its write disposition."""
        ...

    def commit(self, state: dict[str, dict[str, Any]], load_record: dict[str, Any]) -> None:
        """Store the state, the load record and the schema with the rows, then commit."""
        ...

    def rollback(self) -> None:
        """Undo everything since `begin`."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...

    def show(self) -> DestinationInfo:
        """Tables with row counts, recent loads, state and stored schema, for `restsync show`."""
        ...

    def datasets(self) -> dict[str, list[str]]:
        """Every restsync dataset this destination holds (whatever `dataset_name` says), each
        with the pipelines that loaded into it or keep state there, sorted; reads only."""
        ...
