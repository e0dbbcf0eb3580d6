"""Sporadic 429s (a share of requests, whatever the rate) cost their Retry-After and no more:
the adaptive rate is not driven down. A real limit is still converged on (see
test_http_client.py::test_rate_converges_under_a_simulated_limit)."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from http_helpers import App, VirtualTime

from restsync.http._client import SourceClient
from restsync.http._limits import HostThrottle
from restsync.http._request import PageRequest
from restsync.http._retry import RetryPolicy

PAGES = 600
LATENCY = 0.02  # seconds a response takes, in simulated time


def _run(share: float, seed: int) -> tuple[SourceClient, float, int]:
    vt = VirtualTime(start=0.0)
    rng = random.Random(seed)
    refused = [0]

    async def handle(request: httpx.Request) -> httpx.Response:
        await vt.sleep(LATENCY)
        if rng.random() < share:
            refused[0] += 1
            return httpx.Response(429, headers={"Retry-After": "1"})
        return httpx.Response(200, json={"data": []})

    c = SourceClient(
        "http://api.test/v1",
        transport=httpx.MockTransport(App(default=handle)),
        sleep=vt.sleep,
        clock=vt.clock,
        max_concurrency=4,
    )
    queue = list(range(PAGES))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            await c.send(
                PageRequest("GET", c.build_url(f"o/{i}")),
                resource="o",
                policy=RetryPolicy(max_retries=10),
            )

    async def main() -> None:
        async with c:
            await asyncio.gather(*(worker() for _ in range(4)))

    vt.run(main())
    return c, vt.now, refused[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sporadic_429s_cost_their_retry_after_and_no_more(seed: int) -> None:
    clean = PAGES / 4 * LATENCY  # four in flight, no 429
    c, elapsed, refused = _run(0.05, seed)
    assert 15 <= refused <= 50
    throttle = c.limits.for_url(httpx.URL(c.build_url("o/0")))  # the host's one throttle
    # the rate is not held down: the host is unpaced again
    assert throttle.rate is None, throttle.rate
    # each 429 pauses the host for its Retry-After (1 s); nothing else slows the run much
    # (simulated time: 600 pages took 4.4 times this bound when every 429 cut the rate)
    bound = clean + refused * 1.0
    assert elapsed <= 1.5 * bound, (elapsed, bound)


class _Host:
    """One request at a time to a `HostThrottle`, in simulated time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.throttle = HostThrottle(max_concurrency=1, clock=self.clock, sleep=self.sleep)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def served(self, n: int, every: float) -> None:
        """`n` successes, each taking `every` seconds."""
        for _ in range(n):
            await self.throttle.acquire()
            sent = self.now
            self.now += every
            self.throttle.observe(httpx.Response(200), sent_at=sent)
            self.throttle.release()

    async def refused(self, pause: float = 1.0) -> None:
        await self.throttle.acquire()
        sent = self.now
        self.now += 0.01
        self.throttle.observe(httpx.Response(429), sent_at=sent, pause=pause)
        self.throttle.pause(pause)
        self.throttle.release()


def test_a_lower_rate_that_serves_less_is_undone() -> None:
    host = _Host()

    async def main() -> None:
        for _ in range(3):  # unpaced: 20 successes at 100/s, then a 429 (Retry-After: 1)
            await host.served(20, 0.01)
            await host.refused()
        cut = host.throttle.rate
        assert cut is not None  # 60 served over 3.6 s: the rate comes down to what it served
        assert cut < 20
        for _ in range(3):  # the same share of 429s at the lower rate: it served less
            await host.served(20, 0.01)
            await host.refused()
        assert host.throttle.rate is None  # back to unpaced
        for _ in range(30):  # from then on, sporadic 429s cost their pause only
            await host.served(20, 0.01)
            await host.refused()
        assert host.throttle.rate is None

    asyncio.run(main())
