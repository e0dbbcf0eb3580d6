"""Per-shape plans: the keys of an object -> the column each goes to, the context of its
nested object and the child table of its lists, computed once per tuple of keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from restsync.schema._naming import make_path, normalize_identifier
from restsync.schema._normalize.names import ColumnNames
from restsync.schema._normalize.state import Ctx, Plan, PlanEntry, Tree


class Planner:
    """Makes the plans of the objects of one resource (both walks share them)."""

    def __init__(
        self, names: ColumnNames, tree: Tree, max_nesting: int, json_paths: set[str]
    ) -> None:
        self.names = names
        self.tree = tree
        self.max_nesting = max_nesting
        self.json_paths = json_paths

    def plan(self, ctx: Ctx, keys: tuple[Any, ...]) -> Plan:
        """The plan of an object walked with `ctx` whose keys are `keys` (remembered)."""
        table = ctx.table
        skeys = [k if type(k) is str else str(k) for k in keys]
        # keys already in normalized form claim their name first: deterministic
        order = sorted(range(len(skeys)), key=lambda i: normalize_identifier(skeys[i]) != skeys[i])
        names: dict[int, str] = {}
        for i in order:
            k = skeys[i]
            full = make_path(ctx.prefix, normalize_identifier(k))
            names[i] = self.names.claim(table.name, full, (*ctx.raw, k))
        plan: Plan = []
        stop_all = ctx.depth >= self.max_nesting
        for i, k in enumerate(skeys):
            name = names[i]
            if stop_all or (table.parent is None and name in self.json_paths):
                plan.append((name, None, None))
                continue
            sub = ctx.subs.get(name)
            if sub is None:
                sub = ctx.subs[name] = Ctx(table, name, (*ctx.raw, k), ctx.depth + 1)
            plan.append((name, sub, self.tree.child(table, name, ctx.depth + 1)))
        ctx.plans[keys] = plan
        return plan

    def keyplan(self, ctx: Ctx, keys: Sequence[Any]) -> list[PlanEntry]:
        """The plan entry of each of `keys` (the columnar walk's plans are per key)."""
        kp = ctx.keyplan
        new = [k for k in keys if k not in kp]
        if new:
            plan = self.plan(ctx, tuple(new))  # claims names in the row walk's order
            for k, entry in zip(new, plan, strict=True):
                kp[k] = entry
        return [kp[k] for k in keys]
