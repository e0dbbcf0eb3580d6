"""`Normalizer`: the facade over the walks, the Arrow page read and the table layout."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from restsync._runtime import collector_paused
from restsync.schema._evolve import SchemaChange
from restsync.schema._model import Schema, WriteDisposition
from restsync.schema._naming import NameCollision
from restsync.schema._normalize.columns import ColumnWalk
from restsync.schema._normalize.enforce import ContractRules
from restsync.schema._normalize.ids import RootWords, child_words
from restsync.schema._normalize.layout import TableLayout, assemble, bookkeeping
from restsync.schema._normalize.names import ColumnNames, TableClashes
from restsync.schema._normalize.pages import ArrowPages, DecimalJsonTypes
from restsync.schema._normalize.plans import Planner
from restsync.schema._normalize.primary_keys import KeyReader
from restsync.schema._normalize.rows import RowWalk
from restsync.schema._normalize.settings import relax, settings_of
from restsync.schema._normalize.state import (
    DICT_ONLY,
    Fallback,
    TableState,
    Tree,
)


class Normalizer:
    """Normalizes one resource's records into Arrow tables and evolves the schema in place.

    `columns` are the resource's column hints (`{"price": {"data_type": "decimal",
    "precision": 12, "scale": 2}}`, `{"tags": {"data_type": "json"}}`, `nullable`,
    `primary_key`, ...), keyed by column name. `changes` accumulates every `SchemaChange`.

    ```python
    norm = Normalizer(schema, "orders", "orders", primary_key="id")
    tables = norm.normalize(records, load_id, seq_start=0)  # {"orders": ..., "orders__lines": ...}
    ```
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
        s = settings_of(
            resource,
            table_name,
            write_disposition=write_disposition,
            primary_key=primary_key,
            merge_key=merge_key,
            columns=columns,
            max_table_nesting=max_table_nesting,
            schema_contract=schema_contract,
            row_hash=row_hash,
        )
        self.settings = s
        self.schema = schema
        self.resource = resource
        self.table_name = s.table_name
        self.primary_key = s.primary_key
        self.merge_key = s.merge_key
        self.hints = s.hints
        self.changes: list[SchemaChange] = []
        relax(schema, s, self.changes)
        #: the schema as it was (what the destination has): `schema_contract` compares to it
        self.base = copy.deepcopy(schema)
        self._tree = Tree(s.table_name)
        self._names = ColumnNames(schema, self.changes)
        self._clashes = TableClashes(schema, self.changes)
        planner = Planner(self._names, self._tree, s.max_nesting, s.json_paths)
        self._rows = RowWalk(planner, s)
        self._columns = ColumnWalk(planner)
        self._keys = KeyReader(s, self._tree)
        self._root_words = RootWords(s.table_name, merge=s.merge, row_hash=s.row_hash)
        self._rules = ContractRules(s.contract, self.base, resource)
        decimals = DecimalJsonTypes()
        self._layout = TableLayout(s, schema, self.changes, self._rules, decimals)
        self._pages = ArrowPages(
            s, schema, self._tree, self._clashes, self._keys, decimals, self._page_tables
        )

    @property
    def collisions(self) -> list[NameCollision]:
        """Every pair of keys that normalized to one column name so far."""
        return self._names.collisions

    def normalize(
        self, records: Sequence[Any], load_id: str, seq_start: int
    ) -> dict[str, pa.Table]:
        """Normalize one page of records; returns one Arrow table per destination table.

        The schema is updated in place. Raises `DataError` for a record that is not an
        object, or (under merge) one without a value for a primary-key column.
        """
        self._tree.reset()
        if len(records) == 0:
            return {}
        with collector_paused():
            # a batch that gives two origins one child table name is walked again once the
            # losers store their lists as JSON text (`TableClashes`); each pass marks one more
            for _ in range(len(self._tree.states) + 1):
                keys = self._walk(records, seq_start)
                if not self._clashes.resolve(self._tree.states):
                    break
                self._tree.reset()
            if keys is not None:
                self._keys.convert(keys, self.schema)
            return self._tables(records, keys, len(records), load_id, seq_start)

    def normalize_pages(
        self, bodies: Sequence[bytes | memoryview], key: str, load_id: str, seq_start: int
    ) -> dict[str, pa.Table] | None:
        """`normalize` of the records of whole JSON pages, each a body whose top-level `key`
        holds the records, read by `pyarrow.json` instead of being decoded into Python objects.

        It gives exactly what `normalize` gives for the same records, or None when it does
        not apply; the caller then decodes the pages and calls `normalize`. It applies once
        earlier batches have settled every key: the pages are read against the Arrow types
        of the schema's columns, and anything the schema has not seen yet (a new key, another
        type, a null record, an int a double would round, a clash of child tables) gives
        None. Resources without a primary key are left to `normalize` (their row ids are
        checksums of the decoded records). See `pages`.
        """
        return self._pages.normalize_pages(bodies, key, load_id, seq_start)

    def _walk(self, records: Sequence[Any], seq_start: int) -> list[list[Any]] | None:
        """Walk the batch into the table states; returns the primary-key values per record."""
        if set(map(type, records)) == DICT_ONLY:
            try:
                self._walk_columns(records)
                return self._keys.of_records(records) if self.primary_key else None
            except Fallback:
                self._tree.reset()
        return self._rows.walk(records, seq_start)

    def _walk_columns(self, records: Sequence[Any]) -> None:
        self._columns.walk(records)

    def _page_tables(
        self, keys: list[list[Any]] | pa.Array, n: int, load_id: str, seq_start: int
    ) -> dict[str, pa.Table]:
        return self._tables(None, keys, n, load_id, seq_start)

    def _tables(
        self,
        records: Sequence[Any] | None,
        keys: list[list[Any]] | pa.Array | None,
        n: int,
        load_id: str,
        seq_start: int,
    ) -> dict[str, pa.Table]:
        """The walked batch's tables: ids, then each table's columns."""
        states = self._tree.states
        root = self._tree.root
        self._clashes.settle(states)
        root.w1, root.w2 = self._root_words.of(records, keys, n, load_id, seq_start)
        self._rules.start()
        out: dict[str, pa.Table] = {}
        ids_by_table: dict[str, pa.Array] = {}
        skipped: set[TableState] = set()
        for st in states:
            if not st.n:
                continue
            if (st.parent is not None and st.parent in skipped) or self._rules.refuse_table(st):
                skipped.add(st)  # `schema_contract` discards the rows of a new table
                continue
            if st.parent is not None:
                st.w1, st.w2 = child_words(st)
            out[st.name] = self._finish(st, ids_by_table, load_id, seq_start)
        self._rules.drop_rows(out, states, skipped)
        self._names.store(self.schema)
        return out

    def _finish(
        self, st: TableState, ids_by_table: dict[str, pa.Array], load_id: str, seq_start: int
    ) -> pa.Table:
        table = self._layout.table(st)
        placed = self._layout.place_columns(st, table)
        book, seq = bookkeeping(
            st,
            table,
            ids_by_table,
            self.table_name,
            merge=self.settings.merge,
            load_id=load_id,
            seq_start=seq_start,
        )
        return assemble(table, {**placed, **book}, seq, st.n)


def infer_batch(
    records: Sequence[Any],
    resource: str,
    table_name: str,
    *,
    base: Schema | None = None,
    load_id: str = "0",
    **options: Any,
) -> Schema:
    """The schema inferred from `records` alone, starting from `base` (not modified)."""
    schema = copy.deepcopy(base) if base is not None else Schema(name=resource)
    Normalizer(schema, resource, table_name, **options).normalize(records, load_id, 0)
    return schema
