"""The RESULTS.md section of one benchmark run (rewritten in place for the same N)."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def _ok(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r["ok"]]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _fmt(value: float, digits: int = 2) -> str:
    return (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:,.{digits}f}"
    )


def _summary(rows: list[Row]) -> Row:
    ok = _ok(rows)
    wall = _median([r["seconds"] for r in ok])
    records = ok[0]["records"] if ok else -1
    return {
        "runs": f"{len(ok)}/{len(rows)}",
        "wall": wall,
        "rps": records / wall if ok and wall > 0 else math.nan,
        "rss": max((r["peak_rss_mb"] for r in ok), default=math.nan),
        "process": _median([r["process_seconds"] for r in ok]),
        "records": records,
        "db_rows": sorted({r["db_rows"] for r in ok if r["db_rows"] is not None}),
        "child_rows": ok[-1]["child_rows"] if ok else {},
        "requests": _median(
            [float(r["server_requests"]) for r in ok if r.get("server_requests") is not None]
        ),
        "error": next((r["error"] for r in rows if not r["ok"]), ""),
    }


def _by_contender(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(r["contender"], []).append(r)
    return out


def _first_line(error: str) -> str:
    lines = [x for x in error.strip().splitlines() if x.strip()]
    return (lines[-1] if lines else "?").replace("|", "\\|")[:300]


def _row_check(s: Row, expected: int) -> str:
    if not s["db_rows"]:
        return "n/a (no parsing)" if s["runs"][0] != "0" else "–"
    return (
        "✅ " + f"{s['db_rows'][0]:,}"
        if s["db_rows"] == [expected]
        else "❌ " + ", ".join(f"{x:,}" for x in s["db_rows"])
    )


def throughput_section(data: Row) -> list[str]:
    n = data["records"]
    groups = _by_contender(data["throughput"])
    sums = {name: _summary(rows) for name, rows in groups.items()}
    lines = [
        f"### Throughput: N = {n:,} (page-number pagination, page size 100, `append`)",
        "",
        "Wall s: the contender's timed part (first request to committed rows), median of the runs;"
        " process s adds interpreter start and imports. Peak RSS: the largest of the runs, summed"
        " over the contender's process tree (restsync's normalization worker included).",
        "",
        "| contender | runs ok | wall s | records/s | peak RSS MB | process s | rows loaded |"
        " child rows |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for name, s in sums.items():
        if s["runs"].startswith("0/"):
            lines.append(
                f"| {name} | {s['runs']} | – | – | – | – | – | FAILED: {_first_line(s['error'])} |"
            )
            continue
        child = ", ".join(f"{k} {v:,}" for k, v in sorted(s["child_rows"].items())) or "–"
        lines.append(
            f"| {name} | {s['runs']} | {_fmt(s['wall'])} | {_fmt(s['rps'], 0)} | "
            f"{_fmt(s['rss'], 0)} | {_fmt(s['process'])} | {_row_check(s, n)} | {child} |"
        )

    def wall(name: str) -> float:
        s = sums.get(name)
        return s["wall"] if s and not s["runs"].startswith("0/") else math.nan

    rs, dl = wall("restsync"), wall("download-only")
    ratios: list[tuple[str, float, str, Callable[[float], bool] | None]] = [
        ("restsync / download-only (wall)", rs / dl, "≤ 2×", lambda x: x <= 2),
        ("dlt default / restsync (wall)", wall("dlt default") / rs, "≥ 10×", lambda x: x >= 10),
        ("dlt parquet / restsync (wall)", wall("dlt parquet") / rs, "≥ 4×", lambda x: x >= 4),
        (
            "restsync into Postgres / download-only (wall)",
            wall("restsync postgres") / dl,
            "≤ 3×",
            lambda x: x <= 3,
        ),
        (
            "restsync / download-only x4 (wall)",
            rs / wall("download-only x4"),
            "–",
            None,
        ),
        ("restsync / floor script (wall)", rs / wall("floor script"), "–", None),
        ("floor script / download-only (wall)", wall("floor script") / dl, "–", None),
    ]
    ratios += baseline_ratios(groups, "restsync") + baseline_ratios(groups, "restsync postgres")
    lines += ["", "| ratio | value | target | met |", "|---|---:|---|---|"]
    for label, value, target, test in ratios:
        met = "–" if test is None or math.isnan(value) else ("yes" if test(value) else "**no**")
        lines.append(f"| {label} | {_fmt(value)}× | {target} | {met} |")
    rss = sums.get("restsync", {}).get("rss", math.nan)
    if not math.isnan(rss):
        lines.append(
            f"| restsync peak RSS | {rss:,.0f} MB | ≤ 300 MB | "
            f"{'yes' if rss <= 300 else '**no**'} |"
        )
    childs = {name: s["child_rows"] for name, s in sums.items() if s["child_rows"]}
    if len({tuple(sorted(c.items())) for c in childs.values()}) > 1:
        lines += [
            "",
            "Child-table row counts differ between contenders (see the table): "
            "each flattens lists its own way; the root counts are the check.",
        ]
    return lines


Ratio = tuple[str, float, str, Callable[[float], bool] | None]


def paired_ratio(rows: list[Row], twins: list[Row], value: Callable[[Row], float]) -> float:
    """The median over the rounds of `rows`' value over its twin's in the same round: a
    machine that drifts between rounds moves both runs of a round alike."""
    by_run = {r["run"]: r for r in _ok(twins)}
    return _median(
        [
            value(r) / value(by_run[r["run"]])
            for r in _ok(rows)
            if r["run"] in by_run and value(r) > 0
        ]
    )


def _within(x: float) -> bool:
    return x <= 1.03


def baseline_ratios(
    groups: dict[str, list[Row]], name: str, *, per_bound: Callable[[Row], float] | None = None
) -> list[Ratio]:
    """`name` against its baseline twin (`--baseline`): the medians, then round by round the
    timed part and the whole process. No regression is within 1.03× round by round; with
    `per_bound` (a run's bound, latency scenario) that is the wall over the bound, as the two
    may send different numbers of requests."""
    twin = name.replace("restsync", "restsync (baseline)", 1)
    if twin not in groups or name not in groups:
        return []
    rows, twins = groups[name], groups[twin]
    label = f"{name} / {twin}"
    out: list[Ratio] = [
        (f"{label} (wall)", _summary(rows)["wall"] / _summary(twins)["wall"], "–", None)
    ]
    wall, process = "wall, round by round", "process, round by round"
    if per_bound is None:
        out.append((f"{label} ({wall})", paired_ratio(rows, twins, _seconds), "≤ 1.03×", _within))
    else:
        out.append((f"{label} ({wall})", paired_ratio(rows, twins, _seconds), "–", None))
        out.append(
            (
                f"{label} (wall / bound, round by round)",
                paired_ratio(rows, twins, lambda r: r["seconds"] / per_bound(r)),
                "≤ 1.03×",
                _within,
            )
        )
    target, test = ("≤ 1.03×", _within) if per_bound is None else ("–", None)
    out.append((f"{label} ({process})", paired_ratio(rows, twins, _process), target, test))
    return out


def _seconds(row: Row) -> float:
    return float(row["seconds"])


def _process(row: Row) -> float:
    return float(row["process_seconds"])


def latency_section(data: Row) -> list[str]:
    groups = _by_contender(data["latency"])
    lat, conc = data["latency_s"], data["max_concurrency"]
    lines = [
        f"### Latency-bound: inventory connector, 20 resources × 10 pages of 50, "
        f"+{lat * 1000:.0f} ms per response",
        "",
        f"Bound = requests × {lat * 1000:.0f} ms / max_concurrency ({conc}, restsync's default "
        "per host); requests as counted by the sandbox during the run.",
        "",
        "| contender | runs ok | wall s | requests | bound s | wall / bound | rows (20 tables) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    expected = 10 * 50 * 20
    for name, rows in groups.items():
        s = _summary(rows)
        if s["runs"].startswith("0/"):
            lines.append(
                f"| {name} | {s['runs']} | – | – | – | – | FAILED: {_first_line(s['error'])} |"
            )
            continue
        bound = s["requests"] * lat / conc
        lines.append(
            f"| {name} | {s['runs']} | {_fmt(s['wall'])} | {_fmt(s['requests'], 0)} | "
            f"{_fmt(bound)} | {_fmt(s['wall'] / bound)}× | {_row_check(s, expected)} |"
        )
    lines += ["", "Target: restsync within 1.25× the bound."]
    pairs = baseline_ratios(
        groups, "restsync", per_bound=lambda r: (r.get("server_requests") or math.nan) * lat / conc
    )
    if pairs:
        lines += ["", "| ratio | value | target | met |", "|---|---:|---|---|"]
        for label, value, target, test in pairs:
            met = "–" if test is None or math.isnan(value) else ("yes" if test(value) else "**no**")
            lines.append(f"| {label} | {_fmt(value)}× | {target} | {met} |")
    return lines


def scaling_section(data: Row) -> list[str]:
    lines = [
        "### Scaling: restsync alone",
        "",
        "| N | runs ok | wall s | records/s | s per 100k records | peak RSS MB | rows |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    points: list[tuple[int, float, float]] = []
    for size_text, rows in data["scaling"].items():
        size = int(size_text)
        s = _summary(rows)
        if s["runs"].startswith("0/"):
            lines.append(
                f"| {size:,} | {s['runs']} | – | – | – | – | FAILED: {_first_line(s['error'])} |"
            )
            continue
        points.append((size, s["wall"], s["rss"]))
        lines.append(
            f"| {size:,} | {s['runs']} | {_fmt(s['wall'])} | {_fmt(s['rps'], 0)} | "
            f"{_fmt(s['wall'] / size * 100_000)} | {_fmt(s['rss'], 0)} | {_row_check(s, size)} |"
        )
    if len(points) >= 2:
        (n0, t0, m0), (n1, t1, m1) = points[-2], points[-1]
        lines += [
            "",
            f"{n0:,} → {n1:,}: time × {t1 / t0:.2f} for records × {n1 / n0:.0f} "
            f"(linear: × {n1 / n0:.0f}); peak RSS × {m1 / m0:.2f} (flat: × 1).",
        ]
    return lines


def render(data: Row) -> str:
    f = data["facts"]
    versions = ", ".join(f"{k} {v}" for k, v in f["versions"].items())
    la0 = " ".join(f"{x:.2f}" for x in f["loadavg_start"])
    la1 = " ".join(f"{x:.2f}" for x in f.get("loadavg_end", f["loadavg_start"]))
    lines = [
        f"## N = {data['records']:,}: {f['date']}",
        "",
        f"Command: `{data['command']}` (runs per contender: {data['runs']}; "
        f"whole run {data.get('total_seconds', 0):.0f} s)",
        "",
        f"Machine: {f['nproc']} CPUs ({f['cpu']}), {f['memory_gb']} GB RAM, Python {f['python']}, "
        f"{f['platform']}; git {f['git_commit']}; load average at start {la0}, at end {la1}.",
        "",
        f"Packages: {versions}.",
        "",
    ]
    if "baseline" in f:
        lines += [f"Baseline rows (`--baseline`): restsync from {f['baseline']}.", ""]
    if "throughput" in data:
        lines += [*throughput_section(data), ""]
    if "latency" in data:
        lines += [*latency_section(data), ""]
    if "scaling" in data:
        lines += [*scaling_section(data), ""]
    failures = [r for k in ("throughput", "latency") for r in data.get(k, []) if not r["ok"]]
    failures += [r for rows in data.get("scaling", {}).values() for r in rows if not r["ok"]]
    if failures:
        lines += ["### Failures", ""]
        seen: set[tuple[str, str]] = set()
        for r in failures:
            key = (r["contender"], r["error"])
            if key in seen:
                continue
            seen.add(key)
            lines += [
                f"- {r['contender']} (run {r['run']}):",
                "",
                "  ```",
                *("  " + x for x in r["error"].strip().splitlines()[-8:]),
                "  ```",
            ]
        lines.append("")
    return "\n".join(lines)


def write_report(path: Path, data: Row) -> str:
    """Rewrite (or append) the section of `path` for this N; returns the section.

    The section it replaces is kept below the new one, headed "Earlier run", so that runs
    taken under other conditions stay on record (delete them by hand when stale)."""
    n = data["records"]
    begin, end = f"<!-- bench:N={n}:begin -->", f"<!-- bench:N={n}:end -->"
    section = render(data)
    block = f"{begin}\n{section}\n{end}"
    text = path.read_text() if path.exists() else "# restsync benchmark results\n\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    found = pattern.search(text)
    if found:
        old = found.group(0)[len(begin) : -len(end)].strip()
        old = old.replace("## N =", "## Earlier run: N =", 1)
        earlier = f"<!-- bench:earlier -->\n{old}\n<!-- /bench:earlier -->"
        text = text[: found.start()] + block + "\n\n" + earlier + text[found.end() :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
    return section
