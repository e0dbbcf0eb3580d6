"""OAuth2 through SourceClient: the token request goes through the same transport."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from tests.unit.http.http_helpers import App, VirtualTime

from restsync.errors import AuthError
from restsync.http._client import SourceClient
from restsync.http._request import PageRequest
from restsync.http._retry import RetryPolicy

BASE = "https://api.example.com/v1"
TOKEN_URL = "https://auth.example.com/oauth/token"
SECRET = "cs-oauth-client-secret-77"
AUTH = {
    "type": "oauth2",
    "client_id": "cid-oauth-1",
    "client_secret": SECRET,
    "token_url": TOKEN_URL,
}


class OAuthApp(App):
    def __init__(self, api: Any = None, token: Any = None) -> None:
        super().__init__()
        self.api = api or (lambda r: httpx.Response(200, json={"data": []}))
        self.token = token
        self.tokens_issued = 0
        self.api_auth: list[str] = []  # snapshots: the flow reuses the request object

    def __call__(self, request: httpx.Request) -> Any:
        self.requests.append(request)
        if str(request.url) == TOKEN_URL:
            if self.token is not None:
                return self.token(request)
            self.tokens_issued += 1
            return httpx.Response(
                200, json={"access_token": f"at-issued-{self.tokens_issued}", "expires_in": 3600}
            )
        self.api_auth.append(request.headers.get("authorization", ""))
        return self.api(request)


def run(app: App, path: str = "orders", n: int = 1) -> SourceClient:
    vt = VirtualTime()
    c = SourceClient(BASE, auth=AUTH, transport=app.transport(), sleep=vt.sleep, clock=vt.clock)

    async def main() -> None:
        async with c:
            await asyncio.gather(
                *(
                    c.send(
                        PageRequest("GET", c.build_url(path)),
                        resource="orders",
                        policy=RetryPolicy(jitter=False),
                    )
                    for _ in range(n)
                )
            )

    vt.run(main())
    return c


def test_token_request_goes_through_the_transport_once() -> None:
    app = OAuthApp()
    run(app, n=8)
    token_requests = [r for r in app.requests if str(r.url) == TOKEN_URL]
    api_requests = [r for r in app.requests if r.url.host == "api.example.com"]
    assert len(token_requests) == 1
    assert len(api_requests) == 8
    assert all(r.headers["authorization"] == "Bearer at-issued-1" for r in api_requests)
    # The client's own credentials went only to the token URL.
    assert all(SECRET not in r.url.query.decode() for r in api_requests)


def test_refresh_once_on_401_then_auth_error() -> None:
    app = OAuthApp(api=lambda r: httpx.Response(401, json={"error": "invalid_token"}))
    with pytest.raises(AuthError) as info:
        run(app)
    text = str(info.value)
    assert "GET https://api.example.com/v1/orders -> 401 Unauthorized (not retried)" in text
    assert f"the API rejected a freshly issued access token from {TOKEN_URL}" in text
    assert app.tokens_issued == 2
    assert app.api_auth == ["Bearer at-issued-1", "Bearer at-issued-2"]


def test_token_endpoint_failure_names_the_token_url() -> None:
    app = OAuthApp(
        token=lambda r: httpx.Response(401, json={"error": "invalid_client", "got": SECRET})
    )
    with pytest.raises(AuthError) as info:
        run(app)
    err = info.value
    text = str(err)
    assert text.startswith(f"resource 'orders': token request POST {TOKEN_URL} -> 401 Unauthorized")
    assert "check secrets 'client_id' and 'client_secret'" in text
    assert SECRET not in text
    assert err.resource == "orders"
    assert not [r for r in app.requests if r.url.host == "api.example.com"]


def test_token_endpoint_5xx_is_retried_then_fails_clearly() -> None:
    app = OAuthApp(token=lambda r: httpx.Response(503))
    with pytest.raises(AuthError, match=r"token request POST .* -> 503"):
        run(app)
    assert len([r for r in app.requests if str(r.url) == TOKEN_URL]) == 4


def test_token_endpoint_unreachable_is_an_auth_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app = OAuthApp(token=refuse)
    with pytest.raises(AuthError, match=rf"token request POST {TOKEN_URL} failed: ConnectError"):
        run(app)
