"""Incremental extraction on a cursor field: the window, client-side filtering, boundary
deduplication and the new cursor value stored with the data (dlt's `incremental` keys).

State per resource (stored in `_restsync_state`, committed with the rows):

    {"cursor_path": "updated_at", "last_value": "2024-05-01T12:00:00Z",
     "boundary": ["<hash>", ...]}   # records at exactly last_value already loaded (capped)

A run's window, in the direction of `last_value_func` (`max`: values grow, `min`: they
shrink, a function: as it picks between two values):

- it starts at the stored cursor (moved back by `lag`, never past `initial_value`), else at
  `initial_value`. `range_start: closed` (the default) keeps the records at the start value
  that are not in the stored boundary; `open` drops every record at the start value;
- it ends before `end_value` (`range_end: open`, the default) or at it (`closed`). A run with
  an `end_value` is a backfill of that range: it neither reads nor moves the stored cursor;
- with `row_order` (`asc` or `desc`, in the direction of `last_value_func`) the API's records
  are known to be ordered, so a root resource stops paging after the page on which a record
  passed the window's end (`asc`) or fell behind its start (`desc`), see `past_window`;
- a record at the boundary is known by its `primary_key` (by default the resource's primary
  key, else the whole record); `primary_key: []` turns boundary deduplication off, as do
  `lag`, `range_start: open` and `end_value`.

`cursor_path` is a dotted path (`meta.updated`) or a JSONPath (`$.meta.updated`; the first
match is the value). Cursor values are compared as instants when both sides parse as
ISO-8601 timestamps (so `2024-05-01T14:00:00+02:00` equals `2024-05-01T12:00:00Z`), as
numbers when both are numbers or strings of digits (`"10"` after `"9"`), and as strings
otherwise.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

import orjson

from restsync.errors import DataError
from restsync.util.paths import compile_path

log = logging.getLogger("restsync.extract")

MissingPolicy = str  # "raise" | "include" | "exclude"
BOUNDARY_CAP = (
    10_000  # records kept for deduplication at the cursor value; older ones rely on merge
)
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

Key = tuple[int, Any]
#: How two cursor values stand in the window's direction: 1 when the first is ahead.
Order = Callable[[Key, Key, Any, Any], int]


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


def _number(text: str) -> int | Decimal | None:
    """The number a string of digits (`"10"`, `"-3"`, `"2.50"`) stands for, else None."""
    if not _NUMBER.fullmatch(text):
        return None
    return Decimal(text) if "." in text else int(text)


def _key(value: Any) -> Key:
    """A sort key that orders timestamps as instants and numbers (also as digit strings) as
    numbers."""
    if isinstance(value, bool):
        return (2, str(value))
    if isinstance(value, (int, float)):
        return (0, value)
    instant = parse_instant(value)
    if instant is not None:
        return (1, instant)
    if isinstance(value, str):
        number = _number(value)
        if number is not None:
            return (0, number)
    return (2, str(value))


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 as `a` is before, at or after `b` (instants, numbers, then strings)."""
    return _compare_keys(_key(a), _key(b), a, b)


def _compare_keys(ka: Key, kb: Key, a: Any, b: Any) -> int:
    """`compare(a, b)` given their keys (`_key(a)`, `_key(b)`)."""
    if ka[0] != kb[0]:
        # Mixed kinds (a number against a timestamp): compare their text, never crash.
        ka, kb = (2, str(a)), (2, str(b))
    return int(ka[1] > kb[1]) - int(ka[1] < kb[1])


def _descending(ka: Key, kb: Key, a: Any, b: Any) -> int:
    return -_compare_keys(ka, kb, a, b)


