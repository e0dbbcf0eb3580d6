from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from http_helpers import App, VirtualTime

from restsync.errors import AuthError, HTTPStatusError, PaginationError, ResourceError
from restsync.http._client import SourceClient
from restsync.http._request import PageRequest
from restsync.http._retry import RetryPolicy

BASE = "http://127.0.0.1:5000/v1"
KEY = "qk-7Hs9-secret-key-001"
NOJITTER = RetryPolicy(jitter=False)


def client(app: App, vt: VirtualTime, **kwargs: Any) -> SourceClient:
    kwargs.setdefault("base_url", BASE)
    return SourceClient(
        transport=app.transport(), sleep=vt.sleep, clock=vt.clock, wall_clock=lambda: 1e9, **kwargs
    )


async def send_one(c: SourceClient, path: str = "orders", **kwargs: Any) -> httpx.Response | None:
    params = kwargs.pop("params", {})
    kwargs.setdefault("policy", NOJITTER)
    kwargs.setdefault("resource", "orders")
    async with c:
        return await c.send(PageRequest("GET", c.build_url(path), params=params), **kwargs)


def api_key_query() -> dict[str, str]:
    return {"type": "api_key", "name": "api_key", "api_key": KEY, "location": "query"}


# -- base_url joining ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("https://host/1.0/", "/commerce/orders", "https://host/1.0/commerce/orders"),
        ("https://host/1.0", "/commerce/orders", "https://host/1.0/commerce/orders"),
        ("https://host/1.0/", "commerce/orders", "https://host/1.0/commerce/orders"),
        ("https://host", "v1/x", "https://host/v1/x"),
        ("https://host/", "/v1/x", "https://host/v1/x"),
        ("https://host", "", "https://host"),
        ("https://host/api", "/v1/x?a=1", "https://host/api/v1/x?a=1"),
        ("https://host/api", "https://other.example/p?q=1", "https://other.example/p?q=1"),
        ("https://host/api", "//cdn.example/p", "https://cdn.example/p"),
    ],
)
def test_build_url(base: str, path: str, expected: str) -> None:
    assert SourceClient(base, transport=App().transport()).build_url(path) == expected


# -- retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_each_default_status_is_retried(status: int) -> None:
    app, vt = App(httpx.Response(status), httpx.Response(200, json={"ok": 1})), VirtualTime()
    c = client(app, vt)
    response = vt.run(send_one(c, policy=RetryPolicy(jitter=False)))
    assert response is not None
    assert response.json() == {"ok": 1}
    assert len(app.requests) == 2
    assert c.stats["orders"].retries == 1
    assert c.stats["orders"].requests == 2
    assert vt.now - 1000.0 == pytest.approx(2.0)  # backoff_factor * 2**0


class DropMidBody(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"data": [1, 2'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timeout"),
        httpx.ReadTimeout("read timeout"),
        httpx.ReadError("connection reset"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        lambda request: httpx.Response(200, stream=DropMidBody()),
    ],
    ids=["connect", "connect-timeout", "read-timeout", "read-error", "protocol", "mid-body"],
)
def test_connection_errors_are_retried(failure: Any) -> None:
    app, vt = App(failure, httpx.Response(200, json={"data": [1]})), VirtualTime()
    c = client(app, vt)
    response = vt.run(send_one(c))
    assert response is not None
    assert response.json() == {"data": [1]}
    assert len(app.requests) == 2
    assert vt.sleeps == [2.0]


def test_connection_errors_exhausted_message_is_redacted() -> None:
    app = App(default=lambda r: (_ for _ in ()).throw(httpx.ConnectError(f"refused {r.url}")))
    vt = VirtualTime()
    c = client(app, vt, auth=api_key_query())
    with pytest.raises(ResourceError) as info:
        vt.run(send_one(c))
    text = str(info.value)
    assert KEY not in text
    assert "api_key=***" in text
    assert "connection failed after 4 attempts (retried 3 times over 14.0 s)" in text
    assert len(app.requests) == 4


def test_retry_after_seconds_is_honoured() -> None:
    app = App(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))
    vt = VirtualTime()
    c = client(app, vt)
    vt.run(send_one(c))
    assert vt.now - 1000.0 == pytest.approx(7.0)
    assert c.stats["orders"].throttled_seconds == pytest.approx(7.0)
    assert c.stats["orders"].rate_limited == 1


