"""`Incremental.filter` keys each cursor value once and hashes the boundary at the page's end;
it must decide exactly as the record-by-record rule it replaces (kept below as the oracle)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from restsync.errors import DataError
from restsync.extract._incremental import (
    BOUNDARY_CAP,
    Incremental,
    _key,
    _lookup,
    compare,
    parse_instant,
    record_hash,
)


class _Oracle:
    """The rule as written record by record: compare every value with every bound."""

    def __init__(self, inc: Incremental) -> None:
        self.inc = inc
        self.last_value = inc.last_value
        self.boundary: set[str] = set()
        self.dropped = 0

    def filter(self, records: list[Any]) -> list[Any]:
        inc = self.inc
        start = inc.start_value
        old_boundary = set(inc.stored.get("boundary", ())) if not inc.lag else set()
        stored_last = inc.stored.get("last_value")
        kept: list[Any] = []
        for record in records:
            if not isinstance(record, Mapping):
                kept.append(record)
                continue
            found, value = _lookup(record, inc.cursor_path)
            if not found or value is None:
                if inc.on_cursor_value_missing == "include":
                    kept.append(record)
                else:
                    self.dropped += 1
                continue
            not_instant = isinstance(value, str) and parse_instant(value) is None
            if not_instant and start is not None and _key(start)[0] == 1:
                raise ValueError("not a timestamp")
            if start is not None and compare(value, start) < 0:
                self.dropped += 1
                continue
            if inc.end_value is not None and compare(value, inc.end_value) >= 0:
                self.dropped += 1
                continue
            at_stored = stored_last is not None and compare(value, stored_last) == 0
            if old_boundary and at_stored and record_hash(record) in old_boundary:
                self.dropped += 1
                continue
            if self.last_value is None or compare(value, self.last_value) > 0:
                self.last_value = value
                self.boundary = {record_hash(record)}
            elif compare(value, self.last_value) == 0 and len(self.boundary) < BOUNDARY_CAP:
                self.boundary.add(record_hash(record))
            kept.append(record)
        return kept


# few distinct values, so that ties (the boundary) and equal instants written two ways happen
_instants = st.sampled_from(
    [
        "2024-05-01T12:00:00Z",
        "2024-05-01T14:00:00+02:00",
        "2024-05-01T12:00:01Z",
        "2024-05-01",
        "2024-04-30T23:59:59.5Z",
        "2024-05-02T00:00:00",
    ]
)
_values = st.one_of(
    _instants, st.integers(-3, 3), st.sampled_from([1.5, "abc", "zz", True]), st.none()
)
_records = st.lists(
    st.one_of(
        st.builds(lambda i, v: {"id": i, "updated_at": v}, st.integers(0, 5), _values),
        st.builds(lambda i: {"id": i}, st.integers(0, 5)),  # no cursor value
        st.just(7),  # not an object
    ),
    max_size=12,
)


@given(
    pages=st.lists(_records, max_size=4),
    stored=st.one_of(
        st.none(),
        st.builds(
            lambda last, ids: {
                "cursor_path": "updated_at",
                "last_value": last,
                "boundary": [record_hash({"id": i, "updated_at": last}) for i in ids],
            },
            _instants | st.integers(-3, 3),
            st.lists(st.integers(0, 5), max_size=3),
        ),
    ),
    initial=st.one_of(st.none(), _instants, st.integers(-3, 3)),
    end=st.one_of(st.none(), _instants, st.integers(-3, 3)),
    lag=st.sampled_from([None, 0, 1]),
    missing=st.sampled_from(["include", "exclude"]),
)
def test_filter_decides_as_the_record_by_record_rule(
    pages: list[list[Any]],
    stored: dict[str, Any] | None,
    initial: Any,
    end: Any,
    lag: int | None,
    missing: str,
) -> None:
    config: dict[str, Any] = {"cursor_path": "updated_at", "on_cursor_value_missing": missing}
    config.update(initial_value=initial, end_value=end, lag=lag)
    inc = Incremental.from_config("r", config, stored)
    oracle = _Oracle(Incremental.from_config("r", config, stored))
    for page in pages:
        try:
            expected: Any = oracle.filter(page)
        except ValueError:
            expected = ValueError
        try:
            got: Any = inc.filter(page, url="u")
        except DataError:  # what the oracle calls ValueError
            got = ValueError
        assert got == expected
        if expected is ValueError:
            return  # the resource fails there; nothing after it counts
        assert (inc.last_value, inc.boundary, inc.dropped) == (
            oracle.last_value,
            oracle.boundary,
            oracle.dropped,
        )


_ints = st.integers(-4, 4)


@given(
    pages=st.lists(
        st.lists(st.builds(lambda i, v: {"id": i, "seq": v}, st.integers(0, 3), _ints), max_size=8),
        max_size=4,
    ),
    stored=st.one_of(st.none(), st.tuples(_ints, st.lists(st.integers(0, 3), max_size=2))),
    initial=st.one_of(st.none(), _ints),
    end=st.one_of(st.none(), _ints),
    lag=st.sampled_from([None, 1]),
    range_start=st.sampled_from(["closed", "open"]),
    range_end=st.sampled_from(["closed", "open"]),
    key=st.sampled_from([None, "id", []]),
)
def test_min_is_max_mirrored(
    pages: list[list[dict[str, Any]]],
    stored: tuple[int, list[int]] | None,
    initial: int | None,
    end: int | None,
    lag: int | None,
    range_start: str,
    range_end: str,
    key: Any,
) -> None:
    """A `min` cursor over values keeps exactly what a `max` cursor keeps over their
    negations, and stores the negated cursor: one window, two directions."""

    def build(func: str, sign: int) -> Incremental:
        config: dict[str, Any] = {
            "cursor_path": "seq",
            "last_value_func": func,
            "initial_value": None if initial is None else sign * initial,
            "end_value": None if end is None else sign * end,
            "lag": lag,
            "range_start": range_start,
            "range_end": range_end,
            "primary_key": key,
        }
        state = None
        if stored is not None:
            last, ids = stored
            probe = Incremental.from_config("r", {"cursor_path": "seq", "primary_key": key}, None)
            boundary = [probe.identity({"id": i, "seq": sign * last}) for i in ids]
            state = {"cursor_path": "seq", "last_value": sign * last, "boundary": boundary}
        return Incremental.from_config("r", config, state)

    up, down = build("max", 1), build("min", -1)
    for page in pages:
        mirrored = [{"id": r["id"], "seq": -r["seq"]} for r in page]
        kept_up = up.filter(page, url="u")
        kept_down = down.filter(mirrored, url="u")
        assert [(r["id"], -r["seq"]) for r in kept_down] == [(r["id"], r["seq"]) for r in kept_up]
    state_up, state_down = up.new_state(), down.new_state()
    last_up, last_down = state_up.get("last_value"), state_down.get("last_value")
    assert last_down == (None if last_up is None else -last_up)
