"""Schemas: records become tables in dlt's layout, and the tables' types evolve without
rewriting a stored value.

`Schema` / `Table` / `Column` are the model (stored with the data); `Normalizer` turns a
resource's records into Arrow tables under it.
"""

from __future__ import annotations

from restsync.schema._model import Column, Schema, Table
from restsync.schema._normalize import Normalizer

__all__ = ["Column", "Normalizer", "Schema", "Table"]
