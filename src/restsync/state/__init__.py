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
from typing import Any

from restsync.errors import LoadError
from restsync.schema._model import Schema

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


def parse_state(value: Any, where: str) -> dict[str, Any]:
    """One resource's stored state (JSON text or already parsed), or a `LoadError` naming
    `where` when the stored value is damaged (not JSON, or not an object)."""
    try:
        state = loads_json(value)
    except ValueError as exc:
        raise LoadError(f"{where}: the stored incremental state is not valid JSON ({exc})") from exc
    if not isinstance(state, dict):
        raise LoadError(
            f"{where}: the stored incremental state is a {type(state).__name__}, not an object"
        )
    return state


def parse_state_file(value: Any, where: str) -> dict[str, dict[str, dict[str, Any]]]:
    """A whole state document, pipeline -> resource -> {"state": ..., ...} (the Parquet
    destination's state file), checked the same way: damage is a `LoadError` naming `where`."""
    doc = parse_state(value, where)
    for pipeline, resources in doc.items():
        if not isinstance(resources, dict):
            raise LoadError(f"{where}: pipeline {pipeline!r} holds no resources object")
        for resource, entry in resources.items():
            if not isinstance(entry, dict) or "state" not in entry:
                raise LoadError(f"{where}: resource {resource!r} of {pipeline!r} has no state")
            parse_state(entry["state"], f"{where}: {pipeline}.{resource}")
    return doc


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


__all__ = [
    "COMMITTED",
    "dumps",
    "load_record",
    "loads_json",
    "parse_state",
    "parse_state_file",
    "schema_hash",
    "utcnow",
]
