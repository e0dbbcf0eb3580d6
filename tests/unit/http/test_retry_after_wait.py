"""A long Retry-After is shown (a WARNING and the resource's stats) and its cap is a setting."""

from __future__ import annotations

import logging

import httpx
import pytest
from http_helpers import App, VirtualTime

from restsync import rest_api_source
from restsync.http._client import SourceClient
from restsync.http._request import PageRequest
from restsync.http._retry import RetryPolicy

BASE = "http://api.test:8080/v1"


def _run(policy: RetryPolicy, retry_after: str) -> tuple[SourceClient, VirtualTime]:
    app = App(httpx.Response(429, headers={"Retry-After": retry_after}), httpx.Response(200))
    vt = VirtualTime()
    c = SourceClient(BASE, transport=app.transport(), sleep=vt.sleep, clock=vt.clock)

    async def main() -> None:
        async with c:
            await c.send(
                PageRequest("GET", c.build_url("orders")), resource="orders", policy=policy
            )

    vt.run(main())
    return c, vt


def test_a_long_retry_after_is_a_warning_naming_resource_host_and_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="restsync"):
        c, vt = _run(RetryPolicy(jitter=False), "999999")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "resource 'orders': api.test:8080 asked to wait 999999 s (Retry-After) before the next"
        " request; waiting 300 s, the cap (endpoint.error_handler.retry_after_cap)"
    ]
    stats = c.stats["orders"]
    assert stats.retry_after_waits == 1
    assert stats.retry_after_seconds == 300
    assert stats.waiting_until == 1000.0 + 300
    assert vt.now == pytest.approx(1300.0)


def test_a_short_retry_after_is_counted_but_not_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="restsync"):
        c, _ = _run(RetryPolicy(jitter=False), "2")
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    assert c.stats["orders"].retry_after_waits == 1


def test_the_cap_is_an_error_handler_setting() -> None:
    config = {
        "client": {"base_url": BASE},
        "resources": [{"name": "orders", "endpoint": {"error_handler": {"retry_after_cap": 3600}}}],
    }
    source = rest_api_source(config)  # accepted by validation
    handler = source.plans[0].endpoint["error_handler"]
    policy = RetryPolicy.from_config(handler)
    assert policy.retry_after_cap == 3600
    c, vt = _run(policy, "999999")
    assert vt.now == pytest.approx(1000.0 + 3600)  # the host pause honours the raised cap
    assert c.stats["orders"].retry_after_seconds == 3600
