"""`restsync run` as a user sees it: in a pseudo-terminal, against a slowed sandbox.

The screen is an emulated terminal (pyte) fed by the command's pseudo-terminal (pexpect):
what it shows while the run is in progress is what a user would see.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

pexpect = pytest.importorskip("pexpect")
pyte = pytest.importorskip("pyte")

RESTSYNC = str(Path(sys.executable).with_name("restsync"))
COLUMNS, LINES = 120, 40


class Terminal:
    """A command in a pseudo-terminal, with the screen it draws."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.child = pexpect.spawn(
            args[0],
            args[1:],
            env={**os.environ, **env, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS)},
            cwd=str(cwd),
            dimensions=(LINES, COLUMNS),
            encoding="utf-8",
            codec_errors="replace",
        )
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.Stream(self.screen)
        self.raw = ""
        self.screens: list[str] = []  # each distinct screen seen while the command ran

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display).strip()

    def pump(self, timeout: float = 0.2) -> bool:
        """Read what the command wrote; False once it has exited."""
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.raw += data
        self.stream.feed(data)
        shown = self.text()
        if self.child.isalive() and (not self.screens or self.screens[-1] != shown):
            self.screens.append(shown)
        return True

    def until(self, seen: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pump():
                break
            if seen(self.text()):
                return self.text()
        raise AssertionError(f"not seen on the screen:\n{self.text()}")

    def wait(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.pump() and time.monotonic() < deadline:
            pass
        self.child.close()
        status: int | None = self.child.exitstatus
        if status is None:  # ended by a signal
            status = 128 + int(self.child.signalstatus or 0)
        return status


def records_shown(screen: str, resource: str) -> int | None:
    """The records column of `resource`'s line in the progress table, if drawn."""
    match = re.search(rf"│ {resource}\s+│\s+\d+ │\s+([\d,]+) │", screen)
    return int(match.group(1).replace(",", "")) if match else None


@pytest.fixture
def slow_inventory(tmp_path: Path) -> Any:
    """The inventory sandbox answering each request after 0.15 s."""
    from restsync.sandbox import Faults, Sandbox

    with Sandbox("inventory", records=600, faults=Faults(slow=0.15)) as sb:
        yield sb


def run_args(sb: Any, db: Path, *extra: str) -> list[str]:
    return [
        RESTSYNC,
        "run",
        "inventory",
        "--base-url",
        sb.base_url,
        "--destination",
        f"duckdb:///{db}",
        *extra,
    ]


def test_the_progress_table_moves_while_the_run_is_in_progress(
    tmp_path: Path, slow_inventory: Any
) -> None:
    sb = slow_inventory
    term = Terminal(
        run_args(sb, tmp_path / "i.duckdb", "--resources", "customers,costs"), sb.env(), tmp_path
    )
    code = term.wait()
    assert code == 0, term.raw
    # while the command ran, the table was on screen, and its figures grew
    during = [s for s in term.screens if "restsync: extracting" in s]
    counts = [records_shown(s, "customers") for s in during]
    midway = {c for c in counts if c is not None and 0 < c < 600}
    assert midway, term.screens  # records drawn while some were still to come
    assert len({c for c in counts if c is not None}) >= 2, term.screens
    # progress against the page count the API told (offset with a total): a bar
    assert any(re.search(r"\[[#-]{12}\] \d+/12", s) for s in during), during[-1]
    for column in ("pages", "records", "rate", "retries", "waited"):
        assert column in during[-1]
    final = term.text()
    assert "customers" in final
    assert "loaded in" in final
    assert sb.secrets["api_key"] not in term.raw


def test_quiet_draws_nothing(tmp_path: Path, slow_inventory: Any) -> None:
    sb = slow_inventory
    term = Terminal(
        run_args(sb, tmp_path / "q.duckdb", "--resources", "costs", "--quiet"), sb.env(), tmp_path
    )
    assert term.wait() == 0, term.raw
    assert term.raw.strip() == ""


def test_json_logs_keep_stderr_structured(tmp_path: Path, slow_inventory: Any) -> None:
    sb = slow_inventory
    args = run_args(sb, tmp_path / "j.duckdb", "--resources", "costs")
    # stdout (the summary) to a file: the terminal shows stderr only
    command = " ".join([RESTSYNC, "-vv", "--json-logs", *args[1:]]) + f" > {tmp_path / 'out.txt'}"
    term = Terminal(["/bin/sh", "-c", command], sb.env(), tmp_path)
    assert term.wait() == 0, term.raw
    lines = [line for line in term.raw.splitlines() if line.strip()]
    assert lines, "-vv logs every page"
    import json

    for line in lines:
        assert isinstance(json.loads(line), dict), line
    assert "loaded in" in (tmp_path / "out.txt").read_text()


def _tables(db: Path, dataset: str) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                [dataset],
            ).fetchall()
        ]
        return {
            n: int(con.execute(f'SELECT count(*) FROM "{dataset}"."{n}"').fetchone()[0])  # type: ignore[index]
            for n in names
        }
    finally:
        con.close()


def test_ctrl_c_stops_the_run_in_one_line_and_exits_130(
    tmp_path: Path, slow_inventory: Any
) -> None:
    sb = slow_inventory
    db = tmp_path / "c.duckdb"
    first = Terminal(run_args(sb, db, "--resources", "costs", "--quiet"), sb.env(), tmp_path)
    assert first.wait() == 0, first.raw
    before = _tables(db, "inventory_data")
    assert before["costs"] == 600

    term = Terminal(run_args(sb, db, "--full-refresh"), sb.env(), tmp_path)
    term.until(lambda s: (records_shown(s, "customers") or 0) > 0)
    requests_then = len(sb.requests)
    term.child.sendintr()
    code = term.wait(timeout=30)
    assert code == 130, term.raw
    assert "Traceback" not in term.raw
    said = [line for line in term.raw.splitlines() if "interrupted:" in line]
    assert len(said) == 1, term.raw
    assert "nothing was loaded" in said[0]
    assert "interrupted" in term.text()  # the table's last state says so too
    # the destination is as it was, the stage is gone, and the requests stopped
    assert _tables(db, "inventory_data") == before
    stage = tmp_path / ".restsync" / "pipelines" / "inventory" / "stage"
    assert not stage.exists() or not any(stage.iterdir())
    settled = len(sb.requests)
    time.sleep(0.5)
    assert len(sb.requests) == settled
    assert settled - requests_then < 20 * 40  # far from every page of the 20 resources


def test_a_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    """The first Ctrl-C starts the clean-up; a second one ends the process during it."""
    script = (
        "import time\n"
        "from restsync.cli.main import Interrupts\n"
        "with Interrupts():\n"
        "    try:\n"
        "        print('ready', flush=True); time.sleep(60)\n"
        "    except KeyboardInterrupt:\n"
        "        print('cleaning up', flush=True); time.sleep(60)\n"
    )
    term = Terminal([sys.executable, "-c", script], {}, tmp_path)
    term.until(lambda s: "ready" in s)
    term.child.sendintr()
    term.until(lambda s: "cleaning up" in s)
    started = time.monotonic()
    term.child.sendintr()
    assert term.wait(timeout=30) == 130
    assert time.monotonic() - started < 30
    assert "interrupted again: exiting now" in term.raw


def test_interrupts_leave_other_threads_alone() -> None:
    """Off the main thread, `Interrupts` does nothing (signals are the main thread's)."""
    code = (
        "import threading\n"
        "from restsync.cli.main import Interrupts\n"
        "def body():\n"
        "    with Interrupts():\n"
        "        pass\n"
        "t = threading.Thread(target=body); t.start(); t.join()\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
