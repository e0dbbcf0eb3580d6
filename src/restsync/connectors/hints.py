"""The column hints the built-in connectors add on top of their seed dicts (as `INCREMENTAL`
is added): each seed's "Schema" section says its fields have appropriate types and
nullability, so keys are NOT NULL, money and decimal strings DECIMAL, timestamps and dates
typed, instead of inferred (a price in a double is not exact).
"""

from __future__ import annotations

from typing import Any

Hints = dict[str, dict[str, Any]]

#: an integer key
INT_KEY: dict[str, Any] = {"data_type": "bigint", "nullable": False}
#: a text key
TEXT_KEY: dict[str, Any] = {"data_type": "text", "nullable": False}
BIGINT: dict[str, Any] = {"data_type": "bigint"}
#: an amount of money, sent as a number or as a decimal string ("19.90")
MONEY: dict[str, Any] = {"data_type": "decimal", "precision": 18, "scale": 2}
#: a rate or a quantity with decimals, sent as a decimal string or number
RATE: dict[str, Any] = {"data_type": "decimal", "precision": 18, "scale": 4}
TIMESTAMP: dict[str, Any] = {"data_type": "timestamp"}
DATE: dict[str, Any] = {"data_type": "date"}


def columns(**hints: dict[str, Any]) -> Hints:
    """`columns` hints keyed by the source field names (each hint dict copied)."""
    return {name: dict(h) for name, h in hints.items()}
