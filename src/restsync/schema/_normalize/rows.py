"""The row walk: record by record into row dicts, child lists into their tables' rows.
It takes any input (and raises the `DataError` of a bad record); the columnar walk
(`columns`) falls back to it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from restsync.schema._normalize import errors
from restsync.schema._normalize.plans import Planner
from restsync.schema._normalize.settings import Settings
from restsync.schema._normalize.state import VALUE_COLUMN, Ctx, TableState

#: a child table and the list of items whose rows it gets
Pending = list[tuple[TableState, list[Any]]]


class RowWalk:
    """Walks records into the row buffers of the table states of `planner.tree`."""

    def __init__(self, planner: Planner, settings: Settings) -> None:
        self.planner = planner
        self.settings = settings

    def walk(self, records: Sequence[Any], seq_start: int) -> list[list[Any]] | None:
        """Walk the batch; returns the primary-key values per record (None without a key)."""
        tree = self.planner.tree
        rows = tree.root.rows
        rctx = tree.root.ctx
        flatten = self.flatten
        children = self.children
        s = self.settings
        pk = s.primary_key
        check_pk = bool(pk) and s.merge
        for i, rec in enumerate(records):
            if type(rec) is not dict:
                rec = errors.as_dict(rec, i, s.resource)
            row: dict[str, Any] = {}
            pending: Pending = []
            flatten(rec, rctx, row, pending)
            rows.append(row)
            if check_pk:
                key = [row.get(c) for c in pk]
                if None in key:
                    errors.missing_primary_key(s, i, row, key)
            if pending:
                children(pending, i, seq_start + i, i)
        for st in tree.states:
            if st.rows:
                st.columns_from_rows()
        if not pk:
            return None
        return [[row.get(c) for c in pk] for row in rows]

    def flatten(self, obj: dict[Any, Any], ctx: Ctx, row: dict[str, Any], pending: Pending) -> None:
        """Put the values of `obj` into `row`, its lists into `pending`."""
        keys = tuple(obj)
        plan = ctx.plans.get(keys)
        if plan is None:
            plan = self.planner.plan(ctx, keys)
        for (name, sub, child), v in zip(plan, obj.values(), strict=False):
            tv = type(v)
            if tv is dict:
                if sub is not None:
                    if v:
                        self.flatten(v, sub, row, pending)
                    continue
            elif tv is list and child is not None and not child.clash:
                if v:
                    pending.append((child, v))
                continue
            row[name] = v

    def children(self, pending: Pending, parent_row: int, seq: int, root_row: int) -> None:
        """The items of the lists `pending` of the parent row `parent_row` as child rows."""
        max_nesting = self.planner.max_nesting
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
                    sub: Pending = []
                    self.flatten(item, ctx, crow, sub)
                    rows.append(crow)
                    if sub:
                        self.children(sub, start + i, seq, root_row)
                elif ti is list:
                    lc = st.list_child
                    if st.depth >= max_nesting or (lc is not None and lc.clash):
                        rows.append({VALUE_COLUMN: item})
                        continue
                    rows.append({})
                    if item:
                        child = self.planner.tree.list_child(st)
                        self.children([(child, item)], start + i, seq, root_row)
                else:
                    rows.append({VALUE_COLUMN: item})
