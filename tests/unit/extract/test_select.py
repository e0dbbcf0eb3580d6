"""select_records: finding the records in a response."""

from __future__ import annotations

from typing import Any

import pytest

from restsync.errors import SelectorError
from restsync.extract import _select as select_module
from restsync.extract._select import select_records

URL = "https://api.example.com/v1/orders?api_key=***"


def select(body: Any, selector: str | None) -> list[Any]:
    return select_records(body, selector, resource="orders", url=URL)


@pytest.mark.parametrize(
    ("body", "selector", "expected"),
    [
        ({"data": [1, 2]}, "data", [1, 2]),
        ({"data": None}, "data", []),
        ({"data": {"id": 1}}, "data", [{"id": 1}]),
        ({"data": {"items": [1, 2]}}, "data.items", [1, 2]),
        ({"data": {"items": None}}, "data.items", []),
        ({"data": [{"x": [1]}, {"x": [2]}]}, "data.1.x", [2]),
        ({"data": [1, 2]}, "$.data[*]", [1, 2]),
        ({"data": [1, 2]}, "$.data", [1, 2]),
        ({"a": {"items": [1, 2]}, "b": {"items": [3]}}, "$..items", [1, 2, 3]),
        ({"data": [{"id": 1, "k": "a"}, {"id": 2, "k": "b"}]}, "$.data[?(@.k == 'b')]",
         [{"id": 2, "k": "b"}]),
        ({"@odata.value": [1]}, "@odata.value", [1]),
        ([1, 2], "$[*]", [1, 2]),
        ({}, "data", []),
        (None, "data", []),
        ([], "data", []),
    ],
)  # fmt: skip
def test_with_a_selector(body: Any, selector: str, expected: list[Any]) -> None:
    assert select(body, selector) == expected


def test_selector_that_matches_nothing_names_the_keys() -> None:
    with pytest.raises(SelectorError) as info:
        select({"orders": [1], "total": 1}, "data")
    assert str(info.value) == (
        "resource 'orders': data_selector 'data' matched nothing in the response from "
        f"{URL}; top-level keys: orders, total\n"
        "  set endpoint.data_selector to one of: orders"
    )
    assert info.value.url == URL


@pytest.mark.parametrize(
    ("body", "selector", "fragment"),
    [
        ({"result": {"x": 1}}, "data.items", "top-level keys: result"),
        ({"result": 1}, "$.data[*]", "set endpoint.data_selector to the path of the records"),
        ([1, 2], "data", "the response is a list of 2 items"),
        ("oops", "data", "the response is a JSON string, not an object"),
    ],
)
def test_selector_misses(body: Any, selector: str, fragment: str) -> None:
    with pytest.raises(SelectorError, match="matched nothing") as info:
        select(body, selector)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([{"id": 1}], [{"id": 1}]),
        ({"items": [1], "meta": {"total": 1}}, [1]),
        ({"results": [1], "links": [9]}, [1]),
        ({"data": {"id": 7}}, [{"id": 7}]),  # a single entity in an envelope
        ({"data": {"items": [1, 2]}, "meta": {}}, [1, 2]),
        ({"data": {"id": 1}, "values": [5]}, [5]),  # a list beats an object
        ({"data": None, "meta": {}}, []),
        ({"customers": [1, 2], "pagination": [0], "total": 2}, [1, 2]),
        ({"id": 42, "name": "one user"}, [{"id": 42, "name": "one user"}]),
        ({"total": 100, "next": None}, []),  # only paging keys: a last page without records
        ({}, []),
        (None, []),
        ("", []),
    ],
)
def test_without_a_selector(body: Any, expected: list[Any]) -> None:
    assert select(body, None) == expected
    assert select(body, "") == expected


def test_without_a_selector_two_candidate_lists_is_an_error() -> None:
    with pytest.raises(SelectorError) as info:
        select({"orders": [1], "refunds": [2]}, None)
    assert "cannot tell which list" in str(info.value)
    assert "set endpoint.data_selector to one of: orders, refunds" in str(info.value)


def test_without_a_selector_scalar_body_is_an_error() -> None:
    with pytest.raises(SelectorError, match="is a JSON number, not an object or list"):
        select(5, None)


def test_selected_list_is_not_copied_on_the_fast_path() -> None:
    records = [{"id": 1}]
    assert select({"data": records}, "data") is records


def test_a_plain_key_never_reaches_jsonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    # the fast path (once per page) is a dict lookup: no JSONPath compiled, nothing copied
    def no_jsonpath(selector: str) -> Any:
        raise AssertionError(f"compiled {selector!r}")

    monkeypatch.setattr(select_module, "compile_path", no_jsonpath)
    body = {"data": [{"id": i} for i in range(100)], "meta": {"total": 10_000}}
    assert select(body, "data") is body["data"]
    assert select({"data": None}, "data") == []
    with pytest.raises(SelectorError, match="top-level keys: items"):
        select({"items": [1]}, "data")
