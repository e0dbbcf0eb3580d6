"""restsync: sync paginated JSON REST APIs into DuckDB, Postgres or Parquet.

import restsync
from restsync import rest_api_source

source = rest_api_source({...})            # a rest_api_source config dict
pipeline = restsync.pipeline("inventory", destination="duckdb")
print(pipeline.run(source))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from restsync.auth import SourceAuth, register_auth
from restsync.config import RESTAPIConfig
from restsync.config._secrets import secrets
from restsync.errors import (
    AuthError,
    ConfigError,
    DataError,
    HTTPStatusError,
    LoadError,
    PaginationError,
    ResourceError,
    RestsyncError,
    SecretNotFoundError,
    SelectorError,
)
from restsync.extract import Page, RestApiSource, rest_api_source
from restsync.http import PageRequest
from restsync.paginate import Paginator, register_paginator
from restsync.pipeline import LoadInfo, Pipeline, pipeline

if TYPE_CHECKING:
    from restsync.load import Destination

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConfigError",
    "DataError",
    "Destination",
    "HTTPStatusError",
    "LoadError",
    "LoadInfo",
    "Page",
    "PageRequest",
    "PaginationError",
    "Paginator",
    "Pipeline",
    "RESTAPIConfig",
    "ResourceError",
    "RestApiSource",
    "RestsyncError",
    "SecretNotFoundError",
    "SelectorError",
    "SourceAuth",
    "__version__",
    "pipeline",
    "register_auth",
    "register_paginator",
    "rest_api_source",
    "secrets",
]


def __getattr__(name: str) -> Any:
    # the load step's protocol, on first use: `import restsync` does not load Arrow (a run
    # loads it while its first requests are out)
    if name == "Destination":
        return importlib.import_module("restsync.load").Destination
    raise AttributeError(f"module 'restsync' has no attribute {name!r}")
