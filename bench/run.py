"""restsync benchmark: throughput, latency-bound and scaling, in one run, on one sandbox process.

    make bench-quick            # N = 100,000
    make bench                  # N = 1,000,000
    .venv-bench/bin/python bench/run.py --records 100000 --runs 3 --only throughput,latency,scaling

Each contender runs as its own process (bench/contenders/); the sandbox API runs in another,
shared by every contender of a scenario. Results: bench/out/results-N.json and a section of
bench/RESULTS.md (rewritten for the same N). `--only profile` runs restsync once under
pyinstrument and writes bench/out/profile.txt.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BENCH_DIR, Measurement, machine_facts, run_contender
from report import write_report

#: (name shown, script) of the throughput contenders, in the order they run within a round.
THROUGHPUT = (
    ("download-only", "download_only.py"),
    ("download-only x4", "download_concurrent.py"),
    ("floor script", "floor_script.py"),
    ("restsync", "restsync_run.py"),
    ("restsync postgres", "restsync_pg_run.py"),
    ("dlt default", "dlt_run.py"),
    ("dlt parquet", "dlt_parquet_run.py"),
)
LATENCY = (
    ("download-only x4", "inventory_download.py"),
    ("restsync", "inventory_restsync.py"),
    ("dlt default", "inventory_dlt.py"),
)
#: Latency scenario: 50 ms per response, 10 pages of 50 records per resource, 20 resources.
LATENCY_S = 0.05
INVENTORY_PAGE = 50
INVENTORY_PAGES = 10
#: restsync's default per-host concurrency (SourceClient max_concurrency).
RESTSYNC_MAX_CONCURRENCY = 4
SCALING_SIZES = (10_000, 100_000, 1_000_000)
SCENARIOS = ("throughput", "latency", "scaling", "profile")
#: Extra environment per contender name: `--baseline SRC` adds "restsync (baseline)" contenders
#: that import restsync from another checkout's `src` (PYTHONPATH comes before the editable
#: install), so a change is measured side by side with the code before it, in one run.
CONTENDER_ENV: dict[str, dict[str, str]] = {}
BASELINE = "restsync (baseline)"


def with_baseline(
    contenders: tuple[tuple[str, str], ...], src: Path | None
) -> tuple[tuple[str, str], ...]:
    """The contenders, each restsync one followed by its baseline twin when `src` is given."""
    if src is None:
        return contenders
    out: list[tuple[str, str]] = []
    for name, script in contenders:
        out.append((name, script))
        if name.startswith("restsync"):
            twin = name.replace("restsync", BASELINE, 1)
            CONTENDER_ENV[twin] = {"PYTHONPATH": str(src.resolve())}
            out.append((twin, script))
    return tuple(out)


def round_order(contenders: tuple[tuple[str, str], ...], run: int) -> tuple[tuple[str, str], ...]:
    """The contenders in `run`'s order: a baseline twin runs after its restsync contender in odd
    rounds and before it in even ones, so that neither always runs on the other's heels."""
    order = list(contenders)
    if run % 2 == 0:
        for i in range(len(order) - 1):
            name = order[i][0]
            twin = name.replace("restsync", BASELINE, 1)
            if twin != name and order[i + 1][0] == twin:
                order[i], order[i + 1] = order[i + 1], order[i]
    return tuple(order)


