"""Deterministic, realistic records for the sandbox APIs.

Each builder takes a `Gen` (a seeded random source with helpers) and the record's ordinal, and
returns one record as the API serves it, without its change-cursor field (the caller adds it, so
it can move the cursor forward on a mutation). Records carry what real APIs send: nested objects,
lists of objects and of scalars, nulls, timestamps with varying offsets, decimals as numbers and as
strings, unicode text.

Why one module of this size: it is a catalogue, one builder of a dozen lines per resource of the
five seed APIs and the bench API, all drawing on `Gen` and the word lists below. Split per API,
each module would import the same helpers for three to twenty builders and `apis.py`, which
pairs each resource with its builder, would import six; the sections below (one per seed) keep
it navigable.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

Record = dict[str, Any]
Builder = Callable[["Gen", int], Record]

#: 2024-01-01T00:00:00Z; every generated instant lies after it.
BASE_EPOCH = 1_704_067_200.0

FIRST = [
    "Anna", "José", "Zoë", "Mateo", "Ngozi", "Søren", "Aiko", "Łukasz", "Chloé", "Omar",
    "Priya", "Björn", "Jürgen", "Émilie", "Tomás", "Mei", "Olúwaseun", "Dmitri",
]  # fmt: skip
LAST = [
    "Müller", "García", "Nakamura", "O'Brien", "Kowalski", "Dubois", "Rossi", "Andersson",
    "Smith", "Okafor", "Ivanović", "Çelik", "Núñez", "Lindqvist", "Żółkiewski", "Tanaka",
]  # fmt: skip
CITIES = [
    ("Berlin", "BE", "DE", "10115"), ("São Paulo", "SP", "BR", "01310-100"),
    ("Zürich", "ZH", "CH", "8001"), ("Kraków", None, "PL", "30-001"),
    ("Montréal", "QC", "CA", "H2X 1Y4"), ("Tokyo", None, "JP", "100-0001"),
    ("Austin", "TX", "US", "78701"), ("Lyon", None, "FR", "69001"),
    ("Malmö", None, "SE", "211 22"), ("Cork", None, "IE", "T12 X70A"),
]  # fmt: skip
STREETS = [
    "Hauptstraße", "Rua Augusta", "Bahnhofstrasse", "ul. Floriańska", "Rue Saint-Denis",
    "Main St", "Avenue Jean Jaurès", "Storgatan", "Elm Street", "Calle de Alcalá",
]  # fmt: skip
PRODUCTS = [
    "Café Crème Mug", "Merino Wool Socks", "Ceramic Planter", "Bamboo Cutting Board",
    "Linen Tea Towel", "Espresso Beans 1 kg", "Cast-Iron Skillet", "Recycled Notebook",
    "Scented Candle — Fig", "Smørrebrød Plate", "Matcha Whisk 抹茶", "Olive Oil 500 ml",
]  # fmt: skip
MATERIALS = [
    "Oak plank",
    "Steel bolt M6",
    "Cotton thread",
    "Glass jar 250 ml",
    "Beeswax",
    "Label roll",
]
TAGS = ["sale", "new", "gift", "bulk", "vip", "wholesale", "eco", "fragile", "préféré", "限定"]
OFFSETS = ["Z", "+00:00", "+02:00", "-05:00", "+05:30", "+09:00", "-03:00", "+01:00"]
CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK"]
NOTES = [
    None, None, "Leave at the door", "Bitte klingeln 🔔", "Fragile — handle with care",
    "Livraison après 18h", "", "Gift wrap, no invoice",
]  # fmt: skip


class Gen:
    """A seeded random source with helpers for realistic values."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def ts(self, epoch: float, *, fraction: bool | None = None) -> str:
        """An ISO-8601 timestamp of the instant `epoch`, written in a varying offset."""
        off = self.r.choice(OFFSETS)
        if off == "Z":
            tz = timezone.utc
        else:
            sign = 1 if off[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
        moment = datetime.fromtimestamp(epoch, tz)
        with_fraction = self.r.random() < 0.3 if fraction is None else fraction
        text = moment.isoformat(timespec="milliseconds" if with_fraction else "seconds")
        return text.replace("+00:00", "Z") if off == "Z" else text

    def date(self, epoch: float) -> str:
        """A calendar date (YYYY-MM-DD)."""
        return datetime.fromtimestamp(epoch, timezone.utc).date().isoformat()

    def money(self, lo: float, hi: float) -> float:
        """An amount with two decimals."""
        return round(self.r.uniform(lo, hi), 2)

    def money_str(self, lo: float, hi: float) -> str:
        """An amount with two decimals, as a string (as many payment APIs send it)."""
        return f"{self.money(lo, hi):.2f}"

    def pick(self, items: list[Any]) -> Any:
        """One of `items`."""
        return self.r.choice(items)

    def maybe(self, value: Any, p_null: float = 0.2) -> Any:
        """`value`, or None with probability `p_null`."""
        return None if self.r.random() < p_null else value

    def name(self) -> tuple[str, str]:
        """A (first, last) name."""
        return self.r.choice(FIRST), self.r.choice(LAST)

    def email(self, first: str, last: str) -> str:
        """An ASCII e-mail address derived from a name."""
        folded = unicodedata.normalize("NFKD", f"{first}.{last}".lower())
        local = folded.encode("ascii", "ignore").decode().replace("'", "")
        return f"{local}{self.r.randint(1, 999)}@example.com"

    def tags(self, lo: int = 0, hi: int = 3) -> list[str]:
        """A list of 0..3 distinct tags."""
        return self.r.sample(TAGS, self.r.randint(lo, hi))

    def hexid(self, n: int = 24) -> str:
        """A hex object id, as document stores issue them."""
        return "".join(self.r.choice("0123456789abcdef") for _ in range(n))

    def address(self, name: tuple[str, str] | None = None) -> Record:
        """A postal address (snake_case keys)."""
        city, region, country, postal = self.r.choice(CITIES)
        first, last = name or self.name()
        return {
            "name": f"{first} {last}",
            "line1": f"{self.r.choice(STREETS)} {self.r.randint(1, 240)}",
            "line2": self.maybe(f"Apt {self.r.randint(1, 80)}", 0.7),
            "city": city,
            "region": region,
            "postal_code": postal,
            "country": country,
        }

    def address_camel(self) -> Record:
        """A postal address (camelCase keys, as the commerce API writes them)."""
        city, region, country, postal = self.r.choice(CITIES)
        first, last = self.name()
        return {
            "firstName": first,
            "lastName": last,
            "address1": f"{self.r.choice(STREETS)} {self.r.randint(1, 240)}",
            "address2": self.maybe(f"Suite {self.r.randint(1, 80)}", 0.7),
            "city": city,
            "state": region,
            "countryCode": country,
            "postalCode": postal,
            "phone": self.maybe(
                f"+{self.r.randint(1, 99)} {self.r.randint(100, 999)} {self.r.randint(1000, 9999)}"
            ),
        }

    def amount_obj(self, lo: float, hi: float, currency: str | None = None) -> Record:
        """{"currency": ..., "value": "19.90"} (the commerce API's money shape)."""
        return {"currency": currency or self.r.choice(CURRENCIES), "value": self.money_str(lo, hi)}

    def past(self, i: int, days: float = 400) -> float:
        """An instant before the record's cursor, for created-at style fields."""
        return BASE_EPOCH + i * 600 - self.r.uniform(0, days) * 86400


# ----------------------------------------------------------------- fulfillment / ecommerce


def fulfillment(g: Gen, i: int) -> Record:
    """seed 000 `fulfillment_data`."""
    name = g.name()
    shipped = g.maybe(g.ts(g.past(i, 5)), 0.4)
    return {
        "id": i,
        "customer_id": g.r.randint(1000, 99999),
        "order_id": f"SO-{100000 + i}",
        "status": "shipped" if shipped else g.pick(["pending", "picking", "packed", "cancelled"]),
        "carrier": g.maybe(g.pick(["DHL", "UPS", "PostNord", "Correios", "La Poste"]), 0.3),
        "tracking_number": g.maybe(f"TRK{g.r.randint(10**9, 10**10 - 1)}", 0.4),
        "warehouse": {"code": g.pick(["BER1", "AMS2", "GRU1"]), "bay": g.maybe(g.r.randint(1, 40))},
        "shipping_address": g.address(name),
        "items": [
            {
                "sku": f"SKU-{g.r.randint(100, 999)}-{g.pick(['S', 'M', 'L', 'XL'])}",
                "quantity": g.r.randint(1, 6),
                "unit_price": g.money_str(2, 150),
            }
            for _ in range(g.r.randint(1, 4))
        ],
        "tags": g.tags(),
        "weight_kg": g.maybe(g.money(0.1, 30), 0.1),
        "created_at": g.ts(g.past(i)),
        "shipped_at": shipped,
        "notes": g.pick(NOTES),
    }


def order_payment(g: Gen, i: int) -> Record:
    """seed 001 `order_payments`."""
    method = g.pick(["card", "card", "paypal", "bank_transfer", "klarna"])
    currency = g.pick(CURRENCIES)
    return {
        "id": i,
        "customer_id": g.r.randint(1000, 99999),
        "order_id": f"ORD-{200000 + i}",
        "amount": g.money_str(3, 900),
        "currency": currency,
        "method": method,
        "status": g.pick(["captured", "captured", "authorized", "refunded", "failed"]),
        "card": (
            {
                "brand": g.pick(["visa", "mastercard", "amex"]),
                "last4": f"{g.r.randint(0, 9999):04d}",
                "exp_month": g.r.randint(1, 12),
                "exp_year": g.r.randint(2025, 2031),
            }
            if method == "card"
            else None
        ),
        "refunds": [
            {"id": f"re_{g.hexid(12)}", "amount": g.money(1, 50), "reason": g.pick(NOTES)}
            for _ in range(g.r.choice([0, 0, 0, 1, 2]))
        ],
        "fee": g.money(0.1, 9),
        "metadata": {
            "channel": g.pick(["web", "pos", "mobile"]),
            "campaign": g.maybe("spring24", 0.7),
        },
        "created_at": g.ts(g.past(i)),
    }


def ecommerce_product(g: Gen, i: int) -> Record:
    """seed 001 `products`: `product_id` is the API's key, `id` the same value."""
    base_price = g.money(2, 300)
    return {
        "id": i,
        "product_id": i,
        "name": f"{g.pick(PRODUCTS)} #{i}",
        "price": base_price,
        "currency": g.pick(CURRENCIES),
        "sku": f"P-{i:06d}",
        "active": g.r.random() < 0.85,
        "description": g.maybe("Handmade in small batches. Größe/size varies — ±2 %.", 0.3),
        "tags": g.tags(),
        "dimensions": g.maybe(
            {"width_cm": g.money(1, 80), "height_cm": g.money(1, 80), "depth_cm": g.money(1, 80)}
        ),
        "variants": [
            {
                "variant_id": i * 10 + k,
                "title": g.pick(["Small", "Medium", "Large", "Rot", "Bleu", "緑"]),
                "price": f"{base_price + k:.2f}",
                "inventory_quantity": g.r.randint(0, 500),
            }
            for k in range(g.r.randint(1, 3))
        ],
        "created_at": g.ts(g.past(i)),
    }


# --------------------------------------------------------------------------- orders (seed 002)


def order(g: Gen, i: int) -> Record:
    """seed 002 `orders`, keyed by `order_id`."""
    first, last = g.name()
    lines = [
        {
            "line_id": i * 100 + k,
            "product_id": g.r.randint(1, 5000),
            "title": g.pick(PRODUCTS),
            "quantity": g.r.randint(1, 5),
            "price": g.money_str(1, 250),
            "discount": g.maybe(g.money(0, 10), 0.6),
        }
        for k in range(g.r.randint(1, 5))
    ]
    subtotal = round(sum(float(x["price"]) * int(x["quantity"]) for x in lines), 2)
    tax = round(subtotal * 0.19, 2)
    shipping = g.pick([0.0, 4.9, 9.9])
    return {
        "order_id": f"ORD-{i:07d}",
        "order_number": 10_000 + i,
        "status": g.pick(["open", "paid", "fulfilled", "cancelled", "refunded"]),
        "customer": {
            "id": g.r.randint(1, 20000),
            "email": g.email(first, last),
            "name": f"{first} {last}",
        },
        "billing_address": g.address((first, last)),
        "shipping_address": g.maybe(g.address((first, last)), 0.15),
        "line_items": lines,
        "totals": {
            "subtotal": subtotal,
            "tax": tax,
            "shipping": shipping,
            "grand_total": round(subtotal + tax + shipping, 2),
        },
        "currency": g.pick(CURRENCIES),
        "tags": g.tags(),
        "coupon_code": g.maybe("WELCOME10", 0.8),
        "notes": g.pick(NOTES),
        "created_date": g.ts(g.past(i)),
    }


# --------------------------------------------------------------------------- commerce (seed 003)


def commerce_inventory(g: Gen, i: int) -> Record:
    """seed 003 `inventory`."""
    unlimited = g.r.random() < 0.1
    return {
        "id": g.hexid(),
        "variantId": g.hexid(),
        "sku": f"SQ{i:07d}",
        "descriptor": f"{g.pick(PRODUCTS)} [{g.pick(['S', 'M', 'L'])}]",
        "isUnlimited": unlimited,
        "quantity": 0 if unlimited else g.r.randint(0, 400),
    }


def commerce_order(g: Gen, i: int) -> Record:
    """seed 003 `orders` (under `result`)."""
    currency = g.pick(CURRENCIES)
    lines = [
        {
            "id": g.hexid(),
            "variantId": g.maybe(g.hexid(), 0.1),
            "sku": f"SQ{g.r.randint(1, 9999):07d}",
            "productName": g.pick(PRODUCTS),
            "quantity": g.r.randint(1, 4),
            "unitPricePaid": g.amount_obj(2, 200, currency),
            "customizations": g.maybe([{"label": "Engraving", "value": "Für Oma ♥"}], 0.8),
        }
        for _ in range(g.r.randint(1, 4))
    ]
    return {
        "id": g.hexid(),
        "orderNumber": str(1000 + i),
        "createdOn": g.ts(g.past(i)),
        "channel": "web",
        "testmode": g.r.random() < 0.05,
        "customerEmail": g.email(*g.name()),
        "billingAddress": g.address_camel(),
        "shippingAddress": g.maybe(g.address_camel(), 0.2),
        "fulfillmentStatus": g.pick(["PENDING", "FULFILLED", "CANCELED"]),
        "lineItems": lines,
        "subtotal": g.amount_obj(5, 800, currency),
        "grandTotal": g.amount_obj(5, 900, currency),
        "refundedTotal": g.amount_obj(0, 0, currency),
        "fulfilledOn": g.maybe(g.ts(g.past(i, 3)), 0.5),
    }


def commerce_store_page(g: Gen, i: int) -> Record:
    """seed 003 `store_pages` (under `storePages`)."""
    return {
        "id": g.hexid(),
        "title": g.pick(["Shop", "Boutique", "Tienda", "Neuheiten", "Sale", "ギフト"]) + f" {i}",
        "isEnabled": g.r.random() < 0.9,
    }


def commerce_product(g: Gen, i: int) -> Record:
    """seed 003 `products`."""
    name = g.pick(PRODUCTS)
    return {
        "id": g.hexid(),
        "type": g.pick(["PHYSICAL", "PHYSICAL", "DIGITAL", "SERVICE"]),
        "storePageId": g.hexid(),
        "name": name,
        "description": g.maybe(f"<p>{name} — limited run.</p>", 0.2),
        "url": f"/shop/p/{i}",
        "urlSlug": f"product-{i}",
        "tags": g.tags(),
        "isVisible": g.r.random() < 0.9,
        "variants": [
            {
                "id": g.hexid(),
                "sku": f"SQ{i:05d}{k}",
                "pricing": {
                    "basePrice": g.amount_obj(2, 300, "USD"),
                    "onSale": g.r.random() < 0.2,
                    "salePrice": g.amount_obj(0, 0, "USD"),
                },
                "stock": {"quantity": g.r.randint(0, 300), "unlimited": g.r.random() < 0.1},
                "attributes": {"Size": g.pick(["S", "M", "L"]), "Farbe": g.pick(["Rot", "Blau"])},
            }
            for k in range(g.r.randint(1, 3))
        ],
        "createdOn": g.ts(g.past(i)),
    }


def commerce_transaction(g: Gen, i: int) -> Record:
    """seed 003 `transactions` (under `documents`)."""
    currency = g.pick(CURRENCIES)
    return {
        "id": g.hexid(),
        "createdOn": g.ts(g.past(i)),
        "customerEmail": g.maybe(g.email(*g.name()), 0.1),
        "salesOrderId": g.maybe(g.hexid(), 0.2),
        "voided": g.r.random() < 0.03,
        "totalSales": g.amount_obj(1, 900, currency),
        "totalNetSales": g.amount_obj(1, 800, currency),
        "payments": [
            {
                "id": g.hexid(),
                "amount": g.amount_obj(1, 900, currency),
                "provider": g.pick(["STRIPE", "PAYPAL", "SQUARE"]),
                "refunds": [],
            }
            for _ in range(g.r.randint(0, 2))
        ],
    }


def commerce_profile(g: Gen, i: int) -> Record:
    """seed 003 `profiles`."""
    first, last = g.name()
    orders = g.r.randint(0, 20)
    return {
        "id": g.hexid(),
        "firstName": first,
        "lastName": last,
        "email": g.email(first, last),
        "hasAccount": g.r.random() < 0.5,
        "isCustomer": orders > 0,
        "acceptsMarketing": g.r.random() < 0.4,
        "address": g.maybe(g.address_camel(), 0.3),
        "createdOn": g.ts(g.past(i)),
        "transactionsSummary": {
            "firstOrderSubmittedOn": g.ts(g.past(i)) if orders else None,
            "totalOrderCount": orders,
            "totalOrderAmount": g.amount_obj(0, 2000, "USD"),
        },
    }


# --------------------------------------------------------------------------- inventory (seed 004)


def _inv_base(g: Gen, i: int) -> Record:
    return {
        "id": i,
        "created_at": g.ts(g.past(i)),
        "deleted_at": g.maybe(g.ts(g.past(i, 10)), 0.95),
    }


def _inv_lines(g: Gen, i: int, key: str) -> list[Record]:
    return [
        {
            "id": i * 100 + k,
            "variant_id": g.r.randint(1, 3000),
            "quantity": g.money(1, 50),
            "price_per_unit": g.money(0.5, 120),
            key: g.maybe(g.money(0, 25)),
        }
        for k in range(g.r.randint(1, 3))
    ]


def inv_customer(g: Gen, i: int) -> Record:
    first, last = g.name()
    return _inv_base(g, i) | {
        "name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "company": g.maybe(f"{last} GmbH", 0.6),
        "email": g.maybe(g.email(first, last), 0.1),
        "phone": g.maybe(f"+49 30 {g.r.randint(1000000, 9999999)}", 0.4),
        "currency": g.pick(CURRENCIES),
        "discount_rate": g.maybe(g.money(0, 15), 0.7),
        "category": g.pick(["retail", "wholesale", None]),
        "comment": g.pick(NOTES),
    }


def inv_shipping_fee(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "sales_order_id": g.r.randint(1, 5000),
        "description": g.pick(["Standard shipping", "Express", "Expédition"]),
        "amount": g.money_str(0, 40),
        "tax_rate_id": g.maybe(g.r.randint(1, 10)),
    }


def inv_cost(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "name": g.pick(["Freight", "Customs duty", "Insurance", "Zoll"]),
        "purchase_order_id": g.r.randint(1, 3000),
        "price": g.money(1, 500),
        "distribution_method": g.pick(["BY_VALUE", "NON_DISTRIBUTED"]),
    }


def inv_customer_address(g: Gen, i: int) -> Record:
    a = g.address()
    return (
        _inv_base(g, i)
        | {"customer_id": g.r.randint(1, 5000), "entity_type": g.pick(["billing", "shipping"])}
        | a
    )


def inv_variant(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "sku": f"VAR-{i:06d}",
        "product_id": g.maybe(g.r.randint(1, 2000), 0.2),
        "material_id": None,
        "sales_price": g.maybe(g.money(1, 400)),
        "purchase_price": g.maybe(g.money(0.5, 200)),
        "type": g.pick(["product", "material"]),
        "config_attributes": [
            {"config_name": "Size", "config_value": g.pick(["S", "M", "L"])},
            {"config_name": "Colour", "config_value": g.pick(["Rouge", "Grün", "Blue"])},
        ][: g.r.randint(0, 2)],
        "barcodes": [str(g.r.randint(10**12, 10**13 - 1)) for _ in range(g.r.randint(0, 2))],
    }


def inv_tax_rate(g: Gen, i: int) -> Record:
    rate = g.pick([0.0, 5.5, 7.0, 19.0, 20.0, 25.0])
    return _inv_base(g, i) | {
        "name": f"VAT {rate}%",
        "rate": rate,
        "is_default_sales": g.r.random() < 0.1,
        "display_name": f"MwSt. {rate} %",
    }


def inv_supplier(g: Gen, i: int) -> Record:
    first, last = g.name()
    return _inv_base(g, i) | {
        "name": f"{last} & Söhne",
        "email": g.maybe(g.email(first, last)),
        "currency": g.pick(CURRENCIES),
        "addresses": [g.address() for _ in range(g.r.randint(0, 2))],
        "comment": g.pick(NOTES),
    }


def inv_stocktake(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "stocktake_number": f"ST-{i}",
        "location_id": g.r.randint(1, 12),
        "status": g.pick(["NOT_STARTED", "IN_PROGRESS", "COMPLETED"]),
        "reason": g.maybe("Jahresinventur", 0.5),
        "stocktake_created_date": g.ts(g.past(i)),
        "completed_date": g.maybe(g.ts(g.past(i, 3)), 0.5),
    }


def inv_stock_adjustment(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "stock_adjustment_number": f"SA-{i}",
        "location_id": g.r.randint(1, 12),
        "reason": g.pick(["Damaged", "Écart d'inventaire", "Found", None]),
        "stock_adjustment_rows": _inv_lines(g, i, "cost_per_unit"),
    }


def inv_sales_order(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "order_no": f"SO-{i}",
        "customer_id": g.r.randint(1, 5000),
        "status": g.pick(["NOT_SHIPPED", "PACKED", "DELIVERED"]),
        "currency": g.pick(CURRENCIES),
        "total": g.money(5, 3000),
        "total_in_base_currency": g.money_str(5, 3000),
        "delivery_date": g.maybe(g.date(g.past(i, -30)), 0.3),
        "sales_order_rows": _inv_lines(g, i, "total_discount"),
        "tags": g.tags(),
    }


def inv_fulfillment(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "sales_order_id": g.r.randint(1, 5000),
        "picked_date": g.maybe(g.ts(g.past(i, 2))),
        "status": g.pick(["PACKED", "DELIVERED"]),
        "tracking_number": g.maybe(f"1Z{g.r.randint(10**9, 10**10 - 1)}", 0.3),
        "tracking_url": None,
        "sales_order_fulfillment_rows": [
            {"sales_order_row_id": i * 10 + k, "quantity": g.r.randint(1, 9)}
            for k in range(g.r.randint(1, 3))
        ],
    }


def inv_sales_order_address(g: Gen, i: int) -> Record:
    return (
        _inv_base(g, i)
        | {"sales_order_id": g.r.randint(1, 5000), "entity_type": g.pick(["billing", "shipping"])}
        | g.address()
    )


def inv_recipe(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "recipe_row_id": f"rr-{g.hexid(8)}",
        "product_variant_id": g.r.randint(1, 3000),
        "ingredient_variant_id": g.r.randint(1, 3000),
        "quantity": g.money(0.01, 20),
        "notes": g.pick(NOTES),
    }


def inv_purchase_order(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "order_no": f"PO-{i}",
        "supplier_id": g.r.randint(1, 300),
        "status": g.pick(["NOT_RECEIVED", "PARTIALLY_RECEIVED", "RECEIVED"]),
        "currency": g.pick(CURRENCIES),
        "expected_arrival_date": g.maybe(g.date(g.past(i, -20))),
        "total": g.money_str(10, 9000),
        "purchase_order_rows": _inv_lines(g, i, "tax_rate"),
    }


def inv_product(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "name": g.pick(PRODUCTS),
        "uom": g.pick(["pcs", "kg", "m"]),
        "category_name": g.maybe(g.pick(["Kitchen", "Textiles", "Décor"])),
        "is_sellable": True,
        "is_producible": g.r.random() < 0.5,
        "is_purchasable": g.r.random() < 0.5,
        "default_supplier_id": g.maybe(g.r.randint(1, 300)),
        "additional_info": g.pick(NOTES),
        "variants": [
            {"id": i * 10 + k, "sku": f"PR-{i}-{k}", "sales_price": g.maybe(g.money(1, 300))}
            for k in range(g.r.randint(1, 3))
        ],
        "configs": [{"name": "Size", "values": g.r.sample(["S", "M", "L", "XL"], 2)}],
    }


def inv_price_list(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "name": g.pick(["Retail", "Wholesale", "Großhandel", "VIP"]) + f" {i}",
        "currency": g.pick(CURRENCIES),
        "is_active": g.r.random() < 0.8,
        "markup_percentage": g.maybe(g.money(0, 60)),
    }


def inv_inventory(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "variant_id": i,
        "location_id": g.r.randint(1, 12),
        "reorder_point": g.maybe(g.money(0, 50)),
        "average_cost": g.money_str(0.5, 90),
        "value_in_stock": g.money_str(0, 20000),
        "quantity_in_stock": g.money_str(0, 900),
        "quantity_committed": g.money_str(0, 50),
        "quantity_expected": g.money_str(0, 50),
    }


def inv_location(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "name": f"{g.pick(['Lager', 'Warehouse', 'Entrepôt', '倉庫'])} {i}",
        "legal_name": g.maybe(f"{g.pick(LAST)} Logistics Ltd"),
        "is_primary": i == 1,
        "sales_allowed": True,
        "manufacturing_allowed": g.r.random() < 0.5,
        "address": g.maybe(g.address(), 0.1),
    }


def inv_manufacturing_order(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "order_no": f"MO-{i}",
        "variant_id": g.r.randint(1, 3000),
        "location_id": g.r.randint(1, 12),
        "status": g.pick(["NOT_STARTED", "IN_PROGRESS", "DONE", "BLOCKED"]),
        "planned_quantity": g.money(1, 500),
        "actual_quantity": g.maybe(g.money(1, 500)),
        "production_deadline_date": g.ts(g.past(i, -15)),
        "total_cost": g.money(1, 9000),
        "ingredients": [
            {"variant_id": g.r.randint(1, 3000), "quantity": g.money(0.1, 30)}
            for _ in range(g.r.randint(1, 3))
        ],
    }


def inv_material(g: Gen, i: int) -> Record:
    return _inv_base(g, i) | {
        "name": g.pick(MATERIALS),
        "uom": g.pick(["pcs", "kg", "l", "m"]),
        "category_name": g.maybe("Raw materials"),
        "default_supplier_id": g.maybe(g.r.randint(1, 300)),
        "is_sellable": False,
        "purchase_uom": g.maybe("box"),
        "purchase_uom_conversion_rate": g.maybe(g.money(1, 100)),
        "variants": [
            {"id": i * 10 + k, "sku": f"MAT-{i}-{k}", "purchase_price": g.money(0.1, 80)}
            for k in range(g.r.randint(1, 2))
        ],
    }


# --------------------------------------------------------------------------- bench


def bench_variant(g: Gen, k: int) -> Record:
    """The body of a benchmark record, without `id`, `number` and the timestamps."""
    first, last = g.name()
    return {
        "status": g.pick(["open", "paid", "shipped", "cancelled"]),
        "customer": {
            "id": g.r.randint(1, 100_000),
            "name": f"{first} {last}",
            "email": g.email(first, last),
            "address": g.address((first, last)),
        },
        "amount": g.money_str(1, 999),
        "total": g.money(1, 1200),
        "currency": g.pick(CURRENCIES),
        "is_paid": g.r.random() < 0.7,
        "tags": g.tags(),
        "line_items": [
            {
                "sku": f"B-{g.r.randint(1, 9999):04d}",
                "quantity": g.r.randint(1, 9),
                "price": g.money(1, 300),
            }
            for _ in range(g.r.randint(1, 3))
        ],
        "notes": g.pick(NOTES),
        "score": g.maybe(g.r.randint(0, 100)),
        "channel": g.pick(["web", "pos", "mobile", "marketplace"]),
    }