def test_retry_after_http_date_is_honoured() -> None:
    now = datetime(2025, 3, 1, tzinfo=timezone.utc)
    date = format_datetime(now + timedelta(seconds=42), usegmt=True)
    app = App(httpx.Response(503, headers={"Retry-After": date}), httpx.Response(200))
    vt = VirtualTime()
    c = SourceClient(
        BASE, transport=app.transport(), sleep=vt.sleep, clock=vt.clock, wall_clock=now.timestamp
    )
    vt.run(send_one(c))
    assert vt.now - 1000.0 == pytest.approx(42.0)


@pytest.mark.parametrize("header", [{"Retry-After": "0"}, {}, {"Retry-After": "garbage"}])
def test_retry_after_zero_or_absent_uses_backoff(header: dict[str, str]) -> None:
    app = App(
        httpx.Response(503, headers=header),
        httpx.Response(503, headers=header),
        httpx.Response(200),
    )
    vt = VirtualTime()
    vt.run(send_one(client(app, vt)))
    assert vt.sleeps == [2.0, 4.0]  # never a tight loop


def test_retry_after_is_capped() -> None:
    app = App(httpx.Response(429, headers={"Retry-After": "86400"}), httpx.Response(200))
    vt = VirtualTime()
    vt.run(send_one(client(app, vt), policy=RetryPolicy(retry_after_cap=120)))
    assert vt.now - 1000.0 == pytest.approx(120.0)


def test_retries_exhausted_message() -> None:
    app = App(default=lambda r: httpx.Response(503, text="upstream down"))
    vt = VirtualTime()
    c = client(app, vt, auth=api_key_query())
    with pytest.raises(HTTPStatusError) as info:
        vt.run(send_one(c, params={"offset": 300}))
    err = info.value
    assert str(err) == (
        "resource 'orders': GET http://127.0.0.1:5000/v1/orders?api_key=***&offset=300"
        " -> 503 Service Unavailable after 4 attempts (retried 3 times over 14.0 s):"
        " upstream down\n"
        "  raise endpoint.error_handler.max_retries or check the API's status"
    )
    assert err.status == 503
    assert err.resource == "orders"
    assert len(app.requests) == 4


def test_custom_retry_codes_and_max_retries() -> None:
    app = App(httpx.Response(409), httpx.Response(409), httpx.Response(200))
    vt = VirtualTime()
    policy = RetryPolicy(retry_on_status_codes=(409,), max_retries=2, jitter=False)
    assert vt.run(send_one(client(app, vt), policy=policy)) is not None
    app = App(default=lambda r: httpx.Response(503))
    with pytest.raises(HTTPStatusError, match=r"not retried: max_retries is 0"):
        vt.run(send_one(client(app, vt), policy=RetryPolicy(max_retries=0)))
    assert len(app.requests) == 1


# -- fail fast ----------------------------------------------------------------------------


def test_401_with_query_key_fails_fast_with_hint() -> None:
    app = App(default=lambda r: httpx.Response(401))
    vt = VirtualTime()
    c = client(app, vt, auth=api_key_query())
    with pytest.raises(AuthError) as info:
        vt.run(send_one(c, params={"offset": 300}))
    assert str(info.value) == (
        "resource 'orders': GET http://127.0.0.1:5000/v1/orders?api_key=***&offset=300"
        " -> 401 Unauthorized (not retried)\n"
        "  the API rejected the key sent as query parameter 'api_key'; check secret 'api_key'"
    )
    assert len(app.requests) == 1
    assert app.requests[0].url.params["api_key"] == KEY


def test_403_is_auth_error() -> None:
    app = App(default=lambda r: httpx.Response(403, json={"error": f"key {KEY} lacks scope"}))
    vt = VirtualTime()
    with pytest.raises(AuthError) as info:
        vt.run(send_one(client(app, vt, auth={"type": "bearer", "token": KEY})))
    text = str(info.value)
    assert "-> 403 Forbidden (not retried)" in text
    assert "the API refused access with the bearer token; check secret 'token'" in text
    assert KEY not in text


def test_404_fails_fast_with_hint() -> None:
    app = App(default=lambda r: httpx.Response(404, text="x" * 1000))
    vt = VirtualTime()
    with pytest.raises(HTTPStatusError) as info:
        vt.run(send_one(client(app, vt), path="missing"))
    text = str(info.value)
    assert "GET http://127.0.0.1:5000/v1/missing -> 404 Not Found (not retried)" in text
    assert "response_actions" in text
    assert len(text.splitlines()[0]) < 320  # the body is cut to ~200 characters
    assert not isinstance(info.value, AuthError)
    assert len(app.requests) == 1


