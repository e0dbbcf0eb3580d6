"""The generic checks every level of a config uses (keys, strings, choices, typed values)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from restsync.config._validate.messages import (
    _at,
    _key_types,
    _kind,
    _or,
    _quoted,
    _show,
    _type_problems,
    _unknown,
)
from restsync.errors import Problem
from restsync.util.redact import redact_text

# Cross-field rules within one dict: keys that exclude each other, by level. (The rules
# across dicts and resources, placeholders, parents, cycles and tables, are `_Checker`'s
# `across_resources`.)
EXCLUSIVE_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "paginator": (
        ("offset_param", "offset_body_path"),
        ("limit_param", "limit_body_path"),
        ("page_param", "page_body_path"),
        ("cursor_param", "cursor_body_path"),
    ),
    "auth": (("scope", "scopes"),),
    "endpoint": (("json", "data"),),
}


class _Base:
    """The problems found so far, and the checks that add to them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # resource_defaults' endpoint: a resource's paginator/auth of the same type is merged
        # into its entry, so its required keys are checked on the merged entry
        self.default_endpoint: Mapping[Any, Any] = {}

    def add(self, path: str, message: str) -> None:
        problem = Problem(path, redact_text(message))
        if problem not in self.problems:  # a merged entry may repeat its parts' problems
            self.problems.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        """Add problems found by a check that returns them (redacted, once each, as `add`)."""
        for problem in problems:
            self.add(problem.path, problem.message)

    def keys(
        self,
        path: str,
        value: Mapping[Any, Any],
        allowed: Iterable[str],
        unsupported: Mapping[str, str] | None = None,
    ) -> None:
        allowed = sorted(allowed)
        for key in value:
            if not isinstance(key, str):
                self.add(path, f"keys must be strings, got {_kind(key)} key {_show(key)}")
            elif unsupported and key in unsupported:
                self.add(_at(path, key), unsupported[key])
            elif key not in allowed:
                self.add(path, self.unknown("key", key, allowed))

    def unknown(self, what: str, word: str, choices: Sequence[str], secret: bool = False) -> str:
        return _unknown(what, word, choices, secret)

    def mapping(self, path: str, value: Any, what: str = "a dict") -> bool:
        if isinstance(value, Mapping):
            return True
        self.add(path, f"expected {what}, got {_kind(value)}")
        return False

    def string(self, path: str, value: Any, *, optional: bool = False) -> bool:
        if optional and value is None:
            return True
        if not isinstance(value, str):
            self.add(path, f"expected a string, got {_kind(value)}")
            return False
        if not value:
            self.add(path, "must not be empty")
            return False
        return True

    def choice(self, path: str, value: Any, choices: Sequence[str], what: str) -> bool:
        if not isinstance(value, str):
            self.add(path, f"expected {_or(_quoted(choices))}, got {_kind(value)}")
            return False
        if value not in choices:
            self.add(path, self.unknown(what, value, choices))
            return False
        return True

    def key_names(self, path: str, value: Any) -> None:
        """primary_key / merge_key: a column name or a list of them."""
        if isinstance(value, str):
            if not value:
                self.add(path, "must not be empty")
            return
        if isinstance(value, (list, tuple)) and value:
            for i, item in enumerate(value):
                if not isinstance(item, str) or not item:
                    self.add(_at(path, i), f"expected a column name, got {_kind(item)}")
            return
        what = "an empty list" if isinstance(value, (list, tuple)) else _kind(value)
        self.add(path, f"expected a column name or a list of column names, got {what}")

    def string_map(self, path: str, value: Any, *, secret_values: bool = False) -> None:
        if not self.mapping(path, value):
            return
        for key, item in value.items():
            if not isinstance(key, str):
                self.add(path, f"keys must be strings, got {_kind(key)} key {_show(key)}")
            elif not isinstance(item, str):
                self.add(_at(path, key), f"expected a string, got {_kind(item)}")

    def exclusive(self, path: str, value: Mapping[Any, Any], level: str) -> None:
        for a, b in EXCLUSIVE_KEYS[level]:
            if a in value and b in value:
                self.add(path, f"set either '{a}' or '{b}', not both")

    def typed(
        self, path: str, value: Mapping[Any, Any], typed_dict: type[Any], skip: Iterable[str] = ()
    ) -> None:
        """Check each present key's value against its type in `typed_dict` (but `skip`)."""
        types_of = _key_types(typed_dict)
        skipped = set(skip)
        for key, item in value.items():
            if key in types_of and key not in skipped:
                self.value(_at(path, key), item, types_of[key])

    def value(self, path: str, value: Any, annotation: Any, *, secret: bool = False) -> None:
        """Check `value` against a type of the dialect (generic over the TypedDicts' types)."""
        self.extend(_value_problems(path, value, annotation, secret=secret))


def _value_problems(
    path: str, value: Any, annotation: Any, *, secret: bool = False
) -> list[Problem]:
    """What is wrong with `value` at `path` as a value of `annotation` (the last key names it)."""
    what = path.rsplit(".", 1)[-1]
    return [Problem(path, p) for p in _type_problems(value, annotation, what=what, secret=secret)]
