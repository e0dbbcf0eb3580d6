"""Table layout: a walked table state's columns typed and placed into the schema's columns
(variants, promotions, hints, `schema_contract`), its bookkeeping columns added, and the
Arrow table of the batch built in the schema's column order."""

from __future__ import annotations

import copy
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from restsync.errors import DataError
from restsync.schema._evolve import GroupLayout, SchemaChange, apply_layout, layout_group, place
from restsync.schema._infer import Observed, arrow_field, arrow_type, observe, observed
from restsync.schema._model import (
    DLT_ID,
    DLT_LIST_IDX,
    DLT_LOAD_ID,
    DLT_PARENT_ID,
    DLT_ROOT_ID,
    SEQ,
    Column,
    DataType,
    Schema,
    Table,
)
from restsync.schema._normalize import errors
from restsync.schema._normalize.enforce import ContractRules
from restsync.schema._normalize.ids import ids as make_ids
from restsync.schema._normalize.pages import DecimalJsonTypes
from restsync.schema._normalize.settings import Settings
from restsync.schema._normalize.state import TableState
from restsync.util.jsontext import json_text


class TableLayout:
    """Evolves one resource's tables with each batch; columns in the schema it started from
    are *locked* (they exist in the destination, see `evolve`)."""

    def __init__(
        self,
        settings: Settings,
        schema: Schema,
        changes: list[SchemaChange],
        rules: ContractRules,
        decimals: DecimalJsonTypes,
    ) -> None:
        self.settings = settings
        self.schema = schema
        self.changes = changes
        self.rules = rules
        self.decimals = decimals
        self.locked: dict[str, frozenset[str]] = {
            t.name: frozenset(t.columns) for t in schema.tables.values()
        }
        # (table, column group) that have seen ints a double cannot hold (see `infer`)
        self.exact: set[tuple[str, str]] = {
            (t.name, c.name) for t in schema.tables.values() for c in t.columns.values() if c.wide
        }

    def table(self, st: TableState) -> Table:
        """The schema's table of `st`, created (a `new_table` change) on first use."""
        t = self.schema.tables.get(st.name)
        if t is not None:
            return t
        s = self.settings
        parent = st.parent.name if st.parent is not None else None
        t = Table(
            name=st.name,
            resource=s.resource,
            parent=parent,
            write_disposition=s.write_disposition,
            primary_key=list(s.primary_key) if parent is None else [],
            merge_key=list(s.merge_key) if parent is None else [],
        )
        self.schema.tables[st.name] = t
        self.changes.append(SchemaChange("new_table", st.name))
        return t

    def place_columns(self, st: TableState, table: Table) -> dict[str, pa.Array]:
        """The batch's columns of `st` as the schema's columns (evolved to hold them)."""
        s = self.settings
        is_root = st.parent is None
        hints = s.hints.get(table.name, {}) if is_root else {}
        placed: dict[str, pa.Array] = {}
        seen_groups: set[str] = set()
        groups: dict[str, list[Column]] = {}
        for c in table.columns.values():
            groups.setdefault(c.variant_of or c.name, []).append(c)
        for name, col in st.cols.items():
            hint = hints.get(name)
            obs = _observe(col, hint)
            existing = groups.get(name, [])
            if len(existing) > 1:
                existing.sort(key=lambda c: c.variant_of is not None)
            if not obs.arrays:
                if existing:
                    seen_groups.add(name)
                if is_root and name in s.required:
                    errors.check_value(s, name, None, obs)
                continue
            if not self.rules.allow_column(st, table, name, obs, hint is not None):
                continue
            seen_groups.add(name)
            if obs.wide:
                self.exact.add((table.name, name))
                for c in existing:
                    if c.variant_of is None:
                        c.wide = True
            arrays = None
            if hint is None and len(existing) == 1:
                arrays = self._settled(existing[0], name, obs, is_root)
            if arrays is None:
                arrays = self._group(st, table, name, obs, existing, hint)
            placed.update(arrays)
        if is_root:
            self._root_hints(table, hints, seen_groups | set(st.cols))
        return placed

    def _settled(
        self, main: Column, name: str, obs: Observed, is_root: bool
    ) -> dict[str, pa.Array] | None:
        """A settled column: one type, the column's own; no layout to decide (None when
        the column group needs one)."""
        if len(obs.arrays) != 1:
            return None
        ((t, arr),) = obs.arrays.items()
        if not (
            main.data_type == t
            and main.variant_of is None
            and t != "decimal"
            and arr.type == arrow_type(t)
        ):
            return None
        if is_root:
            if name in self.settings.required:
                errors.check_value(self.settings, name, arr, obs)
            self._key_flags(main, name)
        return {name: arr}

    def _group(
        self,
        st: TableState,
        table: Table,
        name: str,
        obs: Observed,
        existing: list[Column],
        hint: Column | None,
    ) -> dict[str, pa.Array]:
        """Lay out the column group `name` for the types `obs` holds; its values placed."""
        s = self.settings
        is_root = st.parent is None
        locked = self.locked.get(table.name, frozenset())
        exact = (table.name, name) in self.exact
        if hint is not None and hint.data_type == "decimal":
            self.decimals.remember(table.name, name, obs)
        promote = s.contract.data_type == "evolve"

        def lay_out(spill: list[str]) -> GroupLayout:
            return layout_group(
                name,
                existing,
                obs.arrays.keys(),
                locked=locked,
                hint=hint,
                spill=spill,
                exact=exact,
                promote=promote,
            )

        layout = lay_out([])
        dec = obs.arrays.get("decimal")
        if dec is not None and dec.type.scale > 0:
            _widen_scale(layout.columns, dec.type.scale, locked, hint)
        arrays, failed = place(obs.arrays, obs.raw, layout, hinted=hint is not None)
        if failed:  # a hinted main column that cannot take them: variants
            layout = lay_out(failed)
            arrays, failed = place(obs.arrays, obs.raw, layout, hinted=hint is not None)
            if failed:
                raise DataError(
                    f"column '{name}' of table '{table.name}': {', '.join(failed)} values"
                    f" fit none of its columns ({', '.join(c.name for c in layout.columns)})",
                    resource=s.resource,
                )
        if is_root and name in s.primary_key:
            errors.check_key_variants(s, name, layout, arrays, st)
        self.rules.filter_variants(st, table, layout, arrays)
        main = layout.main
        required = is_root and name in s.required
        if required:
            errors.check_value(s, name, arrays.get(name), obs)
        main.nullable = not required
        if is_root:
            self._key_flags(main, name)
        apply_layout(table, layout, self.changes)
        if exact:
            table.columns[name].wide = True
        return arrays

    def _key_flags(self, main: Column, name: str) -> None:
        if name in self.settings.primary_key:
            main.primary_key = True
        if name in self.settings.merge_key:
            main.merge_key = True

    def _root_hints(self, table: Table, hints: dict[str, Column], filled: set[str]) -> None:
        """Hinted columns are created even when no record has them (as in dlt); a required
        column this batch did not fill is a `DataError`."""
        s = self.settings
        for name, hint in hints.items():
            if name not in table.columns:
                hinted = copy.copy(hint)
                hinted.nullable = name not in s.required
                table.columns[name] = hinted
                self.changes.append(SchemaChange("new_column", table.name, name, hinted.data_type))
        for name in sorted(s.required - filled):
            errors.check_value(s, name, None, None)


