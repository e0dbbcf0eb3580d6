"""What an endpoint's pages look like, so a page that breaks the pattern is not taken as the end.

A paginated endpoint answers with one shape: a list, or an object with the records at one
place (`data`, `results.items`, ...). When a later page is a `null`, an error object
(`{"error": ..., "data": null}`) or lacks the records' place altogether, the API has not
said "no more records": it has failed. Taking that page as an empty last page would drop
every page after it, so `PageShape.mismatch` names what is wrong and the extraction engine
makes it an error (after the endpoint's retries). A first page that is an error object
without records is an error too (it is not an empty collection).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from restsync.util.paths import compile_path
from restsync.util.redact import redact_text

__all__ = ["ERROR_KEYS", "PageShape"]

#: Keys by which an object body says it is an error.
ERROR_KEYS = ("error", "errors", "fault")
_SHOWN = 160


@dataclass
class PageShape:
    """The shape of the first page that carried records; later pages are compared with it."""

    data_selector: str | None = None
    #: "list" or "object", once a page with records has been seen.
    kind: str | None = None
    #: Where the records were, in an object body found without a selector (keys).
    where: tuple[str, ...] = ()
    #: Error keys the shape page itself carried (then they are part of the shape).
    error_keys: frozenset[str] = frozenset()

    def learn(self, body: Any, records: list[Any]) -> None:
        """Remember the shape of `body`, the first page with records."""
        if self.kind is not None or not records:
            return
        if isinstance(body, list):
            self.kind = "list"
            return
        if not isinstance(body, dict):
            return
        self.kind = "object"
        self.error_keys = frozenset(k for k in ERROR_KEYS if body.get(k))
        if not self.data_selector:
            self.where = _locate(body, records[0])

    def mismatch(self, body: Any) -> str | None:
        """What is wrong with a later page's `body`, in words, or None when it fits. Before
        any page with records (the first page), only an error object without records is
        wrong: a `null` or an empty object there is an empty collection (a Go API's nil
        slice is `null`), but `{"error": "upstream timeout", "data": null}` is a failure."""
        if self.kind is None:
            return self._error_without_records(body)
        if body is None or body == "":
            return "an empty body (null)"
        if self.kind == "list":
            return None if isinstance(body, list) else f"{_what(body)} instead of a list"
        if not isinstance(body, dict):
            return f"{_what(body)} instead of an object"
        errors = [k for k in ERROR_KEYS if body.get(k) and k not in self.error_keys]
        if errors:
            return f"an error object ({errors[0]}: {_excerpt(body[errors[0]])})"
        place = self._records_place(body)
        if place is not None:
            return place
        return None

    def expected(self) -> str:
        """The shape the endpoint has been answering, in words."""
        if self.kind is None:
            return "records, or none without an error"
        if self.kind == "list":
            return "a list of records"
        where = self.data_selector or ".".join(self.where)
        return f"an object with the records at '{where}'" if where else "an object of records"

    def _error_without_records(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return None
        errors = [k for k in ERROR_KEYS if body.get(k)]
        if not errors or self._holds_records(body, errors):
            return None
        return f"an error object ({errors[0]}: {_excerpt(body[errors[0]])})"

    def _holds_records(self, body: dict[str, Any], errors: list[str]) -> bool:
        """Whether `body` holds records beside its error keys (a partial success)."""
        if self.data_selector:
            found = compile_path(self.data_selector)(body)
            return any(value not in (None, [], {}) for value in found)
        for key, value in body.items():
            if key in errors:
                continue
            if type(value) is list and value:
                return True
            if isinstance(value, dict) and any(
                type(inner) is list and inner for inner in value.values()
            ):
                return True
        return False

    def _records_place(self, body: dict[str, Any]) -> str | None:
        if self.data_selector:
            found = compile_path(self.data_selector)(body)
            if not found:
                return f"an object without '{self.data_selector}' (keys: {_keys(body)})"
            if all(value is None for value in found):
                return f"'{self.data_selector}' is null"
            return None
        if not self.where:
            return None
        value: Any = body
        for key in self.where:
            if not isinstance(value, dict) or key not in value:
                return f"an object without '{'.'.join(self.where)}' (keys: {_keys(body)})"
            value = value[key]
        return f"'{'.'.join(self.where)}' is null" if value is None else None


def _locate(body: dict[str, Any], first: Any) -> tuple[str, ...]:
    """The key path (one or two keys) of the list whose first item is `first`."""
    for key, value in body.items():
        if type(value) is list and value and value[0] is first:
            return (key,)
        if isinstance(value, dict):
            for inner, nested in value.items():
                if type(nested) is list and nested and nested[0] is first:
                    return (key, inner)
    return ()


def _what(body: Any) -> str:
    if isinstance(body, dict):
        return f"an object (keys: {_keys(body)})"
    if isinstance(body, list):
        return "a list"
    return f"a JSON {type(body).__name__} ({_excerpt(body)})"


def _keys(body: dict[str, Any]) -> str:
    keys = list(body)
    return ", ".join(keys[:10]) + (", ..." if len(keys) > 10 else "") if keys else "none"


def _excerpt(value: Any) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    text = redact_text(text)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
