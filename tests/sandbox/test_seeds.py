"""Each sandbox holds to its seed: every resource path and selector, the pagination scheme, keys."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from restsync.sandbox import API_NAMES, Sandbox
from tests.sandbox.conftest import SEED_LIMIT, Walk, auth_for

# (api, resource, path as the seed writes it, data_selector, primary key) -- copied from seeds/.
SEED_RESOURCES = [
    ("fulfillment", "fulfillment_data", "/v1/fulfillment", "data", "id"),
    ("ecommerce", "order_payments", "/v1/order_payments", "data", "id"),
    ("ecommerce", "products", "/v1/products", "data", "id"),
    ("orders", "orders", "/v1/orders", "orders", "order_id"),
    ("commerce", "inventory", "/commerce/inventory", "inventory", "id"),
    ("commerce", "orders", "/commerce/orders", "result", "id"),
    ("commerce", "store_pages", "/commerce/store_pages", "storePages", "id"),
    ("commerce", "products", "/commerce/products", "products", "id"),
    ("commerce", "transactions", "/commerce/transactions", "documents", "id"),
    ("commerce", "profiles", "/profiles", "profiles", "id"),
    *[
        ("inventory", name, path, "data", "id")
        for name, path in [
            ("customers", "/v1/customers"),
            ("shipping_fee", "/v1/sales_order_shipping_fee"),
            ("costs", "/v1/additional_costs"),
            ("customer_addresses", "/v1/customer_addresses"),
            ("variants", "/v1/variants"),
            ("tax_rates", "/v1/tax_rates"),
            ("suppliers", "/v1/suppliers"),
            ("stocktakes", "/v1/stocktakes"),
            ("stock_adjustments", "/v1/stock_adjustments"),
            ("sales_orders", "/v1/sales_orders"),
            ("sales_order_fulfillments", "/v1/sales_order_fulfillments"),
            ("sales_order_addresses", "/v1/sales_order_addresses"),
            ("recipes", "/v1/recipes"),
            ("purchase_orders", "/v1/purchase_orders"),
            ("products", "/v1/products"),
            ("price_lists", "/v1/price_lists"),
            ("inventory", "/v1/inventory"),
            ("locations", "/v1/locations"),
            ("manufacturing_orders", "/v1/manufacturing_orders"),
            ("materials", "/v1/materials"),
        ]
    ],
]
CURSOR_FIELD = {"orders": "last_modified_date", "commerce": "modifiedOn"}
# Sizes that leave a partial last page for each API's seed page size (commerce pages hold 50).
SIZES = {"fulfillment": 250, "ecommerce": 130, "orders": 450, "commerce": 120, "inventory": 60}


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[dict[str, Sandbox]]:
    started = {name: Sandbox(name, records=SIZES[name]).start() for name in SIZES}
    yield started
    for sb in started.values():
        sb.stop()


def test_thirty_seed_resources_are_all_there() -> None:
    assert len(SEED_RESOURCES) == 1 + 2 + 1 + 6 + 20
    assert set(API_NAMES) == {*SIZES, "bench"}


@pytest.mark.parametrize(("api", "resource", "path", "selector", "pk"), SEED_RESOURCES)
def test_resource_walks_to_exactly_expected(
    sandboxes: dict[str, Sandbox],
    client: httpx.Client,
    walk: Walk,
    api: str,
    resource: str,
    path: str,
    selector: str,
    pk: str,
) -> None:
    sb = sandboxes[api]
    assert sb.resources()[resource] == path
    assert sb.app.spec.resource(resource).selector == selector
    records, responses = walk(sb, resource, client)
    expected = sb.expected(resource)
    assert len(expected) == SIZES[api]
    assert records == expected
    keys = [r[pk] for r in records]
    assert len(set(keys)) == len(keys), "duplicate primary keys"
    cursor = CURSOR_FIELD.get(api, "updated_at")
    assert all(isinstance(r[cursor], str) and r[cursor] for r in records)
    per_page = 50 if api == "commerce" else SEED_LIMIT[api]
    assert len(responses) == -(-SIZES[api] // per_page)
    # every request went to the seed's path joined to the seed's base_url
    assert {r.url.path for r in responses} == {sb.app.spec.base_path.rstrip("/") + path}


def test_seed_config_points_at_the_sandbox(sandboxes: dict[str, Sandbox]) -> None:
    cfg = sandboxes["commerce"].config()
    assert cfg["client"]["base_url"].endswith("/1.0/")
    assert cfg["client"]["auth"] == {
        "type": "bearer",
        "token": sandboxes["commerce"].secrets["api_key"],
    }
    assert [r["endpoint"]["data_selector"] for r in cfg["resources"]] == [
        "inventory", "result", "storePages", "products", "documents", "profiles",
    ]  # fmt: skip
    orders = sandboxes["orders"].config()
    assert orders["client"]["auth"]["type"] == "oauth2"
    assert orders["client"]["auth"]["token_url"].endswith("/oauth/token")
    assert orders["resources"][0]["endpoint"]["paginator"] == {
        "type": "offset",
        "limit": 200,
        "offset_param": "offset",
    }
    assert orders["resource_defaults"] == {"primary_key": "order_id", "write_disposition": "merge"}


def test_commerce_paths_live_under_1_0(sandboxes: dict[str, Sandbox], client: httpx.Client) -> None:
    sb = sandboxes["commerce"]
    _, headers = auth_for(sb, client)
    # the seed joins https://host/1.0/ with /commerce/inventory and means /1.0/commerce/inventory
    assert client.get(sb.origin + "/1.0/commerce/inventory", headers=headers).status_code == 200
    assert client.get(sb.origin + "/commerce/inventory", headers=headers).status_code == 404
    assert client.get(sb.origin + "/1.0/profiles", headers=headers).status_code == 200


def test_cursor_next_page_url_is_absolute_and_opaque(
    sandboxes: dict[str, Sandbox], client: httpx.Client
) -> None:
    sb = sandboxes["commerce"]
    _, headers = auth_for(sb, client)
    body = client.get(sb.url("orders"), headers=headers).json()
    url = body["pagination"]["nextPageUrl"]
    assert url.startswith(sb.origin + "/1.0/commerce/orders?cursor=")
    assert body["pagination"]["hasNextPage"] is True
    assert body["pagination"]["nextPageCursor"] in url
    bad = client.get(sb.url("orders"), params={"cursor": "not-a-cursor"}, headers=headers)
    assert bad.status_code == 400
    # a cursor of one resource is refused by another
    other = client.get(
        sb.url("products"), params={"cursor": body["pagination"]["nextPageCursor"]}, headers=headers
    )
    assert other.status_code == 400


def test_bench_api_serves_generated_pages(client: httpx.Client, walk: Walk) -> None:
    with Sandbox("bench", records=1234) as sb:
        records, responses = walk(sb, "items", client)
        assert len(responses) == 13
        assert records == sb.expected("items")
        assert [r["id"] for r in records] == list(range(1, 1235))
        first = records[0]
        assert len(first) >= 15
        assert isinstance(first["customer"]["address"], dict)
        assert 1 <= len(first["line_items"]) <= 3
        body = responses[0].json()
        assert body["total_count"] == 1234
        assert body["total_pages"] == 13
