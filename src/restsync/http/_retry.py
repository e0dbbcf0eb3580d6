"""Retry policy, Retry-After parsing, backoff, and the transport wrapper that retries.

`RetryTransport` wraps the real transport. For every attempt it takes a slot of the host's
throttle (`limits.HostThrottle`), sends, reads the whole body (so a connection dropped
mid-body is retried too), and decides: return the response, or wait and try again. The
policy that applies travels with the request (`RequestTrace` in `request.extensions`), so
one transport serves every endpoint and the OAuth2 token request alike.

A request may also carry a check of its body (`RequestTrace.check`): a successful response
whose body cannot be used (cut short, not JSON, of another shape than the pages before) is
retried in the same loop, with the same backoff and clock, as a 503 is (`UnreadableBody`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from restsync.errors import ConfigError, Problem
from restsync.http._limits import Clock, HostLimits, HostThrottle, Sleep
from restsync.util.redact import redact_url
from restsync.util.suggest import did_you_mean

log = logging.getLogger("restsync.http")

JitterKind = Literal["full", "decorrelated"]

TRACE_KEY = "restsync.trace"
"""Key of the `RequestTrace` in `httpx.Request.extensions`."""

CHECKED_KEY = "restsync.checked"
"""Key in `httpx.Response.extensions` of what `RequestTrace.check` returned for the body (the
`UnreadableBody` it raised, when the retries for it were used up)."""

RETRYABLE_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,  # connect/read/write/pool timeouts
    httpx.NetworkError,  # connection refused/reset, read/write errors
    httpx.RemoteProtocolError,  # dropped mid-body, incomplete read, malformed response
)
"""Transport errors worth another attempt."""

LONG_WAIT = 10.0
"""A `Retry-After` wait from this many seconds on is logged as a WARNING."""

_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry and how long to wait: one per endpoint (`endpoint.error_handler`).

    Statuses in `retry_on_status_codes` and connection errors/timeouts are retried up to
    `max_retries` times. The wait before retry n is `backoff_factor * 2**(n-1)` seconds, at
    most `max_backoff`, with jitter; a `Retry-After` from the API wins when
    `respect_retry_after` (up to `retry_after_cap` seconds).
    """

    retry_on_status_codes: tuple[int, ...] = (429, 500, 502, 503, 504)
    max_retries: int = 3
    backoff_factor: float = 2
    max_backoff: float = 60
    retry_after_cap: float = 300
    jitter: bool | JitterKind = True
    respect_retry_after: bool = True

    @classmethod
    def from_config(
        cls, error_handler: Mapping[str, Any] | None, *, path: str = "endpoint.error_handler"
    ) -> RetryPolicy:
        """Build the policy from an endpoint's `error_handler` dict (None gives the defaults).

        Raises `ConfigError` naming every unknown key or wrong value under `path`.
        """
        if not error_handler:
            return cls()
        known = {f.name for f in fields(cls)}
        problems: list[Problem] = []
        kwargs: dict[str, Any] = {}
        for key, value in error_handler.items():
            if key not in known:
                hint = did_you_mean(str(key), sorted(known))
                problems.append(Problem(f"{path}.{key}", f"unknown key{hint}"))
                continue
            try:
                kwargs[key] = _coerce(key, value)
            except (TypeError, ValueError) as exc:
                problems.append(Problem(f"{path}.{key}", str(exc)))
        if problems:
            raise ConfigError(problems)
        return cls(**kwargs)

    def backoff(
        self, retry: int, *, rng: random.Random | None = None, previous: float | None = None
    ) -> float:
        """Seconds to wait before retry number `retry` (1-based) when the API gave no hint.

        Full jitter draws uniformly from [0, the exponential delay]; decorrelated jitter
        draws from [backoff_factor, 3 * previous wait].
        """
        base = self.backoff_factor * (2.0 ** max(retry - 1, 0))
        capped = min(float(self.max_backoff), base)
        if not self.jitter or capped <= 0:
            return capped
        rand = rng if rng is not None else random
        if self.jitter == "decorrelated":
            low = float(self.backoff_factor)
            high = max(low, 3.0 * (previous if previous is not None else low))
            return min(float(self.max_backoff), rand.uniform(low, high))
        return rand.uniform(0.0, capped)


def _coerce(key: str, value: Any) -> Any:
    if key == "retry_on_status_codes":
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple, set, frozenset)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599 for v in value
        ):
            raise ValueError("expected a list of HTTP status codes, e.g. [429, 500, 503]")
        return tuple(sorted(value))
    if key == "max_retries":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"expected a whole number >= 0; got {value!r}")
        return value
    if key in {"backoff_factor", "max_backoff", "retry_after_cap"}:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"expected a number of seconds >= 0; got {value!r}")
        return value
    if key == "jitter":
        if value in (True, False, "full", "decorrelated"):
            return value
        raise ValueError("expected true, false, 'full' or 'decorrelated'")
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false; got {value!r}")
    return value


