"""`schema_contract`, with dlt's meaning: what a batch may change in the stored schema.

Three entities, each with a mode:

* `tables`: a table that is not in the destination yet (a root table on the first run, a
  new child table);
* `columns`: a column new to a table that is in the destination (on a new table every
  column is allowed: its first load defines them);
* `data_type`: a value that does not fit its column's stored type: a new variant column, or
  a change of a stored column's type (bigint -> double).

Modes: `evolve` (the default: the change is made), `freeze` (the resource fails, naming
table, column and page; nothing of it is loaded), `discard_row` (the rows carrying the
change are dropped, with their child rows), `discard_value` (the value is dropped, the row
kept; for `tables`, as `discard_row`). A single string sets all three entities.
The `Normalizer` applies the contract to each batch before anything is staged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from restsync.config._dialect import CONTRACT_ENTITIES


@dataclass(frozen=True)
class Contract:
    """One mode per entity (see the module docstring)."""

    tables: str = "evolve"
    columns: str = "evolve"
    data_type: str = "evolve"

    @property
    def evolves(self) -> bool:
        """True when every change is allowed (no check is needed)."""
        return self.tables == self.columns == self.data_type == "evolve"


def contract_of(setting: Any) -> Contract:
    """The `Contract` of a resource's `schema_contract` (None: evolve everything)."""
    if setting is None:
        return Contract()
    if isinstance(setting, str):
        return Contract(setting, setting, setting)
    if isinstance(setting, Mapping):
        return Contract(**{k: str(v) for k, v in setting.items() if k in CONTRACT_ENTITIES})
    raise TypeError(f"schema_contract must be a mode or a dict, got {type(setting).__name__}")
