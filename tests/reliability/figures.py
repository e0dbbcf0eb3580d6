"""Sum the reliability figures of a test run.

    .venv/bin/python -m tests.reliability.figures          # the newest run
    .venv/bin/python -m tests.reliability.figures FILE     # a given figures file

Each test under tests/reliability appends `{"test", "category", "n"}` lines to
`.pytest_cache/reliability/<run id>.jsonl` (or to `$RESTSYNC_FIGURES_FILE`).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

FIGURES_DIR = Path(__file__).resolve().parents[2] / ".pytest_cache" / "reliability"


def latest(folder: Path = FIGURES_DIR, *, since: float = 0.0) -> Path | None:
    """The most recently written figures file (written after `since`), or None."""
    files = [f for f in folder.glob("*.jsonl") if f.stat().st_mtime >= since]
    return max(files, key=lambda f: f.stat().st_mtime) if files else None


def summary(path: Path) -> list[str]:
    """One line per category: its total over the run."""
    totals: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        totals[item["category"]] += int(item["n"])
    return [f"{category:60} {totals[category]:>8}" for category in sorted(totals)]


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else latest()
    if path is None or not path.exists():
        print("no reliability figures yet: run the tests under tests/reliability first")
        return 1
    print(f"reliability figures ({path})")
    for line in summary(path):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
