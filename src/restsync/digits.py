"""Runs of digits in JSON text: where a number may be wider than a reader holds exactly.

Digits are mapped to "0" and every other byte to " ", then a plain substring search finds
the run: an order of magnitude faster than a regular expression over a whole page. A run
inside a string counts too, so a hit means "maybe", never "surely".
"""

from __future__ import annotations

_DIGIT_MAP = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))


def has_digit_run(content: bytes, length: int) -> bool:
    """True when `content` holds `length` or more digits in a row."""
    return b"0" * length in content.translate(_DIGIT_MAP)
