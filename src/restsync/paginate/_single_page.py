"""`single_page`: one request, no pagination."""

from __future__ import annotations

from typing import Any

import httpx

from restsync.http._request import PageRequest
from restsync.paginate._base import Paginator

__all__ = ["SinglePagePaginator"]


class SinglePagePaginator(Paginator):
    """One request and done: for endpoints that return everything at once, or one entity.

    Example config: `{"type": "single_page"}`, or the shorthand `"single_page"`.
    """

    type_name = "single_page"

    def __init__(self) -> None:
        super().__init__()

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        """There is never a next page."""
        self.has_next_page = False

    def update_request(self, request: PageRequest) -> None:
        """Never called: there is no next page."""
        return None

    def describe(self) -> str:
        """One line for `restsync check`."""
        return "single_page paginator: one request"
