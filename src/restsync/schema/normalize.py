"""Records -> Arrow tables in dlt's relational layout.

`Normalizer.normalize(records, load_id, seq_start)` turns one page of JSON records into one
`pyarrow.Table` per destination table touched:

* nested objects are flattened into the row with `__` (`shipping_address__city`);
* lists become child tables `<table>__<field>` (a list inside a list item gives
  `<table>__<field>__<sub>`; a list directly inside a list gives `<...>__list`), linked by
  `_dlt_parent_id` (the parent row's `_dlt_id`) and `_dlt_list_idx`; child rows of a merge
  table also carry `_dlt_root_id`; scalar list items are stored in `value`; an empty list
  gives no rows and an empty object no columns;
* objects and lists nested deeper than `max_table_nesting` levels (objects and lists both
  count; default 20) and columns hinted `json` are stored as JSON text;
* **one origin per child table name.** Names are paths, so two different lists can give
  one name: a key holding an object in one record and a list in another (`{"c": {"a": [1]}}`
  and `{"c": [{"a": [2]}]}`: the list `a` of the object `c` and the lists `a` in the items of
  `c` are both `<table>__c__a`), or a list directly in a list and a list at a key `list` in
  the items of the same list (both `<table>__c__list`). A table holds the rows of one origin
  only; the lists of the other are stored as JSON text in their column of the parent row
  (`a` of `r__c`, `c__a` of `r`, `value` for a list in a list; `<col>__v_json` when the
  column holds other types too) and a `table_clash` `SchemaChange` is reported. The owner:
  the origin that already has the table (an earlier batch of this normalizer; a table in
  the schema it started from belongs to the lists whose parent is that table's `parent`);
  between origins new in one batch, a fixed precedence, never the order of the records: the
  one whose parent is fewer tables from the root, then a list in a list over a key `list`,
  then the parent's name. A clash is found after the batch is walked; the batch is then
  walked again with the losing lists as JSON. Inputs without a clash are not affected;
* `_dlt_id` is deterministic: for root rows of a table with a primary key, a digest of the
  table name and the key values (a rerun gives the same ids); for root rows of an scd2
  table (`row_hash`), a digest of the table name and the record's content; for other root
  rows, a function of the load id, the record's ordinal `seq_start + i` (unique within a load) and
  a checksum of its content; for child rows, a function of the parent row's id, the child
  table (field path) and the list index. Ids are 14 URL-safe base64 characters;
* root rows carry `_dlt_load_id`; every row carries the staged-only `_restsync_seq` (the
  root record's ordinal), so the loader keeps the last version of a key with its children.

Speed: the record walk is plain Python with per-shape plans (the tuple of keys of an
object -> precomputed column names), so each value costs a type check and a dict store.
Type inference, timestamp parsing and id derivation are done per column with Arrow
compute kernels (see `infer` and `_ids`). Once a resource's keys and types have settled,
`normalize_pages` reads whole JSON pages with `pyarrow.json` against the schema's Arrow types
and walks the struct arrays instead of Python objects (about half the cost on the bench shape);
it gives the same tables as `normalize`, or declines.

Use one `Normalizer` per resource and run: columns already in the schema when it is
created are *locked* (they exist in the destination); see `evolve`.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import hashlib
import itertools
import operator
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from restsync.errors import DataError
from restsync.extract.packing import join_bodies, may_exceed_double
from restsync.schema import evolve
from restsync.schema.contract import contract_of
from restsync.schema.evolve import SchemaChange, apply_layout, layout_group, place
from restsync.schema.infer import Observed, arrow_field, arrow_type, observe, observe_arrow
from restsync.schema.keys import convert_key, key_type
from restsync.schema.model import (
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
    WriteDisposition,
)
from restsync.schema.naming import (
    NameCollision,
    make_path,
    normalize_identifier,
    normalize_path,
    shorten_identifier,
)

_get = dict.get
DEFAULT_MAX_NESTING = 20
_MAX_NESTING_CAP = 200
VALUE_COLUMN = "value"
LIST_COLUMN = "list"
BOOKKEEPING = frozenset({DLT_ID, DLT_LOAD_ID, DLT_PARENT_ID, DLT_LIST_IDX, DLT_ROOT_ID, SEQ})

# ---------------------------------------------------------------- ids

_MASK = (1 << 64) - 1


def _u(v: int) -> pa.Scalar:
    return pa.scalar(v & _MASK, pa.uint64())


_S30, _S27, _S31, _S32 = _u(30), _u(27), _u(31), _u(32)
_M1, _M2 = _u(0xBF58476D1CE4E5B9), _u(0x94D049BB133111EB)
_LOW32 = _u(0xFFFFFFFF)


def _mix(z: pa.Array) -> pa.Array:
    """splitmix64's finalizer, a bijection on uint64, vectorized."""
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _S30)), _M1)
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _S27)), _M2)
    return pc.bit_wise_xor(z, pc.shift_right(z, _S31))


def _key_words(*parts: str) -> tuple[pa.Scalar, pa.Scalar]:
    d = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).digest()
    return _u(int.from_bytes(d[:8], "little")), _u(int.from_bytes(d[8:], "little"))


def _words_from_digests(buf: bytes, n: int) -> tuple[pa.Array, pa.Array]:
    flat = pa.Array.from_buffers(pa.uint64(), 2 * n, [None, pa.py_buffer(buf)])
    even = pa.array(range(0, 2 * n, 2), pa.int64())
    return flat.take(even), flat.take(pc.add(even, 1))


def _ids(w1: pa.Array, w2: pa.Array) -> pa.Array:
    """14-char URL-safe base64 ids from two uint64 words per row (w1 whole, 20 bits of w2)."""
    n = len(w1)
    if n == 0:
        return pa.array([], pa.string())
    import base64

    low = pc.cast(pc.bit_wise_and(w2, _LOW32), pa.uint32())
    b1 = pa.Array.from_buffers(pa.binary(8), n, [None, w1.buffers()[1]], offset=w1.offset)
    b2 = pa.Array.from_buffers(pa.binary(4), n, [None, low.buffers()[1]], offset=low.offset)
    joined = pc.binary_join_element_wise(b1.cast(pa.binary()), b2.cast(pa.binary()), b"")
    data = joined.buffers()[2]
    start = joined.offset * 12
    enc = base64.urlsafe_b64encode(memoryview(data)[start : start + 12 * n])
    fixed = pa.Array.from_buffers(pa.binary(16), n, [None, pa.py_buffer(enc)])
    return pc.binary_slice(fixed.cast(pa.binary()), 0, 14).cast(pa.string())


# ---------------------------------------------------------------- walk state


