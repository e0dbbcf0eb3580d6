from __future__ import annotations

import asyncio
import base64
from collections.abc import Generator
from typing import Any, get_args
from urllib.parse import parse_qs

import httpx
import pytest

from restsync.auth import (
    AUTH_TYPES,
    ApiKeyAuth,
    BearerAuth,
    HttpBasicAuth,
    OAuth2ClientCredentials,
    SourceAuth,
    build_auth,
    register_auth,
)
from restsync.auth._api_key import ApiKeyLocation
from restsync.errors import AuthError, ConfigError
from restsync.util.redact import redact_text

API = "https://api.example.com/v1/orders?offset=0"
TOKEN_URL = "https://auth.example.com/oauth/token"
SECRET = "cs-Zq81-client-secret"


def request() -> httpx.Request:
    return httpx.Request("GET", API)


def form(req: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(req.content.decode()).items()}


def token_response(
    token: str = "at-1111", expires_in: Any = 3600, status: int = 200
) -> httpx.Response:
    body: dict[str, Any] = {"access_token": token, "token_type": "bearer"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return httpx.Response(status, json=body)


def one_step(auth: httpx.Auth) -> httpx.Request:
    flow = auth.sync_auth_flow(request())
    sent = next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))
    return sent


# -- simple schemes on the wire -----------------------------------------------------------


def test_bearer() -> None:
    assert one_step(BearerAuth("tok-123456")).headers["Authorization"] == "Bearer tok-123456"


@pytest.mark.parametrize(
    ("config", "check"),
    [
        ({"api_key": "k-123456"}, lambda r: r.headers["Authorization"] == "k-123456"),
        (
            {"api_key": "k-123456", "name": "X-API-Key", "location": "header"},
            lambda r: r.headers["X-API-Key"] == "k-123456",
        ),
        (
            {"api_key": "k-123456", "name": "api_key", "location": "query"},
            lambda r: str(r.url) == "https://api.example.com/v1/orders?api_key=k-123456&offset=0",
        ),
        (
            {"api_key": "k-123456", "name": "token", "location": "param"},
            lambda r: r.url.params["token"] == "k-123456" and r.url.params["offset"] == "0",
        ),
        (
            {"api_key": "k-123456", "name": "sid", "location": "cookie"},
            lambda r: r.headers["Cookie"] == "sid=k-123456",
        ),
    ],
    ids=["default", "header", "query", "param", "cookie"],
)
def test_api_key_locations(config: dict[str, str], check: Any) -> None:
    auth = build_auth({"type": "api_key", **config})
    assert isinstance(auth, ApiKeyAuth)
    assert check(one_step(auth))


def test_api_key_cookie_appends_to_existing_cookie() -> None:
    req = httpx.Request("GET", API, headers={"Cookie": "a=1"})
    flow = ApiKeyAuth("k-123456", name="sid", location="cookie").sync_auth_flow(req)
    assert next(flow).headers["Cookie"] == "a=1; sid=k-123456"


def test_http_basic() -> None:
    sent = one_step(
        build_auth({"type": "http_basic", "username": "alice", "password": "pw-s3cret"})
    )  # type: ignore[arg-type]
    expected = base64.b64encode(b"alice:pw-s3cret").decode()
    assert sent.headers["Authorization"] == f"Basic {expected}"
    assert expected not in redact_text(f"header Basic {expected}")


def test_every_credential_is_registered_as_a_secret() -> None:
    build_auth({"type": "bearer", "token": "bearer-reg-001"})
    build_auth({"type": "api_key", "api_key": "apikey-reg-002"})
    build_auth({"type": "http_basic", "username": "user-reg-003", "password": "pass-reg-004"})
    build_auth(
        {
            "type": "oauth2",
            "client_id": "cid-reg-005",
            "client_secret": "cs-reg-006",
            "token_url": TOKEN_URL,
        }
    )
    text = "bearer-reg-001 apikey-reg-002 user-reg-003 pass-reg-004 cid-reg-005 cs-reg-006"
    assert redact_text(text) == " ".join(["***"] * 6)


# -- registry and config errors -----------------------------------------------------------


def test_registry_covers_every_config_type() -> None:
    assert set(AUTH_TYPES) >= {
        "bearer",
        "api_key",
        "http_basic",
        "oauth2",
        "oauth2_client_credentials",
    }
    assert set(get_args(ApiKeyLocation)) == {"header", "query", "param", "cookie"}


