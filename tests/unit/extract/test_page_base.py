"""page_number without `base_page`: the first page is found on the first run (DESIGN §2)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

import restsync
from restsync.extract._engine import Extractor, ResourceRun
from restsync.extract._model import Page
from restsync.extract._source import rest_api_source
from restsync.http._client import SourceClient

BASE = "https://api.example.com/v1"
N = 25  # records; pages of 10


class PagedAPI:
    """Pages of 10 records counted from `base`; page 0 of a 1-based API is refused (400)
    or answered like page 1, as `page_zero` says."""

    def __init__(self, base: int, page_zero: str = "refuse") -> None:
        self.base = base
        self.page_zero = page_zero
        self.pages: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        self.pages.append(page)
        if page < self.base:
            if self.page_zero == "refuse":
                return httpx.Response(400, json={"error": "page must be >= 1"})
            if self.page_zero == "empty":
                return httpx.Response(200, json={"data": []})
            page = self.base  # answered like page 1
        start = (page - self.base) * 10
        return httpx.Response(
            200, json={"data": [{"id": i} for i in range(start, min(start + 10, N))]}
        )


def _config(paginator: dict[str, Any]) -> dict[str, Any]:
    return {
        "client": {"base_url": BASE, "max_concurrency": 2},
        "resources": [
            {"name": "items", "endpoint": {"path": "items", "paginator": paginator}},
        ],
    }


def extract(
    api: PagedAPI, paginator: dict[str, Any], state: dict[str, Any] | None = None
) -> tuple[list[int], ResourceRun]:
    source = rest_api_source(_config(paginator))
    pages: list[Page] = []

    async def go() -> dict[str, ResourceRun]:
        async with SourceClient(BASE, transport=httpx.MockTransport(api)) as client:
            extractor = Extractor(
                source.plans,
                client,
                client_config=source.client_config,
                state=state or {},
                on_page=pages.append,
            )
            return await extractor.run()

    runs = asyncio.run(go())
    ids = [r["id"] for p in sorted(pages, key=lambda p: p.index) for r in p.records]
    return ids, runs["items"]


def test_a_zero_based_api_is_read_from_page_0() -> None:
    api = PagedAPI(base=0)
    ids, run = extract(api, {"type": "page_number"})
    assert run.ok, run.error
    assert ids == list(range(N))
    assert run.page_base == 0
    assert any("first page is 0" in w for w in run.warnings)
    assert sorted(api.pages) == [0, 1, 2, 3]  # each page once: the probe's answers are used


@pytest.mark.parametrize("page_zero", ["refuse", "same", "empty"])
def test_a_one_based_api_is_read_from_page_1(page_zero: str) -> None:
    api = PagedAPI(base=1, page_zero=page_zero)
    ids, run = extract(api, {"type": "page_number"})
    assert run.ok, run.error
    assert ids == list(range(N))  # page 0 neither loaded nor taken for page 1
    assert run.page_base == 1
    assert any("first page is 1" in w for w in run.warnings)
    assert sorted(api.pages) == [0, 1, 2, 3, 4]  # one probe of page 0, then pages 1-4


def test_the_base_from_the_state_skips_the_probe() -> None:
    api = PagedAPI(base=0)
    ids, run = extract(api, {"type": "page_number"}, state={"items": {"page_base": 0}})
    assert ids == list(range(N))
    assert api.pages == [0, 1, 2, 3]
    assert run.warnings == []


@pytest.mark.parametrize("base", [0, 1])
def test_an_explicit_base_page_wins(base: int) -> None:
    api = PagedAPI(base=1, page_zero="same")
    ids, run = extract(api, {"type": "page_number", "base_page": base})
    assert api.pages[0] == base
    assert run.page_base is None
    assert run.warnings == []
    if base == 1:
        assert ids == list(range(N))


def test_the_base_is_kept_in_the_pipeline_state(tmp_path: Path) -> None:
    api = PagedAPI(base=0)
    source_config = _config({"type": "page_number"})
    pipeline = restsync.pipeline(
        "base_probe",
        destination=f"duckdb:///{tmp_path}/db.duckdb",
        pipelines_dir=tmp_path / "pipelines",
        transport=httpx.MockTransport(api),
    )
    info = pipeline.run(rest_api_source(source_config))
    assert not info.has_failures
    assert any("first page is 0" in w for w in info.resources["items"].warnings)
    assert "WARNING resource 'items'" in str(info)
    assert sorted(api.pages) == [0, 1, 2, 3]

    api.pages.clear()
    info = pipeline.run(rest_api_source(source_config))
    assert not info.has_failures
    assert api.pages == [0, 1, 2, 3]  # no probe: the base came from the state
    assert info.resources["items"].warnings == []


def test_an_unreadable_page_1_during_the_probe_is_asked_again_not_guessed() -> None:
    api = PagedAPI(base=1, page_zero="same")
    garbled: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "1" and not garbled:
            garbled.append(1)
            return httpx.Response(200, content=b"<html>busy</html>")
        return api(request)

    paginator = {"type": "page_number"}
    config = _config(paginator)
    config["resources"][0]["endpoint"]["error_handler"] = {"backoff_factor": 0.01}
    source = rest_api_source(config)
    pages: list[Page] = []

    async def go() -> dict[str, ResourceRun]:
        async with SourceClient(BASE, transport=httpx.MockTransport(flaky)) as client:
            extractor = Extractor(
                source.plans, client, client_config=source.client_config, state={},
                on_page=pages.append,
            )  # fmt: skip
            return await extractor.run()

    run = asyncio.run(go())["items"]
    assert run.ok, run.error
    assert run.page_base == 1  # page 0 equals page 1 once page 1 could be read
    assert [r["id"] for p in pages for r in p.records] == list(range(N))
