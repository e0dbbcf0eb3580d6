"""Placeholders in endpoint paths, params, json, data and headers.

Two roots exist, as in dlt: `{resources.<parent>.<field>}` (a field of each record of the
parent resource; the field may be a dotted path) and `{incremental.start_value}` (also
`initial_value`, `last_value`, `end_value`). A bare `{name}` refers to a legacy
`params: {name: {"type": "resolve", ...}}` entry. `{{` and `}}` are literal braces, and
text with spaces inside braces (a GraphQL query) is not a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*(?:\.[^{}\s]+)?)\}(?!\})")

# The endpoint keys whose strings may hold placeholders.
PLACEHOLDER_KEYS: tuple[str, ...] = ("path", "params", "json", "data", "headers")


@dataclass(frozen=True)
class Placeholder:
    """One `{...}` found in the config; `where` is its key path below the endpoint."""

    text: str
    where: str

    @property
    def parts(self) -> list[str]:
        """The dotted parts, e.g. `['resources', 'posts', 'id']`."""
        return self.text.split(".")

    @property
    def root(self) -> str:
        """`resources`, `incremental`, or a bare name."""
        return self.parts[0]


def find_in_text(text: str) -> list[str]:
    """The placeholder names in one string, in order."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def replace_names(text: str, values: Mapping[str, str]) -> str:
    """`text` with each placeholder named in `values` replaced by its value."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def find_placeholders(endpoint: Mapping[str, Any]) -> list[Placeholder]:
    """Every placeholder in an endpoint dict's path, params, json, data and headers."""
    found: list[Placeholder] = []
    for key in PLACEHOLDER_KEYS:
        if key in endpoint:
            for where, text in _strings(endpoint[key], key):
                found.extend(Placeholder(name, where) for name in find_in_text(text))
    return found


def _strings(value: Any, where: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > 50:  # configs are not that deep; do not recurse forever on odd input
        return
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]", depth + 1)


__all__ = [
    "PLACEHOLDER_KEYS",
    "Placeholder",
    "find_in_text",
    "find_placeholders",
    "replace_names",
]
