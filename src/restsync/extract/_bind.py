"""Binding a child resource's request to one parent record.

A child names parent fields in `{resources.<parent>.<field>}` placeholders (path, params,
json, data, headers; a legacy `{type: resolve}` param is planned as one, see
`config.defaults.canonical_endpoint`) and in `include_from_parent`. Every
field it names must be in each parent record (as dlt requires); a missing one, or a `null`
that would go into the request as text, is a `DataError` naming the child, the field and the
parent page. Values placed in a path are percent-encoded (`encode_path_value`), so a parent
id like `x/../../admin` or `a b?c=d` stays one path segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from restsync.errors import DataError
from restsync.extract._incremental import Incremental
from restsync.extract._resources import PLACEHOLDER, ResourcePlan, render
from restsync.http._request import PageRequest
from restsync.util.paths import lookup as lookup  # the one walker; the engine reads it here

#: Characters left as they are in a path value: RFC 3986 sub-delimiters (ids such as
#: `1,2,3` or `a=b`), never `/`, `?`, `#`, `%` or `:`.
_PATH_SAFE = "!$&'()*+,;=@"

#: Where a placeholder's value goes, for the parts of an endpoint that take placeholders.
_PARTS = ("path", "params", "json", "data", "headers")


def encode_path_value(value: Any) -> str:
    """`value` as text for one path segment: percent-encoded, dot segments included."""
    text = quote(str(value), safe=_PATH_SAFE)
    if text.strip(".") == "":  # "." and ".." would move up the path
        return text.replace(".", "%2E")
    return text


@dataclass(frozen=True)
class ParentField:
    """One parent field a child resource uses, and where."""

    field: str
    where: str  # "path", "params.<name>", "json", "data", "headers", "include_from_parent"
    nullable: bool  # a null goes into the request as JSON null (json only)
    top_level: bool = False  # a key of the record itself (include_from_parent), not a path


_LINK = re.compile(r"https?://[^/?#\s]+", re.IGNORECASE)


def render_path(
    path: str, *, parent: Mapping[str, Any] | None, incremental: Mapping[str, Any] | None
) -> str:
    """`path` with its placeholders filled, each value percent-encoded: parent fields and
    `{incremental.*}` values.

    A path that is one parent field whose value is an absolute http(s) URL is that URL (a
    link the parent served; the client sends it without credentials to another origin).
    """
    whole = PLACEHOLDER.fullmatch(path)
    if whole and whole.group(1) == "resources":
        link = lookup(parent or {}, whole.group(3) or "")[1]
        if isinstance(link, str) and _LINK.match(link):
            return link

    def value(m: re.Match[str]) -> str:
        if m.group(1) == "resources":
            found = lookup(parent or {}, m.group(3) or "")[1]
        else:
            found = (incremental or {}).get(m.group(2))
        return "" if found is None else encode_path_value(found)

    return PLACEHOLDER.sub(value, path)


def first_request(
    plan: ResourcePlan,
    parent_record: Mapping[str, Any] | None,
    incremental: Incremental | None,
    build_url: Callable[[str], str],
) -> PageRequest:
    """The first request of `plan` (for a child: of `parent_record`'s pages), before the
    paginator's first-page params: placeholders filled, the incremental window's params
    added, the path made a URL by `build_url` (`SourceClient.build_url`)."""
    ep = plan.endpoint
    inc = incremental.placeholders() if incremental else None
    params = render(dict(ep.get("params") or {}), parent=parent_record, incremental=inc)
    params = {k: v for k, v in params.items() if v is not None}
    path = render_path(str(ep.get("path") or plan.name), parent=parent_record, incremental=inc)
    if incremental:
        params.update(incremental.request_params())
    headers = render(dict(ep.get("headers") or {}), parent=parent_record, incremental=inc)
    return PageRequest(
        method=str(ep.get("method") or "GET").upper(),
        url=build_url(str(path)),
        params=params,
        headers={str(k): str(v) for k, v in headers.items()},
        json=render(ep.get("json"), parent=parent_record, incremental=inc),
        data=render(ep.get("data"), parent=parent_record, incremental=inc),
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def parent_fields(plan: ResourcePlan) -> list[ParentField]:
    """Every parent field `plan` binds, in config order."""
    out: list[ParentField] = []
    ep = plan.endpoint
    for part in _PARTS:
        for text in _strings(ep.get(part)):
            for m in PLACEHOLDER.finditer(text):
                if m.group(1) == "resources" and m.group(2) == plan.parent and m.group(3):
                    out.append(ParentField(m.group(3), part, part == "json"))
    out.extend(
        ParentField(f, "include_from_parent", True, top_level=True)
        for f in plan.include_from_parent
    )
    return out


def check_parent(
    plan: ResourcePlan, fields: list[ParentField], record: Mapping[str, Any], url: str
) -> None:
    """Raise `DataError` when `record` (from the parent page `url`) lacks a field `plan`
    binds, or holds null where a null cannot be sent."""
    for f in fields:
        if f.top_level:
            found, value = f.field in record, record.get(f.field)
        else:
            found, value = lookup(record, f.field)
        if found and (value is not None or f.nullable):
            continue
        what = "has no field" if not found else "has null in field"
        keys = ", ".join(str(k) for k in list(record)[:12])
        raise DataError(
            f"a record of parent resource '{plan.parent}' from {url} {what} '{f.field}', "
            f"which resource '{plan.name}' binds in {f.where}; the record's fields: {keys}",
            resource=plan.name,
            url=url,
            hint=f"fix the field name in resource '{plan.name}' ({f.where}), or select only "
            f"parent records that have '{f.field}' (processing_steps filter on the parent)",
        )