def describe_checkout(src: Path) -> str:
    """`src` and the commit its checkout is at (for the baseline rows' line in RESULTS.md)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=src, capture_output=True, text=True
    )
    commit = done.stdout.strip() or "not a git checkout"
    return f"{src} at {commit}"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def timeout_for(records: int) -> float:
    """A contender's time limit: generous, bounded. dlt default needs ~300 s for 100,000
    records on a busy 2-CPU machine (~2,000 records/s when idle)."""
    return max(900.0, records / 100)


def start_sandbox(api: str, records: Any, faults: Any = None) -> Any:
    from restsync.sandbox import Sandbox, SandboxOptions

    return Sandbox.start_process(
        api, records=records, options=SandboxOptions(log_requests=False), faults=faults
    )


def server_requests(sb: Any) -> int | None:
    try:
        return int(sb.stats().get("requests", 0))
    except Exception:
        return None


def describe(m: Measurement) -> str:
    if not m.ok:
        return f"FAILED: {m.error.splitlines()[-1] if m.error else '?'}"
    return (
        f"{m.records:,} records in {m.seconds:.2f} s ({m.records_per_s:,.0f}/s), "
        f"process {m.process_seconds:.2f} s, peak RSS {m.peak_rss_mb:.0f} MB, db rows {m.db_rows}"
    )


def run_rounds(
    contenders: tuple[tuple[str, str], ...],
    sb: Any,
    *,
    records: int,
    runs: int,
    out: Path,
    scenario: str,
) -> list[Measurement]:
    """`runs` rounds over the contenders (interleaved, so drift hits all alike). A contender that
    fails in a round is not run again: its error is the result."""
    results: list[Measurement] = []
    failed: set[str] = set()
    for run in range(1, runs + 1):
        for name, script in round_order(contenders, run):
            if name in failed:
                continue
            run_out = out / scenario / name.replace(" ", "_") / f"run{run}"
            shutil.rmtree(run_out, ignore_errors=True)
            # what the previous contender wrote reaches the disk now, not during this run's
            # own commit (its fsync would wait for the other files' write-back)
            os.sync()
            before = server_requests(sb)
            m = run_contender(
                name, script, run=run, base_url=sb.base_url, token=sb.secrets["api_key"],
                records=records, out=run_out, timeout=timeout_for(records),
                env=CONTENDER_ENV.get(name),
            )  # fmt: skip
            after = server_requests(sb)
            if before is not None and after is not None:
                m.server_requests = after - before  # the stats calls are not counted
            log(f"{scenario} run {run} {name}: {describe(m)}")
            results.append(m)
            if not m.ok:
                failed.add(name)
            for db in run_out.glob("*.duckdb"):  # counted already; keep the disk small
                db.unlink()
            for leftover in ("pipelines", "dlt_pipelines", "dlt_data"):
                shutil.rmtree(run_out / leftover, ignore_errors=True)
    return results


def throughput(
    records: int, runs: int, out: Path, contenders: tuple[tuple[str, str], ...] = THROUGHPUT
) -> list[Measurement]:
    log(f"throughput: starting the bench sandbox with {records:,} records")
    with contextlib.ExitStack() as stack:
        if any(name == "restsync postgres" for name, _ in contenders):
            server = start_postgres()
            if server is None:
                log("throughput: no PostgreSQL server binaries; 'restsync postgres' skipped")
                contenders = tuple(c for c in contenders if c[0] != "restsync postgres")
            else:
                stack.callback(server.stop)
                os.environ["RESTSYNC_BENCH_PG_URL"] = server.url
        sb = stack.enter_context(start_sandbox("bench", records))
        return run_rounds(
            contenders, sb, records=records, runs=runs, out=out, scenario="throughput"
        )


def start_postgres() -> Any:
    """A throwaway PostgreSQL server on loopback (the test suite's), or None without one."""
    sys.path.insert(0, str(BENCH_DIR.parent))
    from tests.pg import PostgresServer, find_pg_bin

    bindir = find_pg_bin()
    if bindir is None:
        return None
    server = PostgresServer(bindir)
    server.start()
    log(f"throughput: PostgreSQL from {bindir} on {server.url.rsplit('@', 1)[-1]}")
    return server


def latency(runs: int, out: Path, baseline: Path | None = None) -> list[Measurement]:
    from restsync.sandbox import Faults

    per_resource = INVENTORY_PAGE * INVENTORY_PAGES
    log(
        f"latency: inventory sandbox, {per_resource} records x 20 resources, "
        f"+{LATENCY_S * 1000:.0f} ms"
    )
    with start_sandbox("inventory", per_resource, Faults(slow=LATENCY_S)) as sb:
        return run_rounds(
            with_baseline(LATENCY, baseline),
            sb,
            records=per_resource * 20,
            runs=runs,
            out=out,
            scenario="latency",
        )


def scaling(
    records: int, sizes: list[int], runs: int, out: Path, reuse: list[Measurement]
) -> dict[int, list[Measurement]]:
    by_size: dict[int, list[Measurement]] = {}
    for size in sizes:
        same = [m for m in reuse if m.contender == "restsync" and size == records]
        if same:
            log(f"scaling {size:,}: reusing the throughput runs of restsync")
            by_size[size] = same
            continue
        log(f"scaling {size:,}: starting the bench sandbox")
        with start_sandbox("bench", size) as sb:
            by_size[size] = run_rounds(
                (("restsync", "restsync_run.py"),), sb, records=size, runs=runs,
                out=out / f"scaling_{size}", scenario="scaling",
            )  # fmt: skip
    return by_size


def profile(records: int, out: Path) -> Path:
    """restsync under pyinstrument, three times: as it runs by default (pyinstrument sees the
    main process only; normalization runs in a worker process on large runs), then with
    RESTSYNC_NORMALIZE=local so that all the work is in the profiled process (tree and flat)."""
    target = out / "profile.txt"
    log(f"profile: restsync, {records:,} records, under pyinstrument")
    plans: list[tuple[str, list[str], dict[str, str]]] = [
        ("profile.txt", [], {}),
        ("profile-local.txt", [], {"RESTSYNC_NORMALIZE": "local"}),
        ("profile-local-flat.txt", ["-p", "flat=true"], {"RESTSYNC_NORMALIZE": "local"}),
    ]
    with start_sandbox("bench", records) as sb:
        for name, extra, env in plans:
            m = run_contender(
                "restsync (pyinstrument)", "restsync_run.py", run=1, base_url=sb.base_url,
                token=sb.secrets["api_key"], records=records, out=out / "profile_run",
                timeout=timeout_for(records) * 3, env=env,
                wrapper=[sys.executable, "-m", "pyinstrument", "-r", "text", *extra,
                         "-o", str(out / name)],
            )  # fmt: skip
            log(f"profile ({name}): {describe(m)}")
    return target


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000, help="N for the throughput line")
    parser.add_argument("--runs", type=int, default=3, help="runs per contender (median reported)")
    parser.add_argument(
        "--only",
        default="throughput,latency,scaling",
        help=f"comma-separated subset of {','.join(SCENARIOS)}",
    )
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "out")
    parser.add_argument(
        "--scaling-sizes",
        default=None,
        help="comma-separated N for the scaling line (default: 10k,100k,1M up to N)",
    )
    parser.add_argument(
        "--scaling-runs",
        type=int,
        default=1,
        help="runs per scaling size other than N (N reuses the throughput runs)",
    )
    parser.add_argument(
        "--contenders",
        default=None,
        help="comma-separated subset of the throughput contenders (default: all)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another checkout's src/ directory: its restsync runs beside this one "
        "('restsync (baseline)' rows), in the throughput and latency scenarios",
    )
    parser.add_argument("--label", default=None, help="the command shown in RESULTS.md")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS.md")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; use {','.join(SCENARIOS)}")
    if args.scaling_sizes:
        sizes = [int(s) for s in args.scaling_sizes.split(",")]
    else:
        sizes = [s for s in SCALING_SIZES if s <= args.records] or [args.records]
    args.out.mkdir(parents=True, exist_ok=True)
    label = args.label or " ".join([os.path.relpath(sys.executable), *sys.argv])
    facts = machine_facts()
    if args.baseline is not None:
        facts["baseline"] = describe_checkout(args.baseline)
    log(f"machine: {facts['nproc']} cpu ({facts['cpu']}), load {facts['loadavg_start']}")
    started = time.perf_counter()
    data: dict[str, Any] = {
        "command": label,
        "records": args.records,
        "runs": args.runs,
        "facts": facts,
        "latency_s": LATENCY_S,
        "max_concurrency": RESTSYNC_MAX_CONCURRENCY,
    }
    tp: list[Measurement] = []
    if "throughput" in only:
        chosen: tuple[tuple[str, str], ...] = THROUGHPUT
        if args.contenders:
            wanted = {c.strip() for c in args.contenders.split(",")}
            chosen = tuple(c for c in THROUGHPUT if c[0] in wanted)
        tp = throughput(args.records, args.runs, args.out, with_baseline(chosen, args.baseline))
        data["throughput"] = [asdict(m) for m in tp]
    if "latency" in only:
        data["latency"] = [asdict(m) for m in latency(args.runs, args.out, args.baseline)]
    if "scaling" in only:
        sc = scaling(args.records, sizes, args.scaling_runs, args.out, tp)
        data["scaling"] = {str(k): [asdict(m) for m in v] for k, v in sc.items()}
    if "profile" in only:
        data["profile"] = str(profile(min(args.records, 100_000), args.out))
    data["facts"]["loadavg_end"] = os.getloadavg()
    data["total_seconds"] = time.perf_counter() - started
    kind = "results" if set(only) - {"profile"} else "profile"
    json_path = args.out / f"{kind}-{args.records}.json"
    json_path.write_text(json.dumps(data, indent=2, default=str))
    if any(k in data for k in ("throughput", "latency", "scaling")):
        section = write_report(args.results, data)
        print(section)
    log(f"done in {data['total_seconds']:.0f} s; raw results in {json_path}")


if __name__ == "__main__":
    main()
