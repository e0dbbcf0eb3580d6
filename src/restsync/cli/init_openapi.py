"""`restsync init --openapi SPEC`: one resource per GET collection of an OpenAPI 3 document,
with the pagination parameters it declares, auth from `securitySchemes`, the data selector
from the response schema, `id`-like primary keys and parent-child resources.

Secrets are written as `${secrets.NAME}` references, never as values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from restsync.cli.init import Written, auth_config, header_lines, resource_name
from restsync.errors import ConfigError, Problem


def load_spec(spec: str) -> tuple[dict[str, Any], str]:
    """The OpenAPI document at `spec` (a file or an http(s) URL) and where it came from."""
    import httpx

    if spec.startswith(("http://", "https://")):
        response = httpx.get(spec, timeout=30, follow_redirects=True)
        response.raise_for_status()
        text = response.text
    else:
        from pathlib import Path

        text = Path(spec).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not str(data.get("openapi", "")).startswith("3"):
        raise ConfigError(Problem("--openapi", f"{spec} is not an OpenAPI 3 document"))
    return data, spec


def init_from_openapi(spec: str, *, base_url: str | None = None) -> Written:
    """One resource per GET collection endpoint of the OpenAPI 3 document `spec`."""
    doc, where = load_spec(spec)
    base = _openapi_base_url(doc, where, base_url)
    auth, secret_names = _openapi_auth(doc)
    client: dict[str, Any] = {"base_url": base.rstrip("/")}
    if auth:
        client["auth"] = auth
    collections: dict[str, dict[str, Any]] = {}  # path -> resource
    notes: dict[str, list[str]] = {}
    for path, item in sorted((doc.get("paths") or {}).items(), key=lambda kv: kv[0].count("/")):
        found = _openapi_resource(doc, path, item, collections)
        if found is None:
            continue
        resource, lines = found
        collections[path] = resource
        notes[resource["name"]] = lines
    if not collections:
        raise ConfigError(Problem("--openapi", f"{where}: no GET collection endpoint found"))
    written = Written(client, list(collections.values()), notes)
    written.header = header_lines(f"restsync init --openapi {where}", secret_names)
    return written


def _openapi_base_url(doc: Mapping[str, Any], where: str, base_url: str | None) -> str:
    """`--base-url`, else the spec's first server (a relative one against the spec's URL)."""
    servers = doc.get("servers") or []
    base = base_url or (servers[0].get("url") if servers and servers[0].get("url") else None)
    if not base or base.startswith("/"):
        if not where.startswith(("http://", "https://")):
            raise ConfigError(Problem("--base-url", "the spec names no server: give --base-url"))
        parts = urlsplit(where)
        base = urlunsplit((parts.scheme, parts.netloc, base or "", "", ""))
    return str(base)


def _openapi_resource(
    doc: Mapping[str, Any], path: str, item: Any, collections: Mapping[str, dict[str, Any]]
) -> tuple[dict[str, Any], list[str]] | None:
    """The resource of `path`'s GET collection and its note lines; None when `path` has no
    GET collection, or a path parameter no collection in `collections` provides."""
    op = (item or {}).get("get")
    if not isinstance(op, Mapping):
        return None
    shape = _collection_shape(doc, _response_schema(doc, op))
    if shape is None:
        return None
    selector, item_schema, envelope = shape
    params = [_deref(doc, p) for p in (item.get("parameters") or []) + (op.get("parameters") or [])]
    query = {p.get("name"): p for p in params if p.get("in") == "query"}
    name = resource_name(path)
    while name in {r["name"] for r in collections.values()}:
        name += "_"
    resource: dict[str, Any] = {"name": name}
    lines = [f"GET {path}: {op.get('summary') or op.get('operationId') or ''}".rstrip(": ")]
    pk = _openapi_pk(name, (item_schema or {}).get("properties") or {})
    if pk:
        resource["primary_key"] = pk
        resource["write_disposition"] = "merge"
        lines.append(f"primary_key: {pk} (an id-like field of the item schema)")
    endpoint: dict[str, Any] = {"path": path}
    paginator, why = _openapi_paginator(query, envelope)
    endpoint["paginator"] = paginator
    lines.append(f"paginator: {paginator['type']} ({why})")
    if selector:
        endpoint["data_selector"] = selector
        lines.append(f"data_selector: {selector} (the array in the response schema)")
    parent = _parent_of(path, collections)
    if parent is None and "{" in path:
        return None  # a path parameter no collection provides: not a collection to sync
    if parent is not None:
        _, parent_resource, placeholder = parent
        field_name = _parent_field(placeholder, parent_resource)
        endpoint["path"] = path.replace(
            "{" + placeholder + "}", f"{{resources.{parent_resource['name']}.{field_name}}}"
        )
        lines.append(
            f"child of {parent_resource['name']}: one request per {parent_resource['name']} "
            f"record, {{{placeholder}}} <- its '{field_name}'"
        )
    resource["endpoint"] = endpoint
    return resource, lines


def _deref(doc: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = doc
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node = target
    return node


def _response_schema(doc: Mapping[str, Any], op: Mapping[str, Any]) -> Any:
    responses = op.get("responses") or {}
    ok = _deref(doc, responses.get("200") or responses.get(200) or {})
    content = (ok or {}).get("content") or {}
    media: Any = content.get("application/json") or next(iter(content.values()), {})
    return _deref(doc, (media or {}).get("schema"))


def _collection_shape(doc: Mapping[str, Any], schema: Any) -> tuple[str | None, Any, Any] | None:
    """(data selector, item schema, envelope schema) of a collection response, else None."""
    schema = _deref(doc, schema)
    if not isinstance(schema, Mapping):
        return None
    if schema.get("type") == "array":
        return None, _deref(doc, schema.get("items")), None
    for key, prop in (schema.get("properties") or {}).items():
        prop = _deref(doc, prop)
        if isinstance(prop, Mapping) and prop.get("type") == "array":
            return str(key), _deref(doc, prop.get("items")), schema
    return None


def _openapi_pk(name: str, props: Mapping[str, Any]) -> str | None:
    singular = name[:-1] if name.endswith("s") else name
    for candidate in ("id", f"{singular}_id", "uuid", "key"):
        if candidate in props:
            return candidate
    return None


def _openapi_paginator(query: Mapping[str, Any], envelope: Any) -> tuple[dict[str, Any], str]:
    names = {str(n).lower(): str(n) for n in query}
    props = ((envelope or {}).get("properties") or {}) if isinstance(envelope, Mapping) else {}
    for cursor in ("cursor", "after", "page_token", "pagetoken", "next_token"):
        if cursor in names:
            path = next(
                (
                    p
                    for p in ("next_cursor", "nextCursor", "next_page_token", "cursor")
                    if p in props
                ),
                "next_cursor",
            )
            return (
                {"type": "cursor", "cursor_param": names[cursor], "cursor_path": path},
                f"the query parameter '{names[cursor]}', the next one at '{path}'",
            )
    if "offset" in names:
        limit_name = names.get("limit") or names.get("page_size") or names.get("per_page")
        out: dict[str, Any] = {"type": "offset", "offset_param": names["offset"]}
        limit = _max_of(query.get(limit_name)) if limit_name else None
        out["limit"] = limit or 100
        if limit_name:
            out["limit_param"] = limit_name
        out["total_path"] = "total" if "total" in props else None
        return out, f"the query parameters '{names['offset']}' and '{limit_name or '-'}'"
    if "page" in names:
        size_name = names.get("page_size") or names.get("per_page") or names.get("limit")
        out = {"type": "page_number", "page_param": names["page"], "base_page": 1}
        base = (query[names["page"]].get("schema") or {}).get("minimum")
        if isinstance(base, int):
            out["base_page"] = base
        if size_name:
            out["limit_param"] = size_name
            out["limit"] = _max_of(query.get(size_name)) or 100
        total = next((p for p in ("total_pages", "totalPages", "pages") if p in props), None)
        out["total_path"] = total
        return out, f"the query parameter '{names['page']}'" + (
            f", the page count at '{total}'" if total else ""
        )
    return {"type": "single_page"}, "no pagination parameter declared"


def _max_of(param: Any) -> int | None:
    schema = (param or {}).get("schema") or {}
    for key in ("maximum", "default"):
        if isinstance(schema.get(key), int):
            return int(schema[key])
    return None


def _parent_of(
    path: str, collections: Mapping[str, dict[str, Any]]
) -> tuple[str, dict[str, Any], str] | None:
    """The collection `path` hangs under (`/things/{thing_id}/parts` -> `/things`)."""
    match = re.fullmatch(r"(.*)/\{([^}]+)\}/[^{}]+", path)
    if not match or match.group(1) not in collections:
        return None
    return match.group(1), collections[match.group(1)], match.group(2)


def _parent_field(placeholder: str, parent: Mapping[str, Any]) -> str:
    pk = parent.get("primary_key")
    if placeholder in ("id",) or not isinstance(pk, str):
        return pk if isinstance(pk, str) else placeholder
    return pk


def _openapi_auth(doc: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    schemes = ((doc.get("components") or {}).get("securitySchemes")) or {}
    for _, scheme in schemes.items():
        scheme = _deref(doc, scheme)
        kind = scheme.get("type")
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            return auth_config("bearer:api_token")
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            return auth_config("basic")
        if kind == "apiKey" and scheme.get("in") in ("header", "query"):
            return auth_config(f"api_key:api_key@{scheme['in']}:{scheme.get('name')}")
        if kind == "oauth2":
            flow = (scheme.get("flows") or {}).get("clientCredentials")
            if isinstance(flow, Mapping) and flow.get("tokenUrl"):
                return {
                    "type": "oauth2_client_credentials",
                    "access_token_url": flow["tokenUrl"],
                    "client_id": "${secrets.client_id}",
                    "client_secret": "${secrets.client_secret}",
                }, ["client_id", "client_secret"]
    return None, []
