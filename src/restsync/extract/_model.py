"""Pages as they move through extraction (and the request they come from, which is the
HTTP layer's: `restsync.http._request.PageRequest`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from restsync.http._request import PageRequest

__all__ = ["Page", "PageRequest"]


@dataclass
class Page:
    """One page of records of one resource, as extracted (before normalization)."""

    resource: str
    records: list[dict[str, Any]]
    url: str  # secrets masked
    index: int  # 0 for the first page of the resource
    nbytes: int = 0
    #: The records packed into bytes (`records` then empty), see `restsync.extract._packing`
    payload: bytes | None = None
    #: How many records the page holds, packed or not.
    count: int = 0
    #: `(body, key)` when `records` is exactly the list under the top-level `key` of the
    #: response `body` as orjson decodes it (nothing filtered, mapped or added): the pipeline
    #: then ships the body as it came instead of encoding the records again.
    raw: tuple[bytes, str] | None = None

    def __post_init__(self) -> None:
        if self.records and not self.count:
            self.count = len(self.records)
