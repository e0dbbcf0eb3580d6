"""`schema_contract` applied to a walked batch (`restsync.schema._contract`): against the
schema the normalizer started from (what the destination has), new tables, columns and
variant columns are allowed, frozen (a `DataError`) or discarded (their rows or values)."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from restsync.schema._contract import Contract
from restsync.schema._evolve import GroupLayout
from restsync.schema._infer import Observed
from restsync.schema._model import Column, Schema, Table
from restsync.schema._normalize.errors import contract_violation
from restsync.schema._normalize.state import TableState


class ContractRules:
    """One resource's contract over one batch at a time; `base` is the stored schema."""

    def __init__(self, contract: Contract, base: Schema, resource: str) -> None:
        self.contract = contract
        self.base = base
        self.resource = resource
        # rows `discard_row` drops, per table state (`drop_rows`)
        self._drops: dict[TableState, pa.Array] = {}

    def start(self) -> None:
        """A new batch: no row is marked yet."""
        self._drops = {}

    def refuse_table(self, st: TableState) -> bool:
        """True when the contract discards the rows of `st`, a table not in the
        destination yet; raises `DataError` when it freezes tables."""
        mode = self.contract.tables
        if mode == "evolve" or st.name in self.base.tables:
            return False
        if mode == "freeze":
            contract_violation(self.resource, st, 0, "tables", f"the new table '{st.name}'")
        return True

    def allow_column(
        self, st: TableState, table: Table, name: str, obs: Observed, hinted: bool
    ) -> bool:
        """Apply the `columns` contract to the column group `name` of a table already in the
        destination; False when its values are dropped (the column is not added)."""
        mode = self.contract.columns
        stored = self.base.tables.get(table.name)
        if mode == "evolve" or stored is None or hinted or name in stored.columns:
            return True
        valid = _valid_mask(obs.arrays.values())
        if mode == "freeze":
            row = pc.index(valid, True).as_py()
            what = f"the new column '{name}' of table '{table.name}'"
            contract_violation(self.resource, st, row, "columns", what)
        if mode == "discard_row":
            self._drop(st, valid)
        return False

    def filter_variants(
        self, st: TableState, table: Table, layout: GroupLayout, arrays: dict[str, pa.Array]
    ) -> None:
        """Apply the `data_type` contract to the variant columns of `layout` that the
        destination does not have: freeze, or drop their values / rows (and the columns)."""
        mode = self.contract.data_type
        if mode == "evolve":
            return
        stored = self.base.tables.get(table.name)
        known = stored.columns if stored is not None else {}
        kept: list[Column] = []
        for v in layout.variants:
            arr = arrays.get(v.name)
            if v.name in known:
                kept.append(v)
                continue
            if arr is not None and arr.null_count < len(arr):
                valid = pc.is_valid(arr)
                if mode == "freeze":
                    row = pc.index(valid, True).as_py()
                    what = (
                        f"a {v.data_type} value for column '{layout.main.name}' of table "
                        f"'{table.name}' ({layout.main.data_type}; it would need the variant "
                        f"column '{v.name}')"
                    )
                    contract_violation(self.resource, st, row, "data_type", what)
                if mode == "discard_row":
                    self._drop(st, valid)
            arrays.pop(v.name, None)
        layout.variants = kept

    def _drop(self, st: TableState, mask: pa.Array) -> None:
        prev = self._drops.get(st)
        self._drops[st] = mask if prev is None else pc.or_(prev, mask)

    def drop_rows(
        self, out: dict[str, pa.Table], states: list[TableState], skipped: set[TableState]
    ) -> None:
        """Remove the rows `discard_row` marked, with the rows of their child tables."""
        if not self._drops:
            return
        dropped: dict[TableState, pa.Array] = {}
        for st in states:
            if not st.n or st in skipped or st.name not in out:
                continue
            mask = self._drops.get(st)
            parent = st.parent
            if parent is not None and parent in dropped:
                assert st.pidx is not None
                inherited = dropped[parent].take(st.pidx)
                mask = inherited if mask is None else pc.or_(mask, inherited)
            if mask is None or not pc.any(mask).as_py():
                continue
            dropped[st] = mask
            out[st.name] = out[st.name].filter(pc.invert(mask))


def _valid_mask(arrays: Iterable[pa.Array]) -> pa.Array:
    """Rows where any of the (equally long) `arrays` holds a value."""
    mask: pa.Array | None = None
    for a in arrays:
        v = pc.is_valid(a)
        mask = v if mask is None else pc.or_(mask, v)
    assert mask is not None
    return mask
