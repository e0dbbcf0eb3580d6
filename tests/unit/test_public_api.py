"""The public surface: what `restsync` and each library package export, and nothing else
public inside them (their modules are private, httpx's style)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import restsync

LIBRARY_PACKAGES = (
    "auth",
    "config",
    "destinations",
    "extract",
    "http",
    "load",
    "paginate",
    "pipeline",
    "schema",
    "stage",
)


def test_every_name_restsync_exports_exists() -> None:
    missing = [name for name in restsync.__all__ if not hasattr(restsync, name)]
    assert missing == []


def test_what_an_extension_author_needs_is_exported_at_the_top() -> None:
    for name in (
        "rest_api_source",
        "RESTAPIConfig",
        "PageRequest",
        "Paginator",
        "register_paginator",
        "SourceAuth",
        "register_auth",
        "Destination",
    ):
        assert name in restsync.__all__, name


@pytest.mark.parametrize("package", LIBRARY_PACKAGES)
def test_a_library_package_exports_only_names_it_has(package: str) -> None:
    module = importlib.import_module(f"restsync.{package}")
    exported = getattr(module, "__all__", None)
    assert exported, f"restsync.{package} has no __all__"
    assert [n for n in exported if not hasattr(module, n)] == []


@pytest.mark.parametrize("package", LIBRARY_PACKAGES)
def test_the_modules_of_a_library_package_are_private(package: str) -> None:
    module = importlib.import_module(f"restsync.{package}")
    public = [
        info.name for info in pkgutil.iter_modules(module.__path__) if not info.name.startswith("_")
    ]
    assert public == [], f"restsync.{package}: modules {public} are not private"


def test_importing_restsync_loads_no_arrow_and_no_database_driver() -> None:
    """A run loads Arrow and its destination's driver while its first requests are out;
    `import restsync` (every CLI command, every extension module) loads neither, and naming
    the destinations loads no driver."""
    import subprocess
    import sys

    code = (
        "import sys, restsync, restsync.schema; "
        "print(sorted(m for m in ('pyarrow', 'duckdb', 'psycopg') if m in sys.modules)); "
        "import restsync.destinations; "
        "print(sorted(m for m in ('duckdb', 'psycopg') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "[]"]
