"""Response bodies are read as Python's `json` reads them; what is not JSON says what came."""

from __future__ import annotations

import asyncio
import gzip
import math
from typing import Any

import httpx
import pytest
from tests.unit.extract.extract_helpers import run_extractor

from restsync import rest_api_source
from restsync.errors import ResourceError, SelectorError
from restsync.extract._model import Page
from restsync.http._body import decode_json

URL = "http://api.test/v1/items?page=1"
ITEMS = {"data": [{"id": 1, "name": "Café crème"}, {"id": 2, "name": "naïve"}]}
TEXT = '{"data": [{"id": 1, "name": "Café crème"}, {"id": 2, "name": "naïve"}]}'


def response(content: bytes, ctype: str = "application/json", **headers: str) -> httpx.Response:
    request = httpx.Request("GET", URL, headers={"Accept-Encoding": "gzip, deflate"})
    return httpx.Response(
        200, content=content, headers={"content-type": ctype, **headers}, request=request
    )


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b"\xef\xbb\xbf" + TEXT.encode(), "application/json"),
        (TEXT.encode("latin-1"), "application/json; charset=iso-8859-1"),
        (TEXT.encode("utf-16"), "application/json"),  # with its byte order mark
        (TEXT.encode("utf-16-le"), "application/json"),  # without one
        (TEXT.encode("utf-32"), "application/json"),
        (TEXT.encode("cp1252"), "application/json; charset=windows-1252"),
    ],
    ids=["utf8-bom", "latin-1", "utf-16-bom", "utf-16-le", "utf-32", "cp1252"],
)
def test_bodies_python_reads_are_read(content: bytes, ctype: str) -> None:
    body, by_orjson = decode_json(response(content, ctype), resource="items", url=URL)
    assert body == ITEMS
    assert by_orjson is False  # not the bytes as they came: never shipped raw


def test_nan_and_infinity_tokens_are_read() -> None:
    raw = b'{"data": [{"id": 1, "x": NaN, "y": Infinity, "z": -Infinity}]}'
    body, _ = decode_json(response(raw), resource="items", url=URL)
    rec = body["data"][0]
    assert math.isnan(rec["x"])
    assert rec["y"] == math.inf
    assert rec["z"] == -math.inf


def test_plain_utf8_json_takes_the_fast_path() -> None:
    body, by_orjson = decode_json(response(TEXT.encode()), resource="items", url=URL)
    assert body == ITEMS
    assert by_orjson is True


def test_not_json_says_what_came_without_blaming_credentials() -> None:
    with pytest.raises(SelectorError) as info:
        decode_json(response(b"id,name\n1,x\n", "text/csv"), resource="items", url=URL)
    message = str(info.value)
    assert "is not valid JSON" in message
    assert "content-type text/csv" in message
    assert "body starts: b'id,name\\n1,x\\n'" in message
    assert "credentials" not in message


def test_an_unrequested_content_encoding_is_named_and_not_retried() -> None:
    raw = gzip.compress(TEXT.encode())  # stand-in for LZW bytes httpx leaves as they came
    with pytest.raises(ResourceError) as info:
        decode_json(response(raw, **{"content-encoding": "compress"}), resource="items", url=URL)
    assert not isinstance(info.value, SelectorError)  # the extraction does not retry it
    message = str(info.value)
    assert "Content-Encoding 'compress'" in message
    assert "Accept-Encoding: " in message
    assert "check the endpoint path" not in message


def _extract(handler: Any) -> tuple[dict[str, Any], list[Page], int]:
    calls = [0]

    def api(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        return handler(request)

    source = rest_api_source(
        {
            "client": {"base_url": "http://api.test/v1"},
            "resources": [
                {
                    "name": "items",
                    "endpoint": {
                        "path": "items",
                        "data_selector": "data",
                        "paginator": "single_page",
                    },
                }
            ],
        }
    )
    pages: list[Page] = []
    runs = asyncio.run(run_extractor(source, "http://api.test/v1", api, pages))
    return runs, pages, calls[0]


def test_a_bom_body_loads_at_once_without_retries() -> None:
    runs, pages, calls = _extract(
        lambda r: httpx.Response(
            200,
            content=b"\xef\xbb\xbf" + TEXT.encode(),
            headers={"content-type": "application/json"},
        )
    )
    assert runs["items"].ok, runs["items"].error
    assert calls == 1
    assert [p.records for p in pages] == [ITEMS["data"]]


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_nan_and_infinity_reach_the_destination_as_such(kind: str, tmp_path: Any) -> None:
    import duckdb

    from restsync.pipeline import Pipeline

    raw = b'{"data": [{"id": 1, "x": NaN}, {"id": 2, "x": Infinity}, {"id": 3, "x": -Infinity}]}'
    api = httpx.MockTransport(
        lambda r: httpx.Response(200, content=raw, headers={"content-type": "application/json"})
    )
    source = rest_api_source(
        {
            "client": {"base_url": "http://api.test/v1"},
            "resources": [
                {
                    "name": "items",
                    "primary_key": "id",
                    "endpoint": {
                        "path": "items",
                        "data_selector": "data",
                        "paginator": "single_page",
                    },
                }
            ],
        }
    )
    url = (
        f"duckdb:///{tmp_path / 'x.duckdb'}" if kind == "duckdb" else f"parquet:///{tmp_path}/lake"
    )
    info = Pipeline("nan", url, "nan_data", pipelines_dir=tmp_path / "p", transport=api).run(source)
    assert not info.failed_resources
    con = duckdb.connect()
    if kind == "duckdb":
        con.execute(f"ATTACH '{tmp_path / 'x.duckdb'}' AS d (READ_ONLY)")
        table = "d.nan_data.items"
    else:
        table = f"read_parquet('{tmp_path}/lake/**/items/*.parquet')"
    rows = con.execute(f"SELECT id, x FROM {table} ORDER BY id").fetchall()
    assert math.isnan(rows[0][1])
    assert rows[1:] == [(2, math.inf), (3, -math.inf)]  # never NULL
