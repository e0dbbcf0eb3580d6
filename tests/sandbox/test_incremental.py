"""Modified-since filters per API, and `mutate` moving records past every cursor."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from restsync.sandbox import Sandbox
from restsync.sandbox.store import parse_instant
from tests.sandbox.conftest import Walk

# api -> (resource, incremental query parameter, cursor field)
INCREMENTAL = {
    "fulfillment": ("fulfillment_data", "updated_since", "updated_at"),
    "ecommerce": ("order_payments", "updated_since", "updated_at"),
    "orders": ("orders", "modified_since", "last_modified_date"),
    "commerce": ("transactions", "modifiedAfter", "modifiedOn"),
    "inventory": ("sales_orders", "updated_at_min", "updated_at"),
}


def _max_cursor(records: list[dict[str, object]], field: str) -> float:
    return max(parse_instant(str(r[field])) for r in records)


@pytest.mark.parametrize("api", list(INCREMENTAL))
def test_mutate_then_modified_since_returns_exactly_the_changes(
    api: str, client: httpx.Client, walk: Walk
) -> None:
    resource, param, field = INCREMENTAL[api]
    with Sandbox(api, records=120) as sb:
        before = sb.expected(resource)
        high = _max_cursor(before, field)
        changed = sb.mutate(resource, updates=5, inserts=3)[resource]
        after = sb.expected(resource)
        assert len(after) == 123
        updated_keys, inserted_keys = changed
        assert len(updated_keys) == 5
        assert len(inserted_keys) == 3
        pk = sb.app.spec.resource(resource).primary_key
        moved = [r for r in after if parse_instant(str(r[field])) > high]
        assert sorted(map(str, (r[pk] for r in moved))) == sorted(
            map(str, updated_keys + inserted_keys)
        )
        # ask with an offset timestamp one second past the old maximum, written in +02:00
        since = (
            datetime.fromtimestamp(high + 1, timezone.utc)
            .astimezone(timezone(__import__("datetime").timedelta(hours=2)))
            .isoformat()
        )
        records, _ = walk(sb, resource, client, params={param: since})
        assert records == moved
        assert records == sb.expected_since(resource, since)
        # the same instant written with Z gives the same answer
        zulu = datetime.fromtimestamp(high + 1, timezone.utc).isoformat().replace("+00:00", "Z")
        assert walk(sb, resource, client, params={param: zulu})[0] == moved
        # untouched records did not change
        unchanged_before = [r for r in before if r[pk] not in set(updated_keys)]
        unchanged_after = [r for r in after[:120] if r[pk] not in set(updated_keys)]
        assert unchanged_before == unchanged_after


def test_since_is_inclusive_and_compares_instants(client: httpx.Client, walk: Walk) -> None:
    with Sandbox("inventory", records={"customers": 40}) as sb:
        records = sb.expected("customers")
        pivot = records[20]["updated_at"]
        got, _ = walk(sb, "customers", client, params={"updated_at_min": pivot})
        assert got[0] == records[20]
        assert got == [r for r in records if parse_instant(r["updated_at"]) >= parse_instant(pivot)]


def test_unencoded_plus_in_offset_is_accepted(client: httpx.Client) -> None:
    with Sandbox("fulfillment", records=10) as sb:
        key = sb.secrets["api_key"]
        raw = f"{sb.url('fulfillment_data')}?api_key={key}&updated_since=2024-01-01T02:00:00+02:00"
        body = client.get(raw).json()  # '+' arrives as a space
        assert body["total"] == 10


def test_mutation_is_deterministic() -> None:
    a, b = Sandbox("orders", records=50), Sandbox("orders", records=50)
    assert a.mutate("orders", updates=4, inserts=2) == b.mutate("orders", updates=4, inserts=2)
    assert a.expected("orders") == b.expected("orders")
    a.mutate(updates=1)
    assert a.expected("orders") != b.expected("orders")


def test_mutate_every_resource(client: httpx.Client) -> None:
    sb = Sandbox("commerce", records=10)
    result = sb.mutate(inserts=2)
    assert set(result) == set(sb.resources())
    assert all(len(sb.expected(name)) == 12 for name in sb.resources())


def test_bench_rejects_mutate_but_filters() -> None:
    sb = Sandbox("bench", records=100)
    with pytest.raises(NotImplementedError):
        sb.mutate("items", updates=1)
    assert [r["id"] for r in sb.expected_since("items", "2024-01-01T01:30:00Z")] == list(
        range(90, 101)
    )
