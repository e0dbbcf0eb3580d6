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
from restsync.config._placeholders import Placeholder, find_placeholders
from restsync.config._validate.endpoint import _EndpointChecks
from restsync.config._validate.messages import (
    _at,
    _is_absolute,
    _is_dlt_resource,
    _kind,
    _or,
    _quoted,
    _show,
    _unknown,
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
        self.extend(_duplicate_name_problems(resources))
        names = _first_index_by_name(resources)
        merged = [(i, expand_resource(resources[i], defaults)) for i in names.values()]
        graph: dict[str, set[str]] = {}
        for i, resource in merged:
            endpoint = resource.get("endpoint")
            if isinstance(endpoint, Mapping):
                parents = self.merged_resource(i, resource, resources[i], defaults, names)
                graph[resource["name"]] = parents
        self.extend(_base_url_problems(config.get("client"), merged))
        self.cycles(graph, names)
        self.tables(merged)

    def merged_resource(
        self,
        i: int,
        resource: Mapping[str, Any],
        raw: Any,
        defaults: Mapping[Any, Any],
        names: Mapping[str, int],
    ) -> set[str]:
        """Check resources[i] as merged with resource_defaults (`resource`, whose endpoint is
        a dict); return the parents it names among `names`."""
        path = _at("resources", i)
        endpoint: Mapping[str, Any] = resource["endpoint"]
        self.extend(write_problems(resource, path))
        self.extend(_merge_key_problems(path, resource))
        self.merged_typed_entries(path, raw, defaults, endpoint)
        parents = self.placeholders(_at(path, "endpoint"), endpoint, names)
        self.extend(_parent_problems(path, resource, parents))
        return {p for p in parents if p in names}

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
        unknown_parents = _unknown_resolve_parents(params, names)
        for key, parent in unknown_parents.items():
            where = _at(_at(_at(path, "params"), key), "resource")
            self.add(where, _unknown("resource", parent, sorted(names)))
        known = {*names, *unknown_parents.values()}  # an unknown parent is told once
        has_incremental = isinstance(canonical.get("incremental"), Mapping)
        for ph in find_placeholders(canonical):
            where = path + "." + ph.where if not ph.where.startswith("[") else path + ph.where
            if ph.root == "resources":
                self.extend(_resource_placeholder_problems(where, ph, names, known))
            elif ph.root == "incremental":
                self.extend(_incremental_placeholder_problems(where, ph, has_incremental))
            else:
                self.extend(_plain_placeholder_problems(where, ph, params))
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


def _named(resources: list[Any]) -> list[tuple[int, str]]:
    """The resources that have a name (a non-empty string), with their index."""
    named: list[tuple[int, str]] = []
    for i, resource in enumerate(resources):
        name = resource.get("name") if isinstance(resource, Mapping) else resource
        if isinstance(name, str) and name:
            named.append((i, name))
    return named


def _first_index_by_name(resources: list[Any]) -> dict[str, int]:
    """Each resource name with the index of its first resource, in the order of the config."""
    names: dict[str, int] = {}
    for i, name in _named(resources):
        names.setdefault(name, i)
    return names


def _duplicate_name_problems(resources: list[Any]) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for i, name in _named(resources):
        if name not in first:
            first[name] = i
            continue
        where = _at("resources", i)
        if isinstance(resources[i], Mapping):
            where = _at(where, "name")
        problems.append(
            Problem(where, f"duplicate resource name '{name}' (also resources[{first[name]}])")
        )
    return problems


def _base_url_problems(client: Any, merged: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """A relative endpoint path (the first one told) needs client.base_url."""
    base_url = client.get("base_url") if isinstance(client, Mapping) else None
    if isinstance(base_url, str):
        return []
    for i, resource in merged:
        endpoint = resource.get("endpoint")
        url = endpoint.get("path") if isinstance(endpoint, Mapping) else None
        if isinstance(url, str) and not _is_absolute(url):
            return [
                Problem(
                    "client.base_url",
                    f"missing, and resources[{i}] ('{resource['name']}') has the relative "
                    f"path {_show(url)}; set client.base_url or use absolute URLs",
                )
            ]
    return []


def _merge_key_problems(path: str, resource: Mapping[str, Any]) -> list[Problem]:
    """write_disposition 'merge' needs a key to merge on (scd2 hashes the rows instead)."""
    if (
        write_disposition_of(resource) != "merge"
        or _WriteChecks.has_key(resource)
        or _is_scd2(resource)
    ):
        return []
    return [
        Problem(
            path,
            f"'{resource['name']}' uses write_disposition 'merge' but has no primary_key or "
            "merge_key; add e.g. 'primary_key': 'id' (here or in resource_defaults)",
        )
    ]


def _parent_problems(path: str, resource: Mapping[str, Any], parents: set[str]) -> list[Problem]:
    """One parent at most; include_from_parent needs one."""
    problems: list[Problem] = []
    if len(parents) > 1:
        problems.append(
            Problem(
                _at(path, "endpoint"),
                f"refers to several parent resources ({', '.join(sorted(parents))}); "
                "a resource can have one parent",
            )
        )
    if "include_from_parent" in resource and not parents:
        problems.append(
            Problem(
                _at(path, "include_from_parent"),
                "needs a parent resource: use '{resources.<parent>.<field>}' in the endpoint",
            )
        )
    return problems


def _unknown_resolve_parents(params: Mapping[Any, Any], names: Mapping[str, int]) -> dict[Any, str]:
    """The params of type 'resolve' whose resource is not one of `names`, with that resource."""
    unknown: dict[Any, str] = {}
    for key, value in params.items():
        if isinstance(value, Mapping) and value.get("type") == "resolve":
            parent = value.get("resource")
            if isinstance(parent, str) and parent and parent not in names:
                unknown[key] = parent
    return unknown


def _resource_placeholder_problems(
    where: str, ph: Placeholder, names: Mapping[str, int], known: set[str]
) -> list[Problem]:
    """'{resources.<parent>.<field>}': a resource and a field; the resource one of `names`
    (not told again when in `known`)."""
    text = "{" + ph.text + "}"
    parts = ph.parts
    if len(parts) < 3 or not all(parts[1:]):
        return [
            Problem(
                where,
                f"placeholder '{text}' needs a resource and a field, e.g. '{{resources.posts.id}}'",
            )
        ]
    if parts[1] not in known:
        return [Problem(where, _unknown("resource", parts[1], sorted(names)) + f" in '{text}'")]
    return []


def _incremental_placeholder_problems(
    where: str, ph: Placeholder, has_incremental: bool
) -> list[Problem]:
    """'{incremental.<value>}': a value incremental loading has, and an incremental block."""
    text = "{" + ph.text + "}"
    parts = ph.parts
    if len(parts) != 2 or parts[1] not in INCREMENTAL_PLACEHOLDERS:
        field = ".".join(parts[1:])
        message = _unknown("incremental value", field, INCREMENTAL_PLACEHOLDERS)
        return [Problem(where, message + f" in '{text}'")]
    if not has_incremental:
        return [
            Problem(
                where,
                f"'{text}' needs an 'incremental' block in the endpoint, "
                "e.g. {'cursor_path': 'updated_at', 'initial_value': ...}",
            )
        ]
    return []


def _plain_placeholder_problems(
    where: str, ph: Placeholder, params: Mapping[Any, Any]
) -> list[Problem]:
    """Any other placeholder: what is left of it in the canonical endpoint is wrong."""
    text = "{" + ph.text + "}"
    if len(ph.parts) > 1:
        message = _unknown("placeholder root", ph.root, ("resources", "incremental"))
        return [Problem(where, message + f" in '{text}'")]
    if ph.where == "path" and ph.root in params:
        return [
            Problem(
                where,
                f"'{text}' names the param '{ph.root}', which a path cannot hold; a path "
                "binds plain values and {'type': 'resolve', ...} params only",
            )
        ]
    return [
        Problem(
            where,
            f"unknown placeholder '{text}'; use '{{resources.<parent>.<field>}}' "
            "or '{incremental.start_value}'"
            + ("" if ph.where == "path" else ", or a param of that name in the path"),
        )
    ]