def test_400_is_not_retried() -> None:
    app = App(default=lambda r: httpx.Response(400, json={"error": "bad param"}))
    vt = VirtualTime()
    with pytest.raises(HTTPStatusError, match=r"400 Bad Request \(not retried\)"):
        vt.run(send_one(client(app, vt)))
    assert len(app.requests) == 1


# -- response actions ---------------------------------------------------------------------


def test_response_action_ignore_by_status() -> None:
    app, vt = App(httpx.Response(404)), VirtualTime()
    actions = [{"status_code": 404, "action": "ignore"}]
    assert vt.run(send_one(client(app, vt), response_actions=actions)) is None


def test_response_action_ignore_by_content_is_not_retried() -> None:
    app, vt = App(httpx.Response(503, text="Resource not found (maintenance)")), VirtualTime()
    actions = [{"content": "not found", "action": "ignore"}]
    assert vt.run(send_one(client(app, vt), response_actions=actions)) is None
    assert len(app.requests) == 1


def test_response_action_that_does_not_match_leaves_the_error() -> None:
    app, vt = App(httpx.Response(404, text="gone")), VirtualTime()
    actions = [{"status_code": 404, "content": "not found", "action": "ignore"}]
    with pytest.raises(HTTPStatusError):
        vt.run(send_one(client(app, vt), response_actions=actions))


def test_response_action_callables() -> None:
    seen: list[int] = []

    def hook(response: httpx.Response) -> None:
        seen.append(response.status_code)

    def fix(response: httpx.Response) -> httpx.Response:
        return httpx.Response(200, json={"fixed": True}, request=response.request)

    app, vt = App(httpx.Response(418)), VirtualTime()
    actions = [hook, {"status_code": 418, "action": [fix]}]
    response = vt.run(send_one(client(app, vt), response_actions=actions))
    assert response is not None
    assert response.json() == {"fixed": True}
    assert seen == [418]


# -- credential scoping -------------------------------------------------------------------

AUTHS = {
    "bearer": {"type": "bearer", "token": KEY},
    "api_key_query": api_key_query(),
    "api_key_header": {"type": "api_key", "name": "X-API-Key", "api_key": KEY},
    "api_key_cookie": {"type": "api_key", "name": "sid", "api_key": KEY, "location": "cookie"},
    "basic": {"type": "http_basic", "username": "user-name-1", "password": KEY},
}


def assert_no_credentials(request: httpx.Request) -> None:
    assert "authorization" not in request.headers
    assert "cookie" not in request.headers
    assert "x-api-key" not in request.headers
    assert "x-client-secret" not in request.headers
    assert "api_key" not in request.url.params
    assert KEY not in str(request.url)
    assert all(KEY not in v for v in request.headers.values())


@pytest.mark.parametrize("auth", list(AUTHS.values()), ids=list(AUTHS))
def test_credentials_reach_the_base_origin(auth: dict[str, str]) -> None:
    app, vt = App(), VirtualTime()
    vt.run(send_one(client(app, vt, auth=auth, headers={"X-Client-Secret": "hdr"})))
    request = app.requests[0]
    assert request.headers["x-client-secret"] == "hdr"
    sent = str(request.url) + " ".join(request.headers.values())
    assert KEY in sent or "Basic " in request.headers.get("authorization", "")


def test_cross_origin_follow_up_is_refused_by_default() -> None:
    app, vt = App(), VirtualTime()
    c = client(app, vt, auth=api_key_query())
    with pytest.raises(PaginationError) as info:
        vt.run(send_one(c, path="https://evil.example/next?api_key=leak-me-1234", follow_up=True))
    text = str(info.value)
    assert "set client.allow_cross_origin_pagination: true to follow it without credentials" in text
    assert "leak-me-1234" not in text
    assert app.requests == []


@pytest.mark.parametrize("auth", list(AUTHS.values()), ids=list(AUTHS))
def test_allowed_cross_origin_follow_up_goes_without_credentials(auth: dict[str, str]) -> None:
    app, vt = App(), VirtualTime()
    c = client(
        app, vt, auth=auth, headers={"X-Client-Secret": "hdr"}, allow_cross_origin_pagination=True
    )
    response = vt.run(send_one(c, path="https://cdn.example/next?page=2", follow_up=True))
    assert response is not None
    assert_no_credentials(app.requests[0])
    assert app.requests[0].url.params["page"] == "2"


