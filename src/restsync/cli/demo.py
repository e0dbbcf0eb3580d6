"""`restsync demo`: a sandbox API on loopback, a sync into a local DuckDB file, a summary."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def summarize_duckdb(path: Path, dataset: str, console: Console, rows: int = 3) -> None:
    """Print each table of `dataset` with its row count, then a few rows of the largest."""
    import duckdb

    from restsync.destinations._sql import quote

    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT current_database()").fetchone()
        # qualified by the database: a file named like the dataset is otherwise ambiguous
        where = f"{quote(str(row[0]) if row else '')}.{quote(dataset)}"
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                "ORDER BY table_name",
                [dataset],
            ).fetchall()
        ]
        summary = Table(title=f"{path.name}: dataset '{dataset}'")
        summary.add_column("table")
        summary.add_column("rows", justify="right")
        counts: dict[str, int] = {}
        for t in tables:
            n = con.execute(f"SELECT count(*) FROM {where}.{quote(t)}").fetchone()
            counts[t] = int(n[0]) if n else 0
            summary.add_row(t, str(counts[t]))
        console.print(summary)
        root_tables = [t for t in tables if not t.startswith("_") and "__" not in t]
        for t in root_tables[:2]:
            cur = con.execute(f"SELECT * FROM {where}.{quote(t)} LIMIT {rows}")
            names = [str(d[0]) for d in cur.description or ()][:8]
            sample = Table(title=f"{t} (first {rows} rows, {len(names)} columns shown)")
            for cname in names:
                sample.add_column(cname, overflow="fold", max_width=24)
            for row in cur.fetchall():
                sample.add_row(*["" if v is None else str(v)[:24] for v in row[:8]])
            console.print(sample)
    finally:
        con.close()


def run_demo(name: str, *, records: int | None, destination: str | None, console: Console) -> int:
    """Runs the demo of connector `name`; returns the exit code."""
    from restsync.connectors import connector_module, connector_source
    from restsync.pipeline import pipeline
    from restsync.sandbox import Sandbox

    connector_module(name)  # a clear error for an unknown name
    db = Path.cwd() / f"demo_{name}.duckdb"
    dest = destination or f"duckdb:///{db}"
    if destination is None:  # every demo starts from an empty file
        for leftover in (db, db.with_name(db.name + ".wal")):
            leftover.unlink(missing_ok=True)
    kwargs: dict[str, Any] = {}
    if records is not None:
        kwargs["records"] = records
    with Sandbox(name, **kwargs) as sb:
        console.print(f"sandbox '{name}' API serving on {sb.base_url}", markup=False)
        saved = {k: os.environ.get(k) for k in sb.env()}
        os.environ.update(sb.env())
        try:
            source = connector_source(name, base_url=sb.base_url)
            pipe = pipeline(f"demo_{name}", destination=dest)
            progress = None
            if console.is_terminal:
                from restsync.cli.progress import RichProgress

                progress = RichProgress()
            info = pipe.run(source, progress=progress, full_refresh=True)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    console.print(str(info), markup=False)
    if dest.startswith("duckdb:///"):
        summarize_duckdb(Path(dest[len("duckdb:///") :]), pipe.dataset_name, console)
    console.print(
        f"\nexplore it: restsync show --pipeline demo_{name} --destination {dest}", markup=False
    )
    return 1 if info.has_failures else 0
