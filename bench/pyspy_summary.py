"""Summarize a py-spy `raw` (collapsed stacks) profile: on-CPU self time per function.

Each sample is put under `main` (the main thread), `extract` (another thread of the main
process: restsync's extraction loop) or `worker` (the normalization worker process).

    python bench/pyspy_summary.py bench/out/pyspy.txt [--top 25]

py-spy samples every thread of every process of the tree (`--subprocesses`), so it also sees
restsync's extraction thread and its normalization worker, which pyinstrument does not.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>[^(]*) \((?P<file>[^:)]*)(?::\d+)?\)$")


def short(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m["file"]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m['func']} ({path})"


def summarize(path: Path, top: int) -> str:
    self_time: Counter[tuple[str, str]] = Counter()
    per_process: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        worker = any("pipeline.worker" in f for f in frames if f.startswith("process"))
        thread = next((f for f in frames if f.startswith("thread (")), "thread")
        name = thread.split(":", 1)[-1].strip()
        process = "worker" if worker else ("main" if name == "MainThread" else "extract")
        leaf = short(frames[-1])
        self_time[(process, leaf)] += count
        per_process[process] += count
        total += count
    lines = [f"samples: {total}  " + ", ".join(f"{p}: {c}" for p, c in per_process.items())]
    for (process, leaf), count in self_time.most_common(top):
        lines.append(f"{100 * count / total:5.1f}%  {process:<7} {leaf}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarize(args.profile, args.top))


if __name__ == "__main__":
    main()
