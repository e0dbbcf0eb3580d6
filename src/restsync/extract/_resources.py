"""Resources as extraction plans: the endpoint, the keys, the parent (if any), placeholders.

Plans are built by `plan_config(config)` after validation, from each resource
expanded (`resource_defaults` merged) and its endpoint in canonical form
(`restsync.config._defaults.canonical_endpoint`): legacy resolve params are
`{resources.<parent>.<field>}` placeholders, plain params named in the path are in the path,
a legacy incremental param is `endpoint["incremental"]` with its `start_param`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from restsync.config._defaults import canonical_endpoint, column_hints, expand_resources
from restsync.config._validate import validate_config
from restsync.errors import ConfigError, Problem
from restsync.util.paths import find_first

PLACEHOLDER = re.compile(r"\{(resources|incremental)\.([A-Za-z0-9_\-]+)(?:\.([^{}]+))?\}")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _walk_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _walk_strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _walk_strings(v)]
    return []


@dataclass
class ResourcePlan:
    """Everything the extractor needs about one resource, resolved from its config dict."""

    name: str
    table_name: str
    endpoint: dict[str, Any]
    write_disposition: str = "append"
    primary_key: list[str] = field(default_factory=list)
    merge_key: list[str] = field(default_factory=list)
    columns: dict[str, Any] = field(default_factory=dict)
    selected: bool = True
    parent: str | None = None
    include_from_parent: list[str] = field(default_factory=list)
    processing_steps: list[dict[str, Callable[..., Any]]] = field(default_factory=list)
    max_table_nesting: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    #: Whether the config named the table (`table_name`): only then may resources share one.
    table_name_given: bool = False
    #: The endpoint's paginator entry, or None (then the client's, else auto-detection).
    paginator: Any = None
    #: The endpoint's auth entry (it replaces the client's for this resource), or None.
    auth: Any = None
    #: `write_disposition.strategy` when given (restsync's merge deletes the stored rows of
    #: each key, then inserts: dlt's `delete-insert`; `upsert` gives the same rows when keys
    #: are unique; every replace strategy replaces the table in the load's transaction).
    write_strategy: str | None = None

    @property
    def incremental(self) -> dict[str, Any] | None:
        inc = self.endpoint.get("incremental")
        return dict(inc) if isinstance(inc, Mapping) else None


def _disposition(resource: Mapping[str, Any]) -> str:
    wd = resource.get("write_disposition", "append")
    if isinstance(wd, Mapping):
        return str(wd.get("disposition", "append"))
    return str(wd)


def build_plan(resource: Mapping[str, Any]) -> ResourcePlan:
    """One expanded resource dict (resource_defaults already merged) as a plan."""
    endpoint = canonical_endpoint(resource.get("endpoint") or {})
    name = str(resource["name"])
    parents: set[str] = set()
    for text in _walk_strings(
        [
            endpoint.get("path"),
            endpoint.get("params"),
            endpoint.get("json"),
            endpoint.get("data"),
            endpoint.get("headers"),
        ]
    ):
        for m in PLACEHOLDER.finditer(text):
            if m.group(1) == "resources":
                parents.add(m.group(2))
    endpoint["params"] = dict(endpoint.get("params") or {})
    if len(parents) > 1:
        raise ConfigError(
            [
                Problem(
                    f"resources['{name}'].endpoint",
                    f"refers to several parent resources ({', '.join(sorted(parents))}); "
                    "a resource can have one parent",
                )
            ]
        )
    table_name = resource.get("table_name") or name
    return ResourcePlan(
        name=name,
        table_name=str(table_name) if not callable(table_name) else name,
        endpoint=endpoint,
        write_disposition=_disposition(resource),
        primary_key=_as_list(resource.get("primary_key")),
        merge_key=_as_list(resource.get("merge_key")),
        columns=column_hints(resource.get("columns")),
        selected=bool(resource.get("selected", True)),
        parent=next(iter(parents)) if parents else None,
        include_from_parent=_as_list(resource.get("include_from_parent")),
        processing_steps=list(resource.get("processing_steps") or []),
        max_table_nesting=resource.get("max_table_nesting"),
        config=dict(resource),
        table_name_given=isinstance(resource.get("table_name"), str),
        paginator=endpoint.get("paginator"),
        auth=endpoint.get("auth"),
        write_strategy=_strategy(resource),
    )


def _strategy(resource: Mapping[str, Any]) -> str | None:
    wd = resource.get("write_disposition")
    strategy = wd.get("strategy") if isinstance(wd, Mapping) else None
    return str(strategy) if strategy is not None else None


def render(
    value: Any, *, parent: Mapping[str, Any] | None, incremental: Mapping[str, Any] | None
) -> Any:
    """Fill `{resources.<parent>.<field>}` and `{incremental.<name>}` placeholders.

    A string that is exactly one placeholder keeps the value's type (for JSON bodies); a
    placeholder inside a longer string is formatted as text.
    """
    if isinstance(value, str):
        if "{" not in value:
            return value

        def resolve(m: re.Match[str]) -> Any:
            if m.group(1) == "resources":
                return find_first(parent or {}, m.group(3) or "")
            return (incremental or {}).get(m.group(2))

        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return resolve(whole)
        return PLACEHOLDER.sub(lambda m: "" if resolve(m) is None else str(resolve(m)), value)
    if isinstance(value, Mapping):
        return {k: render(v, parent=parent, incremental=incremental) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, parent=parent, incremental=incremental) for v in value]
    return value


def order_plans(plans: list[ResourcePlan]) -> list[ResourcePlan]:
    """Parents before children; unknown parents and cycles are config errors."""
    by_name = {p.name: p for p in plans}
    problems = [
        Problem(f"resources['{p.name}']", f"refers to unknown parent resource '{p.parent}'")
        for p in plans
        if p.parent and p.parent not in by_name
    ]
    if problems:
        raise ConfigError(problems)
    ordered: list[ResourcePlan] = []
    seen: set[str] = set()
    visiting: set[str] = set()

    def visit(p: ResourcePlan) -> None:
        if p.name in seen:
            return
        if p.name in visiting:
            raise ConfigError([Problem(f"resources['{p.name}']", "parent resources form a cycle")])
        visiting.add(p.name)
        if p.parent:
            visit(by_name[p.parent])
        visiting.discard(p.name)
        seen.add(p.name)
        ordered.append(p)

    for p in plans:
        visit(p)
    return ordered


def plan_config(config: Mapping[str, Any]) -> list[ResourcePlan]:
    """Validate `config` and return the plans the run reads, parents before children.

    What validation accepts is what the plans hold: every resource expanded
    (`resource_defaults` merged), its endpoint in canonical form (dlt's legacy forms
    rewritten, see `restsync.config._defaults.canonical_endpoint`).

    Raises:
        ConfigError: every problem of the config at once (see `validate_config`).
    """
    validate_config(config)
    return order_plans([build_plan(r) for r in expand_resources(config)])
