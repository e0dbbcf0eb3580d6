"""Pagination switches: page-size maximum (400 or clamp), totals on/off, page 0, bad parameters."""

from __future__ import annotations

import httpx
import pytest

from restsync.sandbox import Sandbox, SandboxOptions
from tests.sandbox.conftest import Walk, auth_for


def test_page_size_above_maximum_is_rejected(client: httpx.Client) -> None:
    with Sandbox("fulfillment", records=30, options=SandboxOptions(max_page_size=10)) as sb:
        params, _ = auth_for(sb, client)
        response = client.get(sb.url("fulfillment_data"), params={**params, "limit": 100})
        assert response.status_code == 400
        assert "limit must be <= 10" in response.json()["message"]


def test_page_size_above_maximum_is_clamped(client: httpx.Client, walk: Walk) -> None:
    with Sandbox(
        "inventory", records={"customers": 95}, options=SandboxOptions(max_page_size=20, clamp=True)
    ) as sb:
        _, headers = auth_for(sb, client)
        body = client.get(
            sb.url("customers"), params={"page": 1, "limit": 50}, headers=headers
        ).json()
        assert len(body["data"]) == 20
        assert body["limit"] == 20
        # a walker that trusts the requested limit stops after page 1 and loses data ...
        short, _ = walk(sb, "customers", client)
        assert len(short) == 20
        # ... one that goes on until an empty page gets everything
        page, records = 1, []
        while True:
            got = client.get(
                sb.url("customers"), params={"page": page, "limit": 50}, headers=headers
            ).json()["data"]
            if not got:
                break
            records += got
            page += 1
        assert records == sb.expected("customers")


def test_offset_clamp_serves_max_and_reports_it(client: httpx.Client) -> None:
    with Sandbox(
        "orders", records=300, options=SandboxOptions(max_page_size=150, clamp=True)
    ) as sb:
        _, headers = auth_for(sb, client)
        body = client.get(
            sb.url("orders"), params={"offset": 0, "limit": 200}, headers=headers
        ).json()
        assert len(body["orders"]) == 150
        assert body["total"] == 300
        assert body["limit"] == 150


@pytest.mark.parametrize("send_total", [True, False])
def test_totals_switch(client: httpx.Client, walk: Walk, send_total: bool) -> None:
    options = SandboxOptions(send_total=send_total)
    with Sandbox("ecommerce", records=130, options=options) as sb:
        params, _ = auth_for(sb, client)
        body = client.get(sb.url("products"), params={**params, "limit": 100}).json()
        assert ("total" in body) is send_total
        if send_total:
            assert body["total"] == 130
            records, _ = walk(sb, "products", client, use_total=True)
            assert records == sb.expected("products")
    with Sandbox("inventory", records=7, options=options) as sb:
        _, headers = auth_for(sb, client)
        body = client.get(
            sb.url("materials"), params={"page": 1, "limit": 5}, headers=headers
        ).json()
        assert ("total_count" in body) is send_total
        assert ("total_pages" in body) is send_total
        assert "total" not in body  # page-number APIs never send an ambiguous bare "total"
        if send_total:
            assert (body["total_count"], body["total_pages"]) == (7, 2)


def test_page_zero_rejected_or_served_as_first(client: httpx.Client) -> None:
    with Sandbox("inventory", records=3) as sb:
        _, headers = auth_for(sb, client)
        zero = client.get(sb.url("locations"), params={"page": 0, "limit": 50}, headers=headers)
        assert zero.status_code == 400
        assert "count from 1" in zero.json()["message"]
    with Sandbox("inventory", records=3, options=SandboxOptions(page_zero_as_first=True)) as sb:
        _, headers = auth_for(sb, client)
        zero = client.get(
            sb.url("locations"), params={"page": 0, "limit": 50}, headers=headers
        ).json()
        one = client.get(
            sb.url("locations"), params={"page": 1, "limit": 50}, headers=headers
        ).json()
        assert zero["data"] == one["data"] == sb.expected("locations")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "abc"},
        {"limit": "0"},
        {"offset": "-1"},
        {"offset": "x"},
        {"updated_since": "yesterday"},
    ],
)
def test_bad_parameters_get_400(client: httpx.Client, params: dict[str, str]) -> None:
    with Sandbox("fulfillment", records=3) as sb:
        auth, _ = auth_for(sb, client)
        response = client.get(sb.url("fulfillment_data"), params={**auth, **params})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_parameter"


def test_offset_past_the_end_is_an_empty_page(client: httpx.Client) -> None:
    with Sandbox("fulfillment", records=3) as sb:
        auth, _ = auth_for(sb, client)
        body = client.get(sb.url("fulfillment_data"), params={**auth, "offset": 50}).json()
        assert body["data"] == []
        assert body["total"] == 3


def test_default_page_size_when_none_is_asked(client: httpx.Client) -> None:
    with Sandbox("fulfillment", records=150) as sb:
        auth, _ = auth_for(sb, client)
        assert len(client.get(sb.url("fulfillment_data"), params=auth).json()["data"]) == 100
    with Sandbox("commerce", records=30, options=SandboxOptions(default_page_size=7)) as sb:
        _, headers = auth_for(sb, client)
        body = client.get(sb.url("profiles"), headers=headers).json()
        assert len(body["profiles"]) == 7


def test_products_without_id(client: httpx.Client) -> None:
    with Sandbox("ecommerce", records=5) as sb:
        product = sb.expected("products")[0]
        assert product["id"] == product["product_id"]
        assert {"product_id", "name", "price"} <= set(product)
    with Sandbox("ecommerce", records=5, options=SandboxOptions(products_without_id=True)) as sb:
        auth, _ = auth_for(sb, client)
        served = client.get(sb.url("products"), params=auth).json()["data"]
        assert served == sb.expected("products")
        assert all("id" not in p and "product_id" in p for p in served)
        assert all("id" in p for p in sb.expected("order_payments"))
