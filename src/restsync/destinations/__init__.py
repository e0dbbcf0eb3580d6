"""Destinations: where a complete stage is loaded, in one transaction.

A destination follows the `Destination` protocol (defined by the load step that drives
it); `destination_from_url` makes one from a URL through the `DESTINATIONS` registry
(`duckdb:///file.duckdb`, `postgresql://...`, `parquet:///folder`). The destination classes
are imported on first use (each loads its database driver).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from restsync.destinations._registry import DESTINATIONS, destination_from_url
from restsync.load import Destination

if TYPE_CHECKING:
    from restsync.destinations._duckdb import DuckDBDestination
    from restsync.destinations._parquet import ParquetDestination
    from restsync.destinations._postgres import PostgresDestination

__all__ = [
    "DESTINATIONS",
    "Destination",
    "DuckDBDestination",
    "ParquetDestination",
    "PostgresDestination",
    "destination_from_url",
]

_CLASSES = {
    "DuckDBDestination": "restsync.destinations._duckdb",
    "ParquetDestination": "restsync.destinations._parquet",
    "PostgresDestination": "restsync.destinations._postgres",
}


def __getattr__(name: str) -> Any:
    module = _CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module 'restsync.destinations' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
