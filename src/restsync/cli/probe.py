"""What `restsync check --probe` (and `restsync init`) learn from one page of a resource.

`explain_page` is pure: given a response's body, its records and the paginator that read it, it
says what restsync decided and why: the paginator (configured, or auto-detected and the
evidence), the page base, the data selector, the table layout the normalizer infers (columns,
types, child tables), a suggested primary key and candidate incremental cursor fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Field names that read as a modification time (a good incremental cursor).
MODIFIED = re.compile(r"(updated|modified|changed|edited|last_?mod|synced|lastupdate)", re.I)
#: Field names that read as a time at all.
TIMELIKE = re.compile(r"(_at$|At$|_on$|time|date|stamp|^ts$|created|updated|modified)", re.I)
#: Field names that read as an identifier, best first.
ID_NAMES = ("id", "uuid", "guid", "key", "_id")


@dataclass
class TableLayout:
    """A table the normalizer would write: name, parent table, (column, type) pairs."""

    name: str
    parent: str | None
    columns: list[tuple[str, str]]


@dataclass
class PageFindings:
    """What one page of a resource says (see the module docstring)."""

    records: int
    more_pages: bool
    paginator: str
    paginator_chosen: str  # "configured" or "auto-detected"
    evidence: str
    page_base: str | None
    data_selector: str | None
    selector_chosen: str  # "configured" or "auto"
    tables: list[TableLayout] = field(default_factory=list)
    layout_error: str | None = None
    primary_key: list[str] = field(default_factory=list)
    primary_key_chosen: str = "suggested"  # "configured" or "suggested"
    cursors: list[tuple[str, str]] = field(default_factory=list)  # (field, why)
    fields: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    #: The record count the body states (`total`, `count`, `meta.total`, ...), if any
    told_total: int | None = None
    #: The page's body (for `init`'s other readings of it)
    body: Any = None

    def lines(self) -> list[str]:
        """The findings as the indented lines `check --probe` prints under the resource."""
        out = [f"paginator: {self.paginator}, {self.paginator_chosen}: {self.evidence}"]
        if self.page_base:
            out.append(f"page base: {self.page_base}")
        selector = f"'{self.data_selector}'" if self.data_selector else "the body itself"
        out.append(f"data_selector: {selector} ({self.selector_chosen})")
        for t in self.tables:
            cols = ", ".join(f"{c} {ty}" for c, ty in t.columns)
            of = f" (child of {t.parent})" if t.parent else ""
            out.append(f"table {t.name}{of}: {cols}")
        if self.layout_error:
            out.append(f"table layout: cannot be inferred: {self.layout_error}")
        if self.primary_key:
            out.append(f"primary_key: {', '.join(self.primary_key)} ({self.primary_key_chosen})")
        else:
            out.append("primary_key: none configured, and no field is unique on this page")
        if self.cursors:
            text = ", ".join(f"{name} ({why})" for name, why in self.cursors)
            out.append(f"incremental cursor candidates: {text}")
        else:
            out.append("incremental cursor candidates: none (no timestamp fields)")
        out.extend(f"mismatch: {m}" for m in self.mismatches)
        return out


def effective(paginator: Any) -> Any:
    """The paginator that did the work (the one auto-detection chose)."""
    return getattr(paginator, "delegate", None) or paginator


def selector_of(body: Any, records: list[Any]) -> str | None:
    """The dotted path in `body` that holds `records` (None: the body is the list)."""
    if isinstance(body, list):
        return None
    if not isinstance(body, Mapping):
        return None
    for key, value in body.items():
        if isinstance(value, list) and value == records:
            return str(key)
    for key, value in body.items():
        if isinstance(value, Mapping):
            for inner, found in value.items():
                if isinstance(found, list) and found == records:
                    return f"{key}.{inner}"
    return None


def suggest_primary_key(records: Sequence[Any]) -> list[str]:
    """A top-level field with a value in every record, unique on the page, id-like first."""
    rows = [r for r in records if isinstance(r, Mapping)]
    if not rows:
        return []
    names = [k for k in rows[0] if all(_scalar(r.get(k)) for r in rows)]
    unique = [k for k in names if len({_key(r[k]) for r in rows}) == len(rows)]

    def rank(name: str) -> tuple[int, int]:
        low = name.lower()
        if low in ID_NAMES:
            return (0, ID_NAMES.index(low))
        if low.endswith(("_id", "id", "_uuid", "_key")):
            return (1, 0)
        return (2, 0)

    idlike = [k for k in unique if rank(k)[0] < 2]
    return [min(idlike, key=rank)] if idlike else []


def cursor_candidates(records: Sequence[Any]) -> list[tuple[str, str]]:
    """Top-level fields holding timestamps, modification times first, with why."""
    rows = [r for r in records if isinstance(r, Mapping)]
    if not rows:
        return []
    found: list[tuple[int, str, str]] = []
    for name in rows[0]:
        values = [r.get(name) for r in rows if r.get(name) is not None]
        if not values or not all(_timestamp(v) for v in values):
            continue
        if not TIMELIKE.search(name) and not all(isinstance(v, str) for v in values):
            continue  # a number is a timestamp only by its name
        if MODIFIED.search(name):
            found.append((0, name, "timestamps; the name says modification time"))
        elif "creat" in name.lower():
            found.append((2, name, "creation time: misses updates"))
        else:
            found.append((1, name, "timestamps"))
    return [(name, why) for _, name, why in sorted(found)]


def explain_page(
    *,
    body: Any,
    records: list[Any],
    paginator: Any,
    configured_paginator: Any,
    configured_selector: str | None,
    plan: Any,
    loaded: list[Any] | None = None,
) -> PageFindings:
    """What one page says (see the module docstring); nothing is requested.

    `records` are the page's records as `data_selector` found them; `loaded` the same after
    the resource's processing (`PageStep.process`), from which the fields, the table layout,
    the key and the cursors are read (default: `records`)."""
    chosen = effective(paginator)
    if configured_paginator is None or configured_paginator == "auto":
        how = "auto-detected"
        evidence = str(getattr(paginator, "reason", None) or "from the first response")
    else:
        how = "configured"
        evidence = "page 1 matches it"
    told = getattr(chosen, "total_pages", None)
    total = getattr(chosen, "total", None)
    if isinstance(told, int):
        evidence += f"; page 1 says {told} pages"
    elif isinstance(total, int):
        evidence += f"; page 1 says {total} records in all"
    evidence += "; more pages follow" if paginator.has_next_page else "; no page follows"
    base = getattr(chosen, "base_page", None)
    findings = PageFindings(
        records=len(records),
        more_pages=bool(paginator.has_next_page),
        paginator=str(getattr(chosen, "type_name", "") or type(chosen).__name__),
        paginator_chosen=how,
        evidence=evidence,
        page_base=f"{base} (the first page is page {base})" if isinstance(base, int) else None,
        data_selector=configured_selector or selector_of(body, records),
        selector_chosen="configured" if configured_selector else "auto",
    )
    loaded = records if loaded is None else loaded
    rows = [r for r in loaded if isinstance(r, Mapping)]
    findings.fields = sorted({k for r in rows for k in r})
    findings.tables, findings.layout_error = _layout(plan, loaded)
    if plan.primary_key:
        findings.primary_key, findings.primary_key_chosen = list(plan.primary_key), "configured"
        missing = [k for k in plan.primary_key if rows and any(k not in r for r in rows)]
        if missing:
            findings.mismatches.append(
                f"primary_key {', '.join(missing)} missing in some records; fields seen: "
                f"{', '.join(findings.fields[:10])}"
            )
    else:
        suggested = suggest_primary_key(rows)
        findings.primary_key = suggested
        findings.primary_key_chosen = "suggested: present and unique on this page"
    findings.cursors = cursor_candidates(rows)
    findings.told_total = told_total(body)
    findings.body = body
    return findings


#: Where a body states its record count.
TOTAL_KEYS = ("total", "count", "total_count", "totalCount", "total_records", "totalRecords")


def told_total(body: Any) -> int | None:
    """The record count a page states (`total`, `count`, also under `meta`/`pagination`)."""
    if not isinstance(body, Mapping):
        return None
    for parent in (body, body.get("meta"), body.get("pagination")):
        if isinstance(parent, Mapping):
            for key in TOTAL_KEYS:
                value = parent.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    return value
    return None


def _layout(plan: Any, records: list[Any]) -> tuple[list[TableLayout], str | None]:
    from restsync.schema._model import Schema
    from restsync.schema._normalize import Normalizer

    schema = Schema("probe")
    try:
        Normalizer(
            schema,
            plan.name,
            plan.table_name,
            write_disposition=plan.write_disposition,
            primary_key=list(plan.primary_key),
            merge_key=list(plan.merge_key),
            columns=dict(plan.columns),
            max_table_nesting=plan.max_table_nesting,
        ).normalize(records, "probe", 0)
    except Exception as exc:  # the run would fail the same way: say so
        return [], str(exc).splitlines()[0]
    tables = [
        TableLayout(
            t.name,
            t.parent,
            [
                (c.name, c.data_type)
                for c in t.columns.values()
                if not c.name.startswith(("_dlt_", "_restsync_"))
            ],
        )
        for t in schema.tables.values()
    ]
    return tables, None


def _scalar(value: Any) -> bool:
    return value is not None and value != "" and isinstance(value, (str, int))


def _key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _timestamp(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 946_684_800 <= value <= 4_102_444_800 or 946_684_800_000 <= value <= 4.1e12
    if isinstance(value, str) and len(value) >= 10 and value[:4].isdigit():
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return False
