"""The primary-key values of a batch's records, read along the raw key paths of the key
columns, and converted to one type per key column (`restsync.schema._keys`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from restsync.schema._keys import convert_key, key_type
from restsync.schema._model import Schema
from restsync.schema._normalize import errors
from restsync.schema._normalize.settings import Settings
from restsync.schema._normalize.state import Fallback, Tree, raw_path

_get = dict.get


class KeyReader:
    """Reads the primary keys of the records walked into `tree`."""

    def __init__(self, settings: Settings, tree: Tree) -> None:
        self.settings = settings
        self.tree = tree

    def path(self, name: str) -> tuple[Any, ...] | None:
        """The raw keys leading to the key column `name`; None when no record had it so far
        (`Fallback` under merge: the row walk raises the DataError with the record's fields)."""
        path = raw_path(self.tree.root.ctx, name)
        if path is None and self.settings.merge:
            raise Fallback
        return path

    def of_records(self, records: Sequence[dict[Any, Any]]) -> list[list[Any]]:
        """The primary-key values of each record (raises `Fallback` on a missing one)."""
        n = len(records)
        merge = self.settings.merge

        def column(path: tuple[Any, ...]) -> list[Any]:
            vals: list[Any] = list(map(_get, records, itertools.repeat(path[0], n)))
            for k in path[1:]:
                vals = [v.get(k) if type(v) is dict else None for v in vals]
            if merge and None in vals:
                raise Fallback  # the row walk raises the DataError with the record's fields
            return vals

        return self.keys_by(n, column)

    def keys_by(self, n: int, column: Callable[[tuple[Any, ...]], list[Any]]) -> list[list[Any]]:
        """The key of each of `n` rows, from `column(raw path)` of each key column."""
        cols = []
        for name in self.settings.primary_key:
            path = self.path(name)
            cols.append([None] * n if path is None else column(path))
        if len(cols) == 1:
            return [[v] for v in cols[0]]
        return [list(t) for t in zip(*cols, strict=True)]

    def convert(self, keys: list[list[Any]], schema: Schema) -> None:
        """Give each key column's values one type (`restsync.schema._keys`), in `keys` and in
        the root table's columns; a value that does not convert is a `DataError`."""
        s = self.settings
        root = self.tree.root
        table = schema.tables.get(s.table_name)
        for j, name in enumerate(s.primary_key):
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
                    errors.bad_key(s, i, name, v, target, str(exc))
            for k, v in zip(keys, out, strict=True):
                k[j] = v
            if name in root.cols:
                root.cols[name] = out
