"""Extraction: a config's resources planned, then read page by page.

`rest_api_source(config)` validates a config and plans its resources (`ResourcePlan`);
`Extractor` reads them over a `build_client` client, each page through the one pure page
step (`PageStep`: decode, select, include_from_parent, incremental window,
processing_steps); `Page` is what it hands to the pipeline.
"""

from __future__ import annotations

from restsync.extract._engine import Extractor, ResourceRun
from restsync.extract._model import Page
from restsync.extract._pages import PageStep
from restsync.extract._resources import ResourcePlan, plan_config
from restsync.extract._source import RestApiSource, build_client, rest_api_source

__all__ = [
    "Extractor",
    "Page",
    "PageStep",
    "ResourcePlan",
    "ResourceRun",
    "RestApiSource",
    "build_client",
    "plan_config",
    "rest_api_source",
]