def test_same_origin_follow_up_keeps_credentials() -> None:
    app, vt = App(), VirtualTime()
    c = client(app, vt, auth={"type": "bearer", "token": KEY})
    vt.run(send_one(c, path="http://127.0.0.1:5000/v1/orders?cursor=abc", follow_up=True))
    assert app.requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("auth", list(AUTHS.values()), ids=list(AUTHS))
def test_cross_origin_redirect_drops_credentials(auth: dict[str, str]) -> None:
    app = App(
        httpx.Response(
            302, headers={"Location": f"https://files.example/export?api_key={KEY}&p=1"}
        ),
        httpx.Response(200, json={"data": [1]}),
    )
    vt = VirtualTime()
    c = client(app, vt, auth=auth, headers={"X-Client-Secret": "hdr"})
    response = vt.run(send_one(c))
    assert response is not None
    assert response.json() == {"data": [1]}
    assert len(app.requests) == 2
    assert app.requests[1].url.host == "files.example"
    assert app.requests[1].url.params["p"] == "1"
    assert_no_credentials(app.requests[1])
    assert c.stats["orders"].redirects == 1


def test_same_origin_redirect_keeps_credentials() -> None:
    app = App(httpx.Response(301, headers={"Location": "/v1/orders/"}), httpx.Response(200))
    vt = VirtualTime()
    vt.run(send_one(client(app, vt, auth={"type": "bearer", "token": KEY})))
    assert app.requests[1].url.path == "/v1/orders/"
    assert app.requests[1].headers["authorization"] == f"Bearer {KEY}"


def test_redirect_loop_is_an_error() -> None:
    app = App(default=lambda r: httpx.Response(302, headers={"Location": "/v1/loop"}))
    vt = VirtualTime()
    with pytest.raises(HTTPStatusError, match="more than 5 redirects"):
        vt.run(send_one(client(app, vt)))
    assert len(app.requests) == 6


def test_absolute_path_on_another_origin_gets_no_credentials() -> None:
    app, vt = App(), VirtualTime()
    vt.run(send_one(client(app, vt, auth=api_key_query()), path="https://other.example/x"))
    assert_no_credentials(app.requests[0])


# -- concurrency and throttling -----------------------------------------------------------


