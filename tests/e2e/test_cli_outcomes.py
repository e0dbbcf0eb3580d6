"""What `restsync run` says and exits with when things go wrong: every resource failed, or
restsync itself failed (a crashed normalizer process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from click.testing import CliRunner

from restsync.cli.main import EXIT_FAILED_RESOURCES, EXIT_INTERNAL, cli
from restsync.pipeline._info import LoadInfo, ResourceInfo

RESTSYNC = str(Path(sys.executable).with_name("restsync"))


def _info(**errors: str | None) -> LoadInfo:
    info = LoadInfo("p", "duckdb:///x", "p_data", "1.0", "2026-01-01", duration=0.9, loaded=True)
    for name, error in errors.items():
        info.resources[name] = ResourceInfo(name, error=error)
    return info


def test_a_run_where_every_resource_failed_says_nothing_was_loaded() -> None:
    text = str(_info(a="HTTP 403", b="HTTP 403"))
    first = text.splitlines()[0]
    assert "nothing was loaded" in first
    assert "every resource failed (2)" in first
    assert " loaded in" not in first
    assert _info(a="HTTP 403").nothing_loaded


def test_a_partial_run_says_what_was_and_was_not_loaded() -> None:
    info = _info(a=None, b="HTTP 403")
    assert "partly loaded in 0.90s: 1 of 2 resources, 1 failed" in str(info).splitlines()[0]
    assert not info.nothing_loaded
    assert json.loads(info.to_json())["nothing_loaded"] is False
    assert str(_info(a=None)).splitlines()[0].endswith("loaded in 0.90s")


def test_cli_every_resource_forbidden(tmp_path: Path, sandbox_env: Any) -> None:
    from restsync.sandbox import SandboxOptions

    sb = sandbox_env(
        "fulfillment", options=SandboxOptions(forbidden_resources=("fulfillment_data",))
    )
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "fulfillment",
            "--base-url",
            sb.base_url,
            "--destination",
            f"duckdb:///{tmp_path / 'f.duckdb'}",
        ],
    )
    assert result.exit_code == EXIT_FAILED_RESOURCES, result.output
    assert "every resource failed (1), nothing was loaded" in result.output
    assert "FAILED resource 'fulfillment_data'" in result.output


def test_a_crashed_normalizer_is_an_internal_failure(tmp_path: Path) -> None:
    """Exit 4, one message, not 1 ("a resource failed")."""
    from restsync.sandbox import Faults, Sandbox

    with Sandbox("inventory", records=3000, faults=Faults(slow=0.05)) as sb:
        env = {**os.environ, **sb.env(), "RESTSYNC_NORMALIZE": "worker"}
        proc = subprocess.Popen(
            [
                RESTSYNC,
                "run",
                "inventory",
                "--base-url",
                sb.base_url,
                "--destination",
                f"duckdb:///{tmp_path / 'i.duckdb'}",
                "--resources",
                "customers,costs",
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        worker = None
        deadline = time.monotonic() + 60
        while worker is None and time.monotonic() < deadline and proc.poll() is None:
            for child in psutil.Process(proc.pid).children(recursive=True):
                if "restsync.pipeline._worker" in " ".join(child.cmdline()):
                    worker = child
            time.sleep(0.05)
        assert worker is not None, "the normalizer process started"
        os.kill(worker.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERNAL, (out, err)
    assert "internal failure, nothing was loaded" in err
    assert "normalizer process" in err
    assert "Traceback" not in err


def test_a_rejected_credential_names_the_secret_and_where_it_was_found(
    tmp_path: Path, sandbox_env: Any, monkeypatch: Any
) -> None:
    sb = sandbox_env("inventory")
    monkeypatch.setenv("API_KEY", "not-the-key-0000")
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "inventory",
            "--base-url",
            sb.base_url,
            "--resources",
            "customers",
            "--destination",
            f"duckdb:///{tmp_path / 'i.duckdb'}",
        ],
    )
    assert result.exit_code == EXIT_FAILED_RESOURCES, result.output
    assert "check secret 'api_key', from env API_KEY" in result.output
    assert "secret 'token'" not in result.output
    assert "not-the-key-0000" not in result.output
