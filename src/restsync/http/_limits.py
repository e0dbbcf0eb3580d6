"""Per-host concurrency and an adaptive request rate.

Every request to a host first takes one of the host's `max_concurrency` slots, then waits
for its turn under the host's pacing:

* a shared "not before" time: a 429 (or any response with `Retry-After`, or a rate-limit
  header saying nothing is left) pauses the whole host, not just the request that got it;
* an adaptive rate: a 429 lowers the rate to what the host actually served (successes per
  second, the pause the 429 asked for included), every later success raises it a little. A
  real limit serves the same whatever the rate sent above it, so the rate settles just under
  it with few 429s. When a lower rate served less than a higher one did, the 429s were not a
  limit (they come whatever the rate: sporadic): the higher rate is restored and the host's
  later 429s cost only their pause;
* an optional fixed `rate_limit` in requests per second (a token bucket).

Clock and sleep are injected, so tests run in simulated time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

import httpx

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]

MARGIN = 0.95
"""A 429 lowers the rate to this fraction of the rate the host served."""
INCREASE = 0.05
"""Requests per second the adaptive rate gains with each success."""
MIN_RATE = 0.05
"""The adaptive rate never drops below this many requests per second."""
RESTORE = 0.8
"""A lower rate that served less than this fraction of a higher one's is undone."""
SCATTERED = 4
"""429s may be sporadic while a rate had this many successes per 429 or more; with fewer
(429s in clusters, or most requests refused) they are a limit."""
EVIDENCE = 3
"""429s a rate gets before it is judged."""


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
        self._last_decision = -math.inf
        # The rate in force since a 429 (or the first request): when its sending started,
        # and how many successes it has had.
        self._level_start: float | None = None
        self._level_ok = 0
        self._level_429 = 0
        # The rates lowered from, with what each served (successes per second).
        self._levels: list[tuple[float | None, float]] = []
        # The rate in force was restored: the host's 429s come whatever the rate, and from
        # then on cost their pause only.
        self._sporadic = False

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
        if self._level_start is None:
            self._level_start = self._clock()
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

    def observe(self, response: httpx.Response, *, sent_at: float, pause: float = 0.0) -> None:
        """Learn from a response: a 429 may slow the host down, a success speeds it up again.

        `pause` is how long the 429 holds the host (its Retry-After). Rate-limit headers
        (`X-RateLimit-Remaining`/`-Reset`, `RateLimit-Remaining`/`-Reset`) pause the host
        until the reset when nothing is left.
        """
        headers = response.headers
        remaining = headers.get("x-ratelimit-remaining") or headers.get("ratelimit-remaining")
        if remaining is not None:
            self._observe_budget(remaining, headers)
        if response.status_code == 429:
            self.rate_limited += 1
            self._rate_limited(sent_at, pause)
        elif response.status_code < 400:
            self._level_ok += 1
            if self.adaptive_rate is not None:
                # Increase: +0.05 req/s a success, so about +5 % a second at any rate.
                self.adaptive_rate += INCREASE

    def _rate_limited(self, sent_at: float, pause: float) -> None:
        # A rate is judged on its third 429 (EVIDENCE): one or two are too little to tell a
        # limit from bad luck. Once judged, the 429s of requests sent before were in flight
        # during the decision and say nothing about the new rate.
        if sent_at <= self._last_decision:
            return
        now = self._clock()
        self._level_429 += 1
        if self._level_429 < EVIDENCE:
            return
        self._last_decision = now
        # What this rate served, its pauses (this one's included) counted.
        start = self._level_start if self._level_start is not None else now
        served = self._level_ok / max(now - start + pause, 1e-3)
        best = max((g for _, g in self._levels), default=None)
        scattered = self._level_ok >= SCATTERED * self._level_429
        if best is not None and scattered and served < RESTORE * best:
            # A lower rate served less than a higher one, and its 429s are scattered among
            # successes: they come whatever the rate, they are not a limit. Back to the
            # rate before the first cut.
            self.adaptive_rate = self._levels[0][0]
            self._levels.clear()
            self._sporadic = True
        elif not self._sporadic:
            self._levels.append((self.adaptive_rate, served))
            current = self.adaptive_rate if self.adaptive_rate is not None else math.inf
            self.adaptive_rate = max(MIN_RATE, min(current, served) * MARGIN)
        self._level_start = now + pause
        self._level_ok = 0
        self._level_429 = 0
        # Restart the pacing from now, so a lower rate takes effect at once.
        self._tat = max(self._tat, now)

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
