"""Running one contender as its own process and measuring it: wall time, peak RSS, rows.

Peak RSS is the largest of two figures: the sum of the resident sets of the contender's process
tree, sampled with psutil every 20 ms (restsync normalizes in a worker process on large runs;
a sample can miss a short peak), and `/usr/bin/time -f %M` (the largest resident set of any
single process of the tree, exact) when that binary exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
CONTENDERS_DIR = BENCH_DIR / "contenders"
GNU_TIME = "/usr/bin/time"


@dataclass
class Measurement:
    """One run of one contender."""

    contender: str
    run: int
    ok: bool = False
    error: str = ""
    records: int = -1
    #: The contender's own timed part (first request to committed rows).
    seconds: float = float("nan")
    #: The whole process, interpreter start and imports included.
    process_seconds: float = float("nan")
    peak_rss_mb: float = float("nan")
    #: The two sources of `peak_rss_mb`: sampled tree sum, and /usr/bin/time's single process.
    peak_rss_tree_mb: float = float("nan")
    peak_rss_single_mb: float = float("nan")
    #: Rows found in the contender's DuckDB file afterwards (root table / tables), None: no DB.
    db_rows: int | None = None
    child_rows: dict[str, int] = field(default_factory=dict)
    #: Requests the sandbox counted during the run (when the scenario asks it).
    server_requests: int | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.ok and self.seconds > 0 else float("nan")


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class _TreePoller:
    """psutil fallback: the largest RSS sum seen over the process and its children."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        import psutil  # type: ignore[import-untyped]

        try:
            proc = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                total = proc.memory_info().rss
                for child in proc.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        total += child.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, total)
            self._stop.wait(0.02)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=2)
        return self.peak


def run_contender(
    name: str,
    script: str,
    *,
    run: int,
    base_url: str,
    token: str,
    records: int,
    out: Path,
    timeout: float,
    wrapper: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Measurement:
    """Run `bench/contenders/<script>` once in a fresh process and measure it.

    Never raises for a failing contender: the failure is in `Measurement.error`.
    """
    m = Measurement(contender=name, run=run)
    out.mkdir(parents=True, exist_ok=True)
    argv = [
        *(wrapper or [sys.executable]),
        str(CONTENDERS_DIR / script),
        "--base-url", base_url, "--token", token, "--records", str(records), "--out", str(out),
    ]  # fmt: skip
    use_time = os.access(GNU_TIME, os.X_OK)
    rss_file = Path(tempfile.mkstemp(prefix="rss-", dir=out)[1])
    if use_time:
        argv = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv]
    env = {
        **os.environ,
        **(env or {}),
        "PYTHONUNBUFFERED": "1",
        "RUNTIME__DLTHUB_TELEMETRY": "false",  # dlt: no telemetry calls from the bench
        "DLT_DATA_DIR": str(out / "dlt_data"),
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    poller = _TreePoller(proc.pid)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        m.error = f"timed out after {timeout:.0f} s"
    m.process_seconds = time.perf_counter() - started
    m.peak_rss_tree_mb = poller.stop() / 2**20
    if use_time:
        with contextlib.suppress(ValueError, IndexError, OSError):
            m.peak_rss_single_mb = int(rss_file.read_text().strip().splitlines()[-1]) / 1024
    m.peak_rss_mb = max(
        (x for x in (m.peak_rss_tree_mb, m.peak_rss_single_mb) if x == x), default=float("nan")
    )
    rss_file.unlink(missing_ok=True)
    (out / "stdout.txt").write_text(stdout)
    (out / "stderr.txt").write_text(stderr)
    if m.error:
        return m
    if proc.returncode != 0:
        m.error = f"exit {proc.returncode}: {_tail(stderr)}"
        return m
    try:
        m.result = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        m.error = f"no result line on stdout: {_tail(stdout + stderr)}"
        return m
    m.records = int(m.result.get("records", -1))
    m.seconds = float(m.result.get("seconds", float("nan")))
    m.ok = True
    if m.result.get("db"):
        check_rows(m)
    return m


def check_rows(m: Measurement) -> None:
    """Count the rows the contender left in its DuckDB file or Postgres schema."""
    db = str(m.result["db"])
    schema = str(m.result.get("schema", "main"))
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as pg:
            names = [
                r[0]
                for r in pg.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema,),
                ).fetchall()
            ]
            pg_counts = {
                n: int(pg.execute(f'SELECT count(*) FROM "{schema}"."{n}"').fetchone()[0])  # type: ignore[index]
                for n in names
            }
        _set_rows(m, pg_counts)
        return
    import duckdb

    try:
        con = duckdb.connect(db, read_only=True)
    except duckdb.Error as exc:
        m.error = f"cannot open {db}: {exc}"
        m.ok = False
        return
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
            ).fetchall()
        ]
        counts: dict[str, int] = {}
        for n in names:
            row = con.execute(f'SELECT count(*) FROM "{schema}"."{n}"').fetchone()
            counts[n] = int(row[0]) if row else 0
    finally:
        con.close()
    _set_rows(m, counts)


def _set_rows(m: Measurement, counts: dict[str, int]) -> None:
    roots = m.result.get("tables") or [m.result.get("table", "items")]
    m.db_rows = sum(counts.get(str(t), 0) for t in roots)
    m.child_rows = {
        n: c for n, c in counts.items() if "__" in n and not n.startswith(("_dlt", "_restsync"))
    }


def machine_facts() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass
    versions: dict[str, str] = {}
    for dist in ("restsync", "httpx", "httpx-aiohttp", "aiohttp", "orjson", "pyarrow", "duckdb",
                 "uvicorn", "httptools", "psycopg", "dlt", "psutil", "pyinstrument"):  # fmt: skip
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    commit = ""
    if shutil.which("git"):
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, capture_output=True, text=True
        )
        commit = done.stdout.strip()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "git_commit": commit,
        "loadavg_start": os.getloadavg(),
    }
