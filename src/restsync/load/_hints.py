"""The load's side of the write settings: applying them to the run's tables, and refresh
plans (dlt's `refresh`).

A resource's write settings are read from its config by `restsync.config._write`
(`write_settings`, re-exported here); validation refuses what cannot hold
(`restsync.config._validate.write_problems`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from restsync.config._dialect import MERGE_STRATEGIES
from restsync.config._write import VALID_FROM, VALID_TO, WriteSettings, write_settings
from restsync.errors import ConfigError, Problem
from restsync.load._merge import REFRESH_MODES, RefreshPlan
from restsync.schema._model import Column, Schema


def apply_write_settings(schema: Schema, settings: Mapping[str, WriteSettings]) -> None:
    """Give the tables of each resource in `settings` that resource's write, as configured
    now (a table keeps what its config says on this run, not what it said when created).
    SCD2 root tables get their validity columns."""
    for table in schema.tables.values():
        w = settings.get(table.resource)
        if w is None:
            continue
        table.write_disposition = w.disposition  # type: ignore[assignment]
        table.merge_strategy = w.strategy
        if not table.is_root:
            table.write_hints = {}
            continue
        table.primary_key = list(w.primary_key)
        table.merge_key = list(w.merge_key)
        table.write_hints = {k: v for k, v in w.hints.items() if v is not None}
        if w.scd2:
            for name in w.hints["validity_columns"]:
                if name not in table.columns:
                    table.columns[name] = Column(name, "timestamp")


def check_refresh(refresh: str | None, full_refresh: bool = False) -> str | None:
    """The refresh mode of a run (`full_refresh` is `drop_resources`); an unknown mode is a
    `ConfigError` before anything is requested."""
    if refresh is None:
        return "drop_resources" if full_refresh else None
    if refresh not in REFRESH_MODES:
        raise ConfigError(
            [
                Problem(
                    "refresh",
                    f"unknown refresh mode {refresh!r}; use one of "
                    + ", ".join(repr(m) for m in REFRESH_MODES),
                )
            ]
        )
    return refresh


def plan_refresh(
    mode: str | None,
    stored: Schema,
    state: dict[str, dict[str, Any]],
    selected: set[str],
) -> tuple[RefreshPlan | None, Schema, dict[str, dict[str, Any]]]:
    """(what the load drops, the schema the run starts from, the state it starts from).

    `drop_sources`: every table of the stored schema, all state; `drop_resources`: the
    tables of the selected resources (gone from the schema too, so they are inferred anew)
    and their state; `drop_data`: the same tables emptied, the schema kept."""
    if mode is None:
        return None, stored, state
    everything = mode == "drop_sources"
    names = [t.name for t in stored.tables.values() if everything or t.resource in selected]
    schema = copy.deepcopy(stored)
    if mode != "drop_data":
        for name in names:
            del schema.tables[name]
    kept = {} if everything else {r: v for r, v in state.items() if r not in selected}
    plan = RefreshPlan(mode, names, sorted(selected))
    return plan, schema, kept


def keep_failed(
    plan: RefreshPlan | None, schema: Schema, stored: Schema, failed: set[str]
) -> RefreshPlan | None:
    """`plan` without the resources that failed in the run: their stored tables stay (and
    back in `schema`), and so does their state, as if nothing had been refreshed for them."""
    if plan is None or not failed:
        return plan
    tables = [n for n in plan.tables if stored.tables[n].resource not in failed]
    for name in plan.tables:
        if name not in tables and name not in schema.tables:
            schema.tables[name] = copy.deepcopy(stored.tables[name])
    mode = "drop_resources" if plan.mode == "drop_sources" else plan.mode
    resources = [r for r in plan.resources if r not in failed]
    return RefreshPlan(mode, tables, resources)


__all__ = [
    "MERGE_STRATEGIES",
    "VALID_FROM",
    "VALID_TO",
    "WriteSettings",
    "apply_write_settings",
    "check_refresh",
    "keep_failed",
    "plan_refresh",
    "write_settings",
]
