"""restsync: sync paginated JSON REST APIs into DuckDB, Postgres or Parquet.

import restsync
from restsync import rest_api_source

source = rest_api_source({...})            # a rest_api_source config dict
pipeline = restsync.pipeline("inventory", destination="duckdb")
print(pipeline.run(source))
"""

from __future__ import annotations

from restsync.config.secrets import secrets
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
from restsync.extract.source import RestApiSource, rest_api_source
from restsync.pipeline import LoadInfo, Pipeline, pipeline

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConfigError",
    "DataError",
    "HTTPStatusError",
    "LoadError",
    "LoadInfo",
    "PaginationError",
    "Pipeline",
    "ResourceError",
    "RestApiSource",
    "RestsyncError",
    "SecretNotFoundError",
    "SelectorError",
    "__version__",
    "pipeline",
    "rest_api_source",
    "secrets",
]