def parse_retry_after(
    value: str | bytes | float | None, now: float | datetime | None = None, *, cap: float = 300
) -> float | None:
    """Turn a `Retry-After` value into seconds to wait, or None for "no hint, use backoff".

    Accepts delay-seconds (`"120"`, `"1.5"`) and HTTP dates
    (`"Wed, 21 Oct 2015 07:28:00 GMT"`, compared with `now`, a Unix time or an aware
    datetime; default: the current time). `0`, negative values, dates in the past and
    garbage give None: `Retry-After: 0` must not turn into a tight retry loop. The result is
    at most `cap` seconds.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        text = text.strip()
        if not text:
            return None
        if _SECONDS.match(text):
            seconds = float(text)
        else:
            try:
                when = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            if when is None:
                return None  # type: ignore[unreachable]  # older Pythons returned None
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            if now is None:
                ref = time.time()
            elif isinstance(now, datetime):
                ref = now.timestamp()
            else:
                ref = float(now)
            try:
                seconds = when.timestamp() - ref
            except (OverflowError, OSError, ValueError):
                return None
    if math.isnan(seconds) or seconds <= 0:
        return None
    return min(seconds, float(cap))


class UnreadableBody(Exception):
    """Raised by a `RequestTrace.check`: the body of a successful response cannot be used
    now (cut short, an HTML error page, a page of another shape), and another attempt may
    bring one that can.

    The transport retries it up to the policy's `max_retries` times, each after the
    policy's backoff; then it returns the response as it is, for the caller to report.

    ```python
    def check(response: httpx.Response) -> Any:
        if not response.content.endswith(b"}"):
            raise UnreadableBody("the body is cut short")
        return orjson.loads(response.content)
    ```
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ResourceStats:
    """Counters of one resource's HTTP traffic (what `SourceClient.stats` holds)."""

    requests: int = 0
    """Attempts sent, retries included."""
    retries: int = 0
    throttled_seconds: float = 0.0
    """Time spent waiting for the host's pacing (429 pauses, rate limits)."""
    backoff_seconds: float = 0.0
    """Time spent in backoff sleeps between attempts."""
    bytes: int = 0
    """Response body bytes received."""
    rate_limited: int = 0
    """429 responses."""
    redirects: int = 0
    retry_after_waits: int = 0
    """Waits the API asked for with `Retry-After`."""
    retry_after_seconds: float = 0.0
    """The longest of those waits, as taken (at most `retry_after_cap`)."""
    waiting_until: float = 0.0
    """Until when (on the client's clock) the resource waits on a `Retry-After`: what a
    progress display shows as "waiting N s"; 0 when it never did."""

    def as_dict(self) -> dict[str, float | int]:
        """The counters as a plain dict (for LoadInfo and logs)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class RequestTrace:
    """What one logical request went through: you attach it as `extensions[TRACE_KEY]`.

    The transport reads the `policy` from it and writes back attempts, retries and waits,
    which `SourceClient` uses for its messages and `stats`.
    """

    policy: RetryPolicy
    stats: ResourceStats | None = None
    resource: str | None = None
    give_up: Callable[[httpx.Response], bool] | None = None
    """Returns True for a response that must not be retried (a matching response action)."""
    check: Callable[[httpx.Response], Any] | None = None
    """Reads the body of a successful response; raises `UnreadableBody` for one worth
    another attempt. What it returns is kept in `response.extensions[CHECKED_KEY]`."""
    unreadable: int = 0
    """Attempts retried for an unreadable body."""
    redo: str | None = None
    """Why an earlier answer to this request, read after the fact (a page fetched ahead, read
    when its turn came), could not be read: the first attempt is then a retry for it."""
    attempts: int = 0
    retries: int = 0
    started: float | None = None
    ended: float | None = None
    last_delay: float | None = field(default=None, repr=False)

    @property
    def elapsed(self) -> float:
        """Seconds from the first attempt to the last response."""
        if self.started is None or self.ended is None:
            return 0.0
        return self.ended - self.started


def _count_response(stats: ResourceStats | None, response: httpx.Response) -> None:
    """Count a response's body bytes, and a 429, in the resource's stats."""
    if stats is None:
        return
    stats.bytes += len(response.content)
    if response.status_code == 429:
        stats.rate_limited += 1


class RetryTransport(httpx.AsyncBaseTransport):
    """Wraps a transport with throttling and retries (policy from the request's trace).

    ```python
    transport = RetryTransport(httpx.AsyncHTTPTransport(), RetryPolicy(max_retries=5))
    async with httpx.AsyncClient(transport=transport) as client: ...
    ```

    Retried: statuses in the policy, `RETRYABLE_ERRORS`. A 429 or a `Retry-After` pauses the
    whole host; other retries back off on their own. When the retries run out the last
    response is returned (or the last error raised) for the caller to report.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: RetryPolicy | None = None,
        *,
        limits: HostLimits | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        rng: random.Random | None = None,
        response_timeout: float | None = None,
    ) -> None:
        self.inner = inner
        self.response_timeout = response_timeout
        """Seconds a whole response (status, headers and body) may take; None: unbounded."""
        self.policy = policy if policy is not None else RetryPolicy()
        self.limits = (
            limits
            if limits is not None
            else HostLimits(clock=clock, sleep=sleep, wall_clock=wall_clock)
        )
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng if rng is not None else random.Random()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        trace = self._trace_of(request)
        throttle = self.limits.for_url(request.url)
        if trace.started is None:
            trace.started = self._clock()
        if trace.redo is not None:
            reason, trace.redo = trace.redo, None
            await self._retry_unreadable(trace, reason)
        while True:
            sent_at = await self._start_attempt(throttle, trace)
            try:
                response = await self._receive(request)
            except RETRYABLE_ERRORS as exc:
                throttle.release()
                trace.ended = self._clock()
                if trace.retries >= trace.policy.max_retries:
                    raise
                delay = self._next_backoff(trace)
                self._log_retry(request, trace, f"{type(exc).__name__}", delay)
                await self._backoff(trace, delay)
                continue
            except BaseException:
                throttle.release()
                raise
            throttle.release()
            trace.ended = self._clock()
            _count_response(trace.stats, response)
            if not self._retryable(response, trace):
                throttle.observe(response, sent_at=sent_at)
                if await self._usable(request, response, trace):
                    return response
                continue
            await self._retry_status(request, response, trace, throttle, sent_at)

    def _trace_of(self, request: httpx.Request) -> RequestTrace:
        """The request's trace, or a fresh one with the transport's policy."""
        trace = request.extensions.get(TRACE_KEY)
        return trace if isinstance(trace, RequestTrace) else RequestTrace(self.policy)

    async def _start_attempt(self, throttle: HostThrottle, trace: RequestTrace) -> float:
        """Wait for the host's slot and count the attempt; returns when it is sent."""
        waited = await throttle.acquire()
        sent_at = self._clock()
        trace.attempts += 1
        if trace.stats is not None:
            trace.stats.requests += 1
            trace.stats.throttled_seconds += waited
        return sent_at

    def _next_backoff(self, trace: RequestTrace) -> float:
        """The policy's backoff before the trace's next retry."""
        return trace.policy.backoff(trace.retries + 1, rng=self._rng, previous=trace.last_delay)

    @staticmethod
    def _retryable(response: httpx.Response, trace: RequestTrace) -> bool:
        """Whether `response` is retried: a retry status, retries left, no response action."""
        policy = trace.policy
        return not (
            response.status_code not in policy.retry_on_status_codes
            or trace.retries >= policy.max_retries
            or (trace.give_up is not None and trace.give_up(response))
        )

    def _retry_after_hint(
        self, request: httpx.Request, response: httpx.Response, trace: RequestTrace
    ) -> float | None:
        """The wait the response's `Retry-After` asks for (at most the cap), counted; else None."""
        policy = trace.policy
        if not policy.respect_retry_after:
            return None
        header = response.headers.get("retry-after")
        if header is None:
            return None
        asked = parse_retry_after(header, self._wall_clock(), cap=math.inf)
        if asked is None:
            return None
        hint = min(asked, float(policy.retry_after_cap))
        self._note_retry_after(request, trace, asked, hint)
        return hint

    async def _retry_status(
        self,
        request: httpx.Request,
        response: httpx.Response,
        trace: RequestTrace,
        throttle: HostThrottle,
        sent_at: float,
    ) -> None:
        """Wait before retrying a retryable status: a 429 or a `Retry-After` pauses the
        whole host; any other status backs off this request alone."""
        status = response.status_code
        hint = self._retry_after_hint(request, response, trace)
        if hint is not None or status == 429:
            # The API asked the whole host to slow down: every request waits.
            delay = hint if hint is not None else self._next_backoff(trace)
            self._log_retry(request, trace, f"{status}", delay)
            throttle.observe(response, sent_at=sent_at, pause=delay)
            throttle.pause(delay, cap=trace.policy.retry_after_cap)
            trace.retries += 1
            trace.last_delay = delay
            if trace.stats is not None:
                trace.stats.retries += 1
        else:
            throttle.observe(response, sent_at=sent_at)
            delay = self._next_backoff(trace)
            self._log_retry(request, trace, f"{status}", delay)
            await self._backoff(trace, delay)

    async def _usable(
        self, request: httpx.Request, response: httpx.Response, trace: RequestTrace
    ) -> bool:
        """Whether to return `response`: True unless `trace.check` finds its body unreadable
        and the retries for that are not used up (then this waits out the backoff)."""
        check = trace.check
        if check is None or not response.is_success:
            return True
        if trace.give_up is not None and trace.give_up(response):
            return True
        # Let the requests waiting for the slot this response freed go out before its body
        # is read: the next round trip then overlaps that work.
        await asyncio.sleep(0)
        response.request = request
        try:
            response.extensions[CHECKED_KEY] = check(response)
            return True
        except UnreadableBody as exc:
            if trace.unreadable >= trace.policy.max_retries:
                response.extensions[CHECKED_KEY] = exc  # retried enough: the caller reports it
                return True
            reason = exc.reason
        await self._retry_unreadable(trace, reason)
        return False

    async def _retry_unreadable(self, trace: RequestTrace, reason: str) -> None:
        """Count, log and wait out the backoff before asking again for a body that could not
        be read; the next asking gets a budget of its own for its statuses."""
        trace.unreadable += 1
        delay = trace.policy.backoff(trace.unreadable, rng=self._rng)
        log.info(
            "%sunreadable page (%s); retry %d/%d in %.1f s",
            f"resource '{trace.resource}': " if trace.resource else "",
            reason,
            trace.unreadable,
            trace.policy.max_retries,
            delay,
        )
        if trace.stats is not None:
            trace.stats.retries += 1
            trace.stats.backoff_seconds += delay
        if delay > 0:
            await self._sleep(delay)
        # the page is asked again as a new request: its statuses get a budget of their own
        trace.attempts = trace.retries = 0
        trace.last_delay, trace.started = None, self._clock()

    async def _receive(self, request: httpx.Request) -> httpx.Response:
        """Send `request` and read its whole body within `response_timeout` seconds.

        httpx's own timeouts bound each read, so a body trickled a byte at a time would
        never end; this bounds the whole response.
        """
        limit = self.response_timeout
        if limit is None:
            return await self._send_and_read(request)
        # A deadline on this task (not `wait_for`'s new task: no extra scheduling step, so
        # a 429's pause is in force before anything else runs); `asyncio.timeout` is 3.11+.
        task = asyncio.current_task()
        assert task is not None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        timer = asyncio.get_running_loop().call_later(limit, expire)
        try:
            return await self._send_and_read(request)
        except asyncio.CancelledError:
            if not expired:
                raise
            uncancel = getattr(task, "uncancel", None)
            if uncancel is not None:
                uncancel()
            raise httpx.ReadTimeout(
                f"the response was not complete within {limit:g} s (client.timeout)",
                request=request,
            ) from None
        finally:
            timer.cancel()

    async def _send_and_read(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    def _note_retry_after(
        self, request: httpx.Request, trace: RequestTrace, asked: float, wait: float
    ) -> None:
        """Count a wait the API asked for, and say so when it is long or cut to the cap."""
        stats = trace.stats
        if stats is not None:
            stats.retry_after_waits += 1
            stats.retry_after_seconds = max(stats.retry_after_seconds, wait)
            stats.waiting_until = max(stats.waiting_until, self._clock() + wait)
        if wait < LONG_WAIT and asked <= wait:
            return
        where = f"resource '{trace.resource}': " if trace.resource else ""
        host = request.url.host + (f":{request.url.port}" if request.url.port else "")
        capped = (
            f"; waiting {wait:g} s, the cap (endpoint.error_handler.retry_after_cap)"
            if asked > wait
            else ""
        )
        log.warning(
            "%s%s asked to wait %g s (Retry-After) before the next request%s",
            where,
            host,
            asked,
            capped,
        )

    async def _backoff(self, trace: RequestTrace, delay: float) -> None:
        trace.retries += 1
        trace.last_delay = delay
        if trace.stats is not None:
            trace.stats.retries += 1
            trace.stats.backoff_seconds += delay
        if delay > 0:
            await self._sleep(delay)

    def _log_retry(
        self, request: httpx.Request, trace: RequestTrace, what: str, delay: float
    ) -> None:
        if log.isEnabledFor(logging.INFO):
            where = f"resource '{trace.resource}': " if trace.resource else ""
            log.info(
                "%s%s %s -> %s; retry %d/%d in %.1f s",
                where,
                request.method,
                redact_url(request.url),
                what,
                trace.retries + 1,
                trace.policy.max_retries,
                delay,
            )

    async def aclose(self) -> None:
        await self.inner.aclose()
