"""Records are realistic and deterministic for (api, seed, size)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from restsync.sandbox import API_NAMES, Sandbox, SandboxOptions

OFFSET_RE = re.compile(r"(Z|[+-]\d\d:\d\d)$")


def _walk_values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value] + [x for v in value.values() for x in _walk_values(v)]
    if isinstance(value, list):
        return [value] + [x for v in value for x in _walk_values(v)]
    return [value]


@pytest.mark.parametrize("api", API_NAMES)
def test_deterministic_for_api_seed_and_size(api: str) -> None:
    first = Sandbox(api, records=30)
    again = Sandbox(api, records=30)
    bigger = Sandbox(api, records=40)
    other_seed = Sandbox(api, records=30, options=SandboxOptions(seed=1))
    for resource in first.resources():
        records = first.expected(resource)
        assert records == again.expected(resource)
        assert bigger.expected(resource)[:30] == records  # growing keeps the first records
        assert other_seed.expected(resource) != records


@pytest.mark.parametrize("api", API_NAMES)
def test_records_look_like_real_api_data(api: str) -> None:
    sb = Sandbox(api, records=60)
    values = [v for res in sb.resources() for v in _walk_values(sb.expected(res))]
    strings = [v for v in values if isinstance(v, str)]
    assert any(isinstance(v, dict) for v in values[1:]), "nested objects"
    assert any(isinstance(v, list) and v and isinstance(v[0], dict) for v in values), (
        "lists of objects"
    )
    assert None in values, "nulls"
    assert any(not s.isascii() for s in strings), "unicode text"
    stamps = [s for s in strings if re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", s)]
    assert stamps
    assert all(OFFSET_RE.search(s) for s in stamps)
    if api != "bench":
        assert {OFFSET_RE.search(s).group(1) == "Z" for s in stamps} == {True, False}, (
            "Z and offsets"
        )
    assert any(re.fullmatch(r"\d+\.\d\d", s) for s in strings), "decimals as strings"
    assert any(isinstance(v, float) for v in values) or api == "commerce", "decimals as numbers"


def test_seed_fields_are_present() -> None:
    assert {"id", "customer_id", "updated_at"} <= set(
        Sandbox("fulfillment", records=1).expected("fulfillment_data")[0]
    )
    eco = Sandbox("ecommerce", records=1)
    assert {"id", "customer_id", "amount"} <= set(eco.expected("order_payments")[0])
    assert isinstance(eco.expected("order_payments")[0]["amount"], str)
    assert {"product_id", "name", "price"} <= set(eco.expected("products")[0])
    assert {"order_id", "last_modified_date"} <= set(
        Sandbox("orders", records=1).expected("orders")[0]
    )
    inv = Sandbox("inventory", records=1)
    assert all({"id", "updated_at"} <= set(inv.expected(r)[0]) for r in inv.resources())
