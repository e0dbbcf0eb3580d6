"""The one walker of paths in JSON bodies and records, compiled once.

Every path restsync reads in data goes through it: `data_selector`, the paginators' paths
(`next_url_path`, `cursor_path`, `total_path`, ...), the incremental `cursor_path`, and
the parent fields a child resource names (`{resources.<parent>.<field>}`,
`include_from_parent`). The rules, dlt's reading of a path with one extension:

* anything with JSONPath syntax (`$.data[*]`, `$..items`, `items[-1]`) goes to
  jsonpath-ng, as in dlt (negative indexes are JSONPath's: `items[-1]` is the last item);
* a key that itself contains dots (`@odata.nextLink`) is found as a whole key first;
* a dotted path (`pagination.next`) walks dict keys; a segment of digits (`items.0`) is
  also a list position (restsync's extension: jsonpath-ng reads it as a key only). A
  negative segment (`items.-1`) is a key, never a position from the end, as in dlt.

A path that matches nothing gives no value; a present `null` is a value (`[None]`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Getter", "compile_path", "find_first", "is_jsonpath", "lookup"]

_JSONPATH_CHARS = frozenset("$[]*?()|")

Getter = Callable[[Any], list[Any]]


def is_jsonpath(path: str) -> bool:
    """True when `path` needs jsonpath-ng rather than a plain dotted walk."""
    return any(ch in _JSONPATH_CHARS for ch in path)


@functools.lru_cache(maxsize=512)
def compile_path(path: str) -> Getter:
    """Return a function that gives every value `path` matches in a body (maybe none).

    Raises:
        ValueError: `path` is JSONPath that jsonpath-ng cannot parse.
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
            if isinstance(body, Mapping) and key in body:
                return [body[key]]
            return []

        return find_key

    def find_dotted(body: Any) -> list[Any]:
        if isinstance(body, Mapping) and path in body:
            return [body[path]]
        value = body
        for part in parts:
            if isinstance(value, Mapping):
                if part not in value:
                    return []
                value = value[part]
            elif isinstance(value, list) and part.isdigit():
                index = int(part)
                if index >= len(value):
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


def lookup(record: Any, path: str) -> tuple[bool, Any]:
    """Whether `path` is in `record`, and its first value (None when it is not)."""
    found = compile_path(path)(record)
    return (True, found[0]) if found else (False, None)
