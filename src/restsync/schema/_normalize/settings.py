"""What one resource's normalizer is set up with: its table, keys, nesting, contract and
column hints, read once from the resource's options."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from restsync.schema._contract import Contract, contract_of
from restsync.schema._evolve import SchemaChange
from restsync.schema._model import Column, DataType, Schema, WriteDisposition
from restsync.schema._naming import normalize_path, shorten_identifier
from restsync.schema._normalize.state import BOOKKEEPING

DEFAULT_MAX_NESTING = 20
_MAX_NESTING_CAP = 200


@dataclass
class Settings:
    """One resource's normalization settings (names already normalized)."""

    resource: str
    table_name: str
    write_disposition: WriteDisposition
    primary_key: list[str]
    merge_key: list[str]
    max_nesting: int
    contract: Contract
    #: SCD2: a root row's `_dlt_id` is a hash of the record's content (as dlt's row hash)
    row_hash: bool = False
    #: table -> column -> the hinted column (`columns` hints with a data type)
    hints: dict[str, dict[str, Column]] = field(default_factory=dict)
    #: root columns stored as JSON text (hinted `json`)
    json_paths: set[str] = field(default_factory=set)
    #: root columns that must hold a value in every record (`nullable: false`, keys)
    required: set[str] = field(default_factory=set)

    @property
    def merge(self) -> bool:
        return self.write_disposition == "merge"


def settings_of(
    resource: str,
    table_name: str,
    *,
    write_disposition: WriteDisposition,
    primary_key: Sequence[str] | str,
    merge_key: Sequence[str] | str,
    columns: Mapping[str, Mapping[str, Any]] | None,
    max_table_nesting: int | None,
    schema_contract: Any,
    row_hash: bool,
) -> Settings:
    """The `Settings` of a resource's options; `columns` hints are keyed by column name."""
    table = shorten_identifier(normalize_path(table_name))
    pk = [primary_key] if isinstance(primary_key, str) else list(primary_key)
    mk = [merge_key] if isinstance(merge_key, str) else list(merge_key)
    s = Settings(
        resource=resource,
        table_name=table,
        write_disposition=write_disposition,
        primary_key=[normalize_path(k) for k in pk],
        merge_key=[normalize_path(k) for k in mk],
        max_nesting=min(
            DEFAULT_MAX_NESTING if max_table_nesting is None else max(0, max_table_nesting),
            _MAX_NESTING_CAP,
        ),
        contract=contract_of(schema_contract),
        row_hash=row_hash,
        hints={table: {}},
    )
    _read_hints(s, columns or {})
    return s


def _read_hints(s: Settings, columns: Mapping[str, Mapping[str, Any]]) -> None:
    for raw_name, h in columns.items():
        name = normalize_path(raw_name)
        dt = h.get("data_type")
        col = Column(
            name=name,
            data_type=cast(DataType, dt or "text"),
            nullable=h.get("nullable", True),
            primary_key=bool(h.get("primary_key", False)),
            merge_key=bool(h.get("merge_key", False)),
            precision=h.get("precision"),
            scale=h.get("scale"),
        )
        if dt:
            s.hints[s.table_name][name] = col
            if dt == "json":
                s.json_paths.add(name)
        if col.primary_key and name not in s.primary_key:
            s.primary_key.append(name)
        if col.merge_key and name not in s.merge_key:
            s.merge_key.append(name)
        if h.get("nullable") is False:
            s.required.add(name)
    # as in dlt, a key column (primary or merge key) is NOT NULL unless its hint says it
    # is nullable
    nullable_hints = {normalize_path(k) for k, h in columns.items() if h.get("nullable")}
    keys = [*s.primary_key, *s.merge_key]
    s.required.update(k for k in keys if k not in nullable_hints)


def relax(schema: Schema, s: Settings, changes: list[SchemaChange]) -> None:
    """Columns are nullable unless required: a stored column of this resource that is
    NOT NULL (as restsync made them before it followed dlt) without being required
    becomes nullable (the destination drops the constraint)."""
    for t in schema.tables.values():
        if t.resource != s.resource:
            continue
        required = s.required if t.name == s.table_name else set()
        for c in t.columns.values():
            if not c.nullable and c.name not in BOOKKEEPING and c.name not in required:
                c.nullable = True
                changes.append(SchemaChange("nullable", t.name, c.name))
