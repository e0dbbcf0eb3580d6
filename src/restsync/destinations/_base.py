"""The `Destination` protocol every destination module implements, and what it reports.

It is the load step's (`restsync.load._destination`): the load drives a destination, so the
protocol sits below the destinations. To add a destination (ClickHouse, say), write one
module with a class that follows this protocol and register it in
`restsync.destinations._registry` under its URL scheme.
"""

from __future__ import annotations

from restsync.load._destination import (
    BOOKKEEPING_TABLES,
    LOADS_TABLE,
    SCHEMA_TABLE,
    STATE_TABLE,
    Destination,
    DestinationInfo,
    TableInfo,
    TableLoadStats,
)

__all__ = [
    "BOOKKEEPING_TABLES",
    "LOADS_TABLE",
    "SCHEMA_TABLE",
    "STATE_TABLE",
    "Destination",
    "DestinationInfo",
    "TableInfo",
    "TableLoadStats",
]
