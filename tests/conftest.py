"""Fixtures shared by every test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


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
    from restsync.http.redact import registered_secrets, restore_secrets

    before = registered_secrets()
    yield
    restore_secrets(before)
