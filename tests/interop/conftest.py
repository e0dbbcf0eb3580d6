"""Fixtures for the interop suite: third-party servers (installed from the package registries
by the `dev` extra) started on loopback in a subprocess, once per module, and a runner that
syncs one of their endpoints into DuckDB with restsync's public API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import restsync

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server process on loopback; `url` is its base URL."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_server(
    name: str,
    argv: list[str],
    *,
    port: int,
    ready_path: str,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
) -> Server:
    """Start `argv` (it must listen on 127.0.0.1:`port`) and wait until `ready_path` answers
    200; the process is killed and its output shown when it does not come up."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(server.url + ready_path, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_server(server)
    pytest.fail(f"{name} did not answer {ready_path} in {STARTUP_SECONDS:.0f}s:\n{server.output()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


@dataclass
class Synced:
    """One restsync run: its LoadInfo and where it loaded."""

    info: restsync.LoadInfo
    db: Path
    dataset: str


class Runner:
    """Syncs configs into one DuckDB file per pipeline name under a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(
        self, name: str, config: dict[str, Any], *, resources: list[str] | None = None
    ) -> Synced:
        db = self.root / f"{name}.duckdb"
        pipeline = restsync.pipeline(
            name, destination=f"duckdb:///{db}", pipelines_dir=self.root / "pipelines"
        )
        info = pipeline.run(restsync.rest_api_source(config), resources=resources)
        assert not info.has_failures, f"{name}: {info.failed_resources}"
        assert info.loaded, str(info)
        return Synced(info, db, pipeline.dataset_name)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2])


def serve(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        stop_server(server)
