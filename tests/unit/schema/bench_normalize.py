"""Benchmark: records/s of `Normalizer.normalize` on moderately nested records (one core).

Run: .venv/bin/python tests/unit/schema/bench_normalize.py [N] [--merge]
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

from restsync.schema.model import Schema
from restsync.schema.normalize import Normalizer


def make_records(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """About 15 fields, one nested object, 1-3 line items of 5 fields, some tags."""
    rnd = random.Random(seed)
    statuses = ["new", "paid", "shipped", "cancelled"]
    cities = ["Paris", "Berlin", "Lisbon", "Oslo", "Rome"]
    out = []
    for i in range(n):
        items = [
            {
                "sku": f"SKU-{rnd.randrange(1000)}",
                "quantity": rnd.randrange(1, 5),
                "unitPrice": round(rnd.random() * 100, 2),
                "discount": None if rnd.random() < 0.5 else 0.1,
                "name": f"item {j}",
            }
            for j in range(rnd.randrange(1, 4))
        ]
        out.append(
            {
                "id": i,
                "orderNumber": f"ORD-{i:08d}",
                "customerId": rnd.randrange(100000),
                "status": rnd.choice(statuses),
                "total": round(rnd.random() * 500, 2),
                "currency": "EUR",
                "createdAt": f"2024-05-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
                "updatedAt": f"2024-06-{1 + i % 28:02d}T08:00:{i % 60:02d}.123+02:00",
                "paid": rnd.random() < 0.7,
                "note": None if rnd.random() < 0.8 else "leave at door",
                "email": f"user{i}@example.com",
                "channel": "web",
                "Shipping Address": {
                    "street": f"{i} Main St",
                    "city": rnd.choice(cities),
                    "zip": f"{rnd.randrange(10000, 99999)}",
                    "country": "FR",
                },
                "items": items,
                "tags": rnd.sample(["gift", "express", "vip", "promo"], rnd.randrange(0, 3)),
            }
        )
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 100_000
    merge = "--merge" in sys.argv
    records = make_records(n)
    page = 1000
    best = 0.0
    for _ in range(3):
        schema = Schema("bench")
        norm = Normalizer(
            schema,
            "orders",
            "orders",
            write_disposition="merge" if merge else "append",
            primary_key="id" if merge else (),
        )
        t0 = time.process_time()
        rows = 0
        for start in range(0, n, page):
            tables = norm.normalize(records[start : start + page], "1700000000.1", start)
            rows += sum(t.num_rows for t in tables.values())
        dt = time.process_time() - t0
        best = max(best, n / dt)
    print(
        f"{n} records ({rows} rows) pages of {page}: {best:,.0f} records/s"
        f" ({'merge' if merge else 'append'})"
    )


if __name__ == "__main__":
    main()
