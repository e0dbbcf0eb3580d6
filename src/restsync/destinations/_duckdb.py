"""DuckDB: an embedded database file, one SQL schema per dataset.

Rows go in as Arrow: the staged batches are registered as a view over a
`pyarrow.RecordBatchReader` and inserted with one `INSERT INTO ... SELECT` per table, never
row by row, on all of DuckDB's threads (insertion order is not kept: a table's rows come back
in no particular order, as in any SQL database; a small table written new goes in on one
thread, `ONE_THREAD_ROWS`). DDL, rows, state, load record and schema share one transaction,
and its COMMIT writes them into the database file (a checkpoint, not the write-ahead log).

restsync's connection caps DuckDB's memory (DuckDB's own default is 80 % of the machine) at
`MEMORY_LIMIT` for bulk inserts: they stream, and what DuckDB would otherwise keep is cache of
blocks already written (a load of 1,000,000 nested records: ~250 MB more). A merge's window and
joins need more, so its tables are written under `MERGE_MEMORY_LIMIT`; they spill to DuckDB's
temporary folder only in part, and a load that still runs out of memory is rolled back and run
again without any cap, inside this destination (`_journaled`: the load's steps since `begin`
are replayed; one of 3,000,000 keys staged twice ran out of memory under 96 MB).
`RESTSYNC_DUCKDB_MEMORY_LIMIT` sets one cap for everything (`2GB`, `512MB`), kept even then;
an empty value keeps DuckDB's default throughout.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from restsync.destinations._base import TableLoadStats
from restsync.destinations._sql import SqlDestination, quote, restsync_datasets, root_of
from restsync.errors import LoadError
from restsync.schema._model import DEFAULT_PRECISION, DEFAULT_SCALE, SEQ, Column, Schema, Table

if TYPE_CHECKING:
    from restsync.load._merge import RefreshPlan
    from restsync.stage._writer import StagedLoad

log = logging.getLogger("restsync.destinations._duckdb")
T = TypeVar("T")

MEMORY_LIMIT = "96MB"
#: The cap while a merge is written (its window and joins need more than a bulk insert).
MERGE_MEMORY_LIMIT = "256MB"
#: The environment variable that sets one cap for everything ("" for DuckDB's default).
ENV_MEMORY_LIMIT = "RESTSYNC_DUCKDB_MEMORY_LIMIT"
#: Fewer staged rows than DuckDB's row group: a table written from them, without reading
#: what the table held, is written on one thread (33 small tables: 145 -> 113 ms). Statements
#: that read a stored table (a merge's joins, a replace's delete) keep all threads.
ONE_THREAD_ROWS = 122_880

_TYPES = {
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "text": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "json": "JSON",
}
_BACK = {
    "BIGINT": "bigint",
    "DOUBLE": "double",
    "BOOLEAN": "bool",
    "VARCHAR": "text",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "DATE": "date",
    "JSON": "json",
}


class DuckDBDestination(SqlDestination):
    """A DuckDB database file; each dataset is a schema inside it.

    dest = DuckDBDestination("shop.duckdb", dataset_name="shop")
    dest.open()
    print(dest.stored_state("shop"))
    """

    name = "duckdb"

    def __init__(self, path: str | os.PathLike[str], dataset_name: str) -> None:
        super().__init__(dataset_name)
        self.path = Path(path)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._views: list[str] = []  # Arrow views registered in this transaction
        self._catalog = ""  # the database's name in SQL, known once the file is open
        #: restsync's cap for bulk inserts (raised to `MERGE_MEMORY_LIMIT` while a merge is
        #: written); "" when the cap is not ours (the environment's, or none) or was lifted.
        self._insert_cap = ""
        self._env_cap = ""  # the cap set in the environment, if one was
        self._threads = 0  # DuckDB's thread count
        #: The settings `_use` put in force on the connection (`memory_limit`, `threads`).
        self._in_force: dict[str, str] = {}
        #: The steps of the open transaction, replayed when it runs out of memory (`_journaled`).
        self._journal: list[Callable[[], object]] = []

    def __repr__(self) -> str:
        return f"DuckDBDestination(path={str(self.path)!r}, dataset={self.dataset_name!r})"

    @property
    def url(self) -> str:
        """The destination as a URL (`duckdb:///abs/path.duckdb`)."""
        return f"duckdb:///{self.path.resolve()}"

    def open(self) -> None:
        """Open (or create) the database file."""
        if self._con is not None:
            return
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = (
                f"duckdb: cannot create the folder {self.path.parent} for {self.path.name}: "
                f"{exc.strerror or exc}\n  check the path and its permissions, or choose "
                "another file with --destination duckdb:///path/to/file.duckdb"
            )
            raise LoadError(msg) from None
        chosen = os.environ.get(ENV_MEMORY_LIMIT)
        limit = (MEMORY_LIMIT if chosen is None else chosen).strip()
        try:
            con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise LoadError(open_error(self.path, exc)) from None
        # A table is a set: restsync never reads rows back in the order they went in (merges
        # order by `_restsync_seq`). Without this, DuckDB keeps insertion order by running
        # each bulk insert on one thread (a 1,000,000-record load: 5.9 s, with it 3.1 s).
        con.execute("SET preserve_insertion_order = false")
        # A load's commit writes its rows into the database file at once (a checkpoint),
        # not into the write-ahead log first and the file again when the connection closes:
        # the 33 small tables of the inventory connector, 216 -> 202 ms for load and close,
        # and the file holds the whole load as soon as COMMIT returns.
        con.execute("SET checkpoint_threshold = '1KB'")
        if limit:
            try:
                con.execute(f"SET memory_limit = {_sql_string(limit)}")
            except duckdb.Error as exc:
                con.close()
                msg = (
                    f"{ENV_MEMORY_LIMIT}={limit!r}: DuckDB refused it "
                    f"({str(exc)[:200]})\n  give a size such as 512MB or 2GB, or an empty "
                    "value for DuckDB's default"
                )
                raise LoadError(msg) from exc
        self._insert_cap = limit if chosen is None else ""
        self._env_cap = "" if chosen is None else limit
        catalog, threads = con.execute(
            "SELECT current_database(), current_setting('threads')"
        ).fetchall()[0]
        self._catalog = str(catalog)
        self._threads = int(threads)
        self._in_force = {"memory_limit": self._insert_cap, "threads": str(self._threads)}
        self._con = con

    def _schema_ref(self) -> str:
        # qualified by the database's own name (the file's stem): with a file named like the
        # dataset ("shop.duckdb", dataset "shop"), `"shop"."orders"` is ambiguous to DuckDB
        if self._con is None:
            self.open()  # the open file names the catalog
        return f"{quote(self._catalog)}.{quote(self.dataset_name)}"

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The open connection."""
        if self._con is None:
            self.open()
        assert self._con is not None
        return self._con

    def close(self) -> None:
        """Close the connection (rolling back an open transaction)."""
        if self._con is not None:
            if self._in_tx:
                self.rollback()
            self._con.close()
            self._con = None

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._memory_errors():
            rel = self.con.execute(sql, list(params))
            if sql.lstrip().upper().startswith(("DELETE", "INSERT", "UPDATE")):
                rows = rel.fetchall()
                return int(rows[0][0]) if rows else 0
            return -1

    @staticmethod
    def datasets_in_file(path: str | os.PathLike[str]) -> dict[str, list[str]] | None:
        """The restsync datasets of the DuckDB file at `path` (see `datasets`), opened read
        only; None when it cannot be opened so (held by a run, or not a DuckDB file)."""
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:
            return None
        try:
            return restsync_datasets(lambda sql: con.execute(sql).fetchall())
        finally:
            con.close()

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._memory_errors():
            return list(self.con.execute(sql, list(params)).fetchall())

    @contextlib.contextmanager
    def _memory_errors(self) -> Iterator[None]:
        """DuckDB running out of memory as a `LoadError` that says which cap was in force
        and how to give it more (the DuckDB error stays its cause)."""
        try:
            yield
        except duckdb.OutOfMemoryException as exc:
            if self._insert_cap:
                how = "restsync loads it again without its memory cap"
            elif self._env_cap:
                how = (
                    f"{ENV_MEMORY_LIMIT}={self._env_cap!r} is too small for this load: set a "
                    "larger size (e.g. 2GB), or an empty value for DuckDB's default"
                )
            else:
                how = "the machine has too little free memory for this load: free some, run again"
            detail = str(exc).strip().splitlines()[0][:200]
            raise LoadError(f"DuckDB ran out of memory ({detail}); {how}") from exc

    def _sql_type(self, column: Column) -> str:
        if column.data_type == "decimal":
            p = column.precision or DEFAULT_PRECISION
            s = DEFAULT_SCALE if column.scale is None else column.scale
            return f"DECIMAL({p},{s})"
        return _TYPES[column.data_type]

    def _data_type_of(self, sql_type: str) -> str | None:
        t = sql_type.upper()
        if t.startswith("DECIMAL"):
            return "decimal"
        return _BACK.get(t)

    def _table_exists(self, table: str) -> bool:
        # duckdb_tables() sees the tables created earlier in this transaction too
        rows = self._fetch(
            "SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
            "AND database_name = current_database()",
            (self.dataset_name, table),
        )
        return bool(rows)

    def _bulk_insert(
        self, target: str, table: Table, staged: StagedLoad, columns: list[str]
    ) -> int:
        reader = staged.reader(table.name, table)
        view = f"_rs_arrow_{self._n}"
        self._n += 1
        self.con.register(view, reader)
        try:
            cols = ", ".join(quote(c) for c in columns)
            return self._exec(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {quote(view)}")
        finally:
            self.con.unregister(view)

    # ---- the load's steps, replayed without the caps when one runs out of memory ----------

    def begin(self) -> None:
        """Start the load's transaction."""
        super().begin()
        self._journal = []

    def refresh(self, plan: RefreshPlan, pipeline: str) -> list[str]:
        return self._journaled(functools.partial(super().refresh, plan, pipeline))

    def ensure_tables(self, schema: Schema) -> list[str]:
        return self._journaled(functools.partial(super().ensure_tables, schema))

    def write(self, table: Table, staged: StagedLoad, load_id: str) -> TableLoadStats:
        return self._journaled(functools.partial(self._write, table, staged, load_id))

    def commit(self, state: dict[str, dict[str, Any]], load_record: dict[str, Any]) -> None:
        self._journaled(functools.partial(super().commit, state, load_record))

    def _journaled(self, step: Callable[[], T]) -> T:
        """Run one step of the load. When it runs out of memory under restsync's own caps, the
        caps are lifted for the rest of this connection, the transaction is rolled back and
        begun again, the steps before this one are replayed, and this one runs again (once:
        without caps, running out of memory again is the load's error)."""
        try:
            result = step()
        except Exception as exc:
            if not self._lift_caps(exc):
                raise
            log.warning(
                "a load ran out of memory under restsync's memory cap for duckdb; "
                "loading it again without the cap"
            )
            done = self._journal
            self.rollback()
            super().begin()
            for earlier in done:
                earlier()
            self._journal = done
            result = step()
        self._journal.append(step)
        return result

    def _lift_caps(self, error: BaseException) -> bool:
        """True (once) when `error` is DuckDB running out of memory under restsync's caps,
        which are lifted for the rest of this connection."""
        cause: BaseException | None = error
        while cause is not None and not isinstance(cause, duckdb.OutOfMemoryException):
            cause = cause.__cause__ or cause.__context__
        if cause is None or not self._insert_cap or self._con is None:
            return False
        self._insert_cap = ""
        self._in_force.pop("memory_limit", None)
        with contextlib.suppress(duckdb.Error):
            self._con.execute("RESET memory_limit")
        return True

    def _write(self, table: Table, staged: StagedLoad, load_id: str) -> TableLoadStats:
        """Put in force what this table's statements need, then write it.

        A merge runs under `MERGE_MEMORY_LIMIT` (its window and joins), anything else under
        the insert cap. A table written from fewer rows than `ONE_THREAD_ROWS` without
        reading what it held goes in on one thread. A setting already in force is not set
        again: a load of 33 merge tables sets each once (each `SET memory_limit` cost ~1 ms
        of the statements after it: 70 ms over those tables).
        """
        root = root_of(self._schema or staged.schema, table)
        merge = root.write_disposition == "merge"
        if self._insert_cap:  # caps of restsync's own; the environment's stays as it is
            self._use("memory_limit", MERGE_MEMORY_LIMIT if merge else self._insert_cap)
        reads_stored = table.name not in self._created and root.write_disposition != "append"
        small = staged.rows(table.name) < ONE_THREAD_ROWS
        self._use("threads", "1" if small and not reads_stored else str(self._threads))
        return super().write(table, staged, load_id)

    def _use(self, setting: str, value: str) -> None:
        """`SET setting = value`, unless it is already in force."""
        if self._in_force.get(setting) != value:
            literal = _sql_string(value) if setting == "memory_limit" else str(int(value))
            self.con.execute(f"SET {setting} = {literal}")
            self._in_force[setting] = value

    def _reset_settings(self) -> None:
        """Back to the insert cap and all threads once a load's transaction ended (a
        failure here is not the load's: it is committed or rolled back already)."""
        with contextlib.suppress(duckdb.Error):
            if self._insert_cap:
                self._use("memory_limit", self._insert_cap)
            self._use("threads", str(self._threads))

    def _stage_source(self, table: Table, staged: StagedLoad) -> tuple[str, list[str]]:
        """The staged batches as an Arrow view, read once by the merge statement that uses
        it (no temporary copy); views are unregistered when the transaction ends."""
        view = f"_rs_arrow_{self._n}"
        self._n += 1
        self.con.register(view, staged.reader(table.name, table))
        self._views.append(view)
        names = [c for c in table.columns if c != SEQ] + [SEQ]
        return quote(view), names

    def _drop_temps(self) -> None:
        super()._drop_temps()
        self._unregister_views()

    def rollback(self) -> None:
        """Undo everything since `begin`; the Arrow views go too."""
        super().rollback()
        self._unregister_views()

    def _unregister_views(self) -> None:
        for view in self._views:
            with contextlib.suppress(duckdb.Error):
                self.con.unregister(view)
        self._views.clear()

    def _tx_begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def _tx_commit(self) -> None:
        self.con.execute("COMMIT")
        self._reset_settings()

    def _tx_rollback(self) -> None:
        # no transaction may be open any more: DuckDB ends it on some errors
        with contextlib.suppress(duckdb.Error):
            self.con.execute("ROLLBACK")
        self._reset_settings()


def open_error(path: Path, exc: BaseException) -> str:
    """What to tell when DuckDB cannot open `path`: a lock held by another process, a
    folder or file that cannot be written, or something else (DuckDB's own words)."""
    text = str(exc)
    low = text.lower()
    head = f"duckdb: cannot open {path}: {text[:200]}\n  "
    if "lock" in low:
        return head + "another restsync run or a DuckDB client holds the file; wait or close it"
    if any(
        s in low
        for s in ("permission denied", "read-only", "not a directory", "no such file", "access")
    ):
        return head + (
            "the file or its folder cannot be written: check the path and its permissions, "
            "or choose another file with --destination duckdb:///path/to/file.duckdb"
        )
    return head + "check the path; is another restsync run or a DuckDB client holding it?"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
