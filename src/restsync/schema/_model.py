"""The schema data model shared by normalization, staging and every destination.

A `Schema` holds `Table`s; a `Table` holds `Column`s in order. Types are restsync's own
small vocabulary (`DataType`); each destination maps them to its SQL or Arrow types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

DataType = Literal["bigint", "double", "decimal", "bool", "text", "timestamp", "date", "json"]
DATA_TYPES: tuple[str, ...] = get_args(DataType)

WriteDisposition = Literal["append", "replace", "merge", "skip"]

# Bookkeeping columns, named as dlt names them so SQL written for dlt keeps working.
DLT_ID = "_dlt_id"
DLT_LOAD_ID = "_dlt_load_id"
DLT_PARENT_ID = "_dlt_parent_id"
DLT_LIST_IDX = "_dlt_list_idx"
DLT_ROOT_ID = "_dlt_root_id"
# Staged only, never stored: the ordinal of the root record within a load, so that the
# loader keeps the last version of a key (and that version's child rows) under merge.
SEQ = "_restsync_seq"
#: A decimal column's precision and scale when its hint gives none.
DEFAULT_PRECISION = 38
DEFAULT_SCALE = 9


@dataclass
class Column:
    """One column: its name in the destination, its type and its hints."""

    name: str
    data_type: DataType
    nullable: bool = True
    primary_key: bool = False
    merge_key: bool = False
    precision: int | None = None
    scale: int | None = None
    # Set on a variant column (`price__v_text`): the column whose values did not fit.
    variant_of: str | None = None
    # Set on a main column whose group has held ints beyond +-2**53, which a double would
    # round: such a bigint column is never promoted to double (see `evolve`).
    wide: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "data_type": self.data_type}
        if not self.nullable:
            d["nullable"] = False
        for key in ("primary_key", "merge_key", "wide"):
            if getattr(self, key):
                d[key] = True
        for key in ("precision", "scale", "variant_of"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Column:
        return cls(
            name=d["name"],
            data_type=d["data_type"],
            nullable=d.get("nullable", True),
            primary_key=d.get("primary_key", False),
            merge_key=d.get("merge_key", False),
            precision=d.get("precision"),
            scale=d.get("scale"),
            variant_of=d.get("variant_of"),
            wide=d.get("wide", False),
        )


@dataclass
class Table:
    """A destination table: a resource's root table or one of its child (list) tables."""

    name: str
    resource: str
    columns: dict[str, Column] = field(default_factory=dict)
    parent: str | None = None  # the parent table's name, for child tables
    write_disposition: WriteDisposition = "append"
    primary_key: list[str] = field(default_factory=list)
    merge_key: list[str] = field(default_factory=list)
    # column -> the source keys (the path of raw JSON keys from the table's object) it holds;
    # stored with the schema so that a key keeps its column in every later run
    source_keys: dict[str, list[str]] = field(default_factory=dict)
    #: How a merge writes (dlt's strategies): delete-insert, upsert, insert-only, scd2.
    merge_strategy: str = "delete-insert"
    #: Write settings beyond the disposition, as `restsync.config._write` resolves them from
    #: the config: `hard_delete` (column), `dedup_sort` ([column, "asc"|"desc"]), and for
    #: scd2 `validity_columns` ([from, to]), `active_record_timestamp`,
    #: `row_version_column`, `boundary_timestamp`. Empty when none applies.
    write_hints: dict[str, Any] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.parent is None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "resource": self.resource,
            "write_disposition": self.write_disposition,
            "columns": [c.to_dict() for c in self.columns.values()],
        }
        if self.parent:
            d["parent"] = self.parent
        if self.primary_key:
            d["primary_key"] = list(self.primary_key)
        if self.merge_key:
            d["merge_key"] = list(self.merge_key)
        if self.source_keys:
            d["source_keys"] = {k: list(v) for k, v in self.source_keys.items()}
        if self.merge_strategy != "delete-insert":
            d["merge_strategy"] = self.merge_strategy
        if self.write_hints:
            d["write_hints"] = dict(self.write_hints)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Table:
        return cls(
            name=d["name"],
            resource=d["resource"],
            columns={c["name"]: Column.from_dict(c) for c in d.get("columns", [])},
            parent=d.get("parent"),
            write_disposition=d.get("write_disposition", "append"),
            primary_key=list(d.get("primary_key", [])),
            merge_key=list(d.get("merge_key", [])),
            source_keys={k: list(v) for k, v in d.get("source_keys", {}).items()},
            merge_strategy=d.get("merge_strategy", "delete-insert"),
            write_hints=dict(d.get("write_hints", {})),
        )


@dataclass
class Schema:
    """All tables of one pipeline's dataset, in creation order (parents before children)."""

    name: str
    tables: dict[str, Table] = field(default_factory=dict)
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "tables": [t.to_dict() for t in self.tables.values()],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Schema:
        return cls(
            name=d["name"],
            version=d.get("version", 1),
            tables={t["name"]: Table.from_dict(t) for t in d.get("tables", [])},
        )
