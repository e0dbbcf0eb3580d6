"""A page whose records are the body's own list travels as the body itself (`Page.raw`)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from extract_helpers import run_extractor

from restsync.extract._model import Page
from restsync.extract._packing import pack_body, pack_records, unpack_records
from restsync.extract._source import rest_api_source

BASE = "https://api.example.com/v1"


def _pages(endpoint: dict[str, Any], body: bytes, **resource: Any) -> list[Page]:
    config = {
        "client": {"base_url": BASE},
        "resources": [{"name": "items", "endpoint": {"path": "items", **endpoint}, **resource}],
    }
    source = rest_api_source(config)
    pages: list[Page] = []

    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    runs = asyncio.run(run_extractor(source, BASE, api, pages))
    assert runs["items"].ok, runs["items"].error
    return pages


BODY = orjson.dumps({"data": [{"id": 1, "n": 1.5}, {"id": 2, "tags": ["a"]}], "total": 2})
SINGLE = {"paginator": "single_page"}


def test_records_as_sent_travel_as_the_body() -> None:
    (page,) = _pages({"data_selector": "data", **SINGLE}, BODY)
    assert page.raw == (BODY, "data")
    packed = pack_body(*page.raw)
    assert packed is not None
    assert unpack_records([packed]) == page.records == orjson.loads(BODY)["data"]


@pytest.mark.parametrize(
    ("endpoint", "body", "resource"),
    [
        ({**SINGLE}, BODY, {}),  # records found by detection, not a named key
        ({"data_selector": "$.data", **SINGLE}, BODY, {}),  # a JSONPath, not a plain key
        (  # an integer beyond 64 bits: the standard library's reading, not orjson's
            {"data_selector": "data", **SINGLE},
            b'{"data": [{"id": 123456789012345678901234567890}]}',
            {},
        ),
        (  # records changed after selection
            {"data_selector": "data", **SINGLE},
            BODY,
            {"processing_steps": [{"map": lambda r: {**r, "x": 1}}]},
        ),
        (  # records filtered by the incremental cursor
            {
                "data_selector": "data",
                "incremental": {"cursor_path": "id", "initial_value": 1},
                **SINGLE,
            },
            BODY,
            {},
        ),
    ],
    ids=["detected", "jsonpath", "wide-int", "mapped", "incremental"],
)
def test_records_changed_or_found_another_way_are_encoded(
    endpoint: dict[str, Any], body: bytes, resource: dict[str, Any]
) -> None:
    (page,) = _pages(endpoint, body, **resource)
    assert page.raw is None
    assert unpack_records([pack_records(page.records)]) == page.records


def test_a_key_too_long_to_frame_is_not_packed_as_a_body() -> None:
    assert pack_body(b"{}", "k" * 256) is None
    long_key = "k" * 255
    packed = pack_body(orjson.dumps({long_key: [{"a": 1}]}), long_key)
    assert packed is not None
    assert unpack_records([packed, pack_records([{"b": 2}])]) == [{"a": 1}, {"b": 2}]
