"""A model of hostile API behaviour for the promise "exit 0 means exact" (DESIGN §0).

`Scenario` is one generated API and one run sequence: a pagination style (page number,
offset, cursor, next link), what the API does to its pages (clamps their size, filters records
out of them, varies them, lies about or omits its total, serves a `null` or an error body or
the previous page again, or its last page forever), and, run after run, records whose key and
values drift in JSON type and whose field names drift in spelling, loaded by append, merge,
replace or incrementally (a cursor served as numbers or as strings of digits). `FakeApi`
serves a scenario's run through `httpx.MockTransport`; `expected_after` and
`incremental_served` are the plain reference model of what the destination must hold;
`DestinationImage` reads what it does hold.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import permutations
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson

BASE_URL = "https://api.test/"
#: A run that asks more than this is paging forever; the fake API then answers 599.
REQUEST_CAP = 400
SPELLINGS = ("userId", "user_id", "user-id")
FAULTS = ("null", "error", "no_data", "previous", "stuck")


@dataclass(frozen=True)
class RunData:
    """What the API holds and does during one run."""

    records: tuple[dict[str, Any], ...]  # in the API's order
    hidden: frozenset[int] = frozenset()  # positions filtered out of their pages
    faults: tuple[tuple[int, str], ...] = ()  # (page index, fault) served for that page
    total: str = "right"  # "absent" | "right" | "low" | "high"
    #: page_number/offset: what a page past the end serves: "empty", or the last page again
    #: ("last_page": an API that never answers an empty page)
    past_end: str = "empty"
    #: Pages (0-based) whose first answer is cut short mid-body, a transient: asked again,
    #: they come whole. A run with only these must load exactly what the API serves.
    cut: frozenset[int] = frozenset()

    def served(self) -> list[dict[str, Any]]:
        """The API's data: every record it serves (the filtered-out ones are not served)."""
        return [r for i, r in enumerate(self.records) if i not in self.hidden]


