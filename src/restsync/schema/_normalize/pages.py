"""Pages read by Arrow: once a resource's keys and types have settled, whole JSON pages are
read with `pyarrow.json` against the schema's Arrow types and their struct arrays walked
instead of Python objects (about half the cost on the bench shape). It gives the same
tables as the record walk, or declines (None), and then the caller decodes the pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc

from restsync._runtime import collector_paused
from restsync.extract._packing import join_bodies, may_exceed_double
from restsync.schema._infer import Observed, observe_arrow
from restsync.schema._model import Schema
from restsync.schema._normalize.names import TableClashes
from restsync.schema._normalize.primary_keys import KeyReader
from restsync.schema._normalize.settings import Settings
from restsync.schema._normalize.state import (
    VALUE_COLUMN,
    Ctx,
    Fallback,
    TableState,
    Tree,
    link,
    put,
)

#: the type `pyarrow.json` reads a column's values as, by the column's data type
_JSON_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "text": pa.string(),
    "date": pa.string(),
    "timestamp": pa.string(),
}
#: the type `pyarrow.json` reads a decimal column's values as, by the type they were observed as
#: (a decimal column's JSON values may be numbers or decimal strings)
_DECIMAL_JSON: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "double": pa.float64(),
    "text": pa.string(),
}

#: the tables of a walked batch: (keys, row count, load id, seq start) -> tables
TablesFn = Callable[[pa.Array | list[list[Any]], int, str, int], dict[str, pa.Table]]


class DecimalJsonTypes:
    """(table, decimal column) -> the JSON type its values came as in the last batch."""

    def __init__(self) -> None:
        self._types: dict[tuple[str, str], pa.DataType] = {}

    def get(self, table: str, name: str) -> pa.DataType | None:
        return self._types.get((table, name))

    def remember(self, table: str, name: str, obs: Observed) -> None:
        """Which JSON type the values of the decimal column `name` came as: the next pages
        are read by Arrow as that type (another type fails the read)."""
        kinds = set(obs.arrays)
        json_type = _DECIMAL_JSON.get(kinds.pop()) if len(kinds) == 1 else None
        if json_type is None:
            self._types.pop((table, name), None)
        else:
            self._types[(table, name)] = json_type


class ArrowPages:
    """The Arrow read of one resource's pages, with its back-off (`_declined`)."""

    def __init__(
        self,
        settings: Settings,
        schema: Schema,
        tree: Tree,
        clashes: TableClashes,
        keys: KeyReader,
        decimals: DecimalJsonTypes,
        tables: TablesFn,
    ) -> None:
        self.settings = settings
        self.schema = schema
        self.tree = tree
        self.clashes = clashes
        self.keys = keys
        self.decimals = decimals
        self.tables = tables
        # batches in a row Arrow read in vain; batches not to try it on
        self._arrow_misses = 0
        self._arrow_skip = 0

    def normalize_pages(
        self, bodies: Sequence[bytes | memoryview], key: str, load_id: str, seq_start: int
    ) -> dict[str, pa.Table] | None:
        """`Normalizer.normalize_pages`: the tables of the records of whole JSON pages, or
        None when this read does not apply."""
        if self._arrow_skip:
            self._arrow_skip -= 1
            return None
        if self.settings.row_hash:
            return None
        records = self._read_pages(bodies, key)
        if records is None:
            return None
        self.tree.reset()
        n = len(records)
        if n == 0:
            return {}
        root = self.tree.root
        with collector_paused():
            keys: list[list[Any]] | pa.Array | None
            try:
                root.n = n
                self._arrow_objects(records, root.ctx, root)
                keys = self._arrow_pk_keys(records)
            except Fallback:
                keys = None
            if keys is None or self.clashes.resolve(self.tree.states):
                # the clash marks stay: `normalize` then walks the batch as its second pass would
                self.tree.reset()
                self._declined()
                return None
            self._arrow_misses = 0
            return self.tables(keys, n, load_id, seq_start)

    def _read_pages(self, bodies: Sequence[bytes | memoryview], key: str) -> pa.StructArray | None:
        import pyarrow.json as pa_json

        if not self.settings.primary_key or not bodies:
            return None
        page = self._page_type(self.tree.root.ctx, self.tree.root)
        if page is None:
            return None
        record_type, has_double = page
        data = join_bodies(bodies)
        if has_double and may_exceed_double(data):
            return None  # maybe an int beyond 2**53 in a double column: the row walk's variant
        if len(data) >= 2**31 - 1:
            return None
        multiline = data.count(b"\n") != len(bodies) - 1 or b"\r" in data
        list_type = pa.list_(record_type)
        try:
            table = pa_json.read_json(
                pa.BufferReader(data),
                read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1),
                parse_options=pa_json.ParseOptions(
                    explicit_schema=pa.schema([pa.field(key, list_type)]),
                    unexpected_field_behavior="infer",  # other top-level keys; new record keys
                    newlines_in_values=multiline,
                ),
            )
        except pa.ArrowException:  # another type, a key twice, ...: the decoder's case
            self._declined()
            return None
        if table.num_rows != len(bodies):
            self._declined()
            return None
        column = table.column(key)
        if column.type != list_type or column.null_count:  # a new key somewhere; no list
            self._declined()
            return None
        records = pc.list_flatten(column).combine_chunks()
        if records.null_count:  # a record that is not an object: the row walk's error
            self._declined()
            return None
        return cast(pa.StructArray, records)

    def _declined(self) -> None:
        """A batch read by Arrow that the record walk must normalize after all: the next
        1, 3, 7, then 15 batches are not read by Arrow first (a resource whose keys keep
        changing would pay for both), until one is normalized by Arrow again."""
        self._arrow_misses += 1
        self._arrow_skip = 2 ** min(self._arrow_misses, 4) - 1

    def _page_type(self, ctx: Ctx, st: TableState) -> tuple[pa.StructType, bool] | None:
        """The Arrow type of the objects walked with `ctx` as the schema holds them (True
        when a double is among its types); None when they are not settled."""
        fields: list[pa.Field] = []
        has_double = False
        for k, (name, sub, child) in ctx.keyplan.items():
            if type(k) is not str or sub is None:
                return None  # a JSON-text column: the text is made from decoded values
            kind = ctx.kinds.get(k)
            t: pa.DataType | None
            if kind == "scalar":
                t = self._scalar_type(st, name)
            elif kind == "dict":
                inner = self._page_type(sub, st)
                t, double = inner if inner is not None else (None, False)
                has_double |= double
            elif kind == "list" and child is not None and not child.clash:
                items = self._items_type(child)
                t, double = items if items is not None else (None, False)
                has_double |= double
            else:
                return None
            if t is None:
                return None
            has_double |= pa.types.is_floating(t)
            fields.append(pa.field(k, t))
        if not fields:
            return None
        return pa.struct(fields), has_double

    def _items_type(self, st: TableState) -> tuple[pa.DataType, bool] | None:
        """The Arrow type of a list whose items are the rows of `st`."""
        t: pa.DataType | None
        if st.kind == "scalar":
            t = self._scalar_type(st, VALUE_COLUMN)
            return None if t is None else (pa.list_(t), pa.types.is_floating(t))
        if st.kind == "dict":
            inner = self._page_type(st.ctx, st)
        elif st.kind == "list" and st.list_child is not None and not st.list_child.clash:
            inner = self._items_type(st.list_child)
        elif st.kind is None:  # only empty lists so far: they must stay empty
            return pa.list_(pa.null()), False
        else:
            return None
        return None if inner is None else (pa.list_(inner[0]), inner[1])

    def _scalar_type(self, st: TableState, name: str) -> pa.DataType | None:
        """The JSON type the column `name` of `st` holds: null while it has no column yet."""
        table = self.schema.tables.get(st.name)
        col = table.columns.get(name) if table is not None else None
        if col is None:
            return pa.null()
        if col.variant_of is not None:
            return None
        if col.data_type == "decimal":  # numbers or decimal strings: as the last batch sent
            return self.decimals.get(st.name, name)
        return _JSON_TYPES.get(col.data_type)

    def _arrow_objects(self, objs: pa.StructArray, ctx: Ctx, st: TableState) -> None:
        """`ColumnWalk.objects` for a struct array read against `_page_type(ctx, st)`."""
        for (k, (name, sub, child)), values in zip(
            ctx.keyplan.items(), objs.flatten(), strict=True
        ):
            kind = ctx.kinds[k]
            if kind == "scalar":
                put(st, name, observe_arrow(values))
            elif kind == "dict":
                assert sub is not None
                self._arrow_objects(cast(pa.StructArray, values), sub, st)
            else:
                assert child is not None
                self._arrow_lists(cast(pa.ListArray, values), child, st)

    def _arrow_lists(self, values: pa.ListArray, child: TableState, parent: TableState) -> None:
        """`ColumnWalk.lists` for a list array (null for no list)."""
        lens = pc.list_value_length(values).fill_null(0)
        total = pc.sum(lens).as_py() or 0
        if total == 0:
            return
        if child.n or child.kind is None:
            raise Fallback  # rows from two places in one batch; the first items of a list
        offsets = pa.concat_arrays([pa.array([0], lens.type), pc.cumulative_sum(lens)])
        link(child, parent, offsets.cast(pa.int32()), total)
        items = pc.list_flatten(values)
        if child.kind == "scalar":
            put(child, VALUE_COLUMN, observe_arrow(items))
        elif child.kind == "dict":
            self._arrow_objects(cast(pa.StructArray, items), child.ctx, child)
        else:
            self._arrow_lists(cast(pa.ListArray, items), self.tree.list_child(child), child)

    def _arrow_pk_keys(self, records: pa.StructArray) -> list[list[Any]] | pa.Array:
        """`KeyReader.of_records` for the records read by Arrow (`Fallback` where they would
        differ); a single integer key stays an Arrow array (its digests are made from it)."""
        merge = self.settings.merge

        def array(path: tuple[Any, ...]) -> pa.Array:
            arr: pa.Array = records
            for k in path:
                struct = cast(pa.StructArray, arr)
                arr = struct.flatten()[struct.type.get_field_index(k)]
            if not (pa.types.is_integer(arr.type) or pa.types.is_string(arr.type)):
                raise Fallback  # a double would key as `1.0` where the record holds `1`
            if merge and arr.null_count:
                raise Fallback
            return arr

        primary_key = self.settings.primary_key
        if len(primary_key) == 1:
            path = self.keys.path(primary_key[0])
            if path is not None:
                only = array(path)
                if pa.types.is_integer(only.type):
                    return only
        return self.keys.keys_by(len(records), lambda path: array(path).to_pylist())
