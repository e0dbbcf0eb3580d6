"""The config, its client and its resources: each level in turn, then the rules across
resources (names, parents, placeholders, cycles, tables)."""

from __future__ import annotations

import graphlib
from collections.abc import Mapping
from typing import Any

from restsync.config._defaults import (
    TYPED_KEYS,
    canonical_endpoint,
    expand_resource,
    parent_resources,
    write_disposition_of,
)
from restsync.config._dialect import (
    INCREMENTAL_PLACEHOLDERS,
    REFUSED_KEYS,
    ClientConfig,
    ResourceConfig,
    ResourceDefaults,
    RESTAPIConfig,
    keys_of,
)
from restsync.config._placeholders import find_placeholders
from restsync.config._validate.endpoint import _EndpointChecks
from restsync.config._validate.messages import (
    _at,
    _is_absolute,
    _is_dlt_resource,
    _kind,
    _or,
    _quoted,
    _show,
)
from restsync.config._validate.write import _is_scd2, _WriteChecks, write_problems
from restsync.errors import ConfigError, Problem

PROCESSING_STEP_KINDS = ("filter", "map", "yield_map")

# Keys dlt knows that restsync refuses, with what to do instead (one table, in the dialect).
_CLIENT_UNSUPPORTED = REFUSED_KEYS["client"]
_DEFAULTS_UNSUPPORTED = {**REFUSED_KEYS["resource"], **REFUSED_KEYS["resource_defaults"]}
_RESOURCE_UNSUPPORTED = REFUSED_KEYS["resource"]


def validate_config(config: Mapping[str, Any]) -> None:
    """Check a whole config; raise one `ConfigError` listing every problem found.

    Nothing is requested and nothing is resolved: this looks at the dict only.

    Raises:
        ConfigError: with `.problems`, one `Problem(path, message)` per problem.
    """
    problems = find_problems(config)
    if problems:
        raise ConfigError(problems)


def find_problems(config: Any) -> list[Problem]:
    """Every problem in `config`, in the order of the config; empty when it is valid."""
    checker = _Checker()
    checker.config(config)
    return checker.problems