def test_build_auth_passthrough_and_shorthand() -> None:
    assert build_auth(None) is None
    auth = BearerAuth("tok-abcdef")
    assert build_auth(auth) is auth
    assert isinstance(build_auth({"token": "tok-abcdef"}), BearerAuth)
    assert isinstance(
        build_auth({"type": "http_basic", "username": "u", "password": "p"}), HttpBasicAuth
    )


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (
            {"type": "bearr", "token": "t-leak-999"},
            r"client.auth.type: unknown auth type 'bearr' \(did you mean 'bearer'\?\)",
        ),
        (
            {"type": "api_key", "name": "api_key", "location": "query"},
            r"client.auth: 'api_key' auth needs 'api_key'; got keys location, name",
        ),
        (
            {"type": "api_key", "api_key": "t-leak-999", "locaton": "query"},
            r"did you mean 'location'",
        ),
        (
            {"type": "api_key", "api_key": "t-leak-999", "location": "body"},
            r"client.auth.location: unknown location",
        ),
        ({"type": "bearer", "token": None}, r"client.auth.token: is empty"),
        ({"client_id": "t-leak-999"}, r"client.auth: missing 'type'"),
        (
            {"type": "oauth2", "client_id": "t-leak-999", "client_secret": "x-leak-998"},
            r"'oauth2' auth needs 'token_url'",
        ),
        (
            {"type": "oauth2_client_credentials", "client_id": "a", "client_secret": "b"},
            r"'oauth2_client_credentials' auth needs 'access_token_url'",
        ),
    ],
)
def test_invalid_configs(config: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        build_auth(config)
    assert "leak" not in str(info.value)


def test_register_auth() -> None:
    class HeaderTokenAuth(SourceAuth):
        type_name = "header_token_test"

        def __init__(self, token: str) -> None:
            super().__init__()
            self.token = self.secret(token, "token")

        def auth_flow(
            self, request: httpx.Request
        ) -> Generator[httpx.Request, httpx.Response, None]:
            request.headers["X-Token"] = self.token
            yield request

        @classmethod
        def from_config(cls, config: Any, *, path: str = "client.auth") -> HeaderTokenAuth:
            return cls(config["token"])

    register_auth("header_token_test", HeaderTokenAuth)
    try:
        auth = build_auth({"type": "header_token_test", "token": "xt-123456"})
        assert one_step(auth).headers["X-Token"] == "xt-123456"  # type: ignore[arg-type]
    finally:
        AUTH_TYPES.pop("header_token_test")
    with pytest.raises(TypeError):
        register_auth("nope", dict)  # type: ignore[arg-type]


def test_origins() -> None:
    auth = OAuth2ClientCredentials(TOKEN_URL, "cid-origin", SECRET)
    auth.bind("https://api.example.com/v1/")
    assert auth.origins == {"https://api.example.com:443", "https://auth.example.com:443"}
    bearer = BearerAuth("tok-origin")
    bearer.bind("http://127.0.0.1:5000/v1")
    assert bearer.origins == {"http://127.0.0.1:5000"}


# -- OAuth2 driven by hand ----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def oauth(clock: Clock | None = None, **kwargs: Any) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(TOKEN_URL, "cid-42", SECRET, clock=clock or Clock(), **kwargs)


def test_oauth2_fetches_then_caches_the_token() -> None:
    auth = oauth(scopes=["read", "write"], audience="https://api.example.com")
    flow = auth.sync_auth_flow(request())
    token_req = next(flow)
    assert token_req.method == "POST"
    assert str(token_req.url) == TOKEN_URL
    assert form(token_req) == {
        "grant_type": "client_credentials",
        "client_id": "cid-42",
        "client_secret": SECRET,
        "scope": "read write",
        "audience": "https://api.example.com",
    }
    assert "authorization" not in token_req.headers
    api_req = flow.send(token_response("at-1111"))
    assert api_req.headers["Authorization"] == "Bearer at-1111"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))
    # Cached: the next request goes straight out.
    flow = auth.sync_auth_flow(request())
    assert next(flow).headers["Authorization"] == "Bearer at-1111"
    assert auth.token_requests == 1