class _TableState:
    """One destination table while a batch is walked: its row buffers and its plans."""

    __slots__ = (
        "children",
        "clash",
        "cols",
        "column",
        "ctx",
        "depth",
        "kind",
        "lidx",
        "list_child",
        "list_idx",
        "n",
        "name",
        "parent",
        "parent_idx",
        "pidx",
        "ridx",
        "root_idx",
        "rows",
        "seq",
        "w1",
        "w2",
    )

    def __init__(self, name: str, parent: _TableState | None, depth: int) -> None:
        self.name = name
        self.parent = parent
        self.depth = depth
        self.rows: list[dict[str, Any]] = []
        self.parent_idx: list[int] = []
        self.list_idx: list[int] = []
        self.seq: list[int] = []
        self.root_idx: list[int] = []
        self.ctx = _Ctx(self, "", (), depth)
        self.list_child: _TableState | None = None
        self.children: dict[str, _TableState] = {}
        self.w1: pa.Array | None = None
        self.w2: pa.Array | None = None
        # the batch in columns: name -> Observed (typed) or raw values; row count; links
        self.cols: dict[str, Observed | list[Any]] = {}
        self.n = 0
        self.pidx: pa.Array | None = None  # parent row per row (int64)
        self.lidx: pa.Array | None = None  # list index per row (int64)
        self.ridx: pa.Array | None = None  # root row per row (int64)
        self.kind: str | None = None  # what this table's list items were last batch
        # the parent's column the lists of this table sit in (`value` for lists in lists)
        self.column = VALUE_COLUMN
        # the name is another table's: these lists are stored as JSON text (`_resolve_clashes`)
        self.clash = False

    def reset(self) -> None:
        self.rows = []
        self.parent_idx = []
        self.list_idx = []
        self.seq = []
        self.root_idx = []
        self.w1 = self.w2 = None
        self.cols = {}
        self.n = 0
        self.pidx = self.lidx = self.ridx = None

    def columns_from_rows(self) -> None:
        """Slow path: turn the walked row dicts into raw columns and link arrays."""
        rows = self.rows
        n = self.n = len(rows)
        self.cols = {
            name: list(map(_get, rows, itertools.repeat(name, n)))
            for name in dict.fromkeys(itertools.chain.from_iterable(rows))
        }
        if self.parent is not None:
            self.pidx = pa.array(self.parent_idx, pa.int64())
            self.lidx = pa.array(self.list_idx, pa.int64())
            self.ridx = pa.array(self.root_idx, pa.int64())


_Plan = list[tuple[str, "_Ctx | None", "_TableState | None"]]


class _Ctx:
    """Where the keys of one (possibly nested) object go: table, column prefix, depth."""

    __slots__ = ("depth", "keyplan", "kinds", "plans", "prefix", "raw", "subs", "table")

    def __init__(self, table: _TableState, prefix: str, raw: tuple[str, ...], depth: int) -> None:
        self.table = table
        self.prefix = prefix
        self.raw = raw
        self.depth = depth
        self.plans: dict[tuple[Any, ...], _Plan] = {}
        self.subs: dict[str, _Ctx] = {}
        # columnar path: raw key -> (name, sub ctx, child table); raw key -> last kind
        self.keyplan: dict[Any, tuple[str, _Ctx | None, _TableState | None]] = {}
        self.kinds: dict[Any, str] = {}


class _Fallback(Exception):
    """The columnar walk met a case it leaves to the row walk (same results, slower)."""


_NONE = type(None)
_EMPTY: dict[str, Any] = {}
_DICT_ONLY = frozenset({dict})
_LIST_ONLY = frozenset({list})
_CONTAINERS = frozenset({dict, list})
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


# ---------------------------------------------------------------- normalizer


