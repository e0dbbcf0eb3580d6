"""A real PostgreSQL server for the tests: the session fixture `postgres_url`.

The server binaries are looked up under `/usr/lib/postgresql/*/bin` (Debian's layout,
newest version first) and then on PATH. Each test process (each pytest-xdist worker)
starts its own server in a temporary folder: `initdb` with trust auth, listening on
127.0.0.1 only, on a free port, with its unix socket inside the folder. When the tests
run as root the server runs as `nobody` (initdb and postgres refuse root). The server is
stopped and its folder removed when the process ends.

tests/conftest.py imports the fixture, so every suite can ask for it.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

USER = "restsync"
DATABASE = "restsync_test"


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
        reverse=True,
    )
    for c in candidates:
        if (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One throwaway server; `start()` returns its URL, `stop()` removes everything."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="restsync-pg-"))
        self.data = self.dir / "data"
        self.port = 0
        self.url = ""
        self._run_as: str | None = "nobody" if os.geteuid() == 0 else None

    def _cmd(self, *args: str) -> list[str]:
        if self._run_as is None:
            return list(args)
        if shutil.which("runuser"):
            return ["runuser", "-u", self._run_as, "--", *args]
        return ["su", "-s", "/bin/sh", self._run_as, "-c", " ".join(args)]

    def start(self) -> str:
        if self._run_as is not None:
            pw = pwd.getpwnam(self._run_as)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            os.chmod(self.dir, 0o700)
        initdb = str(self.bindir / "initdb")
        pg_ctl = str(self.bindir / "pg_ctl")
        subprocess.run(
            self._cmd(
                initdb,
                "-D",
                str(self.data),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ),
            check=True,
            capture_output=True,
        )
        last_error = ""
        for _attempt in range(5):
            self.port = _free_port()
            opts = (
                f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
            )
            proc = subprocess.run(
                self._cmd(
                    pg_ctl,
                    "-D",
                    str(self.data),
                    "-o",
                    opts,
                    "-l",
                    str(self.dir / "log"),
                    "-w",
                    "-t",
                    "30",
                    "start",
                ),
                capture_output=True,
                text=True,
            )
            if proc.returncode == 0:
                break
            last_error = proc.stdout + proc.stderr
            with contextlib.suppress(OSError):
                last_error += (self.dir / "log").read_text()[-2000:]
        else:
            msg = f"PostgreSQL did not start: {last_error[-2000:]}"
            raise RuntimeError(msg)
        createdb = self.bindir / "createdb"
        subprocess.run(
            self._cmd(str(createdb), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE),
            check=True,
            capture_output=True,
        )
        self.url = f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"
        return self.url

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                self._cmd(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ),
                capture_output=True,
            )
        shutil.rmtree(self.dir, ignore_errors=True)


_server: PostgresServer | None = None


def server_url() -> str | None:
    """The URL of this process's server, started on first use (None: no binaries)."""
    global _server
    if _server is None:
        bindir = find_pg_bin()
        if bindir is None:
            return None
        srv = PostgresServer(bindir)
        atexit.register(srv.stop)
        time.sleep(0)
        srv.start()
        _server = srv
    return _server.url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """`postgresql://restsync@127.0.0.1:<port>/restsync_test` of a real, throwaway server."""
    url = server_url()
    if url is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin "
            "or on PATH; run scripts/ensure-postgres"
        )
    return url
