"""Running an `Extractor` over a fake API, for the extraction tests."""

from __future__ import annotations

from typing import Any

import httpx

from restsync.extract._engine import Extractor, ResourceRun
from restsync.extract._model import Page
from restsync.extract._source import RestApiSource
from restsync.http._client import SourceClient


async def run_extractor(
    source: RestApiSource, base_url: str, api: Any, pages: list[Page], **client: Any
) -> dict[str, ResourceRun]:
    """Extract every resource of `source` from `api` (an httpx `MockTransport` handler),
    appending each page to `pages`; the runs by resource."""
    async with SourceClient(base_url, transport=httpx.MockTransport(api), **client) as c:
        extractor = Extractor(
            source.plans, c, client_config=source.client_config, state={}, on_page=pages.append
        )
        return await extractor.run()
