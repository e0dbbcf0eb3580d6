"""Parquet: a folder of Parquet files that DuckDB, Spark and Trino read as tables.

One module of ~630 lines on purpose: the commit journal (`_restsync_tx`), the folder swaps
and the merge over DuckDB share one transaction's state (the load's files, the journal, the
DuckDB connection); split, each part would take all of it as arguments.

Layout of `parquet:///data` with dataset `shop`:

    /data/shop/
      orders/<load_id>.parquet          the table's data files (schema carried in each file)
      orders__items/<load_id>.parquet
      _restsync_schema.json             the stored schema (latest version)
      _restsync_state.json              {pipeline: {resource: {state, load_id, stored_at}}}
      _restsync_loads.json              the load log: one record per committed load
      _restsync_tx/<load_id>/           an uncommitted (or interrupted) load's files

Read a table with `read_parquet('/data/shop/orders/*.parquet', union_by_name=true)`:
columns added later are null in older files, and a bigint column promoted to double
reads as double.

Write dispositions:

- append: each load adds one file `<table>/<load_id>.parquet`.
- replace: the table folder is swapped for one holding this load's file only.
- merge: the table folder is swapped for one file holding the merge's result, computed by
  DuckDB over the stored and the staged rows with the strategy's plan (`restsync.load._merge`:
  delete-insert by primary and/or merge key, upsert, insert-only, scd2; hard_delete,
  dedup_sort). Under delete-insert the folder holds exactly the latest version per key, with
  no dedup needed on read; child tables likewise lose the rows of replaced parents.
- skip: nothing. A refresh drops the table's folder at commit (or swaps in this load's file).
  This rewrites the table on every merge load: fine for the sizes an API gives, and what
  a reader of plain Parquet expects.

Commit protocol (crash safety): `write` puts every new file under `_restsync_tx/<load_id>/`.
`commit` first writes `_restsync_tx/<load_id>/commit.json` (the plan, state, load record
and schema) atomically - that is the commit point - then moves the files into place
(file rename for append, folder swap for replace/merge), then writes the schema, the
state and the load log (each a temp file + rename), and finally removes the tx folder.
`open` finishes an interrupted commit (roll forward: every step is idempotent) and deletes
a tx folder without `commit.json` (roll back). The state is never written before the data
it describes. A reader that looks while a commit is being applied (or after a crash in the
middle of it, until the next run opens the destination) may see some tables of the new load
and some of the previous one; every table on its own is always complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from restsync.destinations._base import DestinationInfo, TableInfo, TableLoadStats
from restsync.destinations._sql import quote, root_of
from restsync.errors import LoadError
from restsync.faultpoints import checkpoint
from restsync.load._merge import MergePlan, RefreshPlan
from restsync.schema._model import DLT_ID, DLT_PARENT_ID, DLT_ROOT_ID, SEQ, Schema, Table
from restsync.stage._types import arrow_schema, conform_batch
from restsync.stage._writer import write_json_atomic
from restsync.state import COMMITTED, parse_state_file, schema_hash, utcnow

if TYPE_CHECKING:
    from restsync.stage._writer import StagedLoad

TX_DIR = "_restsync_tx"
SCHEMA_FILE = "_restsync_schema.json"
STATE_FILE = "_restsync_state.json"
LOADS_FILE = "_restsync_loads.json"
COMMIT_FILE = "commit.json"


def _read_json(path: Path, default: Any) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default
    except ValueError as exc:  # files are replaced whole: only damage from outside gets here
        raise LoadError(f"{path}: not valid JSON ({exc}); the file is damaged") from exc


def _read_state(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The state file: pipeline -> resource -> {state, load_id, stored_at}; {} when absent."""
    return parse_state_file(_read_json(path, {}), str(path))


