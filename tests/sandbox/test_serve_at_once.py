"""`restsync sandbox NAME` serves at once: records are generated while it serves (a request
waits for its own resource), with progress lines when there are many."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from restsync.sandbox import Sandbox

RESTSYNC = str(Path(sys.executable).with_name("restsync"))


def test_a_lazy_sandbox_serves_the_same_records() -> None:
    eager = Sandbox("commerce", records=120)
    lazy = Sandbox("commerce", records=120, lazy=True)
    assert all(store._built is None for store in lazy.app.stores.values())
    assert len(lazy.app.stores["products"]) == 120  # counted without generating
    for name in eager.app.stores:
        assert lazy.expected(name) == eager.expected(name)


def test_the_command_prints_its_url_before_generating_records(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [RESTSYNC, "sandbox", "commerce", "--records", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not any("every resource's records are ready" in line for line in lines):
            line = proc.stdout.readline()
            assert line, (lines, proc.stderr.read() if proc.stderr else "")
            lines.append(line.rstrip("\n"))
        first_ready = next(i for i, line in enumerate(lines) if "records ready" in line)
        serving = next(i for i, line in enumerate(lines) if "serving at" in line)
        assert serving < first_ready, lines
        assert sum("records ready:" in line for line in lines) == 6, lines
        base_url = lines[serving].rsplit(" ", 1)[1]
        token = next(line for line in lines if "export " in line).split("=", 1)[1]
        expected = Sandbox("commerce", records=1000).expected("products")
        got = httpx.get(
            f"{base_url.rstrip('/')}/commerce/products",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert got.status_code == 200, got.text
        body = got.json()
        page = (
            body
            if isinstance(body, list)
            else next(v for v in body.values() if isinstance(v, list))
        )
        assert page == expected[: len(page)]
        assert page
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
