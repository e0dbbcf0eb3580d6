"""What a merge and a refresh do, as every destination reads them (dlt's meaning).

Merge strategies, for a root table (its child tables follow their root rows):

- `delete-insert`: the staged versions are deduplicated by primary key (the last one in the
  load wins, or the first by the `dedup_sort` column); the stored rows whose primary key or
  merge key appears among them are deleted, and the winners are inserted. With only a
  merge key, nothing is deduplicated: every stored row of a staged merge key goes, every
  staged row goes in.
- `upsert`: by primary key: a stored key gets the new version (with its child rows), a new
  key is inserted. No merge key.
- `insert-only`: by primary key: only keys not stored yet are inserted; stored rows and their
  child rows are never changed.
- `scd2`: `_dlt_id` is a hash of the row's content; the active stored rows (valid-to NULL or
  `active_record_timestamp`) whose hash is not staged are retired (valid-to := the boundary
  timestamp; with a merge key, only those whose merge key is staged); staged rows whose hash
  is not active are inserted, valid from the boundary. Child rows of new versions go in;
  stored child rows never change.

`hard_delete`: a winning version whose column is true (bool) or not null (other types) is
not inserted, and still deletes the stored rows of its key (delete-insert, upsert); under
insert-only it is only not inserted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from restsync.schema._model import DLT_ID, SEQ, Table

REFRESH_MODES = ("drop_sources", "drop_resources", "drop_data")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def boundary_of(load_id: str) -> datetime:
    """The load's boundary timestamp: the instant its id names (seconds since the epoch)."""
    try:
        return datetime.fromtimestamp(float(load_id), timezone.utc)
    except ValueError:
        return datetime.now(timezone.utc)


@dataclass
class MergePlan:
    """One root table's merge, with the SQL fragments both SQL engines (and DuckDB over
    Parquet) share."""

    strategy: str
    keys: list[str]  # the primary key (dedup and match); empty: none
    merge_key: list[str]
    hard_delete: str | None = None
    hard_delete_bool: bool = False
    dedup_sort: tuple[str, str] | None = None
    validity: tuple[str, str] = ("_dlt_valid_from", "_dlt_valid_to")
    active: str | None = None  # the active record timestamp (ISO), None: NULL
    boundary: str = ""
    version: str = DLT_ID

    @classmethod
    def of(cls, table: Table, load_id: str) -> MergePlan:
        h = table.write_hints
        hd = h.get("hard_delete")
        hd_col = table.columns.get(hd) if hd else None
        ds = h.get("dedup_sort")
        strategy = table.merge_strategy or "delete-insert"
        validity = h.get("validity_columns") or ["_dlt_valid_from", "_dlt_valid_to"]
        boundary = h.get("boundary_timestamp") or boundary_of(load_id).isoformat()
        return cls(
            strategy=strategy,
            keys=list(table.primary_key) if strategy != "scd2" else [],
            merge_key=list(table.merge_key) if strategy in ("delete-insert", "scd2") else [],
            hard_delete=hd if hd_col is not None else None,
            hard_delete_bool=hd_col is not None and hd_col.data_type == "bool",
            dedup_sort=(str(ds[0]), str(ds[1])) if ds and ds[0] in table.columns else None,
            validity=(str(validity[0]), str(validity[1])),
            active=h.get("active_record_timestamp"),
            boundary=str(boundary),
            version=str(h.get("row_version_column") or DLT_ID),
        )

    def order_sql(self) -> str:
        """The order of a key's staged versions, the winner first."""
        if self.dedup_sort:
            col, order = self.dedup_sort
            return f"{_q(col)} {order.upper()} NULLS LAST, {_q(SEQ)} ASC"
        return f"{_q(SEQ)} DESC"

    def deleted_sql(self, alias: str) -> str:
        """True for a row the hard_delete column marks deleted."""
        assert self.hard_delete is not None
        col = f"{alias}.{_q(self.hard_delete)}"
        return f"({col} IS TRUE)" if self.hard_delete_bool else f"({col} IS NOT NULL)"

    def match_sql(self, alias: str, staged: str) -> str:
        """True for a stored row (`alias`) the staged versions replace or delete."""
        parts = []
        for keys in (self.keys, self.merge_key):
            if keys:
                on = " AND ".join(f"{alias}.{_q(k)} = w.{_q(k)}" for k in keys)
                parts.append(f"EXISTS (SELECT 1 FROM {staged} AS w WHERE {on})")
        return "(" + " OR ".join(parts) + ")"

    def boundary_sql(self) -> str:
        return f"CAST('{self.boundary}' AS TIMESTAMPTZ)"

    def active_sql(self) -> str:
        return (
            f"CAST('{self.active}' AS TIMESTAMPTZ)" if self.active else "CAST(NULL AS TIMESTAMPTZ)"
        )

    def is_active_sql(self, alias: str) -> str:
        col = f"{alias}.{_q(self.validity[1])}"
        return f"{col} = {self.active_sql()}" if self.active else f"{col} IS NULL"


@dataclass
class RefreshPlan:
    """dlt's `refresh` for one run: which tables go (or are emptied, `drop_data`) and whose
    state is wiped, in the load's transaction."""

    mode: str
    tables: list[str] = field(default_factory=list)  # parents before children
    resources: list[str] = field(default_factory=list)


__all__ = ["REFRESH_MODES", "MergePlan", "RefreshPlan", "boundary_of"]
