from __future__ import annotations

import pytest

from restsync.errors import DataError
from restsync.extract._incremental import Incremental, compare, parse_instant


def make(stored=None, **cfg):
    base = {"cursor_path": "updated_at"}
    base.update(cfg)
    return Incremental.from_config("orders", base, stored)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2024-05-01T12:00:00Z", "2024-05-01T14:00:00+02:00", 0),
        ("2024-05-01T12:00:00.5Z", "2024-05-01T12:00:00Z", 1),
        ("2024-05-01T11:59:59-00:30", "2024-05-01T12:00:00Z", 1),
        ("2024-05-01", "2024-05-01T00:00:01Z", -1),
        (5, 10, -1),
        (2.5, 2.5, 0),
        ("b", "a", 1),
    ],
)
def test_compare_orders_instants_numbers_and_text(a, b, expected):
    assert compare(a, b) == expected


def test_parse_instant_rejects_text():
    assert parse_instant("not a date") is None
    assert parse_instant("2024-13-01T00:00:00Z") is None
    assert parse_instant("2024-05-01T00:00:00Z").tzinfo is not None


def test_first_run_keeps_everything_and_tracks_the_maximum():
    inc = make(initial_value="2024-01-01T00:00:00Z", start_param="since")
    assert inc.request_params() == {"since": "2024-01-01T00:00:00Z"}
    records = [
        {"id": 1, "updated_at": "2024-02-01T00:00:00Z"},
        {"id": 2, "updated_at": "2024-03-01T02:00:00+02:00"},
        {"id": 3, "updated_at": "2023-12-31T23:59:59Z"},  # before initial_value
    ]
    kept = inc.filter(records, url="u")
    assert [r["id"] for r in kept] == [1, 2]
    state = inc.new_state()
    assert state["last_value"] == "2024-03-01T02:00:00+02:00"
    assert len(state["boundary"]) == 1


def test_second_run_starts_at_stored_cursor_and_skips_boundary_duplicates():
    first = make()
    r1 = {"id": 1, "updated_at": "2024-03-01T00:00:00Z"}
    first.filter([r1, {"id": 0, "updated_at": "2024-02-01T00:00:00Z"}], url="u")
    stored = first.new_state()
    second = make(stored, start_param="since")
    assert second.request_params() == {"since": "2024-03-01T00:00:00Z"}
    r2 = {"id": 2, "updated_at": "2024-03-01T00:00:00Z"}  # same instant, new record
    kept = second.filter([r1, r2, {"id": 3, "updated_at": "2024-01-01T00:00:00Z"}], url="u")
    assert kept == [r2]
    assert second.new_state()["last_value"] == "2024-03-01T00:00:00Z"
    assert len(second.new_state()["boundary"]) == 2


def test_lag_moves_the_window_back_and_keeps_the_stored_mark():
    stored = {"cursor_path": "updated_at", "last_value": "2024-03-01T00:00:00Z", "boundary": []}
    inc = make(stored, start_param="since", lag=3600)
    assert inc.request_params() == {"since": "2024-02-29T23:00:00Z"}
    kept = inc.filter([{"id": 9, "updated_at": "2024-02-29T23:30:00Z"}], url="u")
    assert len(kept) == 1  # re-read inside the lag window
    assert inc.new_state()["last_value"] == "2024-03-01T00:00:00Z"  # never moves backwards


def test_end_value_is_exclusive():
    inc = make(initial_value=0, end_value=10, cursor_path="seq")
    kept = inc.filter([{"seq": 0}, {"seq": 9}, {"seq": 10}], url="u")
    assert [r["seq"] for r in kept] == [0, 9]


@pytest.mark.parametrize(("policy", "kept"), [("include", 2), ("exclude", 1)])
def test_missing_cursor_policies(policy, kept):
    inc = make(on_cursor_value_missing=policy)
    out = inc.filter([{"id": 1, "updated_at": "2024-01-01T00:00:00Z"}, {"id": 2}], url="u")
    assert len(out) == kept


def test_missing_cursor_raises_with_a_clear_message():
    inc = make()
    with pytest.raises(DataError) as info:
        inc.filter([{"id": 2, "updated_at": None}], url="http://h/v1/orders?page=2")
    text = str(info.value)
    assert "resource 'orders'" in text
    assert "no value at cursor_path 'updated_at'" in text
    assert "on_cursor_value_missing" in text


def test_unparsable_timestamp_cursor_raises():
    stored = {"cursor_path": "updated_at", "last_value": "2024-03-01T00:00:00Z", "boundary": []}
    inc = make(stored)
    with pytest.raises(DataError, match="not an ISO-8601 timestamp"):
        inc.filter([{"id": 1, "updated_at": "yesterday"}], url="u")


def test_changed_cursor_path_starts_over():
    stored = {"cursor_path": "modified", "last_value": "2024-03-01T00:00:00Z", "boundary": []}
    inc = make(stored, initial_value="2020-01-01T00:00:00Z")
    assert inc.start_value == "2020-01-01T00:00:00Z"


def test_convert_applies_to_request_values():
    inc = make(initial_value="2024-01-01T00:00:00Z", start_param="since", convert=lambda v: v[:10])
    assert inc.request_params() == {"since": "2024-01-01"}
    assert inc.placeholders()["start_value"] == "2024-01-01"
