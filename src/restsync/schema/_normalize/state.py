"""The walk state: one `TableState` per destination table a batch touches, the `Ctx` of
each (nested) object, and the `Tree` of them a normalizer keeps from batch to batch."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from restsync.schema._infer import Observed
from restsync.schema._model import (
    DLT_ID,
    DLT_LIST_IDX,
    DLT_LOAD_ID,
    DLT_PARENT_ID,
    DLT_ROOT_ID,
    SEQ,
)
from restsync.schema._naming import make_path

VALUE_COLUMN = "value"
LIST_COLUMN = "list"
BOOKKEEPING = frozenset({DLT_ID, DLT_LOAD_ID, DLT_PARENT_ID, DLT_LIST_IDX, DLT_ROOT_ID, SEQ})

NONE_TYPE = type(None)
EMPTY: dict[str, Any] = {}
DICT_ONLY = frozenset({dict})
LIST_ONLY = frozenset({list})
CONTAINERS = frozenset({dict, list})

_get = dict.get


class TableState:
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

    def __init__(self, name: str, parent: TableState | None, depth: int) -> None:
        self.name = name
        self.parent = parent
        self.depth = depth
        self.rows: list[dict[str, Any]] = []
        self.parent_idx: list[int] = []
        self.list_idx: list[int] = []
        self.seq: list[int] = []
        self.root_idx: list[int] = []
        self.ctx = Ctx(self, "", (), depth)
        self.list_child: TableState | None = None
        self.children: dict[str, TableState] = {}
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
        # the name is another table's: these lists are stored as JSON text (`names.TableClashes`)
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


#: one entry per key of an object: (column name, sub context, child table); the sub context
#: and child table are None for a value stored as it is (JSON path, max nesting)
PlanEntry = tuple[str, "Ctx | None", "TableState | None"]
Plan = list[PlanEntry]


class Ctx:
    """Where the keys of one (possibly nested) object go: table, column prefix, depth."""

    __slots__ = ("depth", "keyplan", "kinds", "plans", "prefix", "raw", "subs", "table")

    def __init__(self, table: TableState, prefix: str, raw: tuple[str, ...], depth: int) -> None:
        self.table = table
        self.prefix = prefix
        self.raw = raw
        self.depth = depth
        self.plans: dict[tuple[Any, ...], Plan] = {}
        self.subs: dict[str, Ctx] = {}
        # columnar path: raw key -> (name, sub ctx, child table); raw key -> last kind
        self.keyplan: dict[Any, PlanEntry] = {}
        self.kinds: dict[Any, str] = {}


class Fallback(Exception):
    """The columnar walk met a case it leaves to the row walk (same results, slower)."""


class Tree:
    """The table states of one resource: the root table's, then each child table's in the
    order they were first met (a parent before its children)."""

    def __init__(self, table_name: str) -> None:
        self.root = TableState(table_name, None, 0)
        self.states: list[TableState] = [self.root]

    def child(self, table: TableState, name: str, depth: int) -> TableState:
        """The child table of the lists at column `name` of `table`."""
        child = table.children.get(name)
        if child is None:
            child = TableState(make_path(table.name, name), table, depth)
            child.column = name
            table.children[name] = child
            self.states.append(child)
        return child

    def list_child(self, st: TableState) -> TableState:
        """The child table of the lists directly in the lists of `st`."""
        lc = st.list_child
        if lc is None:
            lc = st.list_child = TableState(make_path(st.name, LIST_COLUMN), st, st.depth + 1)
            self.states.append(lc)
        return lc

    def reset(self) -> None:
        """Empty every table state for the next walk (of this batch again, or the next)."""
        for st in self.states:
            if st.n or st.rows:
                st.reset()


def link(child: TableState, parent: TableState, offsets: pa.Array, total: int) -> None:
    """Give `child` its `total` rows: the lists of `parent`'s rows, list `i` holding the
    items `offsets[i]` to `offsets[i + 1]` (int32); each row's parent row, list index and
    root row."""
    pidx = pc.list_parent_indices(pa.ListArray.from_arrays(offsets, pa.nulls(total)))
    pidx = pidx.cast(pa.int64())
    child.n = total
    child.pidx = pidx
    child.lidx = pc.subtract(pa.array(range(total), pa.int64()), offsets.take(pidx))
    child.ridx = pidx if parent.parent is None else parent.ridx.take(pidx)  # type: ignore[union-attr]


def put(st: TableState, name: str, val: Observed | list[Any]) -> None:
    """Store the column `name` of `st` (`Fallback` when two keys give it)."""
    if name in st.cols:
        raise Fallback  # two keys of one object give one column name
    st.cols[name] = val


def or_empty(values: Sequence[Any]) -> list[Any]:
    return [EMPTY if v is None else v for v in values]


def raw_path(ctx: Ctx, name: str) -> tuple[Any, ...] | None:
    """The raw keys leading to column `name` of a table, from the column plans."""
    for k, (col, sub, _) in ctx.keyplan.items():
        if col == name:
            return (k,)
        if sub is not None and name.startswith(col + "__"):
            rest = raw_path(sub, name)
            if rest is not None:
                return (k, *rest)
    return None


def parent_name(st: TableState) -> str:
    assert st.parent is not None
    return st.parent.name