@dataclass(frozen=True)
class Scenario:
    style: str  # "page_number" | "offset" | "cursor" | "json_link"
    limit: int  # the page size the config asks for
    clamp: int | None  # the API serves at most this many records a page
    sizes: tuple[int, ...]  # cursor/json_link: the API's page sizes, cycled (variable pages)
    auto: bool  # no paginator in the config: auto-detection
    disposition: str  # "append" | "merge" | "replace"
    runs: tuple[RunData, ...]
    incremental: bool = False  # `updated` is an incremental cursor sent as `since`

    def window(self) -> int:
        return min(self.limit, self.clamp) if self.clamp else self.limit

    def config(self) -> dict[str, Any]:
        endpoint: dict[str, Any] = {"path": "items", "data_selector": "data"}
        if self.incremental:
            endpoint["incremental"] = {
                "cursor_path": "updated",
                "start_param": "since",
                "initial_value": 0,
            }
        total = any(r.total != "absent" for r in self.runs)
        if self.style == "page_number":
            endpoint["params"] = {"per_page": self.limit}
            paginator: dict[str, Any] = {
                "type": "page_number",
                "page_param": "page",
                "base_page": 1,
                "total_path": "total_pages" if total else None,
            }
        elif self.style == "offset":
            paginator = {
                "type": "offset",
                "limit": self.limit,
                "total_path": "total" if total else None,
            }
        elif self.style == "cursor":
            paginator = {"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "cursor"}
        else:
            paginator = {"type": "json_link", "next_url_path": "next"}
        if self.auto:
            endpoint.pop("data_selector")
            if self.style == "offset":
                endpoint["params"] = {"limit": self.limit}
        else:
            endpoint["paginator"] = paginator
        if any(r.cut for r in self.runs):  # a cut body is retried: without the real backoff
            endpoint["error_handler"] = {"backoff_factor": 0}
        return {
            "client": {"base_url": BASE_URL},
            "resources": [
                {
                    "name": "items",
                    "primary_key": "id",
                    "write_disposition": self.disposition,
                    "endpoint": endpoint,
                }
            ],
        }


# --------------------------------------------------------------------------- the fake API


@dataclass
class FakeApi:
    """Serves one run of a scenario; `overflow` is set when the run asked past REQUEST_CAP."""

    scenario: Scenario
    run: RunData
    requests: int = 0
    overflow: bool = False
    records: tuple[dict[str, Any], ...] = ()
    log: list[str] = field(default_factory=list)
    #: The pages of `RunData.cut` already answered cut short.
    cut_served: set[int] = field(default_factory=set)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.log.append(str(request.url))
        if self.requests > REQUEST_CAP:
            self.overflow = True
            return httpx.Response(599, json={"error": "the test API's request cap"})
        style = self.scenario.style
        params = request.url.params
        self.records = self.run.records
        if "since" in params:  # incremental: only what changed after the cursor sent
            since = cursor_number(params["since"])
            self.records = tuple(r for r in self.run.records if cursor_number(r["updated"]) > since)
        if style == "page_number":
            page = int(params.get("page", "1"))
            size = min(
                int(params.get("per_page", self.scenario.limit)), self.scenario.clamp or 10**9
            )
            start = (page - 1) * size
            return self._window(start, start + size, page - 1, size, page=page)
        if style == "offset":
            offset = int(params.get("offset", "0"))
            limit = int(params.get("limit", self.scenario.limit))
            size = min(limit, self.scenario.clamp or 10**9)
            return self._window(
                offset, offset + size, offset // max(size, 1), size, offset=offset, limit=limit
            )
        bounds = self._bounds()
        position = 0
        if style == "cursor" and "cursor" in params:
            position = int(params["cursor"].removeprefix("c"))
        elif "after" in params:
            position = int(params["after"])
        index = bounds.index(position) if position in bounds else len(bounds)
        end = bounds[index + 1] if index + 1 < len(bounds) else len(self.records)
        return self._window(position, end, index, None)

    def _bounds(self) -> list[int]:
        """cursor/json_link: where each page starts (page sizes cycle through `sizes`)."""
        bounds, position, k = [], 0, 0
        n = len(self.records)
        while position < n:
            bounds.append(position)
            position += max(1, self.scenario.sizes[k % len(self.scenario.sizes)])
            k += 1
        return bounds or [0]

    def servable(self) -> list[dict[str, Any]]:
        """The records this API can serve at all: `RunData.served`, except that an API stuck
        from page k on (answering page k-1 to every later request) never serves the records
        after page k-1, whatever it is asked; what restsync loads is compared with these."""
        stuck = min((k for k, f in self.run.faults if f == "stuck" and k > 0), default=None)
        if stuck is None:
            return self.run.served()
        self.records = self.run.records
        paged = self.scenario.style in ("page_number", "offset")
        _, end = self._page_window(stuck - 1, self.scenario.window() if paged else None)
        return [r for i, r in enumerate(self.run.records) if i < end and i not in self.run.hidden]

    def _page_window(self, index: int, size: int | None) -> tuple[int, int]:
        """Where page `index` (0-based) starts and ends in the API's records."""
        if size:
            return index * size, (index + 1) * size
        bounds = self._bounds()
        ends = [*bounds[1:], len(self.records)]
        return (bounds[index], ends[index]) if index < len(bounds) else (0, 0)

    def _window(
        self, start: int, end: int, index: int, size: int | None, **echo: Any
    ) -> httpx.Response:
        """The page of records [start, end) (page `index`), or what a fault makes of it. `end`
        is also where the next cursor/link points, whatever the page holds."""
        n = len(self.records)
        faults = dict(self.run.faults)
        rows_from, rows_to = start, end
        if start >= n > 0 and self.run.past_end == "last_page" and size:
            rows_from, rows_to = self._page_window((n - 1) // size, size)
        stuck = min((k for k, f in faults.items() if f == "stuck" and k > 0), default=None)
        fault = faults.get(index) if start < n else None
        if stuck is not None and index >= stuck:  # from page `stuck` on: page stuck-1, always
            rows_from, rows_to = self._page_window(stuck - 1, size)
        elif fault == "null":
            return httpx.Response(200, content=b"null")
        elif fault == "error":
            return httpx.Response(
                200, content=orjson.dumps({"error": "upstream timeout", "data": None})
            )
        elif fault == "no_data":
            return httpx.Response(200, content=orjson.dumps({"message": "try again"}))
        elif fault == "previous" and index > 0:
            rows_from, rows_to = self._page_window(index - 1, size)
            if size:  # offset: the window just before the one asked for
                rows_from, rows_to = max(0, start - size), start
        rows = [
            r
            for i, r in enumerate(self.records[rows_from:rows_to], rows_from)
            if i not in self.run.hidden
        ]
        body: dict[str, Any] = {"data": rows}
        style = self.scenario.style
        if style in ("page_number", "offset"):
            true_total = math.ceil(n / size) if style == "page_number" and size else n
            total = {
                "right": true_total,
                "low": max(0, true_total - 1),
                "high": true_total + 2,
            }.get(self.run.total)
            if total is not None:
                body["total_pages" if style == "page_number" else "total"] = total
            body.update(echo)
        else:
            following = end if end < n else None
            if style == "cursor":
                body["next_cursor"] = None if following is None else f"c{following}"
            else:
                body["next"] = None if following is None else f"{BASE_URL}items?after={following}"
        content = orjson.dumps(body)
        if index in self.run.cut and index not in self.cut_served:
            self.cut_served.add(index)
            content = content[: len(content) // 2]
        return httpx.Response(200, content=content)


# --------------------------------------------------------------------------- reference model


def cursor_number(value: Any) -> float:
    """An incremental cursor's value as a number (it is served as a number or as digits)."""
    return float(value)


def incremental_served(
    records: tuple[dict[str, Any], ...], last: float | None
) -> list[dict[str, Any]]:
    """What an incremental run must load: the records whose cursor is past the last one
    loaded (all of them on the first run)."""
    return [r for r in records if last is None or cursor_number(r["updated"]) > last]


def canonical_key(value: Any) -> int | None:
    """The key a served id stands for (`1`, `1.0` and `"1"` are the key 1), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def _typed(value: Any) -> tuple[str, Any]:
    """A value with its JSON kind: True is not 1, 1 is not "1"; numbers compare exactly
    (Python compares int with float exactly, so 2**53 + 1 is not 2.0**53)."""
    if value is None:
        return ("null", None)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float, Decimal)):  # a DECIMAL column holds numbers exactly
        if isinstance(value, int) or (math.isfinite(value) and value == int(value)):
            return ("number", int(value))
        return (
            "number",
            float(value)
            if isinstance(value, Decimal) and Decimal(float(value)) == value
            else value,
        )
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_typed(v) for v in value))
    return ("text", value)


def image_of_record(record: dict[str, Any]) -> tuple[Any, ...]:
    """A served record as the destination must show it, in terms of the source: its key, the
    value of each field (the user field under the spelling served), its tags."""
    user = [(s, _typed(record[s])) for s in SPELLINGS if s in record and record[s] is not None]
    return (
        ("id", canonical_key(record["id"])),
        ("name", _typed(record.get("name"))),
        ("amount", _typed(record.get("amount"))),
        ("city", _typed((record.get("address") or {}).get("city"))),
        ("user", tuple(sorted(user))),
        ("tags", _typed(record.get("tags") or [])),
        ("updated", _cursor(record.get("updated"))),
    )


def _cursor(value: Any) -> Any:
    """The incremental cursor's value as a number: stored as a number or as its digits."""
    return None if value is None else cursor_number(value)


def expected_after(
    disposition: str, before: list[dict[str, Any]], served: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The destination's records after a successful run that was served `served`."""
    if disposition == "append":
        return [*before, *served]
    if disposition == "replace":
        return list(served)
    merged = {canonical_key(r["id"]): r for r in before}
    for record in served:
        merged[canonical_key(record["id"])] = record
    return list(merged.values())


# --------------------------------------------------------------------------- the destination


_VARIANT = re.compile(r"^(?P<base>.+?)__v_\w+$")
_GROUPS = {
    "id": "id",
    "name": "name",
    "amount": "amount",
    "address__city": "city",
    "updated": "updated",
}
_USER = re.compile(r"^user_id(_\d+)?$")


@dataclass
class DestinationImage:
    """The root table and its tags child table, read back in terms of the source."""

    columns: list[str]
    rows: list[dict[str, Any]]
    tags: dict[str, list[Any]]

    @classmethod
    def read(cls, db: Path, dataset: str) -> DestinationImage:
        if not db.exists():
            return cls([], [], {})
        with duckdb.connect(str(db), read_only=True) as con:
            tables = {
                t
                for (t,) in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                    [dataset],
                ).fetchall()
            }
            if "items" not in tables:
                return cls([], [], {})
            rel = con.sql(f'SELECT * FROM "{dataset}".items')
            columns = list(rel.columns)
            rows = [dict(zip(columns, row, strict=True)) for row in rel.fetchall()]
            tags: dict[str, list[Any]] = {}
            if "items__tags" in tables:
                for parent, _, value in con.sql(
                    f'SELECT _dlt_parent_id, _dlt_list_idx, value FROM "{dataset}".items__tags '
                    "ORDER BY _dlt_parent_id, _dlt_list_idx"
                ).fetchall():
                    tags.setdefault(parent, []).append(value)
        return cls(columns, rows, tags)

    @classmethod
    def read_postgres(cls, url: str, dataset: str) -> DestinationImage:
        import psycopg

        with psycopg.connect(url) as con:
            tables = {
                t
                for (t,) in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    [dataset],
                ).fetchall()
            }
            if "items" not in tables:
                return cls([], [], {})
            cursor = con.execute(f'SELECT * FROM "{dataset}".items')
            columns = [d.name for d in cursor.description or []]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            tags: dict[str, list[Any]] = {}
            if "items__tags" in tables:
                for parent, _, value in con.execute(
                    f'SELECT _dlt_parent_id, _dlt_list_idx, value FROM "{dataset}".items__tags '
                    "ORDER BY _dlt_parent_id, _dlt_list_idx"
                ).fetchall():
                    tags.setdefault(parent, []).append(value)
        return cls(columns, rows, tags)

    def difference(self, expected: list[dict[str, Any]]) -> str | None:
        """None when the destination holds exactly `expected`; else what differs."""
        data = [c for c in self.columns if not c.startswith("_dlt_")]
        groups: dict[str, list[str]] = {}
        for column in data:
            match = _VARIANT.match(column)
            base = match.group("base") if match else column
            groups.setdefault(base, []).append(column)
        unknown = [b for b in groups if b not in _GROUPS and not _USER.match(b)]
        if unknown:
            return f"columns that hold no served field: {unknown}"
        if any(c != "id" for c in groups.get("id", [])):
            return f"the key went to a variant column: {groups['id']}"
        user_bases = sorted(b for b in groups if _USER.match(b))
        spellings = sorted({s for r in expected for s in SPELLINGS if s in r})
        want = Counter(image_of_record(r) for r in expected)
        tried = []
        for chosen in (
            permutations(user_bases, len(spellings)) if len(user_bases) >= len(spellings) else []
        ):
            mapping = dict(zip(spellings, chosen, strict=True))
            unmapped = [b for b in user_bases if b not in chosen]
            got = Counter(self._image(row, groups, mapping, unmapped) for row in self.rows)
            if got == want:
                return None
            tried.append(got)
        if not tried:
            got = Counter(self._image(row, groups, {}, user_bases) for row in self.rows)
            tried.append(got)
        got = tried[0]
        missing = list((want - got).elements())[:3]
        extra = list((got - want).elements())[:3]
        return (
            f"{len(self.rows)} rows for {len(expected)} records; user field columns "
            f"{user_bases} for spellings {spellings}; expected but not loaded: {missing}; "
            f"loaded but not expected: {extra}"
        )

    def _image(
        self,
        row: dict[str, Any],
        groups: dict[str, list[str]],
        mapping: dict[str, str],
        unmapped: list[str],
    ) -> tuple[Any, ...]:
        def value(base: str) -> Any:
            present = [row[c] for c in groups.get(base, []) if row[c] is not None]
            return (
                present[0]
                if len(present) == 1
                else (None if not present else ("<several>", *present))
            )

        user = [(s, _typed(value(b))) for s, b in mapping.items() if value(b) is not None]
        user += [
            ("<unmapped " + b + ">", _typed(value(b))) for b in unmapped if value(b) is not None
        ]
        key = row.get("id")
        return (
            ("id", canonical_key(key) if key is not None else None),
            ("name", _typed(value("name"))),
            ("amount", _typed(value("amount"))),
            ("city", _typed(value("address__city"))),
            ("user", tuple(sorted(user))),
            ("tags", _typed(self.tags.get(row["_dlt_id"], []))),
            ("updated", _cursor(value("updated"))),
        )