class Normalizer:
    """Normalizes one resource's records into Arrow tables and evolves the schema in place.

    `columns` are the resource's column hints (`{"price": {"data_type": "decimal",
    "precision": 12, "scale": 2}}`, `{"tags": {"data_type": "json"}}`, `nullable`,
    `primary_key`, ...), keyed by column name. `changes` accumulates every `SchemaChange`.
    """

    def __init__(
        self,
        schema: Schema,
        resource: str,
        table_name: str,
        *,
        write_disposition: WriteDisposition = "append",
        primary_key: Sequence[str] | str = (),
        merge_key: Sequence[str] | str = (),
        columns: Mapping[str, Mapping[str, Any]] | None = None,
        max_table_nesting: int | None = None,
        schema_contract: Any = None,
        row_hash: bool = False,
    ) -> None:
        self.schema = schema
        #: SCD2: a root row's `_dlt_id` is a hash of the record's content (as dlt's row hash)
        self.row_hash = row_hash
        self.resource = resource
        self.table_name = shorten_identifier(normalize_path(table_name))
        self.write_disposition: WriteDisposition = write_disposition
        pk = [primary_key] if isinstance(primary_key, str) else list(primary_key)
        mk = [merge_key] if isinstance(merge_key, str) else list(merge_key)
        self.primary_key = [normalize_path(k) for k in pk]
        self.merge_key = [normalize_path(k) for k in mk]
        self.max_nesting = min(
            DEFAULT_MAX_NESTING if max_table_nesting is None else max(0, max_table_nesting),
            _MAX_NESTING_CAP,
        )
        self.changes: list[SchemaChange] = []
        self.collisions: list[NameCollision] = []
        self.hints: dict[str, dict[str, Column]] = {self.table_name: {}}
        self._json_paths: set[str] = set()
        # root columns that must hold a value in every record (`nullable: false`, keys)
        self._required: set[str] = set()
        for raw_name, h in (columns or {}).items():
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
                self.hints[self.table_name][name] = col
                if dt == "json":
                    self._json_paths.add(name)
            if col.primary_key and name not in self.primary_key:
                self.primary_key.append(name)
            if col.merge_key and name not in self.merge_key:
                self.merge_key.append(name)
            if h.get("nullable") is False:
                self._required.add(name)
        # as in dlt, a key column (primary or merge key) is NOT NULL unless its hint says it
        # is nullable
        nullable_hints = {
            normalize_path(k) for k, h in (columns or {}).items() if h.get("nullable")
        }
        keys = [*self.primary_key, *self.merge_key]
        self._required.update(k for k in keys if k not in nullable_hints)
        self._relax(schema)
        self.base = copy.deepcopy(schema)
        self._locked: dict[str, frozenset[str]] = {
            t.name: frozenset(t.columns) for t in schema.tables.values()
        }
        # (table, column) -> the raw keys it holds: the stored mapping first, so a key keeps
        # its column in every run (`Table.source_keys`)
        self._owners: dict[tuple[str, str], tuple[str, ...]] = {
            (t.name, c): tuple(path)
            for t in schema.tables.values()
            for c, path in t.source_keys.items()
        }
        self._new_owners: list[tuple[str, str]] = []  # claimed, not yet in the schema
        self._root = _TableState(self.table_name, None, 0)
        self._states: list[_TableState] = [self._root]
        self._merge = write_disposition == "merge"
        self._load_words: dict[str, tuple[pa.Scalar, pa.Scalar]] = {}
        self._id_cache: dict[str, pa.Array] = {}
        self.contract = contract_of(schema_contract)
        # (table, decimal column) -> the JSON type its values came as (`_scalar_type`)
        self._decimal_json: dict[tuple[str, str], pa.DataType] = {}
        # rows `schema_contract` discards, per table state (`_drop_rows`)
        self._drops: dict[_TableState, pa.Array] = {}
        # (table, column group) that have seen ints a double cannot hold (see `infer`)
        self._exact: set[tuple[str, str]] = {
            (t.name, c.name) for t in schema.tables.values() for c in t.columns.values() if c.wide
        }
        # child table name -> the table state (origin) whose rows it holds
        self._table_owner: dict[str, _TableState] = {}
        # `normalize_pages`: batches in a row Arrow read in vain; batches not to try it on
        self._arrow_misses = 0
        self._arrow_skip = 0

    # ------------------------------------------------------------ plans

    def _claim(self, table: str, name: str, raw: tuple[str, ...]) -> str:
        owners = self._owners
        key = (table, name)
        owner = owners.get(key)
        if owner is None and name not in BOOKKEEPING:
            owners[key] = raw
            self._new_owners.append(key)
            return name
        if owner == raw:
            return name
        i = 2
        while True:
            new = shorten_identifier(f"{name}_{i}")
            o = owners.get((table, new))
            if o == raw:
                return new
            if o is None and new not in BOOKKEEPING:
                owners[(table, new)] = raw
                self._new_owners.append((table, new))
                kept = "/".join(owner) if owner else name
                col = NameCollision(table, name, kept, "/".join(raw), new)
                self.collisions.append(col)
                self.changes.append(SchemaChange("name_collision", table, new, str(col)))
                return new
            i += 1

    def _plan(self, ctx: _Ctx, keys: tuple[Any, ...]) -> _Plan:
        table = ctx.table
        skeys = [k if type(k) is str else str(k) for k in keys]
        # keys already in normalized form claim their name first: deterministic
        order = sorted(range(len(skeys)), key=lambda i: normalize_identifier(skeys[i]) != skeys[i])
        names: dict[int, str] = {}
        for i in order:
            k = skeys[i]
            full = make_path(ctx.prefix, normalize_identifier(k))
            names[i] = self._claim(table.name, full, (*ctx.raw, k))
        plan: _Plan = []
        stop_all = ctx.depth >= self.max_nesting
        for i, k in enumerate(skeys):
            name = names[i]
            if stop_all or (table.parent is None and name in self._json_paths):
                plan.append((name, None, None))
                continue
            sub = ctx.subs.get(name)
            if sub is None:
                sub = ctx.subs[name] = _Ctx(table, name, (*ctx.raw, k), ctx.depth + 1)
            child = table.children.get(name)
            if child is None:
                child = _TableState(make_path(table.name, name), table, ctx.depth + 1)
                child.column = name
                table.children[name] = child
                self._states.append(child)
            plan.append((name, sub, child))
        ctx.plans[keys] = plan
        return plan

    # ------------------------------------------------------------ walk

    def _flatten(
        self,
        obj: dict[Any, Any],
        ctx: _Ctx,
        row: dict[str, Any],
        pending: list[tuple[_TableState, list[Any]]],
    ) -> None:
        keys = tuple(obj)
        plan = ctx.plans.get(keys)
        if plan is None:
            plan = self._plan(ctx, keys)
        for (name, sub, child), v in zip(plan, obj.values(), strict=False):
            tv = type(v)
            if tv is dict:
                if sub is not None:
                    if v:
                        self._flatten(v, sub, row, pending)
                    continue
            elif tv is list and child is not None and not child.clash:
                if v:
                    pending.append((child, v))
                continue
            row[name] = v

    def _children(
        self,
        pending: list[tuple[_TableState, list[Any]]],
        parent_row: int,
        seq: int,
        root_row: int,
    ) -> None:
        for st, items in pending:
            rows = st.rows
            start = len(rows)
            n = len(items)
            st.parent_idx.extend(itertools.repeat(parent_row, n))
            st.list_idx.extend(range(n))
            st.seq.extend(itertools.repeat(seq, n))
            st.root_idx.extend(itertools.repeat(root_row, n))
            ctx = st.ctx
            for i, item in enumerate(items):
                ti = type(item)
                if ti is dict:
                    crow: dict[str, Any] = {}
                    sub: list[tuple[_TableState, list[Any]]] = []
                    self._flatten(item, ctx, crow, sub)
                    rows.append(crow)
                    if sub:
                        self._children(sub, start + i, seq, root_row)
                elif ti is list:
                    lc = st.list_child
                    if st.depth >= self.max_nesting or (lc is not None and lc.clash):
                        rows.append({VALUE_COLUMN: item})
                        continue
                    rows.append({})
                    if item:
                        self._children([(self._list_child(st), item)], start + i, seq, root_row)
                else:
                    rows.append({VALUE_COLUMN: item})

    # ------------------------------------------------------------ columnar walk

    def _keyplan(
        self, ctx: _Ctx, keys: Sequence[Any]
    ) -> list[tuple[str, _Ctx | None, _TableState | None]]:
        kp = ctx.keyplan
        new = [k for k in keys if k not in kp]
        if new:
            plan = self._plan(ctx, tuple(new))  # claims names in the row walk's order
            for k, entry in zip(new, plan, strict=True):
                kp[k] = entry
        return [kp[k] for k in keys]

    def _put(self, st: _TableState, name: str, val: Observed | list[Any]) -> None:
        if name in st.cols:
            raise _Fallback  # two keys of one object give one column name
        st.cols[name] = val

    def _objects(self, objs: Sequence[Any], ctx: _Ctx, st: _TableState) -> None:
        """Walk the dicts `objs` (one per row of `st`, `{}` for none) column by column."""
        first = objs[0]
        nk = len(first)
        cols: list[Any]
        keys: Sequence[Any]
        keys = ()
        if nk:
            try:
                # one list per key: no per-row tuples (they cost allocation and GC time)
                cols = [list(map(operator.itemgetter(k), objs)) for k in first]
            except (KeyError, TypeError):
                pass
            else:
                # every object has these keys; the same count means no other key either
                if sum(map(len, objs)) == nk * len(objs):
                    keys = tuple(first)
        if not keys:
            keys = list(dict.fromkeys(itertools.chain.from_iterable(objs)))
            if not keys:
                return
            n = len(objs)
            cols = [list(map(_get, objs, itertools.repeat(k, n))) for k in keys]
        for k, (name, sub, child), values in zip(keys, self._keyplan(ctx, keys), cols, strict=True):
            if sub is None:  # JSON path or max nesting: stored as is
                self._put(st, name, list(values))
                continue
            kind = ctx.kinds.get(k)
            if kind == "scalar":
                obs = observe(values)
                if "json" not in obs.arrays:
                    self._put(st, name, obs)
                    continue
            types = set(map(type, values))
            has_none = _NONE in types
            types.discard(_NONE)
            if child is not None and child.clash and list in types:
                # lists here are leaves (JSON text): their table name is another table's
                ctx.kinds[k] = "mixed"
                if dict in types:
                    self._split(values, name, sub, None, st)
                else:
                    self._put(st, name, list(values))
                continue
            if not types & _CONTAINERS:
                ctx.kinds[k] = "scalar"
                self._put(st, name, observe(values))
            elif types == _DICT_ONLY:
                ctx.kinds[k] = "dict"
                self._objects(_or_empty(values) if has_none else values, sub, st)
            elif types == _LIST_ONLY:
                ctx.kinds[k] = "list"
                assert child is not None
                self._lists(values, child, st)
            else:
                ctx.kinds[k] = "mixed"
                assert child is not None
                self._split(values, name, sub, child, st)

    def _split(
        self,
        values: Sequence[Any],
        name: str,
        sub: _Ctx,
        child: _TableState | None,
        st: _TableState,
    ) -> None:
        """A column mixing objects, lists and scalars: each part where the row walk puts it
        (lists stay in the column, as JSON text, when `child` is None)."""
        objs = [v if type(v) is dict else _EMPTY for v in values]
        stop = _CONTAINERS if child is not None else _DICT_ONLY
        scalars = [None if type(v) in stop else v for v in values]
        self._put(st, name, scalars)
        self._objects(objs, sub, st)
        if child is not None:
            self._lists([v if type(v) is list else None for v in values], child, st)

    def _lists(self, values: Sequence[Any], child: _TableState, parent: _TableState) -> None:
        """The lists `values` (one per row of `parent`, None for none) as rows of `child`."""
        if None in values:
            values = [v or () for v in values]
        lens = list(map(len, values))
        total = sum(lens)
        if total == 0:
            return
        if child.n:
            raise _Fallback  # rows from two places in one batch: left to the row walk
        items = list(itertools.chain.from_iterable(values))
        _link(child, parent, pa.array(itertools.accumulate(lens, initial=0), pa.int32()), total)
        self._items(items, child)

    def _items(self, items: list[Any], st: _TableState) -> None:
        if st.kind == "scalar":
            obs = observe(items)
            if "json" not in obs.arrays:
                self._put(st, VALUE_COLUMN, obs)
                return
        types = set(map(type, items))
        has_none = _NONE in types
        types.discard(_NONE)
        lc = st.list_child
        nested = st.depth < self.max_nesting and not (lc is not None and lc.clash)
        if not types & _CONTAINERS:
            st.kind = "scalar"
            self._put(st, VALUE_COLUMN, observe(items))
        elif types == _DICT_ONLY:
            st.kind = "dict"
            self._objects(_or_empty(items) if has_none else items, st.ctx, st)
        elif types == _LIST_ONLY and nested:
            st.kind = "list"
            self._lists(items, self._list_child(st), st)
        else:
            st.kind = "mixed"
            stop = _CONTAINERS if nested else _DICT_ONLY
            scalars = [None if type(v) in stop else v for v in items]
            if any(v is not None for v in scalars):
                self._put(st, VALUE_COLUMN, scalars)
            if dict in types:
                self._objects([v if type(v) is dict else _EMPTY for v in items], st.ctx, st)
            if nested and list in types:
                lists = [v if type(v) is list else None for v in items]
                self._lists(lists, self._list_child(st), st)

    def _list_child(self, st: _TableState) -> _TableState:
        lc = st.list_child
        if lc is None:
            lc = st.list_child = _TableState(make_path(st.name, LIST_COLUMN), st, st.depth + 1)
            self._states.append(lc)
        return lc

    def _walk_columns(self, records: Sequence[Any]) -> None:
        root = self._root
        root.n = len(records)
        self._objects(records, root.ctx, root)

    def _walk_rows(self, records: Sequence[Any], seq_start: int) -> None:
        """The row walk: record by record (any input; raises `DataError` for bad records)."""
        rows = self._root.rows
        rctx = self._root.ctx
        flatten = self._flatten
        children = self._children
        pk = self.primary_key
        for i, rec in enumerate(records):
            if type(rec) is not dict:
                rec = self._as_dict(rec, i)
            row: dict[str, Any] = {}
            pending: list[tuple[_TableState, list[Any]]] = []
            flatten(rec, rctx, row, pending)
            rows.append(row)
            if pk and self._merge:
                key = [row.get(c) for c in pk]
                if None in key:
                    self._missing_pk(i, row, key)
            if pending:
                children(pending, i, seq_start + i, i)
        for st in self._states:
            if st.rows:
                st.columns_from_rows()

    # ------------------------------------------------------------ public

    def normalize(
        self, records: Sequence[Any], load_id: str, seq_start: int
    ) -> dict[str, pa.Table]:
        """Normalize one page of records; returns one Arrow table per destination table.

        The schema is updated in place. Raises `DataError` for a record that is not an
        object, or (under merge) one without a value for a primary-key column.
        """
        self._reset_states()
        n = len(records)
        out: dict[str, pa.Table] = {}
        if n == 0:
            return out
        with _collector_paused():
            return self._normalize(records, load_id, seq_start, out)

    def _reset_states(self) -> None:
        """Empty every table state for the next walk (of this batch again, or the next)."""
        for st in self._states:
            if st.n or st.rows:
                st.reset()
        self._id_cache = {}

    def _normalize(
        self, records: Sequence[Any], load_id: str, seq_start: int, out: dict[str, pa.Table]
    ) -> dict[str, pa.Table]:
        # a batch that gives two origins one child table name is walked again once the
        # losers store their lists as JSON text (`_resolve_clashes`); each pass marks one more
        for _ in range(len(self._states) + 1):
            keys = self._walk(records, seq_start)
            if not self._resolve_clashes():
                break
            self._reset_states()
        if keys is not None:
            self._convert_keys(keys)
        return self._tables(records, keys, len(records), load_id, seq_start, out)

    def _convert_keys(self, keys: list[list[Any]]) -> None:
        """Give each key column's values one type (`restsync.schema.keys`), in `keys` and in
        the root table's columns; a value that does not convert is a `DataError`."""
        root = self._root
        table = self.schema.tables.get(self.table_name)
        for j, name in enumerate(self.primary_key):
            values = [k[j] for k in keys]
            col = table.columns.get(name) if table is not None else None
            target = key_type(col.data_type if col is not None else None, values)
            if target is None:
                continue
            out: list[Any] = []
            for i, v in enumerate(values):
                try:
                    out.append(convert_key(v, target))
                except ValueError as exc:
                    self._bad_key(i, name, v, target, str(exc))
            for k, v in zip(keys, out, strict=True):
                k[j] = v
            if name in root.cols:
                root.cols[name] = out

    def _key_in_variant(
        self, name: str, layout: evolve.GroupLayout, arrays: dict[str, pa.Array], st: _TableState
    ) -> None:
        """A key value that fits only a variant of its key column is a `DataError`."""
        for v in layout.variants:
            arr = arrays.get(v.name)
            if arr is None or arr.null_count == len(arr):
                continue
            i = pc.index(pc.is_valid(arr), True).as_py()
            raw = st.cols.get(name)
            value = raw[i] if isinstance(raw, list) else arr[i].as_py()
            self._bad_key(i, name, value, layout.main.data_type, f"it is {v.data_type}")

    def _relax(self, schema: Schema) -> None:
        """Columns are nullable unless required: a stored column of this resource that is
        NOT NULL (as restsync made them before it followed dlt) without being required
        becomes nullable (the destination drops the constraint)."""
        for t in schema.tables.values():
            if t.resource != self.resource:
                continue
            required = self._required if t.name == self.table_name else set()
            for c in t.columns.values():
                if not c.nullable and c.name not in BOOKKEEPING and c.name not in required:
                    c.nullable = True
                    self.changes.append(SchemaChange("nullable", t.name, c.name))

    def _null_value(self, name: str, main: pa.Array | None, n: int, obs: Observed | None) -> None:
        """Raise `DataError` for the first record without a value in the required column
        `name` (`main`: its values as stored; None when no record has one)."""
        if main is not None and main.null_count == 0:
            return
        i = 0 if main is None else pc.index(pc.is_null(main), True).as_py()
        other = obs is not None and any(a.is_valid()[i].as_py() for a in obs.arrays.values())
        what = "a value of another type" if other else "no value"
        why = (
            "it is a primary key"
            if name in self.primary_key
            else "it is a merge key"
            if name in self.merge_key
            else "its hint says nullable: false"
        )
        exc = DataError(
            f"record {i} on this page has {what} for column '{name}' of table "
            f"'{self.table_name}', which is NOT NULL ({why})",
            resource=self.resource,
            hint=(
                "set primary_key to a field every record has"
                if name in self.primary_key
                else f"fix the data, or give '{name}' a columns hint with nullable: true"
            ),
        )
        exc.record_index = i
        raise exc

    def _bad_key(self, i: int, name: str, value: Any, target: str, why: str) -> None:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        exc = DataError(
            f"record {i} on this page has the primary key '{name}' = {shown}, which is not "
            f"a {target} key value ({why}); table '{self.table_name}' keys '{name}' as {target}",
            resource=self.resource,
            hint=(
                "a key value converts to the key column's type only when exact; fix the "
                "primary_key, or give it a columns hint with the data_type the API sends"
            ),
        )
        exc.record_index = i
        raise exc

    def _tables(
        self,
        records: Sequence[Any] | None,
        keys: list[list[Any]] | pa.Array | None,
        n: int,
        load_id: str,
        seq_start: int,
        out: dict[str, pa.Table],
    ) -> dict[str, pa.Table]:
        """The walked batch's tables: ids, then each table's columns (`_finish`)."""
        root = self._root
        for st in self._states:
            if st.n and st.parent is not None:
                self._table_owner.setdefault(st.name, st)
        # ids
        if isinstance(keys, pa.Array):  # one integer key column, read by Arrow
            root.w1, root.w2 = _words_from_digests(_int_key_digests(self.table_name, keys), n)
        elif keys is not None:
            blake = hashlib.blake2b
            tname = self.table_name.encode("utf-8") + b"\x1f"
            digests = b"".join(
                [blake(tname + _dumps_key(key), digest_size=16).digest() for key in keys]
            )
            root.w1, root.w2 = _words_from_digests(digests, n)
        elif self.row_hash:
            assert records is not None  # SCD2: the same content gives the same id
            tname = self.table_name.encode("utf-8") + b"\x1f"
            digests = b"".join(
                [hashlib.blake2b(tname + _row_content(r), digest_size=16).digest() for r in records]
            )
            root.w1, root.w2 = _words_from_digests(digests, n)
        else:
            assert records is not None  # rows without a key: ids from the records' content
            k1, k2 = self._load_key(load_id)
            s = pa.array(range(seq_start, seq_start + n), pa.uint64())
            c = pa.array(_crcs(records), pa.uint64())
            root.w1 = _mix(pc.bit_wise_xor(s, k1))
            root.w2 = _mix(pc.bit_wise_xor(root.w1, _mix(pc.bit_wise_xor(c, k2))))
        if keys is not None and not self._merge:
            # A key is one row only under merge: appended or replaced rows that share a key
            # are distinct rows, so their ids also take the load and the record's ordinal
            # (else two appends of one key would share a `_dlt_id` and their child rows).
            k1, k2 = self._load_key(load_id)
            s = pa.array(range(seq_start, seq_start + n), pa.uint64())
            key_words = pc.bit_wise_xor(root.w1, root.w2)
            root.w1 = _mix(pc.bit_wise_xor(s, k1))
            root.w2 = _mix(pc.bit_wise_xor(root.w1, _mix(pc.bit_wise_xor(key_words, k2))))
        self._drops = {}
        skipped: set[_TableState] = set()
        for st in self._states:
            if not st.n:
                continue
            if (st.parent is not None and st.parent in skipped) or self._refuse_table(st):
                skipped.add(st)  # `schema_contract` discards the rows of a new table
                continue
            if st.parent is not None:
                self._child_words(st)
            out[st.name] = self._finish(st, load_id, seq_start)
        if self._drops:
            self._drop_rows(out, skipped)
        self._store_owners()
        return out

    # ------------------------------------------------------------ schema_contract

    def _refuse_table(self, st: _TableState) -> bool:
        """True when `schema_contract` discards the rows of `st`, a table not in the
        destination yet; raises `DataError` when it freezes tables."""
        mode = self.contract.tables
        if mode == "evolve" or st.name in self.base.tables:
            return False
        if mode == "freeze":
            self._violation(st, 0, "tables", f"the new table '{st.name}'")
        return True

    def _violation(self, st: _TableState, row: int, entity: str, what: str) -> None:
        """Raise the `DataError` of a `freeze` contract, at the record of `st`'s row `row`."""
        i = row if st.ridx is None else int(st.ridx[row].as_py())
        exc = DataError(
            f"record {i} on this page brings {what}, and schema_contract freezes {entity}",
            resource=self.resource,
            hint=(
                f"set schema_contract {entity} to 'evolve' (or 'discard_row' / "
                "'discard_value') to accept or drop such data"
            ),
        )
        exc.record_index = i
        raise exc

    def _contract_column(
        self, st: _TableState, table: Table, name: str, obs: Observed, hinted: bool
    ) -> bool:
        """Apply the `columns` contract to the column group `name` of a table already in the
        destination; False when its values are dropped (the column is not added)."""
        mode = self.contract.columns
        stored = self.base.tables.get(table.name)
        if mode == "evolve" or stored is None or hinted or name in stored.columns:
            return True
        valid = _valid_mask(obs.arrays.values())
        if mode == "freeze":
            row = pc.index(valid, True).as_py()
            self._violation(st, row, "columns", f"the new column '{name}' of table '{table.name}'")
        if mode == "discard_row":
            self._drop(st, valid)
        return False

    def _contract_variants(
        self, st: _TableState, table: Table, layout: evolve.GroupLayout, arrays: dict[str, pa.Array]
    ) -> None:
        """Apply the `data_type` contract to the variant columns of `layout` that the
        destination does not have: freeze, or drop their values / rows (and the columns)."""
        mode = self.contract.data_type
        if mode == "evolve":
            return
        stored = self.base.tables.get(table.name)
        known = stored.columns if stored is not None else {}
        kept: list[Column] = []
        for v in layout.variants:
            arr = arrays.get(v.name)
            if v.name in known:
                kept.append(v)
                continue
            if arr is not None and arr.null_count < len(arr):
                valid = pc.is_valid(arr)
                if mode == "freeze":
                    row = pc.index(valid, True).as_py()
                    what = (
                        f"a {v.data_type} value for column '{layout.main.name}' of table "
                        f"'{table.name}' ({layout.main.data_type}; it would need the variant "
                        f"column '{v.name}')"
                    )
                    self._violation(st, row, "data_type", what)
                if mode == "discard_row":
                    self._drop(st, valid)
            arrays.pop(v.name, None)
        layout.variants = kept

    def _drop(self, st: _TableState, mask: pa.Array) -> None:
        prev = self._drops.get(st)
        self._drops[st] = mask if prev is None else pc.or_(prev, mask)

    def _drop_rows(self, out: dict[str, pa.Table], skipped: set[_TableState]) -> None:
        """Remove the rows `discard_row` marked, with the rows of their child tables."""
        dropped: dict[_TableState, pa.Array] = {}
        for st in self._states:
            if not st.n or st in skipped or st.name not in out:
                continue
            mask = self._drops.get(st)
            parent = st.parent
            if parent is not None and parent in dropped:
                assert st.pidx is not None
                inherited = dropped[parent].take(st.pidx)
                mask = inherited if mask is None else pc.or_(mask, inherited)
            if mask is None or not pc.any(mask).as_py():
                continue
            dropped[st] = mask
            out[st.name] = out[st.name].filter(pc.invert(mask))

    def _store_owners(self) -> None:
        """Record the names claimed so far in their tables' `source_keys` (a table this
        normalizer has not created yet keeps its claims pending)."""
        pending: list[tuple[str, str]] = []
        for key in self._new_owners:
            table = self.schema.tables.get(key[0])
            if table is None:
                pending.append(key)
            else:
                table.source_keys[key[1]] = list(self._owners[key])
        self._new_owners = pending

    def _walk(self, records: Sequence[Any], seq_start: int) -> list[list[Any]] | None:
        """Walk the batch into the table states; returns the primary-key values per record."""
        pk = self.primary_key
        keys: list[list[Any]] | None = None
        fast = set(map(type, records)) == _DICT_ONLY
        if fast:
            try:
                self._walk_columns(records)
                if pk:
                    keys = self._pk_keys(records)
            except _Fallback:
                fast = False
                self._reset_states()
        if not fast:
            self._walk_rows(records, seq_start)
            if pk:
                keys = [[row.get(c) for c in pk] for row in self._root.rows]
        return keys

    def _resolve_clashes(self) -> bool:
        """Give each child table name that this batch fills to one origin (see the module
        docstring); mark the others, whose lists become JSON text. True if any was marked."""
        by_name: dict[str, list[_TableState]] = {}
        for st in self._states:
            if st.n and st.parent is not None and not st.clash:
                by_name.setdefault(st.name, []).append(st)
        marked = False
        for name, sts in by_name.items():
            owner = self._table_owner.get(name)
            if owner is not None and len(sts) == 1 and sts[0] is owner:
                continue
            holder = ""
            if owner is None:
                existing = self.schema.tables.get(name)
                if existing is not None:  # stored, or made by another normalizer of the run
                    holder = f"the lists of '{existing.parent}'"
                    sts_own = [s for s in sts if _parent_name(s) == existing.parent]
                else:
                    sts_own = sts
                if sts_own:
                    owner = min(sts_own, key=_precedence)
            if owner is not None:
                holder = _origin(owner)
            for s in sts:
                if s is not owner:
                    self._lose(s, holder)
                    marked = True
        return marked

    def _lose(self, st: _TableState, holder: str) -> None:
        st.clash = True
        parent = _parent_name(st)
        col = st.column
        detail = (
            f"{_origin(st)} would be table '{st.name}', which holds {holder}: "
            f"stored as JSON text in {parent}.{col}"
        )
        self.changes.append(SchemaChange("table_clash", parent, col, detail))

    def _pk_path(self, name: str) -> tuple[Any, ...] | None:
        """The raw keys leading to the key column `name`; None when no record had it so far
        (`_Fallback` under merge: the row walk raises the DataError with the record's fields)."""
        path = _raw_path(self._root.ctx, name)
        if path is None and self._merge:
            raise _Fallback
        return path

    def _pk_keys(self, records: Sequence[dict[Any, Any]]) -> list[list[Any]]:
        """The primary-key values of each record (raises `_Fallback` on a missing one)."""
        n = len(records)

        def column(path: tuple[Any, ...]) -> list[Any]:
            vals: list[Any] = list(map(_get, records, itertools.repeat(path[0], n)))
            for k in path[1:]:
                vals = [v.get(k) if type(v) is dict else None for v in vals]
            if self._merge and None in vals:
                raise _Fallback  # the row walk raises the DataError with the record's fields
            return vals

        return self._keys_by(n, column)

    def _keys_by(self, n: int, column: Callable[[tuple[Any, ...]], list[Any]]) -> list[list[Any]]:
        """The key of each of `n` rows, from `column(raw path)` of each key column."""
        cols = []
        for name in self.primary_key:
            path = self._pk_path(name)
            cols.append([None] * n if path is None else column(path))
        if len(cols) == 1:
            return [[v] for v in cols[0]]
        return [list(t) for t in zip(*cols, strict=True)]

    def _as_dict(self, rec: Any, i: int) -> dict[Any, Any]:
        if isinstance(rec, Mapping):
            return dict(rec)
        preview = repr(rec)
        if len(preview) > 60:
            preview = preview[:57] + "..."
        exc = DataError(
            f"record {i} on this page is {type(rec).__name__} {preview}, not an object",
            resource=self.resource,
            hint="point data_selector at the list of records (each record must be a JSON object)",
        )
        exc.record_index = i
        raise exc

    def _missing_pk(self, i: int, row: dict[str, Any], key: list[Any]) -> None:
        if not self._merge:
            return
        col = next(c for c, v in zip(self.primary_key, key, strict=True) if v is None)
        fields = [k for k, v in row.items() if v is not None][:12]
        state = "has no primary key" if col not in row else "has a null primary key"
        exc = DataError(
            f"record {i} on this page {state} '{col}'",
            resource=self.resource,
            hint=(
                "set primary_key to a field every record has "
                f"(fields seen: {', '.join(fields) or 'none'})"
            ),
        )
        exc.record_index = i
        raise exc

    # ------------------------------------------------------------ pages read by Arrow

    def normalize_pages(
        self, bodies: Sequence[bytes | memoryview], key: str, load_id: str, seq_start: int
    ) -> dict[str, pa.Table] | None:
        """`normalize` of the records of whole JSON pages, each a body whose top-level `key`
        holds the records, read by `pyarrow.json` instead of being decoded into Python objects.

        It gives exactly what `normalize` gives for the same records, or None when it does
        not apply; the caller then decodes the pages and calls `normalize`. It applies once
        earlier batches have settled every key: the pages are read against the Arrow types
        of the schema's columns (`_page_type`), and anything the schema has not seen yet (a
        new key, another type, a null record, an int a double would round, a clash of child
        tables) gives None. Resources without a primary key are left to `normalize` (their
        row ids are checksums of the decoded records).
        """
        if self._arrow_skip:
            self._arrow_skip -= 1
            return None
        if self.row_hash:
            return None
        records = self._read_pages(bodies, key)
        if records is None:
            return None
        self._reset_states()
        n = len(records)
        if n == 0:
            return {}
        with _collector_paused():
            try:
                self._root.n = n
                self._arrow_objects(records, self._root.ctx, self._root)
                keys = self._arrow_pk_keys(records)
            except _Fallback:
                keys = None
            if keys is None or self._resolve_clashes():
                # the clash marks stay: `normalize` then walks the batch as its second pass would
                self._reset_states()
                self._declined()
                return None
            self._arrow_misses = 0
            return self._tables(None, keys, n, load_id, seq_start, {})

    def _read_pages(self, bodies: Sequence[bytes | memoryview], key: str) -> pa.StructArray | None:
        import pyarrow.json as pa_json

        if not self.primary_key or not bodies:
            return None
        page = self._page_type(self._root.ctx, self._root)
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

    def _page_type(self, ctx: _Ctx, st: _TableState) -> tuple[pa.StructType, bool] | None:
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

    def _items_type(self, st: _TableState) -> tuple[pa.DataType, bool] | None:
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

    def _scalar_type(self, st: _TableState, name: str) -> pa.DataType | None:
        """The JSON type the column `name` of `st` holds: null while it has no column yet."""
        table = self.schema.tables.get(st.name)
        col = table.columns.get(name) if table is not None else None
        if col is None:
            return pa.null()
        if col.variant_of is not None:
            return None
        if col.data_type == "decimal":  # numbers or decimal strings: as the last batch sent
            return self._decimal_json.get((st.name, name))
        return _JSON_TYPES.get(col.data_type)

    def _remember_decimal_json(self, table: str, name: str, obs: Observed) -> None:
        """Which JSON type the values of the decimal column `name` came as (`_scalar_type`):
        the next pages are read by Arrow as that type (another type fails the read)."""
        kinds = set(obs.arrays)
        json_type = _DECIMAL_JSON.get(kinds.pop()) if len(kinds) == 1 else None
        if json_type is None:
            self._decimal_json.pop((table, name), None)
        else:
            self._decimal_json[(table, name)] = json_type

    def _arrow_objects(self, objs: pa.StructArray, ctx: _Ctx, st: _TableState) -> None:
        """`_objects` for a struct array read against `_page_type(ctx, st)`."""
        for (k, (name, sub, child)), values in zip(
            ctx.keyplan.items(), objs.flatten(), strict=True
        ):
            kind = ctx.kinds[k]
            if kind == "scalar":
                self._put(st, name, observe_arrow(values))
            elif kind == "dict":
                assert sub is not None
                self._arrow_objects(cast(pa.StructArray, values), sub, st)
            else:
                assert child is not None
                self._arrow_lists(cast(pa.ListArray, values), child, st)

    def _arrow_lists(self, values: pa.ListArray, child: _TableState, parent: _TableState) -> None:
        """`_lists` for a list array (null for no list)."""
        lens = pc.list_value_length(values).fill_null(0)
        total = pc.sum(lens).as_py() or 0
        if total == 0:
            return
        if child.n or child.kind is None:
            raise _Fallback  # rows from two places in one batch; the first items of a list
        offsets = pa.concat_arrays([pa.array([0], lens.type), pc.cumulative_sum(lens)])
        _link(child, parent, offsets.cast(pa.int32()), total)
        items = pc.list_flatten(values)
        if child.kind == "scalar":
            self._put(child, VALUE_COLUMN, observe_arrow(items))
        elif child.kind == "dict":
            self._arrow_objects(cast(pa.StructArray, items), child.ctx, child)
        else:
            self._arrow_lists(cast(pa.ListArray, items), self._list_child(child), child)

    def _arrow_pk_keys(self, records: pa.StructArray) -> list[list[Any]] | pa.Array:
        """`_pk_keys` for the records read by Arrow (`_Fallback` where they would differ); a
        single integer key stays an Arrow array (its digests are made from it directly)."""

        def array(path: tuple[Any, ...]) -> pa.Array:
            arr: pa.Array = records
            for k in path:
                struct = cast(pa.StructArray, arr)
                arr = struct.flatten()[struct.type.get_field_index(k)]
            if not (pa.types.is_integer(arr.type) or pa.types.is_string(arr.type)):
                raise _Fallback  # a double would key as `1.0` where the record holds `1`
            if self._merge and arr.null_count:
                raise _Fallback
            return arr

        if len(self.primary_key) == 1:
            path = self._pk_path(self.primary_key[0])
            if path is not None:
                only = array(path)
                if pa.types.is_integer(only.type):
                    return only
        return self._keys_by(len(records), lambda path: array(path).to_pylist())

    def _load_key(self, load_id: str) -> tuple[pa.Scalar, pa.Scalar]:
        k = self._load_words.get(load_id)
        if k is None:
            k = self._load_words[load_id] = _key_words(load_id, self.table_name)
        return k

    def _child_words(self, st: _TableState) -> None:
        parent = st.parent
        assert parent is not None
        assert parent.w1 is not None
        assert parent.w2 is not None
        pidx = st.pidx
        assert pidx is not None
        assert st.lidx is not None
        idx = st.lidx.cast(pa.uint64())
        p1, p2 = _key_words(st.name)
        pw1 = parent.w1.take(pidx)
        pw2 = parent.w2.take(pidx)
        st.w1 = _mix(pc.add(_mix(pc.bit_wise_xor(pw1, p1)), idx))
        st.w2 = _mix(pc.bit_wise_xor(pc.bit_wise_xor(pw2, p2), _mix(pc.bit_wise_xor(idx, p1))))

    # ------------------------------------------------------------ columns

    def _table(self, st: _TableState) -> tuple[Table, bool]:
        t = self.schema.tables.get(st.name)
        if t is not None:
            return t, True
        parent = st.parent.name if st.parent is not None else None
        t = Table(
            name=st.name,
            resource=self.resource,
            parent=parent,
            write_disposition=self.write_disposition,
            primary_key=list(self.primary_key) if parent is None else [],
            merge_key=list(self.merge_key) if parent is None else [],
        )
        self.schema.tables[st.name] = t
        self.changes.append(SchemaChange("new_table", st.name))
        return t, False

    def _finish(self, st: _TableState, load_id: str, seq_start: int) -> pa.Table:
        table, _ = self._table(st)
        n = st.n
        locked = self._locked.get(table.name, frozenset())
        hints = self.hints.get(table.name, {}) if st.parent is None else {}
        placed: dict[str, pa.Array] = {}
        seen_groups: set[str] = set()
        is_root = st.parent is None
        groups: dict[str, list[Column]] = {}
        for c in table.columns.values():
            groups.setdefault(c.variant_of or c.name, []).append(c)
        for name, col in st.cols.items():
            hint = hints.get(name)
            if isinstance(col, Observed):
                obs = col
            elif hint is not None and hint.data_type == "json":
                values = [None if v is None else _json_text(v) for v in col]
                obs = evolve_observe_json(values)
            else:
                obs = observe(col)
            existing = groups.get(name, [])
            if len(existing) > 1:
                existing.sort(key=lambda c: c.variant_of is not None)
            if not obs.arrays:
                if existing:
                    seen_groups.add(name)
                if is_root and name in self._required:
                    self._null_value(name, None, 0, obs)
                continue
            if not self._contract_column(st, table, name, obs, hint is not None):
                continue
            seen_groups.add(name)
            if obs.wide:
                self._exact.add((table.name, name))
                for c in existing:
                    if c.variant_of is None:
                        c.wide = True
            if hint is None and len(existing) == 1 and len(obs.arrays) == 1:
                # settled column: one type, the column's own; no layout to decide
                main = existing[0]
                ((t, arr),) = obs.arrays.items()
                if (
                    main.data_type == t
                    and main.variant_of is None
                    and t != "decimal"
                    and arr.type == arrow_type(t)
                ):
                    if is_root and name in self._required:
                        self._null_value(name, arr, n, obs)
                    if is_root and name in self.primary_key:
                        main.primary_key = True
                    if is_root and name in self.merge_key:
                        main.merge_key = True
                    placed[name] = arr
                    continue
            exact = (table.name, name) in self._exact
            if hint is not None and hint.data_type == "decimal":
                self._remember_decimal_json(table.name, name, obs)
            promote = self.contract.data_type == "evolve"
            layout = layout_group(
                name,
                existing,
                obs.arrays.keys(),
                locked=locked,
                hint=hint,
                exact=exact,
                promote=promote,
            )
            dec = obs.arrays.get("decimal")
            if dec is not None and dec.type.scale > 0:
                _widen_scale(layout.columns, dec.type.scale, locked, hint)
            arrays, failed = place(obs.arrays, obs.raw, layout, hinted=hint is not None)
            if failed:
                layout = layout_group(
                    name,
                    existing,
                    obs.arrays.keys(),
                    locked=locked,
                    hint=hint,
                    spill=failed,
                    exact=exact,
                    promote=promote,
                )
                arrays, failed = place(obs.arrays, obs.raw, layout, hinted=hint is not None)
                if failed:
                    raise DataError(
                        f"column '{name}' of table '{table.name}': {', '.join(failed)} values"
                        f" fit none of its columns ({', '.join(c.name for c in layout.columns)})",
                        resource=self.resource,
                    )
            if is_root and name in self.primary_key:
                self._key_in_variant(name, layout, arrays, st)
            self._contract_variants(st, table, layout, arrays)
            main = layout.main
            required = is_root and name in self._required
            if required:
                self._null_value(name, arrays.get(name), n, obs)
            main.nullable = not required
            if is_root and name in self.primary_key:
                main.primary_key = True
            if is_root and name in self.merge_key:
                main.merge_key = True
            apply_layout(table, layout, self.changes)
            if exact:
                table.columns[name].wide = True
            placed.update(arrays)
        if is_root:
            # hinted columns are created even when no record has them (as in dlt)
            for name, hint in hints.items():
                if name not in table.columns:
                    hinted = copy.copy(hint)
                    hinted.nullable = name not in self._required
                    table.columns[name] = hinted
                    self.changes.append(
                        SchemaChange("new_column", table.name, name, hinted.data_type)
                    )
            # a required column this batch did not fill
            for name in sorted(self._required - seen_groups - set(st.cols)):
                self._null_value(name, None, 0, None)
        # bookkeeping
        assert st.w1 is not None
        assert st.w2 is not None
        ids = _ids(st.w1, st.w2)
        book: dict[str, pa.Array] = {DLT_ID: ids}
        if is_root:
            book[DLT_LOAD_ID] = pa.array([load_id] * n, pa.string())
            seq = pa.array(range(seq_start, seq_start + n), pa.int64())
            self._ensure(table, DLT_LOAD_ID, "text")
            self._ensure(table, DLT_ID, "text")
        else:
            assert st.parent is not None
            assert st.pidx is not None
            assert st.lidx is not None
            assert st.ridx is not None
            book[DLT_PARENT_ID] = self._parent_ids(st.parent).take(st.pidx)
            book[DLT_LIST_IDX] = st.lidx
            self._ensure(table, DLT_PARENT_ID, "text")
            self._ensure(table, DLT_LIST_IDX, "bigint")
            self._ensure(table, DLT_ID, "text")
            if self._merge:
                book[DLT_ROOT_ID] = self._parent_ids(self._root).take(st.ridx)
                self._ensure(table, DLT_ROOT_ID, "text")
            seq = pc.add(st.ridx, seq_start)
        self._id_cache[st.name] = ids
        fields: list[pa.Field] = []
        arrays_out: list[pa.Array] = []
        for c in table.columns.values():
            a = book.get(c.name)
            if a is None:
                a = placed.get(c.name)
            if a is None:
                a = pa.nulls(n, arrow_type(c.data_type, c.precision, c.scale))
            fields.append(arrow_field(c.name, c.data_type, True, c.precision, c.scale))
            arrays_out.append(a)
        fields.append(pa.field(SEQ, pa.int64(), False))
        arrays_out.append(seq)
        return pa.Table.from_arrays(arrays_out, schema=pa.schema(fields))

    def _parent_ids(self, st: _TableState) -> pa.Array:
        return self._id_cache[st.name]

    def _ensure(self, table: Table, name: str, data_type: DataType) -> None:
        if name not in table.columns:
            table.columns[name] = Column(name=name, data_type=data_type, nullable=False)

    # ------------------------------------------------------------ helpers for the loader

    def conform(self, table: pa.Table, table_schema: Table) -> pa.Table:
        """Cast a table made under an earlier schema to `table_schema` (`evolve.conform`)."""
        return evolve.conform(table, table_schema)

    def merge_schema(self, other: Schema) -> None:
        """Merge a schema inferred elsewhere from the same start (e.g. a worker) into ours."""
        merged = evolve.merge_schemas(self.schema, other, base=self.base, hints=self.hints)
        self.schema.tables = merged.tables


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


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic collection inside: a walk allocates many short-lived containers, and a pass
    over the whole heap (the pages held by the caller) in the middle of it costs more than
    the walk itself. Reference counting frees what the walk drops; the collector is back on
    afterwards."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _link(child: _TableState, parent: _TableState, offsets: pa.Array, total: int) -> None:
    """Give `child` its `total` rows: the lists of `parent`'s rows, list `i` holding the
    items `offsets[i]` to `offsets[i + 1]` (int32); each row's parent row, list index and
    root row."""
    pidx = pc.list_parent_indices(pa.ListArray.from_arrays(offsets, pa.nulls(total)))
    pidx = pidx.cast(pa.int64())
    child.n = total
    child.pidx = pidx
    child.lidx = pc.subtract(pa.array(range(total), pa.int64()), offsets.take(pidx))
    child.ridx = pidx if parent.parent is None else parent.ridx.take(pidx)  # type: ignore[union-attr]


