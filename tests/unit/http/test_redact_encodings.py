"""A secret is masked in every encoding an API may echo it in."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from restsync.errors import AuthError, ResourceError
from restsync.http._client import SourceClient
from restsync.http._request import PageRequest
from restsync.http._retry import RetryPolicy
from restsync.util.redact import redact_text, register_secret, registered_secrets, restore_secrets

KEY = "AbC/dEf+GhI="
SPACED = 'p@ss w"rd\\x/9'


@pytest.fixture(autouse=True)
def _isolated_secrets() -> Iterator[None]:
    snapshot = registered_secrets()
    yield
    restore_secrets(snapshot)


@pytest.mark.parametrize(
    "echo",
    [
        "AbC/dEf+GhI=",
        "AbC%2FdEf%2BGhI%3D",  # every reserved character encoded
        "AbC%2fdEf%2bGhI%3d",  # lowercase hex
        "AbC/dEf%2BGhI%3D",  # '/' left as it is, as many encoders do in a query
        "AbC%2FdEf+GhI%3D",  # '+' left as it is
        "AbC\\/dEf+GhI=",  # JSON-escaped
        "AbC\\u002FdEf\\u002bGhI\\u003d",  # JSON unicode escapes
    ],
)
def test_a_base64_key_is_masked_in_every_encoding(echo: str) -> None:
    register_secret(KEY)
    assert redact_text(f'{{"detail": "bad key {echo} given"}}') == '{"detail": "bad key *** given"}'


@pytest.mark.parametrize(
    "echo",
    ["p%40ss+w%22rd%5Cx%2F9", "p%40ss%20w%22rd%5cx/9", 'p@ss w\\"rd\\\\x\\/9'],
)
def test_spaces_quotes_and_backslashes_are_masked_in_every_encoding(echo: str) -> None:
    register_secret(SPACED)
    assert redact_text(f"x={echo}&y=1") == "x=***&y=1"


def test_ordinary_text_is_left_alone() -> None:
    register_secret(KEY)
    text = "offset=10&cursor=AbC%2FdEf&note=a+b \\/ ok"
    assert redact_text(text) == text


def _client(handler: Any, auth: Any) -> SourceClient:
    return SourceClient("http://api.test/v1", auth=auth, transport=httpx.MockTransport(handler))


async def _send(c: SourceClient) -> ResourceError:
    async with c:
        try:
            await c.send(
                PageRequest("GET", c.build_url("items")),
                resource="items",
                policy=RetryPolicy(max_retries=0),
            )
        except ResourceError as exc:
            return exc
    raise AssertionError("no error")


def test_a_query_key_echoed_in_its_wire_form_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        wire = request.url.query.decode()  # the key as httpx sent it, then as the API prints it
        echoed = wire.replace("%2F", "/").replace("%2B", "+")
        return httpx.Response(400, text=f"invalid request {wire} ({echoed})")

    auth = {"type": "api_key", "name": "apiToken", "api_key": KEY, "location": "query"}
    with caplog.at_level(logging.DEBUG, logger="restsync"):
        error = asyncio.run(_send(_client(api, auth)))
    text = f"{error} {error.url} {caplog.text}"
    assert "invalid request" in text
    for form in ("AbC", "GhI"):
        assert form not in text, text


def test_basic_credentials_are_masked_in_base64() -> None:
    token = base64.b64encode(b"user-1:pa/ss+word").decode()

    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text=f"refused: {request.headers['authorization']}")

    auth = {"type": "http_basic", "username": "user-1", "password": "pa/ss+word"}
    error = asyncio.run(_send(_client(api, auth)))
    assert isinstance(error, AuthError)
    assert "refused: Basic ***" in str(error)
    assert token not in str(error)


def test_a_json_escaped_secret_echoed_by_the_token_endpoint_is_masked() -> None:
    secret = "cs/oauth+secret=77"

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(
                401, text='{"error": "invalid_client", "got": "cs\\/oauth+secret=77"}'
            )
        return httpx.Response(200, json=[])

    auth = {
        "type": "oauth2",
        "client_id": "cid-oauth-1",
        "client_secret": secret,
        "token_url": "http://api.test/oauth/token",
    }
    error = asyncio.run(_send(_client(api, auth)))
    assert "invalid_client" in str(error)
    assert "oauth" not in str(error).split("invalid_client", 1)[1], str(error)
