"""Destinations: where a complete stage is loaded, in one transaction.

A destination follows the `Destination` protocol (defined by the load step that drives
it); `destination_from_url` makes one from a URL through the `DESTINATIONS` registry
(`duckdb:///file.duckdb`, `postgresql://...`, `parquet:///folder`).
"""

from __future__ import annotations

from restsync.destinations._duckdb import DuckDBDestination
from restsync.destinations._parquet import ParquetDestination
from restsync.destinations._postgres import PostgresDestination
from restsync.destinations._registry import DESTINATIONS, destination_from_url
from restsync.load import Destination

__all__ = [
    "DESTINATIONS",
    "Destination",
    "DuckDBDestination",
    "ParquetDestination",
    "PostgresDestination",
    "destination_from_url",
]
