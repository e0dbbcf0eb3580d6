"""Arrow types for restsync's `DataType`s, and conforming batches to a table's final schema."""

from __future__ import annotations

from typing import cast

import pyarrow as pa
import pyarrow.compute as pc

from restsync.errors import LoadError
from restsync.schema._evolve import conform
from restsync.schema._infer import arrow_type as schema_arrow_type
from restsync.schema._infer import data_type_of_field
from restsync.schema._model import (
    DATA_TYPES,
    SEQ,
    Column,
    DataType,
    Table,
)
from restsync.schema._naming import VARIANT_SEPARATOR


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type restsync stages and writes for `column` (`restsync.schema._infer`'s map)."""
    return schema_arrow_type(column.data_type, column.precision, column.scale)


def arrow_schema(table: Table, *, with_seq: bool = False) -> pa.Schema:
    """The Arrow schema of `table`; `with_seq` adds the staged-only `_restsync_seq` column."""
    fields = [pa.field(c.name, arrow_type(c), nullable=True) for c in table.columns.values()]
    if with_seq and SEQ not in table.columns:
        # never null, as the normalizer stages it: a batch staged under the final schema
        # then equals it and is read as it is (`conform_batch`), not rebuilt
        fields.append(pa.field(SEQ, pa.int64(), nullable=False))
    return pa.schema(fields)


def table_of(target: pa.Schema, name: str) -> Table:
    """The `Table` an Arrow schema made by `arrow_schema` stands for (for `conform_batch`).

    Variant columns are recognised by name (`<col>__v_<type>` next to `<col>`) and take their
    type from it (a json variant is staged as text); decimals keep the schema's precision
    and scale.
    """
    names = set(target.names)
    cols: dict[str, Column] = {}
    for f in target:
        if f.name == SEQ:
            continue
        dt = data_type_of_field(f)
        variant_of = None
        if VARIANT_SEPARATOR in f.name:
            base, _, suffix = f.name.rpartition(VARIANT_SEPARATOR)
            if base in names and suffix in DATA_TYPES:
                variant_of = base
                dt = cast(DataType, suffix)
        precision = scale = None
        if pa.types.is_decimal(f.type):
            precision, scale = f.type.precision, f.type.scale
        cols[f.name] = Column(
            f.name, dt, True, precision=precision, scale=scale, variant_of=variant_of
        )
    return Table(name, "", cols)


def conform_batch(
    batch: pa.RecordBatch,
    target: pa.Schema,
    *,
    table: str,
    table_schema: Table | None = None,
) -> pa.RecordBatch:
    """Conform `batch`, staged under an earlier schema of the run, to `target`.

    The schema package's rules apply (`restsync.schema._evolve.conform`), so the rows come
    out as if they had been normalized under the final schema: columns missing from the
    batch (added by a later page) become nulls, widened types are cast (bigint -> double,
    date -> timestamp, ...), and values whose type the final schema keeps in a variant
    column move there (an int a double cannot hold -> `<col>__v_decimal`, text staged
    before the column's main type changed -> `<col>__v_text`). `table_schema` is the final
    `Table` (`target` is its `arrow_schema`); without it the table is read off `target`
    (`table_of`). A staged column the target does not know, or a value that fits none of
    its group's columns, raises `LoadError`.
    """
    if batch.schema.equals(target):
        return batch
    names = set(batch.schema.names)
    extra = names - set(target.names)
    if extra:
        msg = (
            f"table '{table}': staged column(s) {', '.join(sorted(extra))} are not in the "
            "final schema\n  the stage and its manifest disagree; delete the stage and run again"
        )
        raise LoadError(msg)
    final = table_schema if table_schema is not None else table_of(target, table)
    try:
        conformed = conform(pa.Table.from_batches([batch]), final)
        arrays: list[pa.Array] = []
        for field in target:
            if field.name in conformed.column_names:
                arr = conformed.column(field.name).combine_chunks()
                if not arr.type.equals(field.type):
                    arr = pc.cast(arr, field.type)
            else:
                arr = pa.nulls(batch.num_rows, type=field.type)
            arrays.append(arr)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError) as exc:
        msg = f"table '{table}': a staged batch does not fit the final schema: {str(exc)[:200]}"
        raise LoadError(msg) from exc
    return pa.RecordBatch.from_arrays(arrays, schema=target)
