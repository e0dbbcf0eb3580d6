"""Runs of digits in JSON text: where a number may be wider than a reader holds exactly.

Digits are mapped to "0" and every other byte to " ", then a plain substring search finds
the run: an order of magnitude faster than a regular expression over a whole page. A run
inside a string counts too, so a hit means "maybe", never "surely".

The two widths restsync cares about are defined here, once: an integer beyond 64 bits (which
orjson reads as a float, see `restsync.http._body.decode_json`, and which keeps a page from
travelling as its body, see `restsync.extract._packing`) and an integer beyond 2**53 (which a
double column would round, see `Normalizer.normalize_pages`).
"""

from __future__ import annotations

_DIGIT_MAP = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))

#: Digits in a row from which an integer may lie beyond 64 bits (2**64 has 20 digits).
INT64_DIGITS = 20
#: Digits in a row from which an integer may lie beyond 2**53, which a double rounds.
DOUBLE_DIGITS = 16


def has_digit_run(content: bytes, length: int) -> bool:
    """True when `content` holds `length` or more digits in a row."""
    return b"0" * length in content.translate(_DIGIT_MAP)


def may_exceed_int64(content: bytes) -> bool:
    """True when JSON text `content` may hold an integer beyond 64 bits."""
    return has_digit_run(content, INT64_DIGITS)


def may_exceed_double(content: bytes) -> bool:
    """True when JSON text `content` may hold an integer a double would round."""
    return has_digit_run(content, DOUBLE_DIGITS)
