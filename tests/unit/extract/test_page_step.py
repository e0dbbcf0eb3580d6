"""The page step a run and `restsync check --probe` share, as a pure function of a response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from restsync.errors import DataError, SelectorError
from restsync.extract._pages import PageStep
from restsync.extract._resources import build_plan
from restsync.http._retry import UnreadableBody
from restsync.paginate._shape import PageShape

URL = "https://api.test/v1/items?page=2&api_key=s3cret"
BODY = {"data": [{"id": 1, "n": 5}, {"id": 2, "n": 50}], "total": 2}


def response(content: bytes) -> httpx.Response:
    request = httpx.Request("GET", URL)
    return httpx.Response(200, content=content, request=request)


@dataclass
class Case:
    name: str
    resource: dict[str, Any]
    body: bytes = orjson.dumps(BODY)
    parent: dict[str, Any] | None = None
    window: Any = None
    loaded: list[Any] = field(default_factory=list)
    raw: bool = False


CASES = [
    Case(
        "selected-as-sent", {"endpoint": {"data_selector": "data"}}, loaded=BODY["data"], raw=True
    ),
    Case("detected", {}, loaded=BODY["data"]),
    Case(
        "filter",
        {
            "endpoint": {"data_selector": "data"},
            "processing_steps": [{"filter": lambda r: r["n"] > 9}],
        },
        loaded=[{"id": 2, "n": 50}],
    ),
    Case(
        "map-then-yield_map",
        {
            "endpoint": {"data_selector": "data"},
            "processing_steps": [
                {"map": lambda r: {"id": r["id"]}},
                {"yield_map": lambda r: [r, {"id": -r["id"]}]},
            ],
        },
        loaded=[{"id": 1}, {"id": -1}, {"id": 2}, {"id": -2}],
    ),
    Case(
        "include_from_parent",
        {
            "endpoint": {"data_selector": "data", "path": "p/{resources.posts.id}/items"},
            "include_from_parent": ["title"],
        },
        parent={"id": 7, "title": "t"},
        loaded=[{"id": 1, "n": 5, "_posts_title": "t"}, {"id": 2, "n": 50, "_posts_title": "t"}],
    ),
    Case(
        "window-before-steps",
        {"endpoint": {"data_selector": "data"}, "processing_steps": [{"map": lambda r: r["id"]}]},
        window=lambda records: records[1:],
        loaded=[2],
    ),
    Case(
        "wide-int-not-raw",
        {"endpoint": {"data_selector": "data"}},
        body=b'{"data": [{"id": 123456789012345678901234567890}]}',
        loaded=[{"id": 123456789012345678901234567890}],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_page_step(case: Case) -> None:
    step = PageStep(build_plan({"name": "items", **case.resource}))
    reading = step.read(response(case.body))
    assert reading.url == "https://api.test/v1/items?page=2&api_key=***"
    page = step.load(reading, reading.records, parent_record=case.parent, window=case.window)
    assert page.records == case.loaded
    assert (page.raw == (case.body, "data")) is case.raw


def test_a_failing_processing_step_names_the_step_and_the_page() -> None:
    plan = build_plan({"name": "items", "processing_steps": [{"map": lambda r: r["missing"]}]})
    step = PageStep(plan)
    reading = step.read(response(orjson.dumps(BODY)))
    with pytest.raises(DataError, match=r"processing_steps\[0\]\.map failed on a record from"):
        step.load(reading, reading.records)


@pytest.mark.parametrize(
    ("content", "first", "learnt", "retried"),
    [
        (b'{"data": [{"id": 1}', False, False, True),  # cut short: any page
        (b'{"data": [{"id": 1}', True, False, True),
        (b"<html>busy</html>", True, False, True),
        (b'{"error": "busy", "data": null}', False, True, True),  # another shape, later page
        (b'{"items": []}', True, False, False),  # a first page that does not match: config
        (orjson.dumps(BODY), True, False, False),
    ],
)
def test_the_check_asks_again_for_what_a_retry_may_cure(
    content: bytes, first: bool, learnt: bool, retried: bool
) -> None:
    step = PageStep(build_plan({"name": "items", "endpoint": {"data_selector": "data"}}))
    shape = PageShape("data")
    if learnt:
        shape.learn(BODY, BODY["data"])
    check = step.checker(first=first, shape=shape)
    if retried:
        with pytest.raises(UnreadableBody):
            check(response(content))
        with pytest.raises(SelectorError):
            step.read(response(content), shape=shape)
    else:
        reading = check(response(content))
        assert (reading is not None) is (content == orjson.dumps(BODY))