class ParquetDestination:
    """A folder of Parquet files per dataset; see the module docstring for the layout.

    dest = ParquetDestination("/data", dataset_name="shop")
    dest.open()   # finishes or undoes a commit a crash interrupted
    """

    name = "parquet"

    def __init__(self, path: str | os.PathLike[str], dataset_name: str) -> None:
        self.path = Path(path)
        self.dataset_name = dataset_name
        self.root = self.path / dataset_name
        self._schema: Schema | None = None
        self._load_id: str | None = None
        self._plan: dict[str, str] = {}
        self._gone: dict[str, pa.Table] = {}
        self._winners: dict[str, pa.Table] = {}
        #: Root tables whose merge never removes child rows (insert-only, scd2).
        self._no_child_delete: set[str] = set()
        #: Tables a refresh dropped in this load, and the resources whose state goes.
        self._refreshed: set[str] = set()
        self._reset_state: list[str] = []
        self._db: duckdb.DuckDBPyConnection | None = None

    def __repr__(self) -> str:
        return f"ParquetDestination(path={str(self.path)!r}, dataset={self.dataset_name!r})"

    @property
    def url(self) -> str:
        """The destination as a URL."""
        return f"parquet:///{self.path.resolve()}"

    # ---- lifecycle ---------------------------------------------------------------------

    def open(self) -> None:
        """Create the folder; finish interrupted commits, discard uncommitted loads."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".restsync-write-test-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            what = "create" if not self.root.is_dir() else "write into"
            msg = (
                f"parquet: cannot {what} the folder {self.root}: {exc.strerror or exc}\n"
                "  check the path and its permissions, or choose another folder with "
                "--destination parquet:///path/to/folder"
            )
            raise LoadError(msg) from None
        tx = self.root / TX_DIR
        if tx.is_dir():
            for d in sorted(tx.iterdir()):
                if (d / COMMIT_FILE).exists():
                    self._apply(d)
                else:
                    shutil.rmtree(d, ignore_errors=True)

    def close(self) -> None:
        """Drop an uncommitted load's files."""
        self.rollback()

    def begin(self) -> None:
        """Start a load (its files go to `_restsync_tx/<load_id>/`)."""
        self._plan = {}
        self._gone = {}
        self._winners = {}
        self._no_child_delete = set()
        self._refreshed = set()
        self._reset_state = []
        self._schema = None
        self._load_id = None

    def _tx(self, load_id: str) -> Path:
        return self.root / TX_DIR / load_id

    # ---- reads -------------------------------------------------------------------------

    def _loads(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = _read_json(self.root / LOADS_FILE, [])
        return data

    def is_committed(self, load_id: str) -> bool:
        """Whether the load log holds `load_id`."""
        return any(r.get("load_id") == load_id for r in self._loads())

    def stored_schema(self) -> Schema | None:
        """The schema of the last committed load."""
        d = _read_json(self.root / SCHEMA_FILE, None)
        return Schema.from_dict(d) if d else None

    def stored_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        """resource -> committed state, for `pipeline`."""
        all_state = _read_state(self.root / STATE_FILE)
        return {r: v["state"] for r, v in sorted(all_state.get(pipeline, {}).items())}

    def _files(self, table: str) -> list[Path]:
        folder = self.root / table
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []

    def _count(self, table: str) -> int:
        return sum(pq.ParquetFile(f).metadata.num_rows for f in self._files(table))

    def datasets(self) -> dict[str, list[str]]:
        """The folders under the destination's path holding a restsync load record or state
        file, with the pipelines named there."""
        found: dict[str, list[str]] = {}
        for folder in (
            sorted(p for p in self.path.iterdir() if p.is_dir()) if self.path.is_dir() else []
        ):
            loads, state = folder / LOADS_FILE, folder / STATE_FILE
            if not (loads.is_file() or state.is_file()):
                continue
            names: set[str] = set()
            if loads.is_file():
                names.update(str(r.get("pipeline")) for r in json.loads(loads.read_text()) if r)
            if state.is_file():
                names.update(str(p) for p in json.loads(state.read_text()))
            found[folder.name] = sorted(names)
        return found

    def show(self) -> DestinationInfo:
        """Tables with row counts, the last 20 loads, state and stored schema."""
        tables = []
        for d in sorted(p for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []:
            if d.name.startswith("_restsync"):
                continue
            files = self._files(d.name)
            cols: list[tuple[str, str]] = []
            if files:
                cols = [(f.name, str(f.type)) for f in pq.read_schema(files[-1])]
            tables.append(TableInfo(d.name, self._count(d.name), cols))
        all_state = _read_state(self.root / STATE_FILE)
        state = {p: {r: v["state"] for r, v in rs.items()} for p, rs in all_state.items()}
        return DestinationInfo(
            destination=self.name,
            dataset=self.dataset_name,
            tables=tables,
            loads=list(reversed(self._loads()))[:20],
            state=state,
            schema=self.stored_schema(),
        )

    # ---- load --------------------------------------------------------------------------

    def ensure_tables(self, schema: Schema) -> list[str]:
        """Nothing to create ahead in Parquet; returns the schema changes, for LoadInfo."""
        self._schema = schema
        old = self.stored_schema()
        changes: list[str] = []
        for t in schema.tables.values():
            before = old.tables.get(t.name) if old else None
            if before is None:
                changes.append(f"new table {t.name}")
                continue
            for c in t.columns.values():
                prev = before.columns.get(c.name)
                if prev is None:
                    changes.append(f"{t.name}: new column {c.name} {c.data_type}")
                elif prev.data_type != c.data_type:
                    changes.append(f"{t.name}: {c.name} {prev.data_type} -> {c.data_type}")
        return changes

    def _duck(self) -> duckdb.DuckDBPyConnection:
        if self._db is None:
            self._db = duckdb.connect()
        return self._db

    def _scalar(self, sql: str) -> int:
        rows = self._duck().execute(sql).fetchall()
        return int(rows[0][0]) if rows else 0

    def _existing(self, table: Table, target: pa.Schema) -> pa.RecordBatchReader:
        def gen() -> Iterator[pa.RecordBatch]:
            for f in self._files(table.name):
                for batch in pq.ParquetFile(f).iter_batches():
                    yield conform_batch(batch, target, table=table.name)

        return pa.RecordBatchReader.from_batches(target, gen())

    def _write_file(self, path: Path, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        n = 0
        with pq.ParquetWriter(str(path), schema) as writer:
            for b in batches:
                if b.num_rows:
                    if SEQ in b.schema.names:
                        b = b.drop_columns([SEQ])
                    writer.write_batch(conform_batch(b, schema, table=path.parent.name))
                    n += b.num_rows
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())
        return n

    def write(self, table: Table, staged: StagedLoad, load_id: str) -> TableLoadStats:
        """Write `table`'s staged rows under the load's tx folder (see the module docstring)."""
        schema = self._schema or staged.schema
        root = root_of(schema, table)
        stats = TableLoadStats(table.name, root.write_disposition)
        if self.is_committed(load_id) or root.write_disposition == "skip":
            return stats
        self._load_id = load_id
        out_schema = arrow_schema(table)
        out = self._tx(load_id) / table.name / f"{load_id}.parquet"
        staged_batches = staged.read_table(table.name, table)
        if root.write_disposition == "merge":
            if table.is_root:
                self._merge_root(table, staged, stats, out, out_schema, load_id)
            else:
                self._merge_child(table, root, staged, stats, out, out_schema)
            return stats
        if root.write_disposition == "replace" or table.name in self._refreshed:
            stats.deleted = 0 if table.name in self._refreshed else self._count(table.name)
            stats.inserted = self._write_file(out, out_schema, staged_batches)
            self._plan[table.name] = "swap"
        elif staged.rows(table.name):
            stats.inserted = self._write_file(out, out_schema, staged_batches)
            self._plan[table.name] = "append"
        return stats

    def refresh(self, plan: RefreshPlan, pipeline: str) -> list[str]:
        """Mark the plan's tables dropped: their folders go at commit unless this load writes
        them anew, and a load into one starts from nothing; the state is wiped at commit."""
        done: list[str] = []
        for name in plan.tables:
            self._refreshed.add(name)
            self._plan[name] = "drop"
            if (self.root / name).is_dir():
                done.append(f"{plan.mode} {name}")
        self._reset_state = ["*"] if plan.mode == "drop_sources" else list(plan.resources)
        return done

    def _stored(self, table: Table, out_schema: pa.Schema) -> pa.Table:
        """The stored rows of `table`, conformed (none after a refresh dropped it)."""
        if table.name in self._refreshed:
            return out_schema.empty_table()
        con = self._duck()
        con.register("t_in", self._existing(table, out_schema))
        try:
            return con.sql("SELECT * FROM t_in").to_arrow_table()
        finally:
            con.unregister("t_in")

    def _merge_root(
        self,
        table: Table,
        staged: StagedLoad,
        stats: TableLoadStats,
        out: Path,
        out_schema: pa.Schema,
        load_id: str,
    ) -> None:
        """The merge of a root table by its strategy (`restsync.load._merge`), as one query
        over the stored and the staged rows whose result replaces the table's folder."""
        if not staged.rows(table.name):
            return
        plan = MergePlan.of(table, load_id)
        con = self._duck()
        con.register("s", staged.reader(table.name, table))
        cols = [c for c in table.columns if c != SEQ]
        sel = ", ".join(quote(c) for c in [*cols, SEQ])
        cl = ", ".join(quote(c) for c in cols)
        con.register("t", self._stored(table, out_schema))
        if plan.strategy == "scd2":
            stats.deleted, new = self._scd2_merge(con, plan, cols, sel, out, out_schema)
            stats.inserted = new.num_rows
            self._winners[table.name] = new.select([DLT_ID, SEQ])
            self._no_child_delete.add(table.name)
        else:
            ins = self._merge_inserts(con, plan, sel)
            if plan.strategy == "insert-only":
                new = self._insert_new_keys(con, plan, sel, cl, out, out_schema)
                stats.inserted = new.num_rows
                self._winners[table.name] = new.select([DLT_ID, SEQ])
                self._no_child_delete.add(table.name)
            else:
                stats.updated, stats.deleted, self._gone[table.name] = self._replace_stored(
                    con, plan, cl, out, out_schema, updated=stats.updated
                )
                self._winners[table.name] = ins.select([DLT_ID, SEQ])
                stats.inserted = max(ins.num_rows - stats.updated, 0)
        self._plan[table.name] = "swap"

    def _scd2_merge(
        self,
        con: duckdb.DuckDBPyConnection,
        plan: MergePlan,
        cols: list[str],
        sel: str,
        out: Path,
        out_schema: pa.Schema,
    ) -> tuple[int, pa.Table]:
        """SCD2 over the stored rows `t` and the staged `s`: retire the active rows whose
        version is absent (by merge key, if set) and add the new versions; write the result
        to `out`. Returns the count retired and the new versions."""
        version = quote(plan.version)
        one = con.sql(
            f"SELECT {sel} FROM (SELECT {sel}, row_number() OVER (PARTITION BY {version} "
            f"ORDER BY {quote(SEQ)} DESC) AS _rs_rn FROM s) WHERE _rs_rn = 1"
        ).to_arrow_table()
        con.unregister("s")
        con.register("o", one)
        active = plan.is_active_sql("t")
        new = con.sql(
            f"SELECT {sel} FROM o AS s WHERE NOT EXISTS (SELECT 1 FROM t "
            f"WHERE {active} AND t.{version} = s.{version})"
        ).to_arrow_table()
        con.register("n", new)
        absent = _scd2_absent_sql(plan)
        retired = self._scalar(f"SELECT count(*) FROM t WHERE {active} AND {absent}")
        result = con.sql(_scd2_rows_sql(plan, cols, active, absent)).to_arrow_reader(65536)
        self._write_file(out, out_schema, iter(result))
        for name in ("o", "n", "t"):
            con.unregister(name)
        return retired, new

    def _merge_inserts(self, con: duckdb.DuckDBPyConnection, plan: MergePlan, sel: str) -> pa.Table:
        """The winning staged version per primary key (all staged rows without one),
        registered as `w`, and of those the ones to insert (not hard-deleted), registered
        as `i` and returned."""
        if plan.keys:
            part = ", ".join(quote(k) for k in plan.keys)
            win = con.sql(
                f"SELECT {sel} FROM (SELECT {sel}, row_number() OVER (PARTITION BY {part} "
                f"ORDER BY {plan.order_sql()}) AS _rs_rn FROM s) WHERE _rs_rn = 1"
            ).to_arrow_table()
        else:
            win = con.sql(f"SELECT {sel} FROM s").to_arrow_table()
        con.unregister("s")
        con.register("w", win)
        ins = win
        if plan.hard_delete:  # the winners that go in: not the deleted ones
            ins = con.sql(f"SELECT {sel} FROM w WHERE NOT {plan.deleted_sql('w')}").to_arrow_table()
        con.register("i", ins)
        return ins

    def _insert_new_keys(
        self,
        con: duckdb.DuckDBPyConnection,
        plan: MergePlan,
        sel: str,
        cl: str,
        out: Path,
        out_schema: pa.Schema,
    ) -> pa.Table:
        """Insert-only: write the stored rows `t` and the rows of `i` whose key `t` lacks to
        `out`; return those new rows."""
        on = _keys_on(plan.keys)
        new = con.sql(
            f"SELECT {sel} FROM i WHERE NOT EXISTS (SELECT 1 FROM t WHERE {on})"
        ).to_arrow_table()
        con.register("n", new)
        result = con.sql(f"SELECT {cl} FROM t UNION ALL SELECT {cl} FROM n").to_arrow_reader(65536)
        self._write_file(out, out_schema, iter(result))
        for name in ("n", "i", "w", "t"):
            con.unregister(name)
        return new

    def _replace_stored(
        self,
        con: duckdb.DuckDBPyConnection,
        plan: MergePlan,
        cl: str,
        out: Path,
        out_schema: pa.Schema,
        *,
        updated: int,
    ) -> tuple[int, int, pa.Table]:
        """Delete-insert / upsert: write the stored rows `t` no winner `w` matches and the
        rows to insert `i` to `out`. Returns (updated, deleted, the removed root ids);
        `updated` as given when no primary key tells updates apart."""
        match = plan.match_sql("t", "w")
        if plan.keys:
            updated = self._scalar(
                f"SELECT count(*) FROM t WHERE EXISTS (SELECT 1 FROM i WHERE {_keys_on(plan.keys)})"
            )
        deleted = self._scalar(f"SELECT count(*) FROM t WHERE {match}") - updated
        gone = con.sql(
            f"SELECT {quote(DLT_ID)} AS id FROM t WHERE {match} UNION SELECT {quote(DLT_ID)} FROM i"
        ).to_arrow_table()
        result = con.sql(
            f"SELECT {cl} FROM t WHERE NOT {match} UNION ALL SELECT {cl} FROM i"
        ).to_arrow_reader(65536)
        self._write_file(out, out_schema, iter(result))
        for name in ("i", "w", "t"):
            con.unregister(name)
        return updated, deleted, gone

    def _merge_child(
        self,
        table: Table,
        root: Table,
        staged: StagedLoad,
        stats: TableLoadStats,
        out: Path,
        out_schema: pa.Schema,
    ) -> None:
        win = self._winners.get(root.name)
        if win is None:
            return
        gone = self._gone.get(root.name)
        con = self._duck()
        link = quote(DLT_ROOT_ID if DLT_ROOT_ID in table.columns else DLT_PARENT_ID)
        cols = [c for c in table.columns if c != SEQ]
        cl = ", ".join(quote(c) for c in cols)
        scl = ", ".join(f"s.{quote(c)}" for c in cols)
        con.register("w", win)
        old = self._stored(table, out_schema).select(cols)
        con.register("t", old)
        con.register("s", staged.reader(table.name, table))
        if gone is not None:
            con.register("g", gone)
            kept = f"SELECT {cl} FROM t WHERE {link} NOT IN (SELECT id FROM g)"
        else:
            kept = f"SELECT {cl} FROM t"
        stats.deleted = old.num_rows - self._scalar(f"SELECT count(*) FROM ({kept})")
        # insert-only / scd2 keep stored child rows: one already there is not added twice
        fresh = (
            f" AND {quote(DLT_ID)} NOT IN (SELECT {quote(DLT_ID)} FROM t)"
            if root.name in self._no_child_delete
            else ""
        )
        new = con.sql(
            f"SELECT {cl} FROM (SELECT {scl}, row_number() OVER (PARTITION BY s.{quote(DLT_ID)} "
            f"ORDER BY s.{quote(SEQ)} DESC) AS _rs_rn FROM s JOIN w ON s.{link} = "
            f"w.{quote(DLT_ID)} AND s.{quote(SEQ)} = w.{quote(SEQ)}) WHERE _rs_rn = 1{fresh}"
        ).to_arrow_table()
        con.register("n", new)
        stats.inserted = new.num_rows
        result = con.sql(f"{kept} UNION ALL SELECT * FROM n").to_arrow_reader(65536)
        self._write_file(out, out_schema, iter(result))
        for name in ("g", "w", "t", "s", "n"):
            with contextlib.suppress(Exception):
                con.unregister(name)
        self._plan[table.name] = "swap"

    def commit(self, state: dict[str, dict[str, Any]], load_record: dict[str, Any]) -> None:
        """Write the commit journal (the commit point), move the files, then state and log."""
        load_id = str(load_record["load_id"])
        if self.is_committed(load_id):
            self.begin()
            return
        tx = self._tx(load_id)
        tx.mkdir(parents=True, exist_ok=True)
        record = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in load_record.items()
        }
        record["status"] = COMMITTED
        journal = {
            "load_id": load_id,
            "plan": self._plan,
            "reset_state": self._reset_state,
            "state": state,
            "load_record": record,
            "schema": self._schema.to_dict() if self._schema else None,
        }
        write_json_atomic(tx / COMMIT_FILE, journal)
        self._apply(tx)
        self.begin()

    def _apply(self, tx: Path) -> None:
        """Roll a journaled commit forward; every step may run again after a crash."""
        journal = _read_json(tx / COMMIT_FILE, None)
        if journal is None:
            return
        load_id = journal["load_id"]
        for table, action in journal["plan"].items():
            new_dir = tx / table
            dest_dir = self.root / table
            if action == "drop":  # refreshed and not written again: the table goes
                if dest_dir.exists():
                    old = tx / "_old" / table
                    old.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(dest_dir, old)
            elif action == "append":
                src = new_dir / f"{load_id}.parquet"
                if src.exists():
                    dest_dir.mkdir(parents=True, exist_ok=True)
                    os.replace(src, dest_dir / src.name)
            elif new_dir.is_dir():
                old = tx / "_old" / table
                if dest_dir.exists():
                    old.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(dest_dir, old)
                os.replace(new_dir, dest_dir)
            checkpoint("parquet_apply")  # crash tests: a kill between two tables' moves
        if journal.get("schema"):
            schema = Schema.from_dict(journal["schema"])
            stored = self.stored_schema()
            if stored is None or schema_hash(stored) != schema_hash(schema):
                schema.version = (stored.version + 1) if stored else 1
                write_json_atomic(self.root / SCHEMA_FILE, schema.to_dict())
        record = journal["load_record"]
        pipeline = str(record["pipeline"])
        all_state = _read_state(self.root / STATE_FILE)
        reset = journal.get("reset_state") or []
        if "*" in reset:
            all_state.pop(pipeline, None)
        for resource in reset:
            all_state.get(pipeline, {}).pop(resource, None)
        now = utcnow().isoformat()
        for resource, value in journal["state"].items():
            all_state.setdefault(pipeline, {})[resource] = {
                "state": value,
                "load_id": load_id,
                "stored_at": now,
            }
        write_json_atomic(self.root / STATE_FILE, all_state)
        log = self._loads()
        if not any(r.get("load_id") == load_id for r in log):
            log.append(record)
            write_json_atomic(self.root / LOADS_FILE, log)
        shutil.rmtree(tx, ignore_errors=True)

    def rollback(self) -> None:
        """Delete the load's uncommitted files; the dataset is as `begin` found it."""
        if self._load_id is not None:
            tx = self._tx(self._load_id)
            if not (tx / COMMIT_FILE).exists():
                shutil.rmtree(tx, ignore_errors=True)
        self.begin()


def _keys_on(keys: list[str]) -> str:
    """The match of a stored row `t` and a staged row `i` on the primary key `keys`."""
    return " AND ".join(f"t.{quote(k)} = i.{quote(k)}" for k in keys)


def _scd2_absent_sql(plan: MergePlan) -> str:
    """SCD2: a stored row `t` whose version the staged versions `o` lack (and, with a
    merge key, whose merge key they hold)."""
    version = quote(plan.version)
    absent = f"NOT EXISTS (SELECT 1 FROM o AS s WHERE s.{version} = t.{version})"
    if plan.merge_key:
        on = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in plan.merge_key)
        absent += f" AND EXISTS (SELECT 1 FROM o AS s WHERE {on})"
    return absent


def _scd2_rows_sql(plan: MergePlan, cols: list[str], active: str, absent: str) -> str:
    """SCD2: the stored rows `t` (the retired ones closed at the boundary) and the new
    versions `n` (valid from the boundary, active)."""
    valid_from, valid_to = plan.validity
    old_cols = ", ".join(
        f"CASE WHEN {active} AND {absent} THEN {plan.boundary_sql()} ELSE "
        f"t.{quote(c)} END AS {quote(c)}"
        if c == valid_to
        else f"t.{quote(c)}"
        for c in cols
    )
    new_cols = ", ".join(
        f"{plan.boundary_sql()} AS {quote(c)}"
        if c == valid_from
        else f"{plan.active_sql()} AS {quote(c)}"
        if c == valid_to
        else f"n.{quote(c)}"
        for c in cols
    )
    return f"SELECT {old_cols} FROM t UNION ALL SELECT {new_cols} FROM n"
