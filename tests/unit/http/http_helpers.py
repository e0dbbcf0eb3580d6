"""Helpers for the HTTP layer tests: a recording app and simulated time."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

Handler = Callable[[httpx.Request], "httpx.Response | Awaitable[httpx.Response]"]


class App:
    """A MockTransport app that records every request and answers from a script.

    Each script item is a Response, an exception to raise, or a callable(request). When
    the script runs out, `default` answers (200 with `{"data": []}` unless given).
    """

    def __init__(self, *script: Any, default: Handler | None = None) -> None:
        self.script = list(script)
        self.default = default
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> Any:
        self.requests.append(request)
        if self.script:
            item = self.script.pop(0)
        elif self.default is not None:
            item = self.default
        else:
            item = httpx.Response(200, json={"data": []})
        if isinstance(item, BaseException):
            raise item
        if callable(item):
            return item(request)
        return item

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


class VirtualTime:
    """A clock and a sleep in simulated time: time jumps when every task is waiting."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (self.now + seconds, self._seq, fut))
        self._seq += 1
        await fut

    async def drive(self, coro: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(coro)
        while not task.done():
            for _ in range(30):
                await asyncio.sleep(0)
                if task.done():
                    break
            else:
                if not self._heap:
                    continue
                when, _, fut = heapq.heappop(self._heap)
                self.now = max(self.now, when)
                if not fut.done():
                    fut.set_result(None)
        return task.result()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run(self.drive(coro))
