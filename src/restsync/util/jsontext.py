"""A value as JSON text, as a `json` column stores it."""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["json_text"]


def json_text(value: Any) -> str:
    """`value` as compact JSON text (orjson; non-string keys as text). What orjson cannot
    encode (an int beyond 64 bits, a set, an object) falls back to `json`, with `str` for
    what JSON has no form for and non-ASCII kept as is."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, default=str, ensure_ascii=False)