class _Checker(_EndpointChecks, _WriteChecks):
    """Every check of a config, level by level (see the package docstring)."""

    def config(self, config: Any) -> None:
        if not isinstance(config, Mapping):
            self.add(
                "",
                f"the config must be a dict with 'client' and 'resources', got {_kind(config)}",
            )
            return
        self.keys("", config, keys_of(RESTAPIConfig))
        client = config.get("client")
        if client is not None and self.mapping("client", client):
            self.client("client", client)
        defaults = config.get("resource_defaults")
        if defaults is not None and self.mapping("resource_defaults", defaults):
            self.resource("resource_defaults", defaults, in_defaults=True)
            if isinstance(defaults.get("endpoint"), Mapping):
                self.default_endpoint = defaults["endpoint"]
        resources = config.get("resources")
        if resources is None:
            self.add("", "the config needs 'resources', a list of resource names or dicts")
        elif not isinstance(resources, (list, tuple)):
            self.add("resources", f"expected a list of resources, got {_kind(resources)}")
        elif not resources:
            self.add("resources", "the list is empty; add at least one resource")
        else:
            for i, resource in enumerate(resources):
                self.resource(_at("resources", i), resource, in_defaults=False)
            self.across_resources(config, list(resources))

    def client(self, path: str, client: Mapping[Any, Any]) -> None:
        self.keys(path, client, keys_of(ClientConfig), _CLIENT_UNSUPPORTED)
        if "base_url" in client:
            base_url = client["base_url"]
            if self.string(_at(path, "base_url"), base_url) and not _is_absolute(base_url):
                self.add(
                    _at(path, "base_url"),
                    "must be an absolute http(s) URL, e.g. 'https://api.example.com'",
                )
        if "headers" in client:
            self.string_map(_at(path, "headers"), client["headers"])
        if "auth" in client:
            self.auth(_at(path, "auth"), client["auth"])
        if "paginator" in client:
            self.paginator(_at(path, "paginator"), client["paginator"])
        self.typed(path, client, ClientConfig, skip=("base_url", "headers", "auth", "paginator"))

    def resource(self, path: str, resource: Any, *, in_defaults: bool) -> None:
        if isinstance(resource, str):
            if not resource:
                self.add(path, "a resource name must not be empty")
            return
        if not isinstance(resource, Mapping):
            if _is_dlt_resource(resource):
                self.add(
                    path,
                    "a dlt resource object cannot be part of a restsync config; write the "
                    "resource as a dict ({'name': ..., 'endpoint': ...}), or run it with dlt",
                )
            else:
                self.add(
                    path, f"expected a resource dict or a resource name, got {_kind(resource)}"
                )
            return
        if in_defaults:
            self.keys(path, resource, keys_of(ResourceDefaults), _DEFAULTS_UNSUPPORTED)
        else:
            self.keys(path, resource, keys_of(ResourceConfig), _RESOURCE_UNSUPPORTED)
            if "name" not in resource:
                self.add(path, "a resource needs a 'name'")
            else:
                self.string(_at(path, "name"), resource["name"])
        if "endpoint" in resource:
            self.endpoint(_at(path, "endpoint"), resource["endpoint"])
        for key in ("primary_key", "merge_key"):
            if key in resource:
                self.key_names(_at(path, key), resource[key])
        if "write_disposition" in resource:
            self.write_disposition(_at(path, "write_disposition"), resource["write_disposition"])
        if "table_name" in resource:
            table_name = resource["table_name"]
            if not callable(table_name):
                self.string(_at(path, "table_name"), table_name)
        if "columns" in resource:
            self.columns(_at(path, "columns"), resource["columns"])
        scalars = {k: resource[k] for k in ("selected", "max_table_nesting") if k in resource}
        self.typed(path, scalars, ResourceConfig)
        if "schema_contract" in resource:
            self.schema_contract(_at(path, "schema_contract"), resource["schema_contract"])
        if "include_from_parent" in resource:
            fields = resource["include_from_parent"]
            if not isinstance(fields, (list, tuple)) or not all(
                isinstance(f, str) and f for f in fields
            ):
                self.add(
                    _at(path, "include_from_parent"),
                    f"expected a list of field names, got {_kind(fields)}",
                )
        if "processing_steps" in resource:
            self.processing_steps(_at(path, "processing_steps"), resource["processing_steps"])

    def processing_steps(self, path: str, steps: Any) -> None:
        if not isinstance(steps, (list, tuple)):
            self.add(path, f"expected a list of steps like {{'filter': fn}}, got {_kind(steps)}")
            return
        for i, step in enumerate(steps):
            step_path = _at(path, i)
            if not self.mapping(step_path, step, "a step like {'filter': fn}"):
                continue
            self.keys(step_path, step, PROCESSING_STEP_KINDS)
            kinds = [k for k in step if k in PROCESSING_STEP_KINDS]
            if len(kinds) != 1:
                self.add(
                    step_path, f"a step has exactly one of {_or(_quoted(PROCESSING_STEP_KINDS))}"
                )
            for kind in kinds:
                if not callable(step[kind]):
                    self.add(_at(step_path, kind), f"expected a function, got {_kind(step[kind])}")

    def across_resources(self, config: Mapping[Any, Any], resources: list[Any]) -> None:
        defaults = config.get("resource_defaults")
        if not isinstance(defaults, Mapping):
            defaults = {}
        names: dict[str, int] = {}
        merged: list[tuple[int, dict[str, Any]]] = []
        for i, resource in enumerate(resources):
            if isinstance(resource, Mapping):
                name = resource.get("name")
            elif isinstance(resource, str):
                name = resource
            else:
                continue
            if not isinstance(name, str) or not name:
                continue
            if name in names:
                where = _at("resources", i)
                if isinstance(resource, Mapping):
                    where = _at(where, "name")
                self.add(where, f"duplicate resource name '{name}' (also resources[{names[name]}])")
                continue
            names[name] = i
            merged.append((i, expand_resource(resource, defaults)))

        client = config.get("client")
        base_url = client.get("base_url") if isinstance(client, Mapping) else None
        needs_base_url: tuple[int, str, str] | None = None
        graph: dict[str, set[str]] = {}
        for i, resource in merged:
            path = _at("resources", i)
            name = resource["name"]
            endpoint = resource.get("endpoint")
            if not isinstance(endpoint, Mapping):
                continue
            url = endpoint.get("path")
            if needs_base_url is None and isinstance(url, str) and not _is_absolute(url):
                needs_base_url = (i, name, url)
            for problem in write_problems(resource, path):
                self.add(problem.path, problem.message)
            if (
                write_disposition_of(resource) == "merge"
                and not self.has_key(resource)
                and not _is_scd2(resource)
            ):
                self.add(
                    path,
                    f"'{name}' uses write_disposition 'merge' but has no primary_key or "
                    "merge_key; add e.g. 'primary_key': 'id' (here or in resource_defaults)",
                )
            self.merged_typed_entries(path, resources[i], defaults, endpoint)
            parents = self.placeholders(_at(path, "endpoint"), endpoint, names)
            graph[name] = {p for p in parents if p in names}
            if len(parents) > 1:
                self.add(
                    _at(path, "endpoint"),
                    f"refers to several parent resources ({', '.join(sorted(parents))}); "
                    "a resource can have one parent",
                )
            if "include_from_parent" in resource and not parents:
                self.add(
                    _at(path, "include_from_parent"),
                    "needs a parent resource: use '{resources.<parent>.<field>}' in the endpoint",
                )
        if needs_base_url is not None and not isinstance(base_url, str):
            i, name, url = needs_base_url
            self.add(
                "client.base_url",
                f"missing, and resources[{i}] ('{name}') has the relative path {_show(url)}; "
                "set client.base_url or use absolute URLs",
            )
        self.cycles(graph, names)
        self.tables(merged)

    def merged_typed_entries(
        self, path: str, raw: Any, defaults: Mapping[Any, Any], endpoint: Mapping[str, Any]
    ) -> None:
        """A paginator or auth merged from resource_defaults and the resource (same type)
        is checked as merged: it is what runs."""
        own = raw.get("endpoint") if isinstance(raw, Mapping) else None
        base = defaults.get("endpoint")
        if not isinstance(own, Mapping) or not isinstance(base, Mapping):
            return
        for key in TYPED_KEYS:
            if isinstance(own.get(key), Mapping) and isinstance(base.get(key), Mapping):
                where = _at(_at(path, "endpoint"), key)
                if key == "paginator":
                    self.paginator(where, endpoint.get(key))
                else:
                    self.auth(where, endpoint.get(key))

    def placeholders(
        self, path: str, endpoint: Mapping[str, Any], names: Mapping[str, int]
    ) -> set[str]:
        """Check the endpoint's placeholders; return the parent resources named.

        They are read from the canonical endpoint (`canonical_endpoint`: legacy resolve
        params and plain params named in the path already bound), so what passes here is
        what the run binds.
        """
        params = endpoint.get("params")
        params = params if isinstance(params, Mapping) else {}
        canonical = canonical_endpoint(endpoint)
        has_incremental = isinstance(canonical.get("incremental"), Mapping)
        reported: set[str] = set()
        for key, value in params.items():
            if isinstance(value, Mapping) and value.get("type") == "resolve":
                parent = value.get("resource")
                if isinstance(parent, str) and parent and parent not in names:
                    reported.add(parent)
                    self.add(
                        _at(_at(_at(path, "params"), key), "resource"),
                        self.unknown("resource", parent, sorted(names)),
                    )
        for ph in find_placeholders(canonical):
            where = path + "." + ph.where if not ph.where.startswith("[") else path + ph.where
            text = "{" + ph.text + "}"
            parts = ph.parts
            if ph.root == "resources":
                if len(parts) < 3 or not all(parts[1:]):
                    self.add(
                        where,
                        f"placeholder '{text}' needs a resource and a field, "
                        "e.g. '{resources.posts.id}'",
                    )
                elif parts[1] not in names and parts[1] not in reported:
                    self.add(
                        where, self.unknown("resource", parts[1], sorted(names)) + f" in '{text}'"
                    )
            elif ph.root == "incremental":
                if len(parts) != 2 or parts[1] not in INCREMENTAL_PLACEHOLDERS:
                    field = ".".join(parts[1:])
                    self.add(
                        where,
                        self.unknown("incremental value", field, INCREMENTAL_PLACEHOLDERS)
                        + f" in '{text}'",
                    )
                elif not has_incremental:
                    self.add(
                        where,
                        f"'{text}' needs an 'incremental' block in the endpoint, "
                        "e.g. {'cursor_path': 'updated_at', 'initial_value': ...}",
                    )
            elif len(parts) == 1 and ph.where == "path" and ph.root in params:
                self.add(
                    where,
                    f"'{text}' names the param '{ph.root}', which a path cannot hold; a path "
                    "binds plain values and {'type': 'resolve', ...} params only",
                )
            elif len(parts) == 1:
                self.add(
                    where,
                    f"unknown placeholder '{text}'; use '{{resources.<parent>.<field>}}' "
                    "or '{incremental.start_value}'"
                    + ("" if ph.where == "path" else ", or a param of that name in the path"),
                )
            else:
                self.add(
                    where,
                    self.unknown("placeholder root", ph.root, ("resources", "incremental"))
                    + f" in '{text}'",
                )
        return parent_resources({"endpoint": canonical})

    def cycles(self, graph: Mapping[str, set[str]], names: Mapping[str, int]) -> None:
        try:
            graphlib.TopologicalSorter(graph).prepare()
        except graphlib.CycleError as exc:
            cycle: list[str] = list(exc.args[1])
            # graphlib gives the cycle ending where it started; show it from parent to child
            cycle.reverse()
            first = min(cycle, key=lambda n: names.get(n, 0))
            self.add(
                _at("resources", names.get(first, 0)),
                f"resources depend on each other in a cycle: {' -> '.join(cycle)}; "
                "a parent cannot read from its own children",
            )
