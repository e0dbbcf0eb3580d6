"""Finding a `page_number` pagination's first page (0 or 1) when the config does not say.

Both pages are asked for at once. The base is 0 only when page 0 answers records that page 1
does not; page 0 refused, empty or equal to page 1 means base 1. Both answers are then handed
to the page loop as pages fetched ahead, so the probe costs one request: the page not read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from restsync.errors import ResourceError, SelectorError
from restsync.extract._ahead import Ahead
from restsync.extract._pages import PageReading, PageStep
from restsync.http._redact import redact_url
from restsync.http._request import PageRequest
from restsync.http._retry import UnreadableBody
from restsync.paginate._base import same_records

log = logging.getLogger("restsync.extract")

#: Sends one request of the resource (`SourceClient.send` with the resource's settings),
#: with a body check (see `RequestTrace.check`) or none.
Send = Callable[..., Awaitable[httpx.Response | None]]

#: A probe answer whose body could not be read.
UNREADABLE = object()


async def probe(
    send: Send, step: PageStep, request: PageRequest, check: Any = None
) -> tuple[Any, Any]:
    """One probe request: the response and its records; (None, None) when it was refused,
    (None, UNREADABLE) when its body cannot be read."""
    try:
        response = await send(request, check=check)
    except ResourceError as exc:
        log.info("resource '%s': probing the first page: %s", step.resource, exc.message)
        return None, None
    if response is None:
        return None, None
    try:
        reading = step.checked(response) or step.read(response)
    except SelectorError:
        return None, UNREADABLE
    return response, reading.records


def _at_most(check: Callable[[httpx.Response], PageReading | None], times: int) -> Any:
    """`check`, asking for another attempt at most `times` times."""
    left = [times]

    def limited(response: httpx.Response) -> PageReading | None:
        try:
            return check(response)
        except UnreadableBody:
            if left[0] <= 0:
                return None
            left[0] -= 1
            raise

    return limited


async def find_base(
    send: Send,
    step: PageStep,
    paginator: Any,
    request: PageRequest,
    ahead: Ahead,
    *,
    primary_key: list[str],
    max_retries: int,
) -> tuple[int, str, bool]:
    """Settle `paginator`'s first page: (the base, why, whether the answers decided it)."""
    zero, one = paginator.probe_requests(request)
    (resp0, recs0), (resp1, recs1) = await asyncio.gather(
        probe(send, step, zero), probe(send, step, one)
    )
    if recs0 and recs1 is UNREADABLE and max_retries > 0:
        # page 0 has records: only a readable page 1 can tell whether it is the first; it
        # is asked again, an unreadable answer retried by the transport
        check = _at_most(step.checker(first=False), max_retries - 1)
        resp1, recs1 = await probe(send, step, one, check)
    if recs0 and recs1 is UNREADABLE:
        raise SelectorError(
            "cannot tell whether the API's pages count from 0 or 1: page 0 has records "
            "and page 1's answer cannot be read",
            resource=step.resource,
            url=redact_url(str(one.url)),
            hint="set endpoint.paginator.base_page (0 or 1)",
        )
    decided = True
    if not isinstance(recs0, list):
        base, why = 1, "page 0 was refused"
    elif not recs0:
        base, why, decided = 1, "page 0 answered no records", bool(recs1)
    elif isinstance(recs1, list) and same_records(recs0, recs1, primary_key):
        base, why = 1, "page 0 answered the same records as page 1"
    else:
        base, why = 0, "page 0 answered records that page 1 does not"
    paginator.settle_base(base)
    paginator.init_request(request)
    for sent, response in ((zero, resp0), (one, resp1)):
        if response is not None:
            ahead.put(sent, response)
    return base, why, decided