class SlowApp(App):
    def __init__(self, vt: VirtualTime) -> None:
        super().__init__()
        self.vt = vt
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:  # type: ignore[override]
        self.requests.append(request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await self.vt.sleep(0.1)
        self.in_flight -= 1
        return httpx.Response(200, json={"data": []})


@pytest.mark.parametrize("limit", [1, 3])
def test_never_more_than_max_concurrency_in_flight(limit: int) -> None:
    vt = VirtualTime()
    app = SlowApp(vt)
    c = client(app, vt, max_concurrency=limit)

    async def main() -> None:
        async with c:
            await asyncio.gather(
                *(
                    c.send(PageRequest("GET", c.build_url(f"o/{i}")), resource="o", policy=NOJITTER)
                    for i in range(20)
                )
            )

    vt.run(main())
    assert len(app.requests) == 20
    assert app.peak == limit
    assert vt.now - 1000.0 == pytest.approx(0.1 * -(-20 // limit))


def test_a_429_delays_other_requests_to_the_same_host() -> None:
    vt = VirtualTime()
    arrivals: dict[str, float] = {}
    state: dict[str, Any] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        arrivals.setdefault(name, vt.now)
        if name == "a" and "a429" not in state:
            state["a429"] = vt.now
            state["event"].set()
            return httpx.Response(429, headers={"Retry-After": "5"})
        return httpx.Response(200)

    app = App(default=handle)
    c = client(app, vt)

    async def main() -> None:
        state["event"] = asyncio.Event()

        async def b() -> None:
            await state["event"].wait()  # B starts right after A was rate limited
            await c.send(PageRequest("GET", c.build_url("b")), resource="b", policy=NOJITTER)

        async with c:
            await asyncio.gather(
                c.send(PageRequest("GET", c.build_url("a")), resource="a", policy=NOJITTER), b()
            )

    vt.run(main())
    assert arrivals["b"] - state["a429"] >= 5.0
    assert c.stats["b"].throttled_seconds >= 5.0


def test_rate_converges_under_a_simulated_limit() -> None:
    rate, burst, total = 10.0, 10.0, 400
    vt = VirtualTime(start=0.0)
    bucket = {"tokens": burst, "at": 0.0}
    served: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        now = vt.now
        bucket["tokens"] = min(burst, bucket["tokens"] + (now - bucket["at"]) * rate)
        bucket["at"] = now
        if bucket["tokens"] < 1:
            return httpx.Response(429, headers={"Retry-After": "1"})
        bucket["tokens"] -= 1
        served.append(now)
        return httpx.Response(200, json={"data": []})

    app = App(default=handle)
    c = client(app, vt, max_concurrency=4)
    queue = list(range(total))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            await c.send(
                PageRequest("GET", c.build_url(f"o/{i}")),
                resource="o",
                policy=RetryPolicy(max_retries=10),
            )
            await vt.sleep(0.01)  # the page's processing time

    async def main() -> None:
        async with c:
            await asyncio.gather(*(worker() for _ in range(4)))

    vt.run(main())
    stats = c.stats["o"]
    assert len(served) == total
    assert stats.rate_limited <= 0.05 * total  # few 429s
    second_half = served[total // 2 :]
    achieved = (len(second_half) - 1) / (second_half[-1] - second_half[0])
    assert 0.6 * rate <= achieved <= 1.05 * rate


def test_fixed_rate_limit_paces_requests() -> None:
    vt = VirtualTime(start=0.0)
    arrivals: list[float] = []
    app = App(default=lambda r: arrivals.append(vt.now) or httpx.Response(200))
    c = client(app, vt, rate_limit=5.0)

    async def main() -> None:
        async with c:
            await asyncio.gather(
                *(
                    c.send(PageRequest("GET", c.build_url("o")), resource="o", policy=NOJITTER)
                    for _ in range(11)
                )
            )

    vt.run(main())
    assert arrivals[-1] - arrivals[0] == pytest.approx(2.0)


def test_ratelimit_remaining_zero_pauses_until_reset() -> None:
    vt = VirtualTime(start=0.0)
    arrivals: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        arrivals.append(vt.now)
        if len(arrivals) == 1:
            return httpx.Response(
                200, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3"}
            )
        return httpx.Response(200)

    app = App(default=handle)
    c = client(app, vt)

    async def main() -> None:
        async with c:
            for _ in range(2):
                await c.send(PageRequest("GET", c.build_url("o")), resource="o", policy=NOJITTER)

    vt.run(main())
    assert arrivals == [0.0, 3.0]


# -- stats, logs, redaction ---------------------------------------------------------------


def test_stats_per_resource() -> None:
    app = App(httpx.Response(429), httpx.Response(200, content=b"x" * 100))
    vt = VirtualTime()
    c = client(app, vt)
    vt.run(send_one(c, resource="orders"))
    s = c.stats["orders"]
    assert (s.requests, s.retries, s.rate_limited, s.bytes) == (2, 1, 1, 100)
    assert s.as_dict()["requests"] == 2


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: httpx.Response(401, text=f"bad key {KEY}"),
        lambda r: httpx.Response(404, text=f"no such thing for {r.url}"),
        lambda r: httpx.Response(503, json={"echo": str(r.url)}),
        lambda r: httpx.Response(302, headers={"Location": f"/v1/loop?api_key={KEY}"}),
    ],
    ids=["401", "404", "503", "redirect-loop"],
)
@pytest.mark.parametrize("auth", ["api_key_query", "bearer", "basic", "api_key_cookie"])
def test_secrets_never_appear_in_errors_or_logs(
    answer: Any, auth: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="restsync.http")
    app, vt = App(default=answer), VirtualTime()
    c = client(app, vt, auth=AUTHS[auth])
    with pytest.raises(ResourceError) as info:
        vt.run(send_one(c, params={"offset": 300}))
    text = str(info.value) + repr(info.value.args) + str(info.value.url)
    assert KEY not in text
    assert info.value.__cause__ is None
    assert KEY not in caplog.text
    assert "api_key=" not in text or "api_key=***" in text


def test_a_response_is_freed_without_the_cyclic_collector() -> None:
    # httpx binds a response's stream to the response (a cycle); the client cuts it, so a
    # run that collects rarely does not pile up bodies waiting for the collector
    import gc
    import weakref

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [1, 2, 3]})

    async def main() -> weakref.ref[httpx.Response]:
        async with SourceClient(BASE, transport=httpx.MockTransport(handler)) as c:
            request = PageRequest("GET", c.build_url("items"))
            response = await c.send(request, resource="items", policy=RetryPolicy())
            assert response is not None
            assert response.json() == {"data": [1, 2, 3]}
            return weakref.ref(response)

    was_on = gc.isenabled()
    gc.disable()
    try:
        ref = asyncio.run(main())
        assert ref() is None  # freed by reference counting alone
    finally:
        if was_on:
            gc.enable()
