"""A resource's write, as its config says: disposition, merge strategy and the column
hints that steer it (`write_settings`), read once the config is valid.

The load applies them (`restsync.load._hints.apply_write_settings`); validation refuses what
cannot hold before any request (`restsync.config._validate.write.write_problems`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from restsync.config._defaults import column_hints
from restsync.util.naming import normalize_path

__all__ = ["SCD2_KEYS", "VALID_FROM", "VALID_TO", "WriteSettings", "write_settings"]

#: dlt's names of the SCD2 validity columns.
VALID_FROM = "_dlt_valid_from"
VALID_TO = "_dlt_valid_to"
SCD2_KEYS = (
    "validity_column_names",
    "active_record_timestamp",
    "boundary_timestamp",
    "row_version_column_name",
)


@dataclass
class WriteSettings:
    """One resource's write: disposition, merge strategy, the column hints that steer it."""

    disposition: str = "append"
    strategy: str = "delete-insert"
    primary_key: list[str] = field(default_factory=list)
    merge_key: list[str] = field(default_factory=list)
    hints: dict[str, Any] = field(default_factory=dict)

    @property
    def scd2(self) -> bool:
        return self.disposition == "merge" and self.strategy == "scd2"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _timestamp(value: Any) -> str | None:
    """A dlt date(time) setting as an ISO-8601 UTC instant (a date is its midnight)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, date):
        ts = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"expected an ISO-8601 date or timestamp (e.g. '9999-12-31'), got {value!r}"
            ) from None
    else:
        raise ValueError(f"expected a date or timestamp, got {type(value).__name__}")
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).isoformat()


def write_settings(resource: Mapping[str, Any]) -> WriteSettings:
    """The write settings of one expanded resource dict (already validated)."""
    wd = resource.get("write_disposition", "append")
    spec: Mapping[str, Any] = wd if isinstance(wd, Mapping) else {"disposition": wd}
    out = WriteSettings(
        disposition=str(spec.get("disposition", "append")),
        primary_key=[normalize_path(k) for k in _as_list(resource.get("primary_key"))],
        merge_key=[normalize_path(k) for k in _as_list(resource.get("merge_key"))],
    )
    if out.disposition == "merge":
        out.strategy = str(spec.get("strategy") or "delete-insert")
    for name, h in column_hints(resource.get("columns")).items():
        col = normalize_path(name)
        if h.get("hard_delete") is True:
            out.hints["hard_delete"] = col
        if h.get("dedup_sort") in ("asc", "desc"):
            out.hints["dedup_sort"] = [col, str(h["dedup_sort"])]
        if h.get("primary_key") is True and col not in out.primary_key:
            out.primary_key.append(col)
        if h.get("merge_key") is True and col not in out.merge_key:
            out.merge_key.append(col)
    if out.scd2:
        names = spec.get("validity_column_names") or [VALID_FROM, VALID_TO]
        out.hints["validity_columns"] = [normalize_path(str(n)) for n in names]
        out.hints["active_record_timestamp"] = _timestamp(spec.get("active_record_timestamp"))
        out.hints["boundary_timestamp"] = _timestamp(spec.get("boundary_timestamp"))
        if spec.get("row_version_column_name"):
            out.hints["row_version_column"] = normalize_path(str(spec["row_version_column_name"]))
    return out
