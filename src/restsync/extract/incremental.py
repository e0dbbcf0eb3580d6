"""Incremental extraction on a cursor field: the request window, client-side filtering,
boundary deduplication and the new cursor value stored with the data.

State per resource (stored in `_restsync_state`, committed with the rows):

    {"cursor_path": "updated_at", "last_value": "2024-05-01T12:00:00Z",
     "boundary": ["<hash>", ...]}   # records at exactly last_value already loaded (capped)

Cursor values are compared as instants when both sides parse as ISO-8601 timestamps (so
`2024-05-01T14:00:00+02:00` equals `2024-05-01T12:00:00Z`), as numbers when both are numbers,
and as strings otherwise.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import orjson

from restsync.errors import DataError

log = logging.getLogger("restsync.extract")

MissingPolicy = str  # "raise" | "include" | "exclude"
BOUNDARY_CAP = (
    10_000  # records kept for deduplication at the cursor value; older ones rely on merge
)


def parse_instant(value: Any) -> datetime | None:
    """An aware datetime for an ISO-8601 string or a date, else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if not isinstance(value, str) or len(value) < 10 or not value[:4].isdigit():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _key(value: Any) -> tuple[int, Any]:
    """A sort key that orders timestamps as instants and numbers as numbers."""
    if isinstance(value, bool):
        return (2, str(value))
    if isinstance(value, (int, float)):
        return (0, value)
    instant = parse_instant(value)
    if instant is not None:
        return (1, instant)
    return (2, str(value))


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 as `a` is before, at or after `b` (instants, numbers, then strings)."""
    return _compare_keys(_key(a), _key(b), a, b)


def _compare_keys(ka: tuple[int, Any], kb: tuple[int, Any], a: Any, b: Any) -> int:
    """`compare(a, b)` given their keys (`_key(a)`, `_key(b)`)."""
    if ka[0] != kb[0]:
        # Mixed kinds (a number against a timestamp): compare their text, never crash.
        ka, kb = (2, str(a)), (2, str(b))
    return int(ka[1] > kb[1]) - int(ka[1] < kb[1])


def _apply_lag(value: Any, lag: float | None) -> Any:
    if not lag:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value - lag
    instant = parse_instant(value)
    if instant is not None:
        shifted = instant - timedelta(seconds=float(lag))
        if isinstance(value, str) and value.endswith("Z"):
            return shifted.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        return shifted.isoformat()
    return value


def _lookup(record: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    current: Any = record
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return False, None
    return True, current


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.blake2b(
        orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=12
    ).hexdigest()


@dataclass
class Incremental:
    """One resource's incremental window for this run.

    Example config: `{"cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z",
    "start_param": "updated_at_min", "lag": 3600}`.
    """

    resource: str
    cursor_path: str
    initial_value: Any = None
    end_value: Any = None
    start_param: str | None = None
    end_param: str | None = None
    lag: float | None = None
    on_cursor_value_missing: MissingPolicy = "raise"
    convert: Callable[[Any], Any] | None = None
    stored: dict[str, Any] = field(default_factory=dict)
    # running values for this run
    last_value: Any = None
    boundary: set[str] = field(default_factory=set)
    dropped: int = 0
    #: `stored["boundary"]` as a set, made on the first page (up to BOUNDARY_CAP digests)
    _stored_boundary: frozenset[str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def from_config(
        cls, resource: str, config: Mapping[str, Any], stored: Mapping[str, Any] | None
    ) -> Incremental:
        stored = dict(stored or {})
        if stored.get("cursor_path") not in (None, config["cursor_path"]):
            log.warning(
                "resource '%s': cursor_path changed from '%s' to '%s'; starting from initial_value",
                resource,
                stored.get("cursor_path"),
                config["cursor_path"],
            )
            stored = {}
        inc = cls(
            resource=resource,
            cursor_path=config["cursor_path"],
            initial_value=config.get("initial_value"),
            end_value=config.get("end_value"),
            start_param=config.get("start_param"),
            end_param=config.get("end_param"),
            lag=config.get("lag"),
            on_cursor_value_missing=config.get("on_cursor_value_missing", "raise"),
            convert=config.get("convert"),
            stored=stored,
        )
        inc.last_value = stored.get("last_value", inc.initial_value)
        return inc

    @property
    def start_value(self) -> Any:
        """Where this run's window starts: the stored cursor minus `lag`, else initial_value."""
        if "last_value" in self.stored and self.stored["last_value"] is not None:
            return _apply_lag(self.stored["last_value"], self.lag)
        return self.initial_value

    def _request_value(self, value: Any) -> Any:
        if value is None:
            return None
        return self.convert(value) if self.convert else value

    def placeholders(self) -> dict[str, Any]:
        """Values for `{incremental.*}` placeholders in params, path, json and headers."""
        return {
            "start_value": self._request_value(self.start_value),
            "initial_value": self._request_value(self.initial_value),
            "end_value": self._request_value(self.end_value),
            "last_value": self._request_value(self.start_value),
        }

    def request_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        start = self.start_value
        if self.start_param and start is not None:
            params[self.start_param] = self._request_value(start)
        if self.end_param and self.end_value is not None:
            params[self.end_param] = self._request_value(self.end_value)
        return params

    def filter(self, records: list[Any], *, url: str) -> list[Any]:
        """Drop records outside the window and those already loaded at the boundary; track the
        new cursor value.

        Runs on every page in the extraction loop, so each record's cursor value is parsed
        once, and the boundary's digests are taken at the end of the page, of the records
        still at the highest value then (not of every record that was the highest so far).
        """
        start, end = self.start_value, self.end_value
        start_key = _key(start) if start is not None else None
        end_key = _key(end) if end is not None else None
        stored_last = self.stored.get("last_value")
        if self._stored_boundary is None:  # the stored state does not change during a run
            self._stored_boundary = frozenset(() if self.lag else self.stored.get("boundary", ()))
        old_boundary = self._stored_boundary
        stored_key = _key(stored_last) if old_boundary and stored_last is not None else None
        last = self.last_value
        last_key = _key(last) if last is not None else None
        at_last: list[Mapping[str, Any]] = []  # this page's records at `last`, not hashed yet
        missing = self.on_cursor_value_missing
        kept: list[Any] = []
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                kept.append(record)  # the normalizer reports records that are not objects
                continue
            found, value = _lookup(record, self.cursor_path)
            if not found or value is None:
                if missing == "include":
                    kept.append(record)
                    continue
                if missing == "exclude":
                    self.dropped += 1
                    continue
                raise DataError(
                    f"record {index} from {url} has no value at cursor_path '{self.cursor_path}'",
                    resource=self.resource,
                    url=url,
                    hint="fix endpoint.incremental.cursor_path, or set "
                    "endpoint.incremental.on_cursor_value_missing to 'include' or 'exclude'",
                )
            key = _key(value)
            if key[0] == 2 and isinstance(value, str) and start_key and start_key[0] == 1:
                raise DataError(
                    f"record {index} from {url} has cursor value {value[:40]!r} at "
                    f"'{self.cursor_path}', which is not an ISO-8601 timestamp",
                    resource=self.resource,
                    url=url,
                    hint="check endpoint.incremental.cursor_path points at a timestamp "
                    "field, or set on_cursor_value_missing: 'exclude'",
                )
            if start_key is not None and _compare_keys(key, start_key, value, start) < 0:
                self.dropped += 1
                continue
            if end_key is not None and _compare_keys(key, end_key, value, end) >= 0:
                self.dropped += 1
                continue
            if (
                stored_key is not None
                and _compare_keys(key, stored_key, value, stored_last) == 0
                and record_hash(record) in old_boundary
            ):
                self.dropped += 1
                continue
            order = 1 if last_key is None else _compare_keys(key, last_key, value, last)
            if order > 0:
                last, last_key = value, key
                self.boundary = set()
                at_last = [record]
            elif order == 0:
                at_last.append(record)
            kept.append(record)
        self.last_value = last
        for record in at_last:
            if len(self.boundary) >= BOUNDARY_CAP:
                break
            self.boundary.add(record_hash(record))
        return kept

    def new_state(self) -> dict[str, Any]:
        """The state to store with this run's rows."""
        last = self.last_value
        stored_last = self.stored.get("last_value")
        boundary = set(self.boundary)
        if stored_last is not None and last is not None and compare(last, stored_last) == 0:
            boundary |= set(self.stored.get("boundary", ()))
        if stored_last is not None and (last is None or compare(stored_last, last) > 0):
            # Nothing newer arrived (e.g. a lag window re-read older rows): keep the stored mark.
            return dict(self.stored)
        return {
            "cursor_path": self.cursor_path,
            "last_value": last,
            "boundary": sorted(boundary)[:BOUNDARY_CAP],
        }
