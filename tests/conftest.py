"""Fixtures shared by every test."""

from __future__ import annotations

import os

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
