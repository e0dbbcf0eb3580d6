"""Looking values up in a JSON body by a dotted path or a JSONPath, compiled once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_JSONPATH_CHARS = frozenset("$[]*?()|")

Getter = Callable[[Any], list[Any]]


def is_jsonpath(path: str) -> bool:
    """True when `path` needs jsonpath-ng rather than a plain dotted walk."""
    return any(ch in _JSONPATH_CHARS for ch in path)


@functools.lru_cache(maxsize=512)
def compile_path(path: str) -> Getter:
    """Return a function that gives every value `path` matches in a body (maybe none).

    A dotted path (`pagination.next`) walks dict keys, and list positions for digit
    segments; anything with JSONPath syntax (`$.data[*]`, `$..items`) goes to jsonpath-ng.
    A key that itself contains dots (`@odata.nextLink`) is found as a whole key first.
    """
    if is_jsonpath(path):
        from jsonpath_ng.ext.parser import parse  # imported lazily: it is slow to import

        try:
            expr = parse(path)
        except Exception as exc:  # jsonpath-ng raises several unrelated types
            raise ValueError(f"invalid JSONPath {path!r}: {exc}") from None

        def find_jsonpath(body: Any) -> list[Any]:
            if type(body) is dict and path in body:
                return [body[path]]
            return [match.value for match in expr.find(body)]

        return find_jsonpath

    parts = tuple(path.split("."))
    if len(parts) == 1:
        key = parts[0]

        def find_key(body: Any) -> list[Any]:
            if type(body) is dict and key in body:
                return [body[key]]
            return []

        return find_key

    def find_dotted(body: Any) -> list[Any]:
        if type(body) is dict and path in body:
            return [body[path]]
        value = body
        for part in parts:
            if type(value) is dict:
                if part not in value:
                    return []
                value = value[part]
            elif type(value) is list and part.lstrip("-").isdigit():
                index = int(part)
                if not -len(value) <= index < len(value):
                    return []
                value = value[index]
            else:
                return []
        return [value]

    return find_dotted


def find_first(body: Any, path: str) -> Any:
    """The first value `path` matches in `body`, or None."""
    found = compile_path(path)(body)
    return found[0] if found else None
