"""`endpoint.auth` replaces `client.auth` for that resource (dlt's meaning), and like the
client's auth goes only to base_url's origin."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
from tests.unit.extract.extract_helpers import run_extractor

from restsync import rest_api_source
from restsync.extract._model import Page
from restsync.util.redact import registered_secrets, restore_secrets

BASE = "http://api.test/v1"


def _api(seen: dict[str, list[str | None]]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        seen.setdefault(name, []).append(request.headers.get("authorization"))
        if request.url.host != "api.test":
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=[{"id": 1}])

    return handle


def _run(config: dict[str, Any]) -> dict[str, list[str | None]]:
    snapshot = registered_secrets()
    try:
        source = rest_api_source(config)
        seen: dict[str, list[str | None]] = {}
        pages: list[Page] = []
        runs = asyncio.run(
            run_extractor(source, BASE, _api(seen), pages, auth=config["client"].get("auth"))
        )
        assert all(r.ok for r in runs.values()), {n: r.error for n, r in runs.items()}
        return seen
    finally:
        restore_secrets(snapshot)


def test_endpoint_auth_replaces_the_client_auth() -> None:
    config = {
        "client": {"base_url": BASE, "auth": {"type": "bearer", "token": "client-token-1"}},
        "resources": [
            "plain",
            {
                "name": "special",
                "endpoint": {
                    "path": "special",
                    "paginator": "single_page",
                    "auth": {"type": "bearer", "token": "endpoint-token-2"},
                },
            },
        ],
        "resource_defaults": {"endpoint": {"paginator": "single_page"}},
    }
    seen = _run(config)
    assert seen["plain"] == ["Bearer client-token-1"]
    assert seen["special"] == ["Bearer endpoint-token-2"]


def test_endpoint_auth_without_client_auth_is_sent() -> None:
    config = {
        "client": {"base_url": BASE},
        "resources": [
            {
                "name": "special",
                "endpoint": {
                    "path": "special",
                    "paginator": "single_page",
                    "auth": {"type": "http_basic", "username": "user-a", "password": "pw-secret"},
                },
            },
            {"name": "open", "endpoint": {"path": "open", "paginator": "single_page"}},
        ],
    }
    seen = _run(config)
    token = base64.b64encode(b"user-a:pw-secret").decode()
    assert seen["special"] == [f"Basic {token}"]
    assert seen["open"] == [None]


def test_endpoint_auth_stays_on_the_base_origin() -> None:
    config = {
        "client": {"base_url": BASE},
        "resources": [
            {
                "name": "elsewhere",
                "endpoint": {
                    "path": "http://other.test/elsewhere",
                    "paginator": "single_page",
                    "auth": {"type": "bearer", "token": "endpoint-token-3"},
                },
            },
        ],
    }
    seen = _run(config)
    assert seen["elsewhere"] == [None]


def test_resources_sharing_an_endpoint_auth_share_its_token() -> None:
    tokens = [0]

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            tokens[0] += 1
            return httpx.Response(200, json={"access_token": f"at-{tokens[0]}", "expires_in": 600})
        return httpx.Response(200, json=[{"id": 1}])

    config = {
        "client": {"base_url": BASE},
        "resource_defaults": {
            "endpoint": {
                "paginator": "single_page",
                "auth": {
                    "type": "oauth2",
                    "client_id": "cid-1",
                    "client_secret": "cs-shared-secret-1",
                    "token_url": "http://api.test/oauth/token",
                },
            }
        },
        "resources": ["a", "b", "c"],
    }
    snapshot = registered_secrets()
    try:
        runs = asyncio.run(run_extractor(rest_api_source(config), BASE, api, []))
    finally:
        restore_secrets(snapshot)
    assert all(r.ok for r in runs.values())
    assert tokens[0] == 1
