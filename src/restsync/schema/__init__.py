"""Schemas: records become tables in dlt's layout, and the tables' types evolve without
rewriting a stored value.

`Schema` / `Table` / `Column` are the model (stored with the data); `Normalizer` turns a
resource's records into Arrow tables under it. `Normalizer` is imported on first use: Arrow is
loaded while a run's first requests are out, not when `restsync` is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from restsync.schema._model import Column, Schema, Table

if TYPE_CHECKING:
    from restsync.schema._normalize import Normalizer

__all__ = ["Column", "Normalizer", "Schema", "Table"]


def __getattr__(name: str) -> Any:
    if name == "Normalizer":
        return importlib.import_module("restsync.schema._normalize").Normalizer
    raise AttributeError(f"module 'restsync.schema' has no attribute {name!r}")