def test_oauth2_refreshes_a_skew_before_expiry() -> None:
    clock = Clock()
    auth = oauth(clock, skew=60)
    flow = auth.sync_auth_flow(request())
    next(flow)
    flow.send(token_response("at-old", expires_in=600))
    clock.now += 600 - 61  # still valid for 61 s
    assert next(auth.sync_auth_flow(request())).headers["Authorization"] == "Bearer at-old"
    clock.now += 2  # 59 s left: inside the skew
    flow = auth.sync_auth_flow(request())
    assert str(next(flow).url) == TOKEN_URL
    assert flow.send(token_response("at-new")).headers["Authorization"] == "Bearer at-new"


def test_oauth2_short_lived_token_uses_half_its_lifetime_as_skew() -> None:
    clock = Clock()
    auth = oauth(clock, skew=60)
    flow = auth.sync_auth_flow(request())
    next(flow)
    flow.send(token_response("at-short", expires_in="30"))
    clock.now += 10
    assert next(auth.sync_auth_flow(request())).headers["Authorization"] == "Bearer at-short"


def test_oauth2_refreshes_once_on_401() -> None:
    auth = oauth()
    flow = auth.sync_auth_flow(request())
    next(flow)
    flow.send(token_response("at-revoked"))
    again = flow.send(httpx.Response(401))
    assert str(again.url) == TOKEN_URL
    retried = flow.send(token_response("at-fresh"))
    assert retried.headers["Authorization"] == "Bearer at-fresh"
    with pytest.raises(StopIteration):  # a second 401 is left to the client (AuthError)
        flow.send(httpx.Response(401))


def test_oauth2_client_auth_basic() -> None:
    auth = oauth(client_auth="basic")
    token_req = next(auth.sync_auth_flow(request()))
    expected = base64.b64encode(f"cid-42:{SECRET}".encode()).decode()
    assert token_req.headers["Authorization"] == f"Basic {expected}"
    assert form(token_req) == {"grant_type": "client_credentials"}


def test_oauth2_dlt_spelling() -> None:
    auth = build_auth(
        {
            "type": "oauth2_client_credentials",
            "access_token_url": TOKEN_URL,
            "client_id": "cid-dlt",
            "client_secret": SECRET,
            "access_token_request_data": {"resource": "https://api.example.com"},
            "default_token_expiration": 120,
        }
    )
    assert isinstance(auth, OAuth2ClientCredentials)
    flow = auth.sync_auth_flow(request())
    assert form(next(flow))["resource"] == "https://api.example.com"
    flow.send(token_response(expires_in=None))
    assert auth.token is not None
    assert auth.token.lifetime == 120


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (
            httpx.Response(401, json={"error": "invalid_client", "echo": SECRET}),
            r"-> 401 Unauthorized: ",
        ),
        (httpx.Response(500, text="boom"), r"-> 500 Internal Server Error: boom"),
        (httpx.Response(200, text="<html>login</html>"), r"without an access_token"),
    ],
)
def test_oauth2_token_endpoint_failure(response: httpx.Response, match: str) -> None:
    auth = oauth()
    flow = auth.sync_auth_flow(request())
    next(flow)
    with pytest.raises(AuthError, match=match) as info:
        flow.send(response)
    text = str(info.value)
    assert f"token request POST {TOKEN_URL}" in text
    assert SECRET not in text
    assert "check" in text.splitlines()[-1]
    assert info.value.url == TOKEN_URL


def test_oauth2_async_flow_fetches_one_token_for_concurrent_requests() -> None:
    token_calls = 0

    async def app(req: httpx.Request) -> httpx.Response:
        nonlocal token_calls
        if req.url.host == "auth.example.com":
            token_calls += 1
            await asyncio.sleep(0.01)
            return token_response(f"at-{token_calls}")
        assert req.headers["Authorization"] == "Bearer at-1"
        return httpx.Response(200)

    auth = oauth()

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(app)) as client:
            await asyncio.gather(*(client.get(API, auth=auth) for _ in range(10)))

    asyncio.run(main())
    assert token_calls == 1


def test_oauth2_auth_can_serve_several_event_loops() -> None:
    clock = Clock()
    issued = 0

    async def app(req: httpx.Request) -> httpx.Response:
        nonlocal issued
        if req.url.host == "auth.example.com":
            issued += 1
            await asyncio.sleep(0.001)
            return token_response(f"at-loop-{issued}", expires_in=100)
        return httpx.Response(200)

    auth = oauth(clock)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(app)) as client:
            await asyncio.gather(*(client.get(API, auth=auth) for _ in range(5)))

    asyncio.run(main())
    clock.now += 1000  # expired: the second run refreshes under a new loop's lock
    asyncio.run(main())
    assert issued == 2
