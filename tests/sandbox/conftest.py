"""Helpers for the sandbox tests: credentials per API and a page walker, both with plain httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from restsync.sandbox import Faults, Sandbox

SEED_LIMIT = {"fulfillment": 100, "ecommerce": 100, "orders": 200, "inventory": 50, "bench": 100}


def token_for(sb: Sandbox, client: httpx.Client, **extra: str) -> str:
    """An access token from the orders sandbox's token endpoint (client id/secret in the body)."""
    s = sb.secrets
    data = {
        "grant_type": "client_credentials",
        "client_id": s["client_id"],
        "client_secret": s["client_secret"],
        **extra,
    }
    response = client.post(s["token_url"], data=data)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def auth_for(sb: Sandbox, client: httpx.Client) -> tuple[dict[str, str], dict[str, str]]:
    """(query params, headers) that authenticate to `sb` as its seed does."""
    auth = sb.app.spec.auth
    if auth == "query_key":
        return {"api_key": sb.secrets["api_key"]}, {}
    if auth == "bearer":
        return {}, {"Authorization": f"Bearer {sb.secrets['api_key']}"}
    return {}, {"Authorization": f"Bearer {token_for(sb, client)}"}


Walk = Callable[..., tuple[list[dict[str, Any]], list[httpx.Response]]]


def walk_pages(
    sb: Sandbox,
    resource: str,
    client: httpx.Client,
    *,
    params: dict[str, str] | None = None,
    limit: int | None = None,
    use_total: bool = False,
) -> tuple[list[dict[str, Any]], list[httpx.Response]]:
    """Every record of `resource`, fetched with the seed's pagination; stops on an empty or short
    page (or at the total with `use_total`), or when the cursor API has no next page."""
    spec = sb.app.spec
    selector = spec.resource(resource).selector
    auth_params, headers = auth_for(sb, client)
    base = {**auth_params, **(params or {})}
    records: list[dict[str, Any]] = []
    responses: list[httpx.Response] = []
    if spec.pagination == "cursor":
        url: str | None = sb.url(resource)
        query: dict[str, str] | None = base
        while url:
            response = client.get(url, params=query, headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            responses.append(response)
            records += body[selector]
            url = body["pagination"]["nextPageUrl"]
            assert bool(url) == body["pagination"]["hasNextPage"]
            query = None
        return records, responses
    size = limit or SEED_LIMIT[sb.name]
    position = 0 if spec.pagination == "offset" else 1
    while len(responses) < 10_000:
        key = "offset" if spec.pagination == "offset" else "page"
        response = client.get(
            sb.url(resource), params={**base, key: position, "limit": size}, headers=headers
        )
        assert response.status_code == 200, response.text
        responses.append(response)
        body = response.json()
        page = body[selector]
        records += page
        if use_total:
            total = body["total"] if spec.pagination == "offset" else body["total_count"]
            if len(records) >= total:
                break
        elif len(page) < size:
            break
        position += len(page) if spec.pagination == "offset" else 1
    return records, responses


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    """A plain httpx client."""
    with httpx.Client(timeout=10) as c:
        yield c


@pytest.fixture
def walk() -> Walk:
    """The page walker."""
    return walk_pages


def reset(sb: Sandbox) -> None:
    """Back to no faults and an empty log."""
    sb.faults = Faults()
    sb.clear_requests()
