"""An unreadable body is retried by the retry transport, on its injected clock."""

from __future__ import annotations

import logging

import httpx
import pytest
from tests.unit.http.http_helpers import App, VirtualTime

from restsync.extract._model import PageRequest
from restsync.extract._pages import PageStep
from restsync.extract._resources import build_plan
from restsync.http._client import SourceClient
from restsync.http._retry import CHECKED_KEY, RetryPolicy, UnreadableBody

BASE = "https://api.test/v1"


def GOOD(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"data": [{"id": 1}]})


def CUT(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b'{"data": [{"id"')


POLICY = RetryPolicy(max_retries=3, backoff_factor=2, jitter=False)


def _send(app: App, vt: VirtualTime) -> tuple[httpx.Response | None, SourceClient]:
    step = PageStep(build_plan({"name": "items", "endpoint": {"data_selector": "data"}}))

    async def go() -> tuple[httpx.Response | None, SourceClient]:
        async with SourceClient(
            BASE, transport=app.transport(), sleep=vt.sleep, clock=vt.clock
        ) as client:
            request = PageRequest("GET", client.build_url("items"))
            check = step.checker(first=True)
            return await client.send(request, resource="items", policy=POLICY, check=check), client

    return vt.run(go())


def test_a_cut_body_is_asked_again_after_the_backoff(caplog: pytest.LogCaptureFixture) -> None:
    app, vt = App(CUT, CUT, GOOD), VirtualTime()
    with caplog.at_level(logging.INFO, logger="restsync.http"):
        response, client = _send(app, vt)
    assert response is not None
    assert response.extensions[CHECKED_KEY].records == [{"id": 1}]
    assert len(app.requests) == 3
    assert vt.sleeps == [2.0, 4.0]  # the policy's backoff, in simulated time
    stats = client.stats["items"]
    assert (stats.requests, stats.retries, stats.backoff_seconds) == (3, 2, 6.0)
    assert "resource 'items': unreadable page (the response from" in caplog.text
    assert "retry 1/3 in 2.0 s" in caplog.text
    assert "retry 2/3 in 4.0 s" in caplog.text


def test_retries_used_up_return_the_response_for_the_caller_to_report() -> None:
    app, vt = App(default=CUT), VirtualTime()
    response, _ = _send(app, vt)
    assert response is not None
    assert isinstance(response.extensions[CHECKED_KEY], UnreadableBody)
    assert len(app.requests) == 4  # the first attempt and its 3 retries
    assert vt.sleeps == [2.0, 4.0, 8.0]


def test_statuses_get_a_budget_of_their_own_on_each_new_asking() -> None:
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    app, vt = App(busy, busy, busy, CUT, busy, busy, busy, GOOD), VirtualTime()
    response, _ = _send(app, vt)
    assert response is not None
    assert response.status_code == 200
    assert len(app.requests) == 8
