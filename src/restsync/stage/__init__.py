"""The run's local files: nothing touches the destination before they are complete.

`StageWriter` appends each page's Arrow tables to IPC stream files; `complete` writes the
manifest atomically. `open_stage` reads a stage back (None when it has no manifest).
"""

from __future__ import annotations

from restsync.stage._types import arrow_schema, arrow_type, conform_batch
from restsync.stage._writer import (
    MANIFEST,
    StagedFile,
    StagedLoad,
    StageWriter,
    discard_incomplete,
    list_stages,
    open_stage,
    remove_stage,
    stage_root,
    write_json_atomic,
)

__all__ = [
    "MANIFEST",
    "StageWriter",
    "StagedFile",
    "StagedLoad",
    "arrow_schema",
    "arrow_type",
    "conform_batch",
    "discard_incomplete",
    "list_stages",
    "open_stage",
    "remove_stage",
    "stage_root",
    "write_json_atomic",
]
