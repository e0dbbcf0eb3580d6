"""The columnar walk: a batch of dict records key by key, each key's values a column typed
at once (`infer.observe`), lists into their child tables as whole columns. It gives what the
row walk gives, or raises `Fallback` for the cases it leaves to the row walk."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from restsync.schema._infer import observe
from restsync.schema._normalize.plans import Planner
from restsync.schema._normalize.state import (
    CONTAINERS,
    DICT_ONLY,
    EMPTY,
    LIST_ONLY,
    NONE_TYPE,
    VALUE_COLUMN,
    Ctx,
    Fallback,
    TableState,
    link,
    or_empty,
    put,
)

_get = dict.get


class ColumnWalk:
    """Walks dict records into the columns of the table states of `planner.tree`."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.tree = planner.tree

    def walk(self, records: Sequence[Any]) -> None:
        root = self.tree.root
        root.n = len(records)
        self.objects(records, root.ctx, root)

    def objects(self, objs: Sequence[Any], ctx: Ctx, st: TableState) -> None:
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
        plans = self.planner.keyplan(ctx, keys)
        for k, (name, sub, child), values in zip(keys, plans, cols, strict=True):
            if sub is None:  # JSON path or max nesting: stored as is
                put(st, name, list(values))
                continue
            kind = ctx.kinds.get(k)
            if kind == "scalar":
                obs = observe(values)
                if "json" not in obs.arrays:
                    put(st, name, obs)
                    continue
            types = set(map(type, values))
            has_none = NONE_TYPE in types
            types.discard(NONE_TYPE)
            if child is not None and child.clash and list in types:
                # lists here are leaves (JSON text): their table name is another table's
                ctx.kinds[k] = "mixed"
                if dict in types:
                    self.split(values, name, sub, None, st)
                else:
                    put(st, name, list(values))
                continue
            if not types & CONTAINERS:
                ctx.kinds[k] = "scalar"
                put(st, name, observe(values))
            elif types == DICT_ONLY:
                ctx.kinds[k] = "dict"
                self.objects(or_empty(values) if has_none else values, sub, st)
            elif types == LIST_ONLY:
                ctx.kinds[k] = "list"
                assert child is not None
                self.lists(values, child, st)
            else:
                ctx.kinds[k] = "mixed"
                assert child is not None
                self.split(values, name, sub, child, st)

    def split(
        self,
        values: Sequence[Any],
        name: str,
        sub: Ctx,
        child: TableState | None,
        st: TableState,
    ) -> None:
        """A column mixing objects, lists and scalars: each part where the row walk puts it
        (lists stay in the column, as JSON text, when `child` is None)."""
        objs = [v if type(v) is dict else EMPTY for v in values]
        stop = CONTAINERS if child is not None else DICT_ONLY
        scalars = [None if type(v) in stop else v for v in values]
        put(st, name, scalars)
        self.objects(objs, sub, st)
        if child is not None:
            self.lists([v if type(v) is list else None for v in values], child, st)

    def lists(self, values: Sequence[Any], child: TableState, parent: TableState) -> None:
        """The lists `values` (one per row of `parent`, None for none) as rows of `child`."""
        if None in values:
            values = [v or () for v in values]
        lens = list(map(len, values))
        total = sum(lens)
        if total == 0:
            return
        if child.n:
            raise Fallback  # rows from two places in one batch: left to the row walk
        items = list(itertools.chain.from_iterable(values))
        link(child, parent, pa.array(itertools.accumulate(lens, initial=0), pa.int32()), total)
        self.items(items, child)

    def items(self, items: list[Any], st: TableState) -> None:
        """The list items `items` as the rows of `st`."""
        if st.kind == "scalar":
            obs = observe(items)
            if "json" not in obs.arrays:
                put(st, VALUE_COLUMN, obs)
                return
        types = set(map(type, items))
        has_none = NONE_TYPE in types
        types.discard(NONE_TYPE)
        lc = st.list_child
        nested = st.depth < self.planner.max_nesting and not (lc is not None and lc.clash)
        if not types & CONTAINERS:
            st.kind = "scalar"
            put(st, VALUE_COLUMN, observe(items))
        elif types == DICT_ONLY:
            st.kind = "dict"
            self.objects(or_empty(items) if has_none else items, st.ctx, st)
        elif types == LIST_ONLY and nested:
            st.kind = "list"
            self.lists(items, self.tree.list_child(st), st)
        else:
            st.kind = "mixed"
            stop = CONTAINERS if nested else DICT_ONLY
            scalars = [None if type(v) in stop else v for v in items]
            if any(v is not None for v in scalars):
                put(st, VALUE_COLUMN, scalars)
            if dict in types:
                self.objects([v if type(v) is dict else EMPTY for v in items], st.ctx, st)
            if nested and list in types:
                lists = [v if type(v) is list else None for v in items]
                self.lists(lists, self.tree.list_child(st), st)
