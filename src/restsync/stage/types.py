"""Arrow types for restsync's `DataType`s, and conforming batches to a table's final schema."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from restsync.errors import LoadError
from restsync.schema.model import SEQ, Column, Table

DEFAULT_PRECISION = 38
DEFAULT_SCALE = 9


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type restsync stages and writes for `column`."""
    t = column.data_type
    if t == "bigint":
        return pa.int64()
    if t == "double":
        return pa.float64()
    if t == "decimal":
        return pa.decimal128(column.precision or DEFAULT_PRECISION, _scale(column))
    if t == "bool":
        return pa.bool_()
    if t == "timestamp":
        return pa.timestamp("us", tz="UTC")
    if t == "date":
        return pa.date32()
    # text, and json (JSON text)
    return pa.string()


def _scale(column: Column) -> int:
    return DEFAULT_SCALE if column.scale is None else column.scale


def arrow_schema(table: Table, *, with_seq: bool = False) -> pa.Schema:
    """The Arrow schema of `table`; `with_seq` adds the staged-only `_restsync_seq` column."""
    fields = [pa.field(c.name, arrow_type(c), nullable=True) for c in table.columns.values()]
    if with_seq and SEQ not in table.columns:
        fields.append(pa.field(SEQ, pa.int64()))
    return pa.schema(fields)


def conform_batch(batch: pa.RecordBatch, target: pa.Schema, *, table: str) -> pa.RecordBatch:
    """Reorder, null-fill and cast `batch` to `target`.

    Columns missing from the batch (added to the schema by a later page) become nulls;
    bigint columns promoted to double are cast. A staged column the target does not know,
    or a value that does not fit, raises `LoadError`.
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
    arrays: list[pa.Array] = []
    for field in target:
        if field.name in names:
            arr = batch.column(field.name)
            if not arr.type.equals(field.type):
                try:
                    arr = pc.cast(arr, field.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    msg = (
                        f"table '{table}': column '{field.name}' staged as {arr.type} "
                        f"cannot become {field.type}: {str(exc)[:200]}"
                    )
                    raise LoadError(msg) from exc
            arrays.append(arr)
        else:
            arrays.append(pa.nulls(batch.num_rows, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=target)
