"""Finding the records in a response (`endpoint.data_selector`).

With a selector:

- a plain top-level key (`data`) is a dict lookup, with no JSONPath machinery (this
  runs once per page);
- a dotted path (`data.items`) walks dict keys (and list positions for digit parts);
- anything with JSONPath syntax (`$.data[*]`, `$..items`) goes to jsonpath-ng. Several
  matches that are all lists are concatenated (`$..items` over several groups);
  otherwise the matches are the records.

The selected value becomes the page's records: a list is used as it is, `null` gives no
records, an object gives one record, a scalar one record. A selector that matches
nothing in a non-empty body raises `SelectorError`, which lists the top-level keys seen.

Without a selector (`None` or `""`):

- a list body is the records;
- in an object body, the first of the usual record keys that holds a list is used
  (`data, items, results, entries, records, rows, entities, payload, content, objects,
  values`); when such a key holds an object, the usual keys are looked for one level
  inside it (`{"data": {"items": [...]}}`), and an object with no list there is one
  record;
- else the one top-level key that holds a list (paging keys such as `meta`,
  `pagination`, `links` are never records); several candidates raise `SelectorError`
  asking for a selector, rather than guessing;
- an object body with no list at all is one record (a single-entity endpoint such as
  `/users/42`), unless all its keys are paging information (`total`, `next`, `meta`,
  ...: a last page that left the records out); an empty object, `null` or an empty body
  gives no records.
"""

from __future__ import annotations

from typing import Any

from restsync.errors import SelectorError
from restsync.util.paths import compile_path

__all__ = ["KNOWN_RECORD_KEYS", "NON_RECORD_KEYS", "PAGING_KEYS", "select_records"]

KNOWN_RECORD_KEYS = (
    "data",
    "items",
    "results",
    "entries",
    "records",
    "rows",
    "entities",
    "payload",
    "content",
    "objects",
    "values",
)
NON_RECORD_KEYS = frozenset(
    {"meta", "metadata", "pagination", "paging", "links", "_links", "errors", "warnings"}
)
#: Keys that carry paging information; an object made only of these holds no record.
PAGING_KEYS = frozenset(
    {
        "next", "next_url", "nextUrl", "nextPageUrl", "next_page_url", "@odata.nextLink",
        "previous", "prev", "total", "count", "total_count", "totalCount", "page", "pages",
        "per_page", "perPage", "page_size", "pageSize", "limit", "offset", "has_more",
        "hasMore", "cursor", "next_cursor", "nextCursor", "next_page_token", "nextPageToken",
        "total_pages", "totalPages",
    }
)  # fmt: skip
_PLAIN_KEY_EXCLUDED = frozenset("$.[]*?@()|")
_MAX_KEYS_SHOWN = 12


def select_records(body: Any, data_selector: str | None, *, resource: str, url: str) -> list[Any]:
    """The records of one response body.

    Args:
        body: the decoded JSON of the response.
        data_selector: the endpoint's `data_selector`, or None to find the records.
        resource: the resource name, for error messages.
        url: the response's URL with secrets masked, for error messages.

    Raises:
        SelectorError: the selector matched nothing, or the records cannot be told apart.
    """
    if data_selector:
        # The common case first: a plain top-level key, without any JSONPath overhead.
        if type(body) is dict and data_selector in body:
            return _as_records(body[data_selector])
        if _is_plain_key(data_selector):
            return _miss(body, data_selector, resource, url)
        matches = compile_path(data_selector)(body)
        if not matches:
            return _miss(body, data_selector, resource, url)
        if len(matches) == 1:
            return _as_records(matches[0])
        if all(type(m) is list for m in matches):
            return [record for match in matches for record in match]
        return [m for m in matches if m is not None]
    return _auto_select(body, resource, url)


def _is_plain_key(selector: str) -> bool:
    return not any(ch in _PLAIN_KEY_EXCLUDED for ch in selector)


def _as_records(value: Any) -> list[Any]:
    if type(value) is list:
        return value
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def _is_empty(body: Any) -> bool:
    return body is None or body == "" or body == {} or body == []


def _miss(body: Any, selector: str, resource: str, url: str) -> list[Any]:
    if _is_empty(body):
        return []
    if isinstance(body, dict):
        keys = list(body)
        shown = ", ".join(keys[:_MAX_KEYS_SHOWN]) + (", ..." if len(keys) > _MAX_KEYS_SHOWN else "")
        seen = f"top-level keys: {shown}"
        lists = [k for k in keys if isinstance(body[k], list) and k not in NON_RECORD_KEYS]
        hint = (
            f"set endpoint.data_selector to one of: {', '.join(lists[:_MAX_KEYS_SHOWN])}"
            if lists
            else "set endpoint.data_selector to the path of the records "
            "(a dotted path such as 'data.items', or JSONPath)"
        )
    elif isinstance(body, list):
        seen = f"the response is a list of {len(body)} items"
        hint = "remove endpoint.data_selector: a list response is used as the records"
    else:
        seen = f"the response is a JSON {_kind(body)}, not an object"
        hint = "check that the endpoint returns JSON records"
    raise SelectorError(
        f"data_selector '{selector}' matched nothing in the response from {url}; {seen}",
        resource=resource,
        url=url,
        hint=hint,
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__


def _list_keys(body: dict[str, Any]) -> list[str]:
    return [k for k, v in body.items() if type(v) is list and k not in NON_RECORD_KEYS]


def _auto_select(body: Any, resource: str, url: str) -> list[Any]:
    if type(body) is list:
        return body
    if _is_empty(body):
        return []
    if not isinstance(body, dict):
        raise SelectorError(
            f"the response from {url} is a JSON {_kind(body)}, not an object or list",
            resource=resource,
            url=url,
            hint="check that the endpoint returns JSON records, or set endpoint.data_selector",
        )
    for key in KNOWN_RECORD_KEYS:
        if type(body.get(key)) is list:
            return list(body[key])
    for key in KNOWN_RECORD_KEYS:
        if key not in body:
            continue
        value = body[key]
        if value is None:
            return []
        if isinstance(value, dict):
            for inner in KNOWN_RECORD_KEYS:
                if type(value.get(inner)) is list:
                    return list(value[inner])
            if not _list_keys(value):
                return [value]
    candidates = _list_keys(body)
    if len(candidates) == 1:
        return list(body[candidates[0]])
    if len(candidates) > 1:
        raise SelectorError(
            f"cannot tell which list in the response from {url} holds the records; "
            f"lists at: {', '.join(candidates[:_MAX_KEYS_SHOWN])}",
            resource=resource,
            url=url,
            hint=f"set endpoint.data_selector to one of: {', '.join(candidates[:_MAX_KEYS_SHOWN])}",
        )
    if all(key in NON_RECORD_KEYS or key in PAGING_KEYS for key in body):
        return []  # only paging information: a last page that left the records out
    return [body]
