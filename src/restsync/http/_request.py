"""The request of one page, as paginators shape it and the client sends it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PageRequest"]


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
