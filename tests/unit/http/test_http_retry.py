from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restsync.errors import ConfigError
from restsync.http._retry import RetryPolicy, parse_retry_after

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def http_date(dt: datetime) -> str:
    return format_datetime(dt, usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        (" 7 ", 7.0),
        (b"3", 3.0),
        (5, 5.0),
        ("0", None),
        ("0.0", None),
        ("-3", None),
        (-1, None),
        ("", None),
        (None, None),
        ("soon", None),
        ("1e3", None),
        ("nan", None),
        (http_date(NOW + timedelta(seconds=30)), 30.0),
        (http_date(NOW - timedelta(seconds=30)), None),
        (http_date(NOW), None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),  # long past
        ("99999", 300.0),  # capped
        (http_date(NOW + timedelta(days=2)), 300.0),
    ],
)
def test_parse_retry_after(value: object, expected: float | None) -> None:
    assert parse_retry_after(value, NOW.timestamp()) == expected  # type: ignore[arg-type]


def test_parse_retry_after_accepts_datetime_now_and_custom_cap() -> None:
    assert parse_retry_after(http_date(NOW + timedelta(seconds=90)), NOW, cap=60) == 60.0


@given(st.integers(min_value=-(10**9), max_value=10**12))
def test_every_seconds_value_parses_within_cap(seconds: int) -> None:
    result = parse_retry_after(str(seconds), NOW.timestamp(), cap=300)
    assert result is None if seconds <= 0 else 0 < result <= 300


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.just(timezone.utc),
    )
)
def test_every_http_date_parses_within_cap(when: datetime) -> None:
    result = parse_retry_after(http_date(when), NOW.timestamp(), cap=300)
    if when.replace(microsecond=0) <= NOW:
        assert result is None
    else:
        assert result is not None
        assert 0 < result <= 300


@given(st.text(max_size=40))
def test_garbage_never_raises_and_stays_within_cap(text: str) -> None:
    result = parse_retry_after(text, NOW.timestamp(), cap=300)
    assert result is None or 0 < result <= 300


def test_backoff_without_jitter_doubles_up_to_max() -> None:
    policy = RetryPolicy(jitter=False, backoff_factor=2, max_backoff=10)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 10]


def test_full_jitter_stays_within_the_exponential_delay() -> None:
    policy = RetryPolicy(backoff_factor=2, max_backoff=60)
    rng = random.Random(7)
    for n in range(1, 8):
        for _ in range(50):
            assert 0 <= policy.backoff(n, rng=rng) <= min(60, 2 * 2 ** (n - 1))


def test_decorrelated_jitter_bounds() -> None:
    policy = RetryPolicy(backoff_factor=1, max_backoff=20, jitter="decorrelated")
    rng = random.Random(3)
    previous = None
    for n in range(1, 30):
        delay = policy.backoff(n, rng=rng, previous=previous)
        assert 1 <= delay <= 20
        assert delay <= 3 * (previous or 1) + 1e-9
        previous = delay


def test_zero_backoff_factor_never_waits() -> None:
    assert RetryPolicy(backoff_factor=0).backoff(3, rng=random.Random(1)) == 0


def test_from_config_defaults_and_seed() -> None:
    assert RetryPolicy.from_config(None) == RetryPolicy()
    policy = RetryPolicy.from_config(
        {"retry_on_status_codes": [503, 429, 500, 502, 504], "max_retries": 3, "backoff_factor": 2}
    )
    assert policy.retry_on_status_codes == (429, 500, 502, 503, 504)
    assert policy.max_retries == 3
    assert policy.backoff_factor == 2


def test_from_config_reports_every_problem_with_paths() -> None:
    with pytest.raises(ConfigError) as info:
        RetryPolicy.from_config(
            {"max_retry": 3, "backoff_factor": "fast", "retry_on_status_codes": [429, "x"]},
            path="resources[0].endpoint.error_handler",
        )
    text = str(info.value)
    assert "3 problems" in text
    assert (
        "resources[0].endpoint.error_handler.max_retry: unknown key (did you mean 'max_retries'?)"
        in text
    )
    assert "resources[0].endpoint.error_handler.backoff_factor: expected a number" in text
    assert "retry_on_status_codes: expected a list of HTTP status codes" in text
