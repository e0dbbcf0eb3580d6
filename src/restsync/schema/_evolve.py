"""Schema evolution: how a column's type, variants and nullability change as data arrives.

A *column group* is a main column `c` and its variant columns `c__v_<type>`. Its layout is a
function of the **set** of types seen for it (see `restsync.schema._infer` for the families
and the precedence), so evolution is a join: the final schema does not depend on the order
in which batches arrive.

* main column: the family with the best precedence (number > bool > string > json), with
  the widest type seen in it (bigint < decimal < double; date < timestamp < text);
* a double main column never takes a number it would round: decimals, and ints beyond
  +-2**53 (`exact=True`: such ints were seen in this group), go to `c__v_decimal`;
* one variant column per other family seen, with that family's widest type;
* a `columns` hint fixes the main column's type (values are cast to it; those that cannot
  be cast go to a variant);
* a *locked* column (one that existed when the `Normalizer` was created, i.e. is already in
  the destination) keeps its type; the one safe promotion applied to it is bigint -> double,
  and only while no int beyond +-2**53 was ever stored in it (`Column.wide`, kept with the
  schema): a stored value is never rewritten lossily, so doubles then go to `c__v_double`.
  Other values go to variants.

Nullability, as in dlt: every column is nullable except those the normalizer requires (a
`columns` hint with `nullable: false`, a primary-key column), where a missing value is an
error (`Normalizer`). Variant columns are always nullable.

`conform(table, table_schema)` casts an Arrow table produced under an earlier schema to the
final one: missing columns become nulls, bigint -> double (and other widenings) are cast,
and values whose type became a variant move there.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc

from restsync.schema._infer import (
    FAMILY,
    FAMILY_PRECEDENCE,
    INFERRED_DECIMAL_PRECISION,
    WIDTH,
    absorbs,
    arrow_field,
    arrow_type,
    data_type_of_field,
    join_types,
    wide_mask,
)
from restsync.schema._model import SEQ, Column, DataType, Schema, Table
from restsync.schema._naming import VARIANT_SEPARATOR, variant_name


@dataclass(frozen=True)
class SchemaChange:
    """One change to the schema, for LoadInfo.

    `kind` is one of: `new_table`, `new_column`, `variant_column`, `promotion`,
    `name_collision`, `nullable`, `dropped_variant` (an unlocked variant widened into
    another, e.g. `c__v_date` -> `c__v_text`), `table_clash` (lists whose child table name
    is another list's table: stored as JSON text in `column` of `table`; see `normalize`).
    """

    kind: str
    table: str
    column: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.kind}: {where}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class GroupLayout:
    """The columns of one group after a batch: main first, then variants."""

    main: Column
    variants: list[Column] = field(default_factory=list)

    @property
    def columns(self) -> list[Column]:
        return [self.main, *self.variants]


def base_of(name: str, col: Column | None = None) -> str:
    """The group (main column) name of a column."""
    if col is not None:
        return col.variant_of or col.name
    return name.split(VARIANT_SEPARATOR)[0] if VARIANT_SEPARATOR in name else name


def _fixed_main(
    base: str, old_main: Column | None, locked: frozenset[str] | set[str], hint: Column | None
) -> Column | None:
    """The main column whose type is fixed (by a `columns` hint or a lock), as a copy."""
    if hint is not None:
        fixed = copy.copy(hint)
        fixed.name = base
        fixed.variant_of = None
        fixed.nullable = hint.nullable
        return fixed
    if old_main is not None and old_main.name in locked:
        return copy.copy(old_main)
    return None


def _group_types(
    existing: list[Column],
    observed: Iterable[str],
    locked: frozenset[str] | set[str],
    hint: Column | None,
) -> set[str]:
    """The types the group must hold: those observed and those of its unlocked columns
    (not the main's when a hint fixes it)."""
    types: set[str] = set(observed)
    for c in existing:
        if c.name not in locked and not (hint is not None and c.variant_of is None):
            types.add(c.data_type)
    return types


def _layout_fixed_main(
    main: Column,
    types: set[str],
    *,
    hint: Column | None,
    spilled: set[str],
    exact: bool,
    promote: bool,
) -> tuple[Column, set[str]]:
    """A fixed main column (a bigint promoted to double when safe), and the types it cannot
    take, which go to variants."""
    if hint is None and promote and main.data_type == "bigint" and "double" in types and not exact:
        # the one safe promotion: no stored value changes (no int beyond +-2**53 seen)
        main = copy.copy(main)
        main.data_type = "double"
    rest: set[str] = set()
    for t in types:
        if hint is not None:
            if t in spilled or (FAMILY[t] == "json" and main.data_type != "json"):
                rest.add(t)
        elif not absorbs(main.data_type, t):
            rest.add(t)
    return main, rest


def _layout_free_main(
    base: str, types: set[str], old_main: Column | None
) -> tuple[Column, set[str]]:
    """A main column of the widest type of the highest-precedence family (keeping the old
    main's flags), and the types of the other families, which go to variants."""
    by_family: dict[str, str] = {}
    for t in types:
        f = FAMILY[t]
        by_family[f] = join_types(by_family[f], t) if f in by_family else t
    if not by_family:
        raise ValueError(f"column group '{base}' has no type")
    fam = min(by_family, key=FAMILY_PRECEDENCE.__getitem__)
    main_type = by_family[fam]
    main = Column(name=base, data_type=cast(DataType, main_type))
    if old_main is not None:
        main.nullable = old_main.nullable
        main.primary_key = old_main.primary_key
        main.merge_key = old_main.merge_key
        if old_main.data_type == main_type:
            main.precision, main.scale = old_main.precision, old_main.scale
    return main, {t for t in types if FAMILY[t] != fam}


def _variant_types(
    rest: set[str],
    fixed_variants: list[Column],
    main: Column,
    *,
    hint: Column | None,
    spilled: set[str],
) -> dict[str, str]:
    """The new variants' types by family (`spill:<type>` for a spilled type of the hinted
    main's family), the types a locked variant already takes left out."""
    leftover: dict[str, str] = {}
    for t in rest:
        if any(v.data_type == t or absorbs(v.data_type, t) for v in fixed_variants):
            continue
        f = FAMILY[t]
        if t in spilled and hint is not None and FAMILY[t] == FAMILY[main.data_type]:
            f = "spill:" + t
        leftover[f] = join_types(leftover[f], t) if f in leftover else t
    return leftover


def _group_variants(
    base: str, fixed_variants: list[Column], leftover: dict[str, str]
) -> list[Column]:
    """The locked variants, then one new variant per family of `leftover` (by precedence)."""
    variants: list[Column] = list(fixed_variants)
    for f in sorted(leftover, key=lambda k: (FAMILY_PRECEDENCE.get(k, 9), k)):
        t = leftover[f]
        name = variant_name(base, t)
        if any(v.name == name for v in variants):
            continue
        variants.append(Column(name=name, data_type=cast(DataType, t), variant_of=base))
    return variants


def layout_group(
    base: str,
    existing: list[Column],
    observed: Iterable[str],
    *,
    locked: frozenset[str] | set[str] = frozenset(),
    hint: Column | None = None,
    spill: Iterable[str] = (),
    exact: bool = False,
    promote: bool = True,
) -> GroupLayout:
    """Decide the columns of group `base` from what exists and the types now observed.

    `existing` are the group's current columns (main first); `locked` the names of those that
    must keep their type; `hint` a `columns` hint fixing the main type; `spill` types that a
    hinted main column could not take (cast failed) and that go to variants; `exact` that the
    group has seen ints a double cannot hold (they need a decimal variant under a double);
    `promote` False keeps a locked bigint a bigint even then (`schema_contract` data_type).
    """
    old_main = next((c for c in existing if c.variant_of is None), None)
    fixed_main = _fixed_main(base, old_main, locked, hint)
    fixed_variants = [
        copy.copy(c) for c in existing if c.variant_of is not None and c.name in locked
    ]
    types = _group_types(existing, observed, locked, hint)
    spilled = set(spill)
    if fixed_main is not None:
        main, rest = _layout_fixed_main(
            fixed_main, types, hint=hint, spilled=spilled, exact=exact, promote=promote
        )
    else:
        main, rest = _layout_free_main(base, types, old_main)
    if main.data_type == "double" and (exact or "decimal" in types):
        rest.add("decimal")
    leftover = _variant_types(rest, fixed_variants, main, hint=hint, spilled=spilled)
    variants = _group_variants(base, fixed_variants, leftover)
    for c in (main, *variants):
        if c.data_type == "decimal" and c.precision is None:
            c.precision, c.scale = INFERRED_DECIMAL_PRECISION, 0
    if variants:
        main.nullable = True
    return GroupLayout(main, variants)


def group_columns(table: Table, base: str) -> list[Column]:
    """The existing columns of group `base` in `table`, main first."""
    out = [c for c in table.columns.values() if c.name == base or c.variant_of == base]
    out.sort(key=lambda c: c.variant_of is not None)
    return out


def apply_layout(table: Table, layout: GroupLayout, changes: list[SchemaChange]) -> None:
    """Write a group's layout into `table`, recording what changed."""
    base = layout.main.name
    old = {c.name: c for c in group_columns(table, base)}
    new_names = {c.name for c in layout.columns}
    for name in old:
        if name not in new_names:
            del table.columns[name]
            changes.append(SchemaChange("dropped_variant", table.name, name, "widened"))
    for c in layout.columns:
        prev = old.get(c.name)
        if prev is None:
            kind = "variant_column" if c.variant_of else "new_column"
            changes.append(SchemaChange(kind, table.name, c.name, c.data_type))
            table.columns[c.name] = c
            continue
        if prev.data_type != c.data_type:
            changes.append(
                SchemaChange("promotion", table.name, c.name, f"{prev.data_type} -> {c.data_type}")
            )
        if prev.nullable != c.nullable and c.nullable:
            changes.append(SchemaChange("nullable", table.name, c.name))
        prev.data_type = c.data_type
        prev.nullable = c.nullable or prev.nullable
        prev.precision, prev.scale = c.precision, c.scale
        prev.variant_of = c.variant_of


# ---------------------------------------------------------------- casting


def cast_values(
    arr: pa.Array, source: str, target: Column, raw: pa.Array | None = None
) -> pa.Array:
    """Cast `source`-typed values to `target`'s Arrow type (raises on a failed cast)."""
    t = target.data_type
    at = arrow_type(t, target.precision, target.scale)
    if source == t and arr.type == at:
        return arr
    if t == "text":
        if raw is not None and source in ("date", "timestamp"):
            return pc.if_else(pc.is_valid(arr), raw, pa.nulls(len(arr), pa.string()))
        if source == "timestamp":
            return pc.strftime(arr, format="%Y-%m-%dT%H:%M:%SZ")
    if t == "decimal" and source == "double":
        # exact only: a double with more decimals than the scale (or too large) fails the
        # cast, and its values go to a variant instead of being rounded
        rounded = pc.round(arr, ndigits=at.scale)
        if not pc.all(pc.equal(rounded, arr)).as_py() and len(arr) > arr.null_count:
            raise pa.ArrowInvalid(f"a double does not fit decimal({at.precision}, {at.scale})")
        return rounded.cast(at)
    if t == "decimal" and source == "bigint" and at.precision < 38:
        # Arrow casts int64 only to a decimal with room for any int64 (19 digits + scale):
        # through the widest, then narrowed; a value that does not fit fails the cast
        return arr.cast(pa.decimal128(38, at.scale)).cast(at)
    if t == "timestamp" and source == "date":
        return arr.cast(pa.timestamp("us")).cast(at)
    return arr.cast(at)


def _pick(layout: list[Column], source: str, name: str | None = None) -> Column | None:
    for c in layout:
        if name is not None and c.name == name and c.data_type == source:
            return c
    for c in layout:
        if c.data_type == source:
            return c
    candidates = [c for c in layout if absorbs(c.data_type, source)]
    if candidates:
        candidates.sort(key=lambda c: (c.variant_of is not None, WIDTH[c.data_type]))
        return candidates[0]
    return None


def place(
    arrays: dict[str, pa.Array],
    raw: pa.Array | None,
    layout: GroupLayout,
    *,
    hinted: bool = False,
) -> tuple[dict[str, pa.Array], list[str]]:
    """Put each observed type's values into its column of `layout`.

    Returns the arrays by column name and the types that could not be cast into a hinted
    main column (to be spilled into variants).
    """
    out: dict[str, pa.Array] = {}
    failed: list[str] = []
    cols = layout.columns
    for source, arr in arrays.items():
        target = _pick(cols, source)
        if source == "bigint" and target is not None and target.data_type == "double":
            arr = _split_wide(arr, cols, out)
        if target is None and hinted and FAMILY[source] != "json":
            target = layout.main
        if target is None:
            target = layout.main if layout.main.data_type == "json" else None
        if target is None:
            raise AssertionError(f"no column for {source} in group {layout.main.name}")
        try:
            casted = cast_values(arr, source, target, raw)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            failed.append(source)
            continue
        prev = out.get(target.name)
        out[target.name] = casted if prev is None else pc.coalesce(prev, casted)
    return out, failed


def _split_wide(arr: pa.Array, cols: list[Column], out: dict[str, pa.Array]) -> pa.Array:
    """Move the ints of `arr` a double cannot hold to the group's decimal variant.

    Returns the rest (nulls where values moved). Without a decimal variant `arr` is returned
    unchanged and the cast to double fails loudly on a wide value, never rounds it.
    """
    mask = wide_mask(arr)
    if mask is None:
        return arr
    dec = next((c for c in cols if c.data_type == "decimal" and c.variant_of is not None), None)
    if dec is None:
        return arr
    moved = pc.if_else(mask, arr, pa.scalar(None, pa.int64())).cast(
        arrow_type("decimal", dec.precision, dec.scale)
    )
    prev = out.get(dec.name)
    out[dec.name] = moved if prev is None else pc.coalesce(prev, moved)
    return pc.if_else(mask, pa.scalar(None, pa.int64()), arr)


def conform(table: pa.Table, table_schema: Table) -> pa.Table:
    """Cast an Arrow table produced under an earlier schema to `table_schema`.

    Columns the table lacks are filled with nulls, widened types are cast (bigint ->
    double, date -> timestamp, ...), and values whose type has moved to a variant column
    are moved there. `_restsync_seq` is kept when present.
    """
    n = table.num_rows
    out: dict[str, pa.Array] = {}
    groups: dict[str, list[Column]] = {}
    for c in table_schema.columns.values():
        groups.setdefault(c.variant_of or c.name, []).append(c)
    for f in table.schema:
        if f.name == SEQ:
            continue
        col = table.column(f.name).combine_chunks()
        target_col = table_schema.columns.get(f.name)
        base = base_of(f.name, target_col)
        layout = groups.get(base)
        if layout is None:
            continue
        source = data_type_of_field(f)
        target = _pick(layout, source, f.name)
        if target is None:
            main = next(c for c in layout if c.variant_of is None)
            if main.data_type in ("text", "json"):
                target = main
            else:
                raise ValueError(
                    f"column '{f.name}' ({source}) has no place in table '{table_schema.name}'"
                )
        if source == "bigint" and target.data_type == "double":
            col = _split_wide(col, layout, out)
        casted = cast_values(col, source, target)
        prev = out.get(target.name)
        out[target.name] = casted if prev is None else pc.coalesce(prev, casted)
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for c in table_schema.columns.values():
        fld = arrow_field(c.name, c.data_type, True, c.precision, c.scale)
        a = out.get(c.name)
        if a is None:
            a = pa.nulls(n, fld.type)
        fields.append(fld)
        arrays.append(a)
    if SEQ in table.column_names:
        fields.append(pa.field(SEQ, pa.int64()))
        arrays.append(table.column(SEQ).combine_chunks())
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def schema_types(schema: Schema) -> dict[str, dict[str, tuple[str, bool]]]:
    """`{table: {column: (data_type, nullable)}}`: the part of a schema that must not depend
    on batch order (column order may)."""
    return {
        t.name: {c.name: (c.data_type, c.nullable) for c in t.columns.values()}
        for t in schema.tables.values()
    }
