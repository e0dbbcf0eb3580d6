"""Fixtures shared by every test."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.pg import postgres_url  # noqa: F401 - the session fixture, for every suite

# CI runs the same examples every time (a property failure is then reproducible, never a
# flake); RESTSYNC_LONG=1 explores new random examples on every run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile("explore" if os.environ.get("RESTSYNC_LONG") else "ci")


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees credentials from the machine's environment."""
    for key in list(os.environ):
        if key.startswith("SOURCES__") or key in {
            "API_KEY",
            "CLIENT_ID",
            "CLIENT_SECRET",
            "TOKEN_URL",
        }:
            monkeypatch.delenv(key, raising=False)


@pytest.fixture(autouse=True)
def _isolated_secret_registry() -> Iterator[None]:
    """Secrets one test registers are not masked in the next test's text."""
    from restsync.util.redact import registered_secrets, restore_secrets

    before = registered_secrets()
    yield
    restore_secrets(before)


_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The reliability figures this run produced (faults, kills, bad inputs, secret greps)."""
    if hasattr(terminalreporter.config, "workerinput"):
        return
    from tests.reliability.figures import FIGURES_DIR, latest, summary

    env_file = os.environ.get("RESTSYNC_FIGURES_FILE")
    path = Path(env_file) if env_file else latest(FIGURES_DIR, since=_STARTED)
    if path is None or not path.exists():
        return
    terminalreporter.section("reliability figures")
    for line in summary(path):
        terminalreporter.write_line(line)