def _valid_mask(arrays: Iterable[pa.Array]) -> pa.Array:
    """Rows where any of the (equally long) `arrays` holds a value."""
    mask: pa.Array | None = None
    for a in arrays:
        v = pc.is_valid(a)
        mask = v if mask is None else pc.or_(mask, v)
    assert mask is not None
    return mask


def _parent_name(st: _TableState) -> str:
    assert st.parent is not None
    return st.parent.name


def _precedence(st: _TableState) -> tuple[int, int, str]:
    """Which origin of a child table name owns it when both first appear in one batch: the
    one whose parent is fewer tables from the root, then a list directly in a list (over a
    list at a key), then the parent's name."""
    level = 0
    p = st.parent
    while p is not None:
        level += 1
        p = p.parent
    item = st.parent is not None and st.parent.list_child is st
    return (level, 0 if item else 1, _parent_name(st))


def _origin(st: _TableState) -> str:
    parent = _parent_name(st)
    if st.parent is not None and st.parent.list_child is st:
        return f"the lists in the lists of '{parent}'"
    return f"the lists at '{parent}.{st.column}'"


def _row_content(record: Any) -> bytes:
    """A record's content as stable bytes (keys sorted, `_dlt*` keys left out, nested lists
    in, as dlt's row hash): a row hash changes exactly when the record changes."""
    row = (
        {str(k): v for k, v in record.items() if not str(k).startswith("_dlt")}
        if isinstance(record, Mapping)
        else record
    )
    try:
        return orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return repr(row).encode("utf-8", "replace")


