"""Incremental state and load records: their shape, shared by every destination.

State is stored per pipeline and resource in `_restsync_state` (one row each, replaced on
every load: the table never grows with the number of runs). Each load leaves one row in
`_restsync_loads`. Both are written in the load's transaction, so the stored cursor never
points past the stored rows.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Protocol

from restsync.schema.model import Schema


class StateStore(Protocol):
    """What reading state needs of a destination (every `Destination` is one)."""

    def stored_state(self, pipeline: str) -> dict[str, dict[str, Any]]: ...


COMMITTED = "committed"


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(timezone.utc)


def dumps(value: Any) -> str:
    """Stable JSON text for state, row counts and schemas (sorted keys)."""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def loads_json(value: Any) -> Any:
    """Parse JSON text a driver returned (some return it already parsed)."""
    if isinstance(value, (str, bytes, bytearray)):
        return json.loads(value)
    return value


def schema_hash(schema: Schema) -> str:
    """A content hash of `schema` (without its version number), to store only changes."""
    d = schema.to_dict()
    d.pop("version", None)
    return hashlib.sha256(dumps(d).encode()).hexdigest()[:32]


def load_record(
    *,
    load_id: str,
    pipeline: str,
    started_at: datetime,
    rows: dict[str, Any],
    finished_at: datetime | None = None,
    status: str = COMMITTED,
) -> dict[str, Any]:
    """The record `commit` stores in `_restsync_loads`."""
    return {
        "load_id": load_id,
        "pipeline": pipeline,
        "started_at": started_at,
        "finished_at": finished_at or utcnow(),
        "status": status,
        "rows": rows,
    }


def get_state(destination: StateStore, pipeline: str) -> dict[str, dict[str, Any]]:
    """The committed incremental state of `pipeline` in `destination`: resource -> state."""
    return destination.stored_state(pipeline)


def get_resource_state(destination: StateStore, pipeline: str, resource: str) -> dict[str, Any]:
    """One resource's committed state (empty when it never loaded)."""
    return destination.stored_state(pipeline).get(resource, {})


__all__ = [
    "COMMITTED",
    "StateStore",
    "dumps",
    "get_resource_state",
    "get_state",
    "load_record",
    "loads_json",
    "schema_hash",
    "utcnow",
]
