"""`has_digit_run`: runs of digits in JSON text (a wide number maybe; never a miss)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restsync.digits import has_digit_run


@pytest.mark.parametrize(
    ("content", "length", "expected"),
    [
        (b'{"id": 12345678901234567890}', 19, True),
        (b'{"id": 1234567890123456789}', 19, True),
        (b'{"id": 123456789012345678}', 19, False),
        (b'{"id": 1234567890.123456789}', 19, False),  # the point breaks the run
        (b'{"id": -123456789012345678}', 19, False),  # the sign is not a digit
        (b'{"ref": "99999999999999999999"}', 19, True),  # in a string too: a "maybe"
        (b"", 1, False),
        ("Zahl ٣٣٣".encode(), 1, False),  # only ASCII digits: UTF-8 bytes never map to one
    ],
)
def test_examples(content: bytes, length: int, expected: bool) -> None:
    assert has_digit_run(content, length) is expected


@given(st.binary(max_size=200), st.integers(min_value=1, max_value=30))
def test_same_answer_as_scanning_the_bytes(content: bytes, length: int) -> None:
    longest = run = 0
    for byte in content:
        run = run + 1 if 0x30 <= byte <= 0x39 else 0
        longest = max(longest, run)
    assert has_digit_run(content, length) is (longest >= length)
