"""Auth is enforced as each seed describes it, and every credential is recorded."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import pytest

from restsync.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import auth_for, token_for


@pytest.mark.parametrize("api", ["fulfillment", "ecommerce"])
def test_query_key_apis(api: str, client: httpx.Client) -> None:
    with Sandbox(api, records=5) as sb:
        url = sb.url(next(iter(sb.resources())))
        key = sb.secrets["api_key"]
        assert sb.env() == {"API_KEY": key}
        assert client.get(url, params={"api_key": key}).status_code == 200
        assert client.get(url).status_code == 401
        assert client.get(url, params={"api_key": key + "x"}).status_code == 401
        # the key in a header is not what this API reads
        assert client.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 401
        assert client.get(url, params={"api_key": sb.restricted_credential}).status_code == 403
        assert [r.credential for r in sb.requests] == [
            key,
            None,
            key + "x",
            None,
            sb.restricted_credential,
        ]
        assert [r.status for r in sb.requests] == [200, 401, 401, 401, 403]
        assert sb.requests[0].query["api_key"] == key


@pytest.mark.parametrize("api", ["commerce", "inventory", "bench"])
def test_bearer_apis(api: str, client: httpx.Client) -> None:
    with Sandbox(api, records=5) as sb:
        url = sb.url(next(iter(sb.resources())))
        token = sb.secrets["api_key"]
        ok = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        missing = client.get(url)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get(url, params={"api_key": token}).status_code == 401  # wrong place
        assert (
            client.get(
                url, headers={"Authorization": f"Bearer {sb.restricted_credential}"}
            ).status_code
            == 403
        )
        assert sb.requests[0].headers["authorization"] == f"Bearer {token}"
        assert sb.requests[0].credential == token


def test_forbidden_resources_answer_403_to_a_valid_key(client: httpx.Client) -> None:
    with Sandbox(
        "inventory", records=3, options=SandboxOptions(forbidden_resources=("costs",))
    ) as sb:
        _, headers = auth_for(sb, client)
        assert client.get(sb.url("costs"), headers=headers).status_code == 403
        assert client.get(sb.url("customers"), headers=headers).status_code == 200


@pytest.fixture(scope="module")
def orders() -> Iterator[Sandbox]:
    with Sandbox("orders", records=20, options=SandboxOptions(token_lifetime=0.3)) as sb:
        yield sb


def test_token_with_credentials_in_body(orders: Sandbox, client: httpx.Client) -> None:
    s = orders.secrets
    assert set(orders.env()) == {"CLIENT_ID", "CLIENT_SECRET", "TOKEN_URL"}
    assert s["token_url"] == orders.origin + "/oauth/token"
    response = client.post(
        s["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": s["client_id"],
            "client_secret": s["client_secret"],
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == pytest.approx(0.3)
    got = client.get(
        orders.url("orders"), headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert got.status_code == 200
    assert len(got.json()["orders"]) == 20


def test_token_with_http_basic(orders: Sandbox, client: httpx.Client) -> None:
    s = orders.secrets
    response = client.post(
        s["token_url"],
        data={"grant_type": "client_credentials"},
        auth=(s["client_id"], s["client_secret"]),
    )
    assert response.status_code == 200
    entry = [r for r in orders.requests if r.path == "/oauth/token"][-1]
    assert entry.credential == s["client_id"]
    expected = base64.b64encode(f"{s['client_id']}:{s['client_secret']}".encode()).decode()
    assert entry.headers["authorization"] == f"Basic {expected}"


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({}, 400, "unsupported_grant_type"),
    ],
)
def test_token_refusals(
    orders: Sandbox, client: httpx.Client, data: dict[str, str], status: int, error: str
) -> None:
    response = client.post(orders.secrets["token_url"], data=data)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert client.get(orders.secrets["token_url"]).status_code == 405


def test_expired_and_unknown_tokens_get_401(orders: Sandbox, client: httpx.Client) -> None:
    token = token_for(orders, client)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(orders.url("orders"), headers=headers).status_code == 200
    time.sleep(0.35)
    expired = client.get(orders.url("orders"), headers=headers)
    assert expired.status_code == 401
    assert "invalid_token" in expired.headers["www-authenticate"]
    fresh = token_for(orders, client)
    assert (
        client.get(orders.url("orders"), headers={"Authorization": f"Bearer {fresh}"}).status_code
        == 200
    )
    orders.expire_tokens()
    assert (
        client.get(orders.url("orders"), headers={"Authorization": f"Bearer {fresh}"}).status_code
        == 401
    )
    assert (
        client.get(orders.url("orders"), headers={"Authorization": "Bearer at_made_up"}).status_code
        == 401
    )
    assert (
        client.get(
            orders.url("orders"),
            headers={"Authorization": f"Bearer {orders.secrets['client_secret']}"},
        ).status_code
        == 401
    )


def test_token_without_scope_gets_403(orders: Sandbox, client: httpx.Client) -> None:
    token = token_for(orders, client, scope="profile")
    response = client.get(orders.url("orders"), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
