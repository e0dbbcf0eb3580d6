"""How a resource writes, resolved from its config: dlt's write disposition dict and the
`hard_delete` / `dedup_sort` column hints.

    write = write_settings(resource_config)      # WriteSettings(disposition, strategy, ...)
    problems = write_problems(resource_config, "resources[0]")   # at rest_api_source time
    apply_write_settings(schema, {name: write})  # onto the run's tables, before staging

The settings travel with the schema (`Table.merge_strategy`, `Table.write_hints`), so the
loader and every destination read one description of the write.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from restsync.config.dialect import MERGE_STRATEGIES, REPLACE_STRATEGIES, WRITE_DISPOSITIONS
from restsync.errors import ConfigError, Problem
from restsync.load.merge import REFRESH_MODES, RefreshPlan
from restsync.schema.model import Column, Schema, column_hints
from restsync.schema.naming import normalize_path

#: dlt's names of the SCD2 validity columns.
VALID_FROM = "_dlt_valid_from"
VALID_TO = "_dlt_valid_to"
SCD2_KEYS = (
    "validity_column_names",
    "active_record_timestamp",
    "boundary_timestamp",
    "row_version_column_name",
)


@dataclass
class WriteSettings:
    """One resource's write: disposition, merge strategy, the column hints that steer it."""

    disposition: str = "append"
    strategy: str = "delete-insert"
    primary_key: list[str] = field(default_factory=list)
    merge_key: list[str] = field(default_factory=list)
    hints: dict[str, Any] = field(default_factory=dict)

    @property
    def scd2(self) -> bool:
        return self.disposition == "merge" and self.strategy == "scd2"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _timestamp(value: Any) -> str | None:
    """A dlt date(time) setting as an ISO-8601 UTC instant (a date is its midnight)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, date):
        ts = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"expected an ISO-8601 date or timestamp (e.g. '9999-12-31'), got {value!r}"
            ) from None
    else:
        raise ValueError(f"expected a date or timestamp, got {type(value).__name__}")
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).isoformat()


def write_settings(resource: Mapping[str, Any]) -> WriteSettings:
    """The write settings of one expanded resource dict (already validated)."""
    wd = resource.get("write_disposition", "append")
    spec: Mapping[str, Any] = wd if isinstance(wd, Mapping) else {"disposition": wd}
    out = WriteSettings(
        disposition=str(spec.get("disposition", "append")),
        primary_key=[normalize_path(k) for k in _as_list(resource.get("primary_key"))],
        merge_key=[normalize_path(k) for k in _as_list(resource.get("merge_key"))],
    )
    if out.disposition == "merge":
        out.strategy = str(spec.get("strategy") or "delete-insert")
    for name, h in column_hints(resource.get("columns")).items():
        col = normalize_path(name)
        if h.get("hard_delete") is True:
            out.hints["hard_delete"] = col
        if h.get("dedup_sort") in ("asc", "desc"):
            out.hints["dedup_sort"] = [col, str(h["dedup_sort"])]
        if h.get("primary_key") is True and col not in out.primary_key:
            out.primary_key.append(col)
        if h.get("merge_key") is True and col not in out.merge_key:
            out.merge_key.append(col)
    if out.scd2:
        names = spec.get("validity_column_names") or [VALID_FROM, VALID_TO]
        out.hints["validity_columns"] = [normalize_path(str(n)) for n in names]
        out.hints["active_record_timestamp"] = _timestamp(spec.get("active_record_timestamp"))
        out.hints["boundary_timestamp"] = _timestamp(spec.get("boundary_timestamp"))
        if spec.get("row_version_column_name"):
            out.hints["row_version_column"] = normalize_path(str(spec["row_version_column_name"]))
    return out


def _well_formed(resource: Mapping[str, Any]) -> bool:
    """Whether the keys and the disposition have the shapes `write_settings` reads."""
    for key in ("primary_key", "merge_key"):
        value = resource.get(key)
        listed = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        if value is not None and not isinstance(value, str) and not listed:
            return False
    wd = resource.get("write_disposition", "append")
    if isinstance(wd, Mapping):
        return wd.get("disposition") in WRITE_DISPOSITIONS and (
            wd.get("strategy") is None
            or wd.get("strategy") in (*MERGE_STRATEGIES, *REPLACE_STRATEGIES)
        )
    return wd in WRITE_DISPOSITIONS


def write_problems(resource: Mapping[str, Any], path: str) -> list[Problem]:
    """What restsync cannot honour in a resource's write settings (checked before any request)."""
    problems: list[Problem] = []
    wd = resource.get("write_disposition")
    spec: Mapping[str, Any] = wd if isinstance(wd, Mapping) else {}
    at = f"{path}.write_disposition"
    if callable(resource.get("table_name")):
        problems.append(
            Problem(
                f"{path}.table_name",
                "a function as table_name (routing each record to the table it names) is not "
                "supported by restsync; give a table name, or split the records into "
                "resources with a processing_steps filter each",
            )
        )
    if not _well_formed(resource):
        return problems  # the validator reports the malformed value itself
    try:
        w = write_settings(resource)
    except ValueError as exc:
        return [*problems, Problem(at, str(exc))]
    for key in SCD2_KEYS:
        if key in spec and not w.scd2:
            problems.append(Problem(f"{at}.{key}", "applies only to strategy 'scd2'; remove it"))
    for hint in ("hard_delete", "dedup_sort"):
        if hint in w.hints and w.disposition != "merge":
            problems.append(
                Problem(
                    f"{path}.columns",
                    f"the {hint} hint applies to write_disposition 'merge' only (as in dlt); "
                    "remove it or use merge",
                )
            )
    if "dedup_sort" in w.hints and w.disposition == "merge" and not w.primary_key:
        problems.append(
            Problem(
                f"{path}.columns",
                "the dedup_sort hint picks one version per primary key; it needs a "
                "primary_key (as in dlt)",
            )
        )
    if w.disposition != "merge":
        return problems
    if w.strategy in ("upsert", "insert-only"):
        if not w.primary_key:
            problems.append(
                Problem(
                    at,
                    f"merge strategy '{w.strategy}' needs a primary_key (as in dlt); add "
                    "e.g. 'primary_key': 'id'",
                )
            )
        if w.merge_key:
            problems.append(
                Problem(
                    f"{path}.merge_key",
                    f"merge strategy '{w.strategy}' does not use a merge_key (as in dlt); "
                    "remove it or use strategy 'delete-insert'",
                )
            )
    if w.scd2:
        if "hard_delete" in w.hints:
            problems.append(
                Problem(
                    f"{path}.columns",
                    "the hard_delete hint does not apply to strategy 'scd2' (a record absent "
                    "from the extract is retired); remove the hint",
                )
            )
        names = spec.get("validity_column_names")
        if names is not None and (
            not isinstance(names, (list, tuple))
            or len(names) != 2
            or not all(isinstance(n, str) and n for n in names)
        ):
            problems.append(
                Problem(f"{at}.validity_column_names", "expected two column names [from, to]")
            )
        if w.primary_key and not w.hints.get("row_version_column"):
            problems.append(
                Problem(
                    f"{path}.primary_key",
                    "strategy 'scd2' keys its rows by a hash of their content, not by a "
                    "primary_key (as in dlt); remove it, or use merge_key for the natural key",
                )
            )
    return problems


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
    "write_problems",
    "write_settings",
]
