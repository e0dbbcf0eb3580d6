"""Per-host concurrency and an adaptive request rate.

Every request to a host first takes one of the host's `max_concurrency` slots, then waits
for its turn under the host's pacing:

* a shared "not before" time: a 429 (or any response with `Retry-After`, or a rate-limit
  header saying nothing is left) pauses the whole host, not just the request that got it;
* an adaptive rate (AIMD): the first 429 sets the rate to a fraction of what was being sent,
  every later success raises it a little, every later 429 cuts it again, so the request rate
  settles just under the API's limit with few 429s;
* an optional fixed `rate_limit` in requests per second (a token bucket).

Clock and sleep are injected, so tests run in simulated time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

import httpx

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]

DECREASE = 0.7
"""Multiplicative decrease of the adaptive rate on a 429."""
MIN_RATE = 0.05
"""The adaptive rate never drops below this many requests per second."""
RATE_WINDOW = 1.0
"""Seconds over which the sending rate is measured when the first 429 arrives."""


class HostThrottle:
    """Concurrency slots and pacing for one host (scheme, host, port).

    You rarely use it directly: `SourceClient` keeps one per host it talks to and the retry
    transport calls `acquire`/`release` around every attempt and `observe` after it.

    ```python
    throttle = HostThrottle(max_concurrency=2, rate_limit=5.0, clock=clock, sleep=sleep)
    waited = await throttle.acquire()      # seconds spent waiting for the host's pacing
    try: ...send...
    finally: throttle.release()
    ```
    """

    def __init__(
        self,
        *,
        max_concurrency: int = 4,
        rate_limit: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Clock = time.time,
        max_pause: float = 300.0,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if rate_limit is not None and rate_limit <= 0:
            raise ValueError("rate_limit must be a positive number of requests per second")
        self.max_concurrency = max_concurrency
        self.fixed_rate = rate_limit
        self.adaptive_rate: float | None = None
        self.not_before = 0.0
        self.in_flight = 0
        self.rate_limited = 0
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._max_pause = max_pause
        self._tat = 0.0  # theoretical arrival time of the next request (GCRA)
        self._sent: deque[float] = deque()
        self._last_decrease = -math.inf

    @property
    def rate(self) -> float | None:
        """The request rate in force (requests per second), or None when unpaced."""
        if self.adaptive_rate is None:
            return self.fixed_rate
        if self.fixed_rate is None:
            return self.adaptive_rate
        return min(self.fixed_rate, self.adaptive_rate)

    async def acquire(self) -> float:
        """Take a slot and wait for this host's turn; return the seconds spent pacing."""
        await self._semaphore.acquire()
        waited = 0.0
        try:
            while True:
                now = self._clock()
                rate = self.rate
                start = self.not_before
                if rate is not None and self._tat > start:
                    start = self._tat
                if start <= now:
                    if rate is not None:
                        self._tat = max(self._tat, now) + 1.0 / rate
                    break
                # Re-check after the sleep: another response may have moved the host's pause.
                delay = start - now
                await self._sleep(delay)
                waited += delay
        except BaseException:
            self._semaphore.release()
            raise
        self.in_flight += 1
        self._record_send(self._clock())
        return waited

    def release(self) -> None:
        """Give the slot back."""
        self.in_flight -= 1
        self._semaphore.release()

    def pause(self, seconds: float, *, cap: float | None = None) -> None:
        """Hold every request to this host for `seconds` from now (at most `cap`, by
        default the host's `max_pause`)."""
        if seconds > 0:
            until = self._clock() + min(seconds, self._max_pause if cap is None else cap)
            if until > self.not_before:
                self.not_before = until

    def observe(self, response: httpx.Response, *, sent_at: float) -> None:
        """Learn from a response: a 429 slows the host down, a success speeds it up again.

        Rate-limit headers (`X-RateLimit-Remaining`/`-Reset`, `RateLimit-Remaining`/`-Reset`)
        pause the host until the reset when nothing is left.
        """
        headers = response.headers
        remaining = headers.get("x-ratelimit-remaining") or headers.get("ratelimit-remaining")
        if remaining is not None:
            self._observe_budget(remaining, headers)
        if response.status_code == 429:
            self.rate_limited += 1
            self._decrease(sent_at)
        elif self.adaptive_rate is not None and response.status_code < 400:
            # Additive increase: about +5 %/s (at least +0.5 req/s per second) at the current rate.
            rate = self.adaptive_rate
            self.adaptive_rate = rate + max(0.5, rate / 20.0) / rate

    def _decrease(self, sent_at: float) -> None:
        # Only one cut per round trip: the 429s of requests already in flight when the
        # rate was cut say nothing about the new rate.
        if sent_at < self._last_decrease:
            return
        now = self._clock()
        observed = self._observed_rate(now)
        current = self.adaptive_rate if self.adaptive_rate is not None else math.inf
        self.adaptive_rate = max(MIN_RATE, min(current, observed) * DECREASE)
        self._last_decrease = now
        # Restart the pacing from now, so the lower rate takes effect at once.
        self._tat = max(self._tat, now)

    def _observed_rate(self, now: float) -> float:
        self._trim(now)
        return max(float(len(self._sent)) / RATE_WINDOW, MIN_RATE)

    def _record_send(self, now: float) -> None:
        self._sent.append(now)
        if len(self._sent) > 256:
            self._trim(now)

    def _trim(self, now: float) -> None:
        horizon = now - RATE_WINDOW
        sent = self._sent
        while sent and sent[0] <= horizon:
            sent.popleft()

    def _observe_budget(self, remaining: str, headers: httpx.Headers) -> None:
        try:
            left = float(remaining.split(",")[0].strip())
        except ValueError:
            return
        if left > 0:
            return
        reset = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
        if reset is None:
            return
        try:
            value = float(reset.split(",")[0].strip())
        except ValueError:
            return
        # Large values are Unix timestamps (GitHub style); small ones are seconds to wait.
        seconds = value - self._wall_clock() if value > 1e9 else value
        self.pause(seconds)


class HostLimits:
    """One `HostThrottle` per host, created on first use with the same settings."""

    def __init__(
        self,
        *,
        max_concurrency: int = 4,
        rate_limit: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Clock = time.time,
        max_pause: float = 300.0,
    ) -> None:
        self.max_concurrency = max_concurrency
        self.rate_limit = rate_limit
        self.clock = clock
        self.sleep = sleep
        self.wall_clock = wall_clock
        self.max_pause = max_pause
        self._hosts: dict[tuple[str, str, int | None], HostThrottle] = {}

    def for_url(self, url: httpx.URL) -> HostThrottle:
        """The throttle of `url`'s host."""
        key = (url.scheme, url.host, url.port)
        throttle = self._hosts.get(key)
        if throttle is None:
            throttle = self._hosts[key] = HostThrottle(
                max_concurrency=self.max_concurrency,
                rate_limit=self.rate_limit,
                clock=self.clock,
                sleep=self.sleep,
                wall_clock=self.wall_clock,
                max_pause=self.max_pause,
            )
        return throttle

    def hosts(self) -> dict[str, HostThrottle]:
        """Every host seen so far, as `scheme://host[:port]`."""
        return {
            f"{s}://{h}{f':{p}' if p is not None else ''}": t
            for (s, h, p), t in self._hosts.items()
        }
