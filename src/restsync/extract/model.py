"""Requests and pages as they move through extraction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PageRequest:
    """The next request of a resource, before auth is applied.

    Paginators edit it in place (`params`, `url`, `json`); the HTTP layer sends it.
    """

    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: Any = None

    def copy(self) -> PageRequest:
        import copy as _copy

        return PageRequest(
            method=self.method,
            url=self.url,
            params=dict(self.params),
            headers=dict(self.headers),
            json=_copy.deepcopy(self.json),
            data=_copy.deepcopy(self.data),
        )


@dataclass
class Page:
    """One page of records of one resource, as extracted (before normalization)."""

    resource: str
    records: list[dict[str, Any]]
    url: str  # secrets masked
    index: int  # 0 for the first page of the resource
    nbytes: int = 0
    #: The records packed into bytes (`records` then empty), see `restsync.extract.packing`
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