def bookkeeping(
    st: TableState,
    table: Table,
    ids_by_table: dict[str, pa.Array],
    root: str,
    *,
    merge: bool,
    load_id: str,
    seq_start: int,
) -> tuple[dict[str, pa.Array], pa.Array]:
    """The `_dlt_*` columns of the rows of `st` (created in `table` on first use) and their
    `_restsync_seq`; the rows' ids are kept in `ids_by_table` for their child rows."""
    assert st.w1 is not None
    assert st.w2 is not None
    n = st.n
    ids = make_ids(st.w1, st.w2)
    book: dict[str, pa.Array] = {DLT_ID: ids}
    if st.parent is None:
        book[DLT_LOAD_ID] = pa.array([load_id] * n, pa.string())
        seq = pa.array(range(seq_start, seq_start + n), pa.int64())
        _ensure(table, DLT_LOAD_ID, "text")
        _ensure(table, DLT_ID, "text")
    else:
        assert st.pidx is not None
        assert st.lidx is not None
        assert st.ridx is not None
        book[DLT_PARENT_ID] = ids_by_table[st.parent.name].take(st.pidx)
        book[DLT_LIST_IDX] = st.lidx
        _ensure(table, DLT_PARENT_ID, "text")
        _ensure(table, DLT_LIST_IDX, "bigint")
        _ensure(table, DLT_ID, "text")
        if merge:
            book[DLT_ROOT_ID] = ids_by_table[root].take(st.ridx)
            _ensure(table, DLT_ROOT_ID, "text")
        seq = pc.add(st.ridx, seq_start)
    ids_by_table[st.name] = ids
    return book, seq


def assemble(table: Table, columns: dict[str, pa.Array], seq: pa.Array, n: int) -> pa.Table:
    """The batch's Arrow table of `table`: its columns in the schema's order (nulls for the
    ones the batch has no values for), then `_restsync_seq`."""
    fields: list[pa.Field] = []
    arrays: list[pa.Array] = []
    for c in table.columns.values():
        a = columns.get(c.name)
        if a is None:
            a = pa.nulls(n, arrow_type(c.data_type, c.precision, c.scale))
        fields.append(arrow_field(c.name, c.data_type, True, c.precision, c.scale))
        arrays.append(a)
    fields.append(pa.field(SEQ, pa.int64(), False))
    arrays.append(seq)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _observe(values: Observed | list[Any], hint: Column | None) -> Observed:
    if isinstance(values, Observed):
        return values
    if hint is not None and hint.data_type == "json":
        texts = [None if v is None else json_text(v) for v in values]
        return observed({"json": pa.array(texts, pa.string())}, None, len(texts))
    return observe(values)


def _ensure(table: Table, name: str, data_type: DataType) -> None:
    if name not in table.columns:
        table.columns[name] = Column(name=name, data_type=data_type, nullable=False)


def _widen_scale(
    cols: list[Column], scale: int, locked: frozenset[str], hint: Column | None
) -> None:
    """Give an unlocked, unhinted decimal column the scale of the decimals it now receives."""
    for c in cols:
        if (
            c.data_type == "decimal"
            and c.name not in locked
            and not (hint is not None and c.variant_of is None)
            and (c.scale or 0) < scale
        ):
            c.scale = scale
