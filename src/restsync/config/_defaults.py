"""Resources as full dicts: `resource_defaults` merged in, shorthands spelled out.

    expand_resources({
        "resource_defaults": {"primary_key": "id", "endpoint": {"params": {"per_page": 50}}},
        "resources": ["posts", {"name": "users", "endpoint": {"params": {"active": 1}}}],
    })
    # [{"name": "posts", "primary_key": "id",
    #   "endpoint": {"path": "posts", "params": {"per_page": 50}}},
    #  {"name": "users", "primary_key": "id",
    #   "endpoint": {"path": "users", "params": {"per_page": 50, "active": 1}}}]

`resource_defaults` merge as in dlt where it matters: a resource's paginator or auth of
another `type` than the default's replaces it (one of the same type is merged into it).

`canonical_endpoint` turns dlt's legacy endpoint forms into the one form the run reads:

* a `{type: resolve, resource, field}` param becomes the placeholder
  `{resources.<resource>.<field>}`, in the path where the path names it (`posts/{post_id}`),
  else as the param's value;
* a plain param named in the path (`"{org}/{repo}/issues"` with `params: {org: ..., repo: ...}`)
  is written into the path, percent-encoded, and is not sent as a query parameter;
* a `{type: incremental, cursor_path, ...}` param becomes the endpoint's `incremental`, with
  the param's name as its `start_param`;
* a response action's `status_code` given as a string (`"404"`) becomes an int.

Run `validate_config` first; these helpers assume a valid config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote

from restsync.config._dialect import WRITE_DISPOSITIONS, WriteDispositionName
from restsync.config._placeholders import find_in_text, find_placeholders, replace_names

#: Endpoint keys whose default is replaced, not merged into, by a value of another `type`.
TYPED_KEYS: tuple[str, ...] = ("paginator", "auth")


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
    _replace_other_types(full, base, own)
    endpoint = full.get("endpoint")
    if not isinstance(endpoint, dict):
        endpoint = {}
        full["endpoint"] = endpoint
    if endpoint.get("path") is None:
        endpoint["path"] = full.get("name")
    return full


def type_of(value: Any) -> Any:
    """The `type` a paginator or auth entry stands for: its name, its dict's `type` (a dict
    with `token` and no `type` is bearer auth), or its class for an object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return value.get("type", "bearer" if "token" in value else None)
    return type(value)


def _replace_other_types(
    full: dict[str, Any], base: Mapping[str, Any], own: Mapping[str, Any]
) -> None:
    base_endpoint = base.get("endpoint")
    own_endpoint = own.get("endpoint")
    if not isinstance(base_endpoint, Mapping) or not isinstance(own_endpoint, Mapping):
        return
    for key in TYPED_KEYS:
        if key in base_endpoint and key in own_endpoint:
            mine = own_endpoint[key]
            kind = type_of(mine)  # None: a dict that only sets options of the default's type
            if not isinstance(mine, Mapping) or (
                kind is not None and kind != type_of(base_endpoint[key])
            ):
                full["endpoint"][key] = _copy_dicts(mine)


def canonical_endpoint(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """`endpoint` with dlt's legacy forms rewritten into the canonical ones (module doc)."""
    out = dict(endpoint)
    params = out.get("params")
    path = out.get("path")
    if isinstance(params, Mapping):
        params = dict(params)
        in_path = set(find_in_text(path)) if isinstance(path, str) else set()
        bound: dict[str, str] = {}
        for name, value in list(params.items()):
            if isinstance(value, Mapping) and value.get("type") == "resolve":
                field = str(value.get("field"))
                field = field[2:] if field.startswith("$.") else field
                text = "{resources." + f"{value.get('resource')}.{field}" + "}"
                if name in in_path:
                    bound[name] = text
                    del params[name]
                else:
                    params[name] = text
            elif isinstance(value, Mapping) and value.get("type") == "incremental":
                incremental = {k: v for k, v in value.items() if k != "type"}
                incremental.setdefault("start_param", name)
                out["incremental"] = incremental
                del params[name]
            elif name in in_path and not isinstance(value, (Mapping, list, tuple)):
                bound[name] = quote(str(value), safe="")
                del params[name]
        if bound and isinstance(path, str):
            out["path"] = replace_names(path, bound)
        out["params"] = params
    actions = out.get("response_actions")
    if isinstance(actions, list):
        out["response_actions"] = [_int_status(a) for a in actions]
    return out


def _int_status(action: Any) -> Any:
    if isinstance(action, Mapping) and isinstance(action.get("status_code"), str):
        code = action["status_code"].strip()
        if code.isdigit():
            return {**action, "status_code": int(code)}
    return action


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
) -> WriteDispositionName:
    """The resource's write disposition, from the string or the dict form; `append` by default."""
    value = resource.get("write_disposition")
    if isinstance(value, Mapping):
        value = value.get("disposition")
    if value in WRITE_DISPOSITIONS:
        return cast(WriteDispositionName, value)
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


def column_hints(columns: Any) -> dict[str, dict[str, Any]]:
    """A resource's `columns` hints as `{name: hints}`, from either of dlt's forms: a dict
    keyed by column name, or a list of hint dicts each with its `name`; dlt's `complex`
    data type is read as `json`. Malformed entries are left out (validation reports them)."""
    if isinstance(columns, Mapping):
        items = [(str(k), v) for k, v in columns.items() if isinstance(v, Mapping)]
    elif isinstance(columns, (list, tuple)):
        items = [(str(c["name"]), c) for c in columns if isinstance(c, Mapping) and "name" in c]
    else:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name, hints in items:
        hint = {k: v for k, v in hints.items() if k != "name"}
        if hint.get("data_type") == "complex":
            hint["data_type"] = "json"
        out[name] = hint
    return out


__all__ = [
    "TYPED_KEYS",
    "canonical_endpoint",
    "column_hints",
    "deep_merge",
    "expand_resource",
    "expand_resources",
    "parent_resources",
    "type_of",
    "write_disposition_of",
]
