"""Pipelines: run sources into a destination and report what was loaded."""

from __future__ import annotations

from restsync.pipeline._core import NoProgress, Pipeline, Progress, new_load_id, pipeline
from restsync.pipeline._info import LoadInfo, ResourceInfo, TableInfo

__all__ = [
    "LoadInfo",
    "NoProgress",
    "Pipeline",
    "Progress",
    "ResourceInfo",
    "TableInfo",
    "new_load_id",
    "pipeline",
]