def _crcs(records: Sequence[Any]) -> list[int]:
    """A checksum of each record's content (for the ids of rows without a primary key)."""
    dumps = orjson.dumps
    opt = orjson.OPT_NON_STR_KEYS
    crc32 = zlib.crc32
    try:
        return [crc32(dumps(r, option=opt)) for r in records]
    except TypeError:
        out = []
        for r in records:
            try:
                out.append(crc32(dumps(r, option=opt)))
            except TypeError:
                out.append(crc32(repr(r).encode("utf-8", "replace")))
        return out


def _raw_path(ctx: _Ctx, name: str) -> tuple[Any, ...] | None:
    """The raw keys leading to column `name` of a table, from the column plans."""
    for k, (col, sub, _) in ctx.keyplan.items():
        if col == name:
            return (k,)
        if sub is not None and name.startswith(col + "__"):
            rest = _raw_path(sub, name)
            if rest is not None:
                return (k, *rest)
    return None


def _or_empty(values: Sequence[Any]) -> list[Any]:
    return [_EMPTY if v is None else v for v in values]


def _int_key_digests(table_name: str, keys: pa.Array) -> bytes:
    """The key digests of rows keyed by one integer column: the bytes `_dumps_key` gives for
    `[value]` (`[12]`, `[null]`), made with Arrow string kernels instead of per-row encoding."""
    blake = hashlib.blake2b
    text = pc.fill_null(pc.cast(keys, pa.string()), "null")
    keyed = pc.binary_join_element_wise(f"{table_name}\x1f[", text, "]", "")
    return b"".join(
        [blake(k, digest_size=16).digest() for k in keyed.cast(pa.binary()).to_pylist()]
    )


def _dumps_key(key: list[Any]) -> bytes:
    try:
        return orjson.dumps(key, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return repr(key).encode("utf-8", "replace")


def _json_text(v: Any) -> str:
    try:
        return orjson.dumps(v, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        import json

        return json.dumps(v, default=str, ensure_ascii=False)


def evolve_observe_json(values: list[Any]) -> Any:
    """Observation of a json-hinted column (values already JSON text)."""
    from restsync.schema.infer import Observed

    arr = pa.array(values, pa.string())
    return Observed({"json": arr}, None, arr.null_count == 0)


def infer_batch(
    records: Sequence[Any],
    resource: str,
    table_name: str,
    *,
    base: Schema | None = None,
    load_id: str = "0",
    **options: Any,
) -> Schema:
    """The schema inferred from `records` alone, starting from `base` (not modified).

    `merge_schemas(infer_batch(a), infer_batch(b))` equals `infer_batch(a + b)` up to column
    order, which lets worker processes normalize pages independently.
    """
    schema = copy.deepcopy(base) if base is not None else Schema(name=resource)
    Normalizer(schema, resource, table_name, **options).normalize(records, load_id, 0)
    return schema
