"""Pages of one resource fetched ahead of the one being read (see `Paginator.lookahead`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from restsync.http._request import PageRequest


def request_key(request: PageRequest) -> bytes:
    """What makes two requests the same request (for matching pages fetched ahead)."""
    parts = [request.method, request.url, request.params, request.headers, request.json]
    data = request.data if isinstance(request.data, (str, dict, list)) else repr(request.data)
    return orjson.dumps(
        [*parts, data], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=repr
    )


class Ahead:
    """Pages of one resource fetched ahead of the one being read.

    At most `depth` requests are in flight beyond the current one; the host's concurrency
    limit still bounds them all. A page fetched ahead is only used when the paginator then
    asks for exactly that request; the others are cancelled, and their errors dropped.
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.tasks: dict[bytes, asyncio.Future[Any]] = {}

    def take(self, request: PageRequest) -> asyncio.Future[Any] | None:
        return self.tasks.pop(request_key(request), None) if self.tasks else None

    def put(self, request: PageRequest, response: Any) -> None:
        """`response`, already received, as the page fetched ahead for `request`."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(response)
        self.tasks[request_key(request)] = done

    def plan(
        self, current: PageRequest, wanted: list[PageRequest], send: Callable[[PageRequest], Any]
    ) -> None:
        """Fetch `wanted` (the requests after `current`, the next one to be read) ahead."""
        keys = [request_key(r) for r in wanted]
        keep = {request_key(current), *keys}
        for key in [k for k in self.tasks if k not in keep]:
            self.tasks.pop(key).cancel()  # the pagination went another way
        for key, request in zip(keys, wanted, strict=True):
            if key not in self.tasks:
                self.tasks[key] = asyncio.ensure_future(send(request))

    async def close(self) -> None:
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