def _shift(value: Any, seconds: float) -> Any:
    """`value` moved by `seconds` (a number by that amount), in the value's own form; a
    value that is neither a number nor a timestamp is returned as it is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        moved = value + seconds
        if isinstance(value, int):  # widen the window, never narrow it
            return math.floor(moved) if seconds < 0 else math.ceil(moved)
        return moved
    instant = parse_instant(value)
    if instant is not None:
        shifted = instant + timedelta(seconds=float(seconds))
        if isinstance(value, str) and value.endswith("Z"):
            return shifted.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        return shifted.isoformat()
    if isinstance(value, str) and (number := _number(value)) is not None:
        return str(
            _shift(number, seconds) if isinstance(number, int) else number + Decimal(str(seconds))
        )
    return value


def _lookup(record: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """Whether `path` (dotted or JSONPath) finds a value in `record`, and the first one."""
    found = compile_path(path)(record)
    return (True, found[0]) if found else (False, None)


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.blake2b(
        orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=12
    ).hexdigest()


#: Where a record's cursor value stands against the window (`Incremental._place`).
_Placement = Literal["in", "behind", "beyond", "loaded"]


@dataclass(frozen=True, slots=True)
class _Window:
    """The window `Incremental.filter` applies to a page, with the sort keys of its ends."""

    order: Order
    find: Callable[[Any], list[Any]]
    start: Any
    end: Any
    start_key: Key | None
    end_key: Key | None
    open_start: bool
    open_end: bool
    stored_last: Any
    stored_key: Key | None
    old_boundary: frozenset[str]


def _key_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


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
    #: "max", "min", or a function picking the later of a sequence of cursor values
    last_value_func: str | Callable[[Sequence[Any]], Any] = "max"
    range_start: str = "closed"
    range_end: str = "open"
    row_order: str | None = None
    #: the fields that identify a boundary record; None: the whole record; (): no dedup
    primary_key: tuple[str, ...] | None = None
    #: `primary_key` is the incremental's own (else the resource's, whose absence from a
    #: record the normalizer reports)
    own_key: bool = False
    # running values for this run
    last_value: Any = None
    boundary: set[str] = field(default_factory=set)
    dropped: int = 0
    #: a record passed the window's end (`row_order: asc`) or fell behind its start (`desc`):
    #: the records after it are outside the window too
    past_window: bool = False
    #: the stored state as read; a backfill (`end_value`) hands it back unchanged
    kept_state: dict[str, Any] = field(default_factory=dict)
    #: `stored["boundary"]` as a set, made on the first page (up to BOUNDARY_CAP digests)
    _stored_boundary: frozenset[str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def from_config(
        cls,
        resource: str,
        config: Mapping[str, Any],
        stored: Mapping[str, Any] | None,
        *,
        primary_key: Sequence[str] | None = None,
    ) -> Incremental:
        """`config` is the endpoint's `incremental` dict; `primary_key` the resource's, the
        boundary's identity unless the config names its own."""
        kept = dict(stored or {})
        stored = kept
        if config.get("end_value") is not None:
            stored = {}  # a backfill of [initial_value, end_value): the cursor is not used
        elif stored.get("cursor_path") not in (None, config["cursor_path"]):
            log.warning(
                "resource '%s': cursor_path changed from '%s' to '%s'; starting from initial_value",
                resource,
                stored.get("cursor_path"),
                config["cursor_path"],
            )
            stored = {}
        func = config.get("last_value_func") or "max"
        func = "max" if func is max else "min" if func is min else func
        func = func if callable(func) else str(func)
        if config.get("primary_key") is not None:
            identity: tuple[str, ...] | None = _key_names(config["primary_key"])
        else:
            identity = tuple(primary_key) if primary_key else None
        inc = cls(
            resource=resource,
            cursor_path=config["cursor_path"],
            initial_value=config.get("initial_value"),
            end_value=config.get("end_value"),
            start_param=config.get("start_param"),
            end_param=config.get("end_param"),
            lag=config.get("lag"),
            on_cursor_value_missing=config.get("on_cursor_value_missing") or "raise",
            convert=config.get("convert"),
            stored=stored,
            last_value_func=func,
            range_start=config.get("range_start") or "closed",
            range_end=config.get("range_end") or "open",
            row_order=config.get("row_order"),
            primary_key=identity,
            own_key=config.get("primary_key") is not None,
            kept_state=kept,
        )
        inc.last_value = stored.get("last_value", inc.initial_value)
        if inc.lag and func not in ("max", "min"):
            log.warning(
                "resource '%s': incremental.lag needs last_value_func 'max' or 'min'; not applied",
                resource,
            )
        return inc

    # -- the window's direction -----------------------------------------------------------

    @property
    def order(self) -> Order:
        """How two values stand in the window's direction (1: the first is ahead)."""
        if self.last_value_func == "max":
            return _compare_keys
        if self.last_value_func == "min":
            return _descending
        return self._order_by_function

    def _order_by_function(self, ka: Key, kb: Key, a: Any, b: Any) -> int:
        if a == b:
            return 0
        func = self.last_value_func
        assert callable(func)
        try:
            picked = func((a, b))
        except Exception as exc:
            raise DataError(
                f"last_value_func failed on cursor values {a!r} and {b!r}: {exc}",
                resource=self.resource,
                hint="make endpoint.incremental.last_value_func accept these values",
            ) from None
        return -1 if picked == b else 1

    def _ahead(self, a: Any, b: Any) -> int:
        return self.order(_key(a), _key(b), a, b)

    @property
    def deduplicates(self) -> bool:
        """Whether records at the stored cursor value are told apart by the boundary."""
        return (
            self.range_start == "closed"
            and self.end_value is None
            and not self.lag
            and self.primary_key != ()
        )

    @property
    def start_value(self) -> Any:
        """Where this run's window starts: the stored cursor moved back by `lag` (never past
        `initial_value`), else initial_value."""
        last = self.stored.get("last_value")
        if last is None:
            return self.initial_value
        if not self.lag:
            return last
        if self.last_value_func not in ("max", "min"):
            return last  # as dlt: a lag only moves a max or min cursor (warned at start)
        back = -float(self.lag) if self.last_value_func == "max" else float(self.lag)
        lagged = _shift(last, back)
        if self.initial_value is not None and self._ahead(self.initial_value, lagged) >= 0:
            return self.initial_value
        return lagged

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

    def identity(self, record: Mapping[str, Any], *, url: str = "") -> str:
        """The digest a boundary record is known by (its primary key, else all of it)."""
        if not self.primary_key:
            return record_hash(record)
        missing = [k for k in self.primary_key if k not in record]
        if missing and not self.own_key:
            return record_hash(record)  # the normalizer fails the resource, naming the key
        if missing:
            fields = ", ".join(str(k) for k in list(record)[:12])
            raise DataError(
                f"a record from {url} has no primary key '{missing[0]}' "
                f"(endpoint.incremental.primary_key); the record's fields: {fields}",
                resource=self.resource,
                url=url,
                hint="set endpoint.incremental.primary_key to fields every record has; "
                "primary_key: [] turns boundary deduplication off",
            )
        values = [record[k] for k in self.primary_key]
        return hashlib.blake2b(
            orjson.dumps(values, option=orjson.OPT_SORT_KEYS), digest_size=12
        ).hexdigest()

    def _loaded(self, record: Mapping[str, Any], boundary: frozenset[str], url: str) -> bool:
        if self.identity(record, url=url) in boundary:
            return True
        # a boundary stored before the primary key was its identity holds whole records
        return bool(self.primary_key) and record_hash(record) in boundary

    def _window(self) -> _Window:
        """This page's view of the window: its ends with their sort keys, and the stored
        boundary (with the stored cursor's key while there is one to deduplicate against)."""
        order, find = self.order, compile_path(self.cursor_path)
        start, end = self.start_value, self.end_value
        stored_last = self.stored.get("last_value")
        if self._stored_boundary is None:  # the stored state does not change during a run
            stored = self.stored.get("boundary", ()) if self.deduplicates else ()
            self._stored_boundary = frozenset(stored)
        old_boundary = self._stored_boundary
        return _Window(
            order=order,
            find=find,
            start=start,
            end=end,
            start_key=_key(start) if start is not None else None,
            end_key=_key(end) if end is not None else None,
            open_start=self.range_start == "open",
            open_end=self.range_end == "open",
            stored_last=stored_last,
            stored_key=_key(stored_last) if old_boundary and stored_last is not None else None,
            old_boundary=old_boundary,
        )

    def _keeps_missing(self, index: int, url: str) -> bool:
        """Whether a record without a cursor value is kept (`on_cursor_value_missing`:
        include) or dropped (exclude); raises DataError otherwise."""
        if self.on_cursor_value_missing == "include":
            return True
        if self.on_cursor_value_missing == "exclude":
            return False
        raise DataError(
            f"record {index} from {url} has no value at cursor_path '{self.cursor_path}'",
            resource=self.resource,
            url=url,
            hint="fix endpoint.incremental.cursor_path, or set "
            "endpoint.incremental.on_cursor_value_missing to 'include' or 'exclude'",
        )

    def _cursor_key(self, value: Any, index: int, url: str, window: _Window) -> Key:
        """The sort key of a record's cursor value; a string that is no timestamp against a
        timestamp window start raises DataError."""
        key = _key(value)
        start_key = window.start_key
        if key[0] != 1 and isinstance(value, str) and start_key and start_key[0] == 1:
            raise DataError(
                f"record {index} from {url} has cursor value {value[:40]!r} at "
                f"'{self.cursor_path}', which is not an ISO-8601 timestamp",
                resource=self.resource,
                url=url,
                hint="check endpoint.incremental.cursor_path points at a timestamp "
                "field, or set on_cursor_value_missing: 'exclude'",
            )
        return key

    def _place(
        self, record: Mapping[str, Any], value: Any, key: Key, window: _Window, url: str
    ) -> _Placement:
        """Where a record's cursor value stands: behind the window's start, beyond its end,
        at the stored cursor and already loaded, or in the window."""
        order = window.order
        if window.start_key is not None:
            to_start = order(key, window.start_key, value, window.start)
            if to_start < 0 or (window.open_start and to_start == 0):
                return "behind"
        if window.end_key is not None:
            to_end = order(key, window.end_key, value, window.end)
            if to_end > 0 or (window.open_end and to_end == 0):
                return "beyond"
        if (
            window.stored_key is not None
            and order(key, window.stored_key, value, window.stored_last) == 0
            and self._loaded(record, window.old_boundary, url)
        ):
            return "loaded"
        return "in"

    def filter(self, records: list[Any], *, url: str) -> list[Any]:
        """Drop records outside the window and those already loaded at the boundary; track the
        new cursor value.

        Runs on every page in the extraction loop, so each record's cursor value is parsed
        once, and the boundary's digests are taken at the end of the page, of the records
        still at the highest value then (not of every record that was the highest so far).
        """
        window = self._window()
        last = self.last_value
        last_key = _key(last) if last is not None else None
        at_last: list[Mapping[str, Any]] = []  # this page's records at `last`, not hashed yet
        placed: set[_Placement] = set()  # where the dropped records stood
        kept: list[Any] = []
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                kept.append(record)  # the normalizer reports records that are not objects
                continue
            values = window.find(record)
            value = values[0] if values else None
            if value is None:
                if self._keeps_missing(index, url):
                    kept.append(record)
                else:
                    self.dropped += 1
                continue
            key = self._cursor_key(value, index, url, window)
            place = self._place(record, value, key, window, url)
            if place != "in":
                self.dropped += 1
                placed.add(place)
                continue
            ahead = 1 if last_key is None else window.order(key, last_key, value, last)
            if ahead > 0:
                last, last_key = value, key
                self.boundary = set()
                at_last = [record]
            elif ahead == 0:
                at_last.append(record)
            kept.append(record)
        self.last_value = last
        if (self.row_order == "asc" and "beyond" in placed) or (
            self.row_order == "desc" and "behind" in placed
        ):
            self.past_window = True
        for record in at_last:
            if len(self.boundary) >= BOUNDARY_CAP:
                break
            self.boundary.add(self.identity(record, url=url))
        return kept

    def new_state(self) -> dict[str, Any]:
        """The state to store with this run's rows (a backfill's: the state as it was)."""
        if self.end_value is not None:
            return dict(self.kept_state)
        last = self.last_value
        stored_last = self.stored.get("last_value")
        if stored_last is not None and (last is None or self._ahead(stored_last, last) > 0):
            # Nothing newer arrived (e.g. a lag window re-read older rows): keep the stored mark.
            return dict(self.stored)
        boundary = set(self.boundary) if self.deduplicates else set()
        if (
            self.deduplicates
            and stored_last is not None
            and last is not None
            and self._ahead(last, stored_last) == 0
        ):
            boundary |= set(self.stored.get("boundary", ()))
        return {
            "cursor_path": self.cursor_path,
            "last_value": last,
            "boundary": sorted(boundary)[:BOUNDARY_CAP],
        }
