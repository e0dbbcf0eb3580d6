"""Resources as full dicts: `resource_defaults` merged in, shorthands spelled out.

    expand_resources({
        "resource_defaults": {"primary_key": "id", "endpoint": {"params": {"per_page": 50}}},
        "resources": ["posts", {"name": "users", "endpoint": {"params": {"active": 1}}}],
    })
    # [{"name": "posts", "primary_key": "id",
    #   "endpoint": {"path": "posts", "params": {"per_page": 50}}},
    #  {"name": "users", "primary_key": "id",
    #   "endpoint": {"path": "users", "params": {"per_page": 50, "active": 1}}}]

Run `validate_config` first; these helpers assume a valid config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from restsync.config.placeholders import find_placeholders


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated with `override`: dicts merge recursively, lists and scalars replace.

    Neither input is modified; dicts in the result are new, other values are shared.
    """
    merged: dict[str, Any] = {k: _copy_dicts(v) for k, v in base.items()}
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = _copy_dicts(value)
    return merged


def _copy_dicts(value: Any) -> Any:
    # Copy the containers (so a merge never writes into the user's dicts) but keep the
    # leaves: secrets, callables and paginator instances must stay the same objects.
    if isinstance(value, Mapping):
        return {k: _copy_dicts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_dicts(v) for v in value]
    return value


def expand_resource(
    resource: str | Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """One resource as a full dict, with `defaults` merged in (the resource wins)."""
    if isinstance(resource, str):
        resource = {"name": resource}
    own = dict(resource)
    if isinstance(own.get("endpoint"), str):
        own["endpoint"] = {"path": own["endpoint"]}
    base = dict(defaults)
    if isinstance(base.get("endpoint"), str):
        base["endpoint"] = {"path": base["endpoint"]}
    full = deep_merge(base, own)
    endpoint = full.get("endpoint")
    if not isinstance(endpoint, dict):
        endpoint = {}
        full["endpoint"] = endpoint
    if endpoint.get("path") is None:
        endpoint["path"] = full.get("name")
    return full


def expand_resources(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every resource of `config` as a full dict, in config order.

    `resource_defaults` are deep-merged into each resource; a bare string `"posts"` becomes
    `{"name": "posts", "endpoint": {"path": "posts"}}`; a string endpoint becomes
    `{"path": ...}`; a missing `endpoint.path` defaults to the resource name.
    `write_disposition` is kept as given; read it with `write_disposition_of`.
    """
    defaults = config.get("resource_defaults") or {}
    return [expand_resource(r, defaults) for r in config.get("resources") or []]


def write_disposition_of(
    resource: Mapping[str, Any],
) -> Literal["append", "replace", "merge", "skip"]:
    """The resource's write disposition, from the string or the dict form; `append` by default."""
    value = resource.get("write_disposition")
    if isinstance(value, Mapping):
        value = value.get("disposition")
    if value in ("append", "replace", "merge", "skip"):
        return cast(Literal["append", "replace", "merge", "skip"], value)
    return "append"


def parent_resources(resource: Mapping[str, Any]) -> set[str]:
    """The resources this one reads from: `{resources.<name>.<field>}` placeholders and
    legacy `{"type": "resolve", "resource": <name>}` params."""
    endpoint = resource.get("endpoint")
    if not isinstance(endpoint, Mapping):
        return set()
    parents = {
        p.parts[1]
        for p in find_placeholders(endpoint)
        if p.root == "resources" and len(p.parts) >= 2
    }
    params = endpoint.get("params")
    if isinstance(params, Mapping):
        for value in params.values():
            if (
                isinstance(value, Mapping)
                and value.get("type") == "resolve"
                and isinstance(value.get("resource"), str)
            ):
                parents.add(value["resource"])
    return parents


__all__ = [
    "deep_merge",
    "expand_resource",
    "expand_resources",
    "parent_resources",
    "write_disposition_of",
]
