"""What DuckDB and Postgres share: DDL planning, write dispositions in SQL, bookkeeping.

A subclass supplies the connection, the type names, the bulk path (Arrow scan for DuckDB,
COPY for Postgres) and how to read a row count back. Everything else - schema evolution,
append / replace / merge, the state and load records, `show` - is written once here.

Merge strategies (delete-insert, upsert, insert-only, scd2) and the hard_delete / dedup_sort
hints are described in `restsync.load._merge`, whose `MergePlan` gives the SQL fragments. The
default, delete-insert for a root table with primary key K (per load, one transaction):

    stage  <- the staged rows (with `_restsync_seq`)
    win    <- per K, the staged row with the highest `_restsync_seq`
    gone   <- `_dlt_id` of the stored rows whose K is in `win` (and of `win` itself)
    DELETE stored rows whose K is in `win`; INSERT `win`
    child tables: DELETE rows whose `_dlt_root_id` is in `gone`; INSERT the staged child rows
    whose (`_dlt_root_id`, `_restsync_seq`) is a winning root version, one per `_dlt_id`

Why one module of this size: it is one class. The merge statements (`_merge_root`,
`_scd2_root`, `_merge_child`) share the load's bookkeeping (`_created`, `_winners`,
`_win_rows`, `_unique_roots`, `_no_child_delete`) with `ensure_tables`, `write`, `commit` and
`rollback`, and run through the dialect hooks; a module of their own would need a mixin that
declares those hooks and attributes a second time. The SQL that needs no connection is already
apart (`restsync.load._merge`); the class reads in sections: hooks, names, protocol, merge,
commit, reads.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from restsync.destinations._base import (
    LOADS_TABLE,
    SCHEMA_TABLE,
    STATE_TABLE,
    DestinationInfo,
    TableInfo,
    TableLoadStats,
)
from restsync.errors import LoadError
from restsync.load._merge import MergePlan, RefreshPlan
from restsync.schema._model import DLT_ID, DLT_PARENT_ID, DLT_ROOT_ID, SEQ, Column, Schema, Table
from restsync.state import COMMITTED, dumps, loads_json, parse_state, schema_hash, utcnow

if TYPE_CHECKING:
    from restsync.stage._writer import StagedLoad


def restsync_datasets(fetch: Callable[[str], Sequence[tuple[Any, ...]]]) -> dict[str, list[str]]:
    """The restsync datasets of a database read with `fetch` (a query's rows): the schemas
    holding a load record or state table, each with the pipelines named there, sorted."""
    rows = fetch(
        "SELECT DISTINCT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_name IN ('{LOADS_TABLE}', '{STATE_TABLE}') ORDER BY table_schema"
    )
    found: dict[str, set[str]] = {}
    for schema, table in rows:
        names = found.setdefault(str(schema), set())
        where = f"{quote(str(schema))}.{quote(str(table))}"
        names.update(str(r[0]) for r in fetch(f"SELECT DISTINCT pipeline FROM {where}"))
    return {dataset: sorted(names) for dataset, names in sorted(found.items())}


def quote(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def root_of(schema: Schema, table: Table) -> Table:
    """The root table of `table`'s resource."""
    t = table
    while t.parent is not None and t.parent in schema.tables:
        t = schema.tables[t.parent]
    return t


class SqlDestination(abc.ABC):
    """Base class of the SQL destinations; see the module docstring for the merge plan."""

    name: str = "sql"
    PARAM = "?"
    JSON_PARAM = "?"

    def __init__(self, dataset_name: str) -> None:
        self.dataset_name = dataset_name
        self._schema: Schema | None = None
        self._winners: dict[str, str] = {}  # root table -> temp table of removed root ids
        self._win_rows: dict[str, str] = {}  # root table -> (quoted) relation of winning rows
        #: Root tables of this load whose staged rows have one version per key.
        self._unique_roots: set[str] = set()
        #: Root tables whose merge never removes child rows (insert-only, scd2).
        self._no_child_delete: set[str] = set()
        self._temps: list[str] = []
        self._committed_cache: dict[str, bool] = {}
        #: The dataset's columns while `ensure_tables` runs (one query, not one per table).
        self._columns_cache: dict[str, dict[str, tuple[str, bool]]] | None = None
        #: Tables this transaction created: empty before the load, so a merge into one
        #: has nothing to replace (no root or child rows to delete).
        self._created: set[str] = set()
        self._in_tx = False
        self._n = 0

    # ---- hooks -------------------------------------------------------------------------

    @abc.abstractmethod
    def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the affected row count (or -1)."""

    @abc.abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return its rows."""

    @abc.abstractmethod
    def _sql_type(self, column: Column) -> str:
        """The column type in this dialect."""

    @abc.abstractmethod
    def _data_type_of(self, sql_type: str) -> str | None:
        """The restsync data type of a stored column type (None: unknown)."""

    @abc.abstractmethod
    def _bulk_insert(
        self, target: str, table: Table, staged: StagedLoad, columns: list[str]
    ) -> int:
        """Insert the staged rows of `table` (only `columns`) into `target`; return the count."""

    @abc.abstractmethod
    def _tx_begin(self) -> None: ...

    @abc.abstractmethod
    def _tx_commit(self) -> None: ...

    @abc.abstractmethod
    def _tx_rollback(self) -> None: ...

    def _temp_name(self, kind: str) -> str:
        self._n += 1
        name = f"_rs_{kind}_{self._n}"
        self._temps.append(name)
        return name

    def _temp_create(self, name: str, body: str) -> None:
        self._exec(f"CREATE TEMP TABLE {quote(name)} {body}")

    def _alter_type_sql(self, table: str, column: Column) -> str:
        return (
            f"ALTER TABLE {table} ALTER COLUMN {quote(column.name)} TYPE {self._sql_type(column)}"
        )

    # ---- names -------------------------------------------------------------------------

    def _schema_ref(self) -> str:
        """The dataset's SQL schema, quoted (and qualified where the database needs it)."""
        return quote(self.dataset_name)

    def _t(self, table: str) -> str:
        return f"{self._schema_ref()}.{quote(table)}"

    def _existing_columns(self, table: str) -> dict[str, tuple[str, bool]] | None:
        if self._columns_cache is not None:
            return self._columns_cache.get(table)
        rows = self._fetch(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            f"WHERE table_schema = {self.PARAM} AND table_name = {self.PARAM} "
            "ORDER BY ordinal_position",
            (self.dataset_name, table),
        )
        if not rows:
            return None
        return {r[0]: (str(r[1]), str(r[2]).upper() == "YES") for r in rows}

    def _dataset_columns(self) -> dict[str, dict[str, tuple[str, bool]]]:
        """Every table's columns in the dataset, in one query (as `_existing_columns`)."""
        rows = self._fetch(
            "SELECT table_name, column_name, data_type, is_nullable FROM "
            f"information_schema.columns WHERE table_schema = {self.PARAM} "
            "ORDER BY table_name, ordinal_position",
            (self.dataset_name,),
        )
        out: dict[str, dict[str, tuple[str, bool]]] = {}
        for table, column, data_type, nullable in rows:
            out.setdefault(str(table), {})[str(column)] = (
                str(data_type),
                str(nullable).upper() == "YES",
            )
        return out

    def _table_exists(self, table: str) -> bool:
        rows = self._fetch(
            "SELECT 1 FROM information_schema.tables "
            f"WHERE table_schema = {self.PARAM} AND table_name = {self.PARAM}",
            (self.dataset_name, table),
        )
        return bool(rows)

    # ---- protocol ----------------------------------------------------------------------

    def begin(self) -> None:
        """Start the load's transaction."""
        self._winners.clear()
        self._win_rows.clear()
        self._unique_roots.clear()
        self._no_child_delete.clear()
        self._temps.clear()
        self._created.clear()
        self._schema = None
        self._tx_begin()
        self._in_tx = True

    def _bookkeeping_ddl(self) -> list[str]:
        ts = "TIMESTAMPTZ"
        js = self._json_sql_type()
        return [
            f"CREATE TABLE IF NOT EXISTS {self._t(STATE_TABLE)} (pipeline TEXT NOT NULL, "
            f"resource TEXT NOT NULL, state {js}, load_id TEXT NOT NULL, stored_at {ts}, "
            "PRIMARY KEY (pipeline, resource))",
            f"CREATE TABLE IF NOT EXISTS {self._t(LOADS_TABLE)} (load_id TEXT PRIMARY KEY, "
            f"pipeline TEXT NOT NULL, started_at {ts}, finished_at {ts}, status TEXT NOT NULL, "
            f"rows {js}, schema_version BIGINT)",
            f"CREATE TABLE IF NOT EXISTS {self._t(SCHEMA_TABLE)} (version BIGINT NOT NULL, "
            f"name TEXT NOT NULL, version_hash TEXT NOT NULL, schema {js}, load_id TEXT, "
            f"stored_at {ts})",
        ]

    def _json_sql_type(self) -> str:
        return self._sql_type(Column("x", "json"))

    def ensure_tables(self, schema: Schema) -> list[str]:
        """Create missing tables and columns, promote bigint to double; return the DDL run.

        A stored column whose type the schema contradicts (other than bigint -> double)
        raises `LoadError` with the difference, instead of the database's own message.
        """
        self._schema = schema
        ddl: list[str] = []
        if not self._schema_exists():
            stmt = f"CREATE SCHEMA IF NOT EXISTS {self._schema_ref()}"
            self._exec(stmt)
            ddl.append(stmt)
        for stmt in self._bookkeeping_ddl():
            self._exec(stmt)
        self._columns_cache = self._dataset_columns()
        try:
            for table in schema.tables.values():
                if root_of(schema, table).write_disposition == "skip":
                    continue  # dlt's `skip`: nothing of it is loaded
                ddl.extend(self._ensure_table(table))
        finally:
            self._columns_cache = None
        return ddl

    def _schema_exists(self) -> bool:
        rows = self._fetch(
            f"SELECT 1 FROM information_schema.schemata WHERE schema_name = {self.PARAM}",
            (self.dataset_name,),
        )
        return bool(rows)

    def _ensure_table(self, table: Table) -> list[str]:
        existing = self._existing_columns(table.name)
        cols = [c for c in table.columns.values() if c.name != SEQ]
        done: list[str] = []
        if existing is None:
            defs = ", ".join(
                f"{quote(c.name)} {self._sql_type(c)}{'' if c.nullable else ' NOT NULL'}"
                for c in cols
            )
            stmt = f"CREATE TABLE {self._t(table.name)} ({defs})"
            self._exec(stmt)
            self._created.add(table.name)
            return [stmt]
        for c in cols:
            if c.name not in existing:
                stmt = (
                    f"ALTER TABLE {self._t(table.name)} ADD COLUMN {quote(c.name)} "
                    f"{self._sql_type(c)}"
                )
                self._exec(stmt)
                done.append(stmt)
                continue
            stored_sql, stored_nullable = existing[c.name]
            stored = self._data_type_of(stored_sql)
            if stored is not None and stored != c.data_type:
                if stored == "bigint" and c.data_type in ("double", "decimal"):
                    if c.data_type == "double":
                        self._refuse_lossy_double(table.name, c.name)
                    stmt = self._alter_type_sql(self._t(table.name), c)
                    self._exec(stmt)
                    done.append(stmt)
                elif stored in ("double", "decimal") and c.data_type == "bigint":
                    pass  # integers load into the wider stored column
                else:
                    msg = (
                        f"table '{table.name}': column '{c.name}' is {stored} in the "
                        f"destination but {c.data_type} in the schema\n"
                        "  restsync only widens bigint to double; rename the column with a "
                        "columns hint, or drop the table to reload it"
                    )
                    raise LoadError(msg)
            if c.nullable and not stored_nullable:
                stmt = (
                    f"ALTER TABLE {self._t(table.name)} ALTER COLUMN {quote(c.name)} DROP NOT NULL"
                )
                self._exec(stmt)
                done.append(stmt)
        return done

    def _refuse_lossy_double(self, table: str, column: str) -> None:
        """Raise `LoadError` when promoting the stored bigint `column` to double would round
        a stored value (an int beyond +-2**53; a schema stored before restsync recorded
        such ints): a stored value is never rewritten lossily."""
        limit = 2**53
        q = quote(column)
        rows = self._fetch(
            f"SELECT count(*) FROM {self._t(table)} WHERE {q} > {limit} OR {q} < -{limit}"
        )
        if rows and rows[0][0]:
            raise LoadError(
                f"table '{table}': column '{column}' holds {rows[0][0]} integer(s) beyond "
                "+-2**53, which a double would round; restsync does not promote it to double\n"
                f"  hint: give '{column}' a columns hint (data_type decimal or text), or drop "
                "the table to reload it"
            )

    def is_committed(self, load_id: str) -> bool:
        """Whether `_restsync_loads` holds `load_id` as committed."""
        known = self._committed_cache.get(load_id)
        if known is not None:
            return known
        if not self._table_exists(LOADS_TABLE):
            self._committed_cache[load_id] = False
            return False
        rows = self._fetch(
            f"SELECT status FROM {self._t(LOADS_TABLE)} WHERE load_id = {self.PARAM}",
            (load_id,),
        )
        ok = bool(rows) and rows[0][0] == COMMITTED
        # not committed stays so until this destination commits it (load ids are unique
        # to a run; a stage loaded again after a crash is loaded by a new destination)
        self._committed_cache[load_id] = ok
        return ok

    def write(self, table: Table, staged: StagedLoad, load_id: str) -> TableLoadStats:
        """Write `table`'s staged rows with its write disposition (see the module docstring)."""
        schema = self._schema or staged.schema
        root = root_of(schema, table)
        disposition = root.write_disposition
        stats = TableLoadStats(table.name, disposition)
        if self.is_committed(load_id) or disposition == "skip":
            return stats
        target = self._t(table.name)
        columns = [c for c in table.columns if c != SEQ]
        if disposition == "merge":
            if table.is_root:
                self._merge_root(table, staged, stats, columns, load_id)
            else:
                self._merge_child(table, root, staged, stats, columns)
            return stats
        if disposition == "replace":
            stats.deleted = self._delete_all(target)
        if staged.rows(table.name):
            stats.inserted = self._bulk_insert(target, table, staged, columns)
        return stats

    def refresh(self, plan: RefreshPlan, pipeline: str) -> list[str]:
        """Drop (or empty, for `drop_data`) the refreshed tables and wipe their resources'
        state, in the load's transaction; returns the statements run."""
        done: list[str] = []
        if not self._schema_exists():
            return done
        existing = set(self._dataset_columns())
        for name in reversed(plan.tables):  # children before their parents
            if name not in existing:
                continue
            stmt = (
                f"DELETE FROM {self._t(name)}"
                if plan.mode == "drop_data"
                else f"DROP TABLE {self._t(name)}"
            )
            self._exec(stmt)
            done.append(stmt)
        if STATE_TABLE in existing:
            if plan.mode == "drop_sources":
                self._exec(
                    f"DELETE FROM {self._t(STATE_TABLE)} WHERE pipeline = {self.PARAM}", (pipeline,)
                )
            elif plan.resources:
                marks = ", ".join([self.PARAM] * len(plan.resources))
                self._exec(
                    f"DELETE FROM {self._t(STATE_TABLE)} WHERE pipeline = {self.PARAM} "
                    f"AND resource IN ({marks})",
                    (pipeline, *plan.resources),
                )
        return done

    # ---- merge -------------------------------------------------------------------------

    def _delete_all(self, target: str) -> int:
        return self._exec(f"DELETE FROM {target}")

    def _stage_source(self, table: Table, staged: StagedLoad) -> tuple[str, list[str]]:
        """A relation (quoted) to read `table`'s staged rows from once, and its columns
        (`_restsync_seq` last). By default a temporary table filled by `_bulk_insert`."""
        tmp = self._temp_name("stage")
        cols = [c for c in table.columns.values() if c.name != SEQ]
        defs = ", ".join(f"{quote(c.name)} {self._sql_type(c)}" for c in cols)
        self._temp_create(tmp, f"({defs}, {quote(SEQ)} BIGINT)")
        names = [c.name for c in cols] + [SEQ]
        self._bulk_insert(quote(tmp), table, staged, names)
        return quote(tmp), names

    def _merge_root(
        self,
        table: Table,
        staged: StagedLoad,
        stats: TableLoadStats,
        columns: list[str],
        load_id: str,
    ) -> None:
        """The root table of a merge, by its strategy (see `restsync.load._merge`)."""
        if not staged.rows(table.name):
            return
        plan = MergePlan.of(table, load_id)
        if plan.strategy == "scd2":
            source, names = self._stage_source(table, staged)
            self._scd2_root(table, plan, stats, source, names, columns)
            return
        # one staged version per key (the usual case): the merge needs no window
        unique = staged.ids_unique(table.name)
        source, names = self._stage_source(table, staged)
        target = self._t(table.name)
        cols = ", ".join(quote(c) for c in columns)
        created = table.name in self._created
        if unique and not plan.hard_delete:
            self._unique_roots.add(table.name)
            if created:
                # an empty table and one version per row: the staged rows are the winners
                stats.inserted = self._insert_rows(target, cols, source)
                self._win_rows[table.name] = target
                return
        sel = ", ".join(quote(n) for n in names)
        win = self._merge_winners(plan, source, sel, keyed=not unique)
        ins = self._merge_inserts(plan, win, sel)
        if plan.strategy == "insert-only":
            # a key already stored keeps its row; only new keys go in (with their children)
            new = self._new_keys(plan, target, ins, sel)
            stats.inserted = self._insert_rows(target, cols, new)
            self._win_rows[table.name] = new
            self._no_child_delete.add(table.name)
            return
        self._win_rows[table.name] = ins
        if created:  # an empty table: the winners are all there is
            stats.inserted = self._insert_rows(target, cols, ins)
            return
        joins = _key_joins(plan, win)
        gone = self._gone_ids(target, joins, ins)
        stats.updated, stats.deleted, stats.inserted = self._replace_stored(
            plan, target, cols, joins, ins, updated=stats.updated
        )
        self._winners[table.name] = gone

    def _replace_stored(
        self,
        plan: MergePlan,
        target: str,
        cols: str,
        joins: list[tuple[str, str]],
        ins: str,
        *,
        updated: int,
    ) -> tuple[int, int, int]:
        """Delete the stored rows the winners replace (per key join) and insert the winners
        `ins`: return the counts (updated, deleted, inserted); `updated` as given when no
        primary key tells updates apart."""
        if plan.hard_delete and plan.keys:  # the stored keys that get a new version
            updated = self._count_stored_keys(plan, target, ins)
        removed = [
            self._exec(f"DELETE FROM {target} AS t USING {rel} AS w WHERE {on}")
            for rel, on in joins
        ]
        if plan.keys and not plan.hard_delete:
            updated = removed[0]
        deleted = max(sum(removed) - updated, 0)
        total = self._insert_rows(target, cols, ins)
        return updated, deleted, max(total - updated, 0)

    def _insert_rows(self, target: str, cols: str, relation: str) -> int:
        """Insert the rows of `relation` (quoted) into `target`; return their count."""
        return self._exec(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {relation}")

    def _merge_winners(self, plan: MergePlan, source: str, sel: str, *, keyed: bool) -> str:
        """A temp table (quoted) of every staged version that wins, deletes included: the
        last per primary key when `keyed` (several staged versions of a key), else all."""
        win = self._temp_name("win")
        if not keyed or not plan.keys:
            self._temp_create(win, f"AS SELECT {sel} FROM {source}")
        else:
            part = ", ".join(quote(k) for k in plan.keys)
            self._temp_create(
                win,
                f"AS SELECT {sel} FROM (SELECT {sel}, row_number() OVER (PARTITION BY {part} "
                f"ORDER BY {plan.order_sql()}) AS _rs_rn FROM {source}) AS x WHERE _rs_rn = 1",
            )
        return quote(win)

    def _merge_inserts(self, plan: MergePlan, win: str, sel: str) -> str:
        """The winners (quoted) to insert: `win` without the hard-deleted ones."""
        if not plan.hard_delete:
            return win
        ins = self._temp_name("ins")
        self._temp_create(ins, f"AS SELECT {sel} FROM {win} AS w WHERE NOT {plan.deleted_sql('w')}")
        return quote(ins)

    def _new_keys(self, plan: MergePlan, target: str, ins: str, sel: str) -> str:
        """A temp table (quoted) of the rows of `ins` whose primary key `target` lacks."""
        new = self._temp_name("new")
        on = _key_match("t", "i", plan.keys)
        self._temp_create(
            new,
            f"AS SELECT {sel} FROM {ins} AS i WHERE NOT EXISTS "
            f"(SELECT 1 FROM {target} AS t WHERE {on})",
        )
        return quote(new)

    def _gone_ids(self, target: str, joins: list[tuple[str, str]], ins: str) -> str:
        """A temp table (unquoted name) of the root ids the merge removes: the stored rows a
        winner replaces, and the winners' own ids."""
        gone = self._temp_name("gone")
        parts = [
            f"SELECT t.{quote(DLT_ID)} AS id FROM {target} AS t JOIN {rel} AS w ON {on}"
            for rel, on in joins
        ]
        parts.append(f"SELECT {quote(DLT_ID)} AS id FROM {ins}")
        self._temp_create(gone, "AS " + " UNION ".join(parts))
        return gone

    def _count_stored_keys(self, plan: MergePlan, target: str, ins: str) -> int:
        """How many rows of `target` share a primary key with a row of `ins`."""
        on = _key_match("t", "i", plan.keys)
        rows = self._fetch(f"SELECT count(*) FROM {target} AS t JOIN {ins} AS i ON {on}")
        count: int = rows[0][0]
        return count

    def _scd2_root(
        self,
        table: Table,
        plan: MergePlan,
        stats: TableLoadStats,
        source: str,
        names: list[str],
        columns: list[str],
    ) -> None:
        """SCD2 as in dlt: retire the active rows whose row version is absent from the
        extract (only for merge keys in it, when a merge_key is set), insert the staged rows
        whose version is not active, valid from the load's boundary timestamp."""
        target = self._t(table.name)
        valid_from, valid_to = plan.validity
        version = quote(plan.version)
        sel = ", ".join(quote(n) for n in names)
        one = self._temp_name("ver")  # one staged row per version
        self._temp_create(
            one,
            f"AS SELECT {sel} FROM (SELECT {sel}, row_number() OVER (PARTITION BY {version} "
            f"ORDER BY {quote(SEQ)} DESC) AS _rs_rn FROM {source}) AS x WHERE _rs_rn = 1",
        )
        one = quote(one)
        active = plan.is_active_sql("t")
        new = self._temp_name("new")
        self._temp_create(
            new,
            f"AS SELECT {sel} FROM {one} AS s WHERE NOT EXISTS (SELECT 1 FROM {target} AS t "
            f"WHERE {active} AND t.{version} = s.{version})",
        )
        new = quote(new)
        absent = f"NOT EXISTS (SELECT 1 FROM {one} AS s WHERE s.{version} = t.{version})"
        if plan.merge_key:
            on = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in plan.merge_key)
            absent += f" AND EXISTS (SELECT 1 FROM {one} AS s WHERE {on})"
        stats.deleted = self._exec(
            f"UPDATE {target} AS t SET {quote(valid_to)} = {plan.boundary_sql()} "
            f"WHERE {active} AND {absent}"
        )
        data = [c for c in columns if c not in plan.validity]
        cols = ", ".join(quote(c) for c in data)
        stats.inserted = self._exec(
            f"INSERT INTO {target} ({cols}, {quote(valid_from)}, {quote(valid_to)}) "
            f"SELECT {cols}, {plan.boundary_sql()}, {plan.active_sql()} FROM {new}"
        )
        self._win_rows[table.name] = new
        self._no_child_delete.add(table.name)

    def _merge_child(
        self,
        table: Table,
        root: Table,
        staged: StagedLoad,
        stats: TableLoadStats,
        columns: list[str],
    ) -> None:
        gone = self._winners.get(root.name)  # None: the root table was empty
        win = self._win_rows.get(root.name)
        if win is None:
            return  # the root got no rows in this load, so no child row changes
        target = self._t(table.name)
        link = DLT_ROOT_ID if DLT_ROOT_ID in table.columns else DLT_PARENT_ID
        if table.name not in self._created and root.name not in self._no_child_delete:
            # the root table may be new while this one is not (dropped by hand): then the
            # winners' own ids are what older child rows can hang on
            ids = f"SELECT id FROM {quote(gone)}" if gone else f"SELECT {quote(DLT_ID)} FROM {win}"
            stats.deleted = self._exec(f"DELETE FROM {target} WHERE {quote(link)} IN ({ids})")
        if not staged.rows(table.name):
            return
        source, _names = self._stage_source(table, staged)
        cols = ", ".join(quote(c) for c in columns)
        if root.name in self._unique_roots and root.name not in self._no_child_delete:
            # one staged version per root row: every staged child row belongs to a winner,
            # and child ids (derived from the root's) are unique too
            stats.inserted = self._exec(
                f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {source}"
            )
            return
        scols = ", ".join(f"s.{quote(c)}" for c in columns)
        # insert-only / scd2 keep stored child rows: a row already there (scd2: a version
        # inserted again after it was retired has the same ids) is not inserted twice
        kept = (
            f" AND NOT EXISTS (SELECT 1 FROM {target} AS c WHERE c.{quote(DLT_ID)} = "
            f"x.{quote(DLT_ID)})"
            if root.name in self._no_child_delete and table.name not in self._created
            else ""
        )
        stats.inserted = self._exec(
            f"INSERT INTO {target} ({cols}) SELECT {cols} FROM (SELECT {scols}, "
            f"row_number() OVER (PARTITION BY s.{quote(DLT_ID)} ORDER BY s.{quote(SEQ)} DESC) "
            f"AS _rs_rn FROM {source} AS s JOIN {win} AS w "
            f"ON s.{quote(link)} = w.{quote(DLT_ID)} AND s.{quote(SEQ)} = w.{quote(SEQ)}) AS x "
            f"WHERE _rs_rn = 1{kept}"
        )

    # ---- commit ------------------------------------------------------------------------

    def commit(self, state: dict[str, dict[str, Any]], load_record: dict[str, Any]) -> None:
        """Write state, load record and (changed) schema in the load's transaction; COMMIT."""
        load_id = str(load_record["load_id"])
        pipeline = str(load_record["pipeline"])
        if not self.is_committed(load_id):
            now = utcnow()
            if not self._table_exists(LOADS_TABLE):
                for stmt in self._bookkeeping_ddl():
                    self._exec(stmt)
            if state:  # one statement each for all resources, not two per resource
                names = sorted(state)
                marks = ", ".join([self.PARAM] * len(names))
                self._exec(
                    f"DELETE FROM {self._t(STATE_TABLE)} WHERE pipeline = {self.PARAM} "
                    f"AND resource IN ({marks})",
                    (pipeline, *names),
                )
                row = f"({self.PARAM}, {self.PARAM}, {self.JSON_PARAM}, {self.PARAM}, {self.PARAM})"
                params: list[Any] = []
                for resource in names:
                    params += [pipeline, resource, dumps(state[resource]), load_id, now]
                self._exec(
                    f"INSERT INTO {self._t(STATE_TABLE)} (pipeline, resource, state, load_id, "
                    f"stored_at) VALUES {', '.join([row] * len(names))}",
                    params,
                )
            version = self._store_schema(load_id, now)
            self._exec(
                f"INSERT INTO {self._t(LOADS_TABLE)} (load_id, pipeline, started_at, "
                f"finished_at, status, rows, schema_version) VALUES ({self.PARAM}, "
                f"{self.PARAM}, {self.PARAM}, {self.PARAM}, {self.PARAM}, {self.JSON_PARAM}, "
                f"{self.PARAM})",
                (
                    load_id,
                    pipeline,
                    load_record.get("started_at") or now,
                    load_record.get("finished_at") or now,
                    COMMITTED,
                    dumps(load_record.get("rows", {})),
                    version,
                ),
            )
        self._drop_temps()
        self._tx_commit()
        self._in_tx = False
        self._committed_cache[load_id] = True

    def _store_schema(self, load_id: str, now: Any) -> int | None:
        if self._schema is None:
            return None
        h = schema_hash(self._schema)
        rows = self._fetch(
            f"SELECT version, version_hash FROM {self._t(SCHEMA_TABLE)} "
            "ORDER BY version DESC LIMIT 1"
        )
        if rows and rows[0][1] == h:
            return int(rows[0][0])
        version = int(rows[0][0]) + 1 if rows else 1
        d = self._schema.to_dict()
        d["version"] = version
        self._exec(
            f"INSERT INTO {self._t(SCHEMA_TABLE)} (version, name, version_hash, schema, load_id, "
            f"stored_at) VALUES ({self.PARAM}, {self.PARAM}, {self.PARAM}, {self.JSON_PARAM}, "
            f"{self.PARAM}, {self.PARAM})",
            (version, self._schema.name, h, dumps(d), load_id, now),
        )
        return version

    def _drop_temps(self) -> None:
        for name in reversed(self._temps):
            self._exec(f"DROP TABLE IF EXISTS {quote(name)}")
        self._temps.clear()
        self._winners.clear()
        self._win_rows.clear()
        self._unique_roots.clear()
        self._no_child_delete.clear()

    def rollback(self) -> None:
        """Undo everything since `begin` (temp tables included)."""
        if self._in_tx:
            self._tx_rollback()
            self._in_tx = False
        self._temps.clear()
        self._winners.clear()
        self._win_rows.clear()
        self._unique_roots.clear()
        self._no_child_delete.clear()

    # ---- reads -------------------------------------------------------------------------

    def stored_schema(self) -> Schema | None:
        """The newest schema in `_restsync_schema`, or None."""
        if not self._table_exists(SCHEMA_TABLE):
            return None
        rows = self._fetch(
            f"SELECT schema FROM {self._t(SCHEMA_TABLE)} ORDER BY version DESC LIMIT 1"
        )
        return Schema.from_dict(loads_json(rows[0][0])) if rows else None

    def stored_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        """resource -> committed state, for `pipeline`."""
        if not self._table_exists(STATE_TABLE):
            return {}
        rows = self._fetch(
            f"SELECT resource, state FROM {self._t(STATE_TABLE)} WHERE pipeline = {self.PARAM} "
            "ORDER BY resource",
            (pipeline,),
        )
        where = f"{self.name} {self.dataset_name}.{STATE_TABLE}"
        return {str(r[0]): parse_state(r[1], f"{where}, resource {r[0]!r}") for r in rows}

    def datasets(self) -> dict[str, list[str]]:
        """The schemas holding a restsync load record or state table, with their pipelines."""
        return restsync_datasets(self._fetch)

    def show(self) -> DestinationInfo:
        """Tables with row counts, the last 20 loads, state and stored schema."""
        tables: list[TableInfo] = []
        names = self._fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            f"{self.PARAM} ORDER BY table_name",
            (self.dataset_name,),
        )
        for (name,) in names:
            if str(name).startswith("_restsync_"):
                continue
            count = self._fetch(f"SELECT count(*) FROM {self._t(str(name))}")[0][0]
            cols = self._existing_columns(str(name)) or {}
            tables.append(TableInfo(str(name), int(count), [(k, v[0]) for k, v in cols.items()]))
        loads: list[dict[str, Any]] = []
        state: dict[str, dict[str, dict[str, Any]]] = {}
        if self._table_exists(LOADS_TABLE):
            for r in self._fetch(
                "SELECT load_id, pipeline, CAST(started_at AS VARCHAR), "
                "CAST(finished_at AS VARCHAR), status, rows FROM "
                f"{self._t(LOADS_TABLE)} ORDER BY load_id DESC LIMIT 20"
            ):
                loads.append(
                    {
                        "load_id": r[0],
                        "pipeline": r[1],
                        "started_at": r[2],
                        "finished_at": r[3],
                        "status": r[4],
                        "rows": loads_json(r[5]),
                    }
                )
        if self._table_exists(STATE_TABLE):
            for p, res, st in self._fetch(
                f"SELECT pipeline, resource, state FROM {self._t(STATE_TABLE)} "
                "ORDER BY pipeline, resource"
            ):
                where = f"{self.name} {self.dataset_name}.{STATE_TABLE}, resource {res!r}"
                state.setdefault(str(p), {})[str(res)] = parse_state(st, where)
        return DestinationInfo(
            destination=self.name,
            dataset=self.dataset_name,
            tables=tables,
            loads=loads,
            state=state,
            schema=self.stored_schema(),
        )


def _key_match(left: str, right: str, keys: Sequence[str]) -> str:
    """The join condition of two aliases on the columns `keys`."""
    return " AND ".join(f"{left}.{quote(k)} = {right}.{quote(k)}" for k in keys)


def _key_joins(plan: MergePlan, win: str) -> list[tuple[str, str]]:
    """(relation, join condition on `t` and `w`) per key kind that replaces stored rows:
    the primary key against the winners `win`, the merge key against its distinct values.
    One join per key kind: an OR of two semi-joins would defeat Postgres' planner."""
    joins: list[tuple[str, str]] = []
    if plan.keys:
        joins.append((win, _key_match("t", "w", plan.keys)))
    if plan.merge_key:
        mk_cols = ", ".join(quote(k) for k in plan.merge_key)
        joins.append(
            (f"(SELECT DISTINCT {mk_cols} FROM {win})", _key_match("t", "w", plan.merge_key))
        )
    return joins
