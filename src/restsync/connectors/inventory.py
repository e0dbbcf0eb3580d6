"""Inventory-management API (seed 004): bearer token, 20 resources, page-number pagination
(`page`/`limit`, 50 per page), records under `data` with `id` and `updated_at`."""

from __future__ import annotations

from typing import Any

import restsync
from restsync.connectors.hints import (
    BIGINT,
    DATE,
    INT_KEY,
    MONEY,
    RATE,
    TIMESTAMP,
    Hints,
    columns,
)

TITLE = "Inventory API: 20 resources (bearer token, page-number pagination, incremental)"
SECRETS = ("api_key",)
DEFAULT_BASE_URL = "https://api.example.com"
RESOURCE_NAMES = (
    "customers",
    "shipping_fee",
    "costs",
    "customer_addresses",
    "variants",
    "tax_rates",
    "suppliers",
    "stocktakes",
    "stock_adjustments",
    "sales_orders",
    "sales_order_fulfillments",
    "sales_order_addresses",
    "recipes",
    "purchase_orders",
    "products",
    "price_lists",
    "inventory",
    "locations",
    "manufacturing_orders",
    "materials",
)
INCREMENTAL: dict[str, dict[str, Any]] = {
    name: {"cursor_path": "updated_at", "start_param": "updated_at_min"} for name in RESOURCE_NAMES
}

#: the seed's schema, as `columns` hints on top of its dict (see `connectors.hints`):
#: every resource has `id`, `created_at`, `updated_at` and `deleted_at`
_COMMON: Hints = columns(
    id=INT_KEY, created_at=TIMESTAMP, updated_at=TIMESTAMP, deleted_at=TIMESTAMP
)
_OWN: dict[str, Hints] = {
    "customers": columns(discount_rate=RATE),
    "shipping_fee": columns(sales_order_id=BIGINT, amount=MONEY),
    "costs": columns(purchase_order_id=BIGINT, price=MONEY),
    "variants": columns(sales_price=MONEY, purchase_price=MONEY),
    "tax_rates": columns(rate=RATE),
    "stocktakes": columns(stocktake_created_date=TIMESTAMP, completed_date=TIMESTAMP),
    "sales_orders": columns(
        customer_id=BIGINT, total=MONEY, total_in_base_currency=MONEY, delivery_date=DATE
    ),
    "sales_order_fulfillments": columns(sales_order_id=BIGINT, picked_date=TIMESTAMP),
    "recipes": columns(quantity=RATE),
    "purchase_orders": columns(supplier_id=BIGINT, expected_arrival_date=DATE, total=MONEY),
    "price_lists": columns(markup_percentage=RATE),
    "inventory": columns(
        variant_id=BIGINT,
        reorder_point=RATE,
        average_cost=MONEY,
        value_in_stock=MONEY,
        quantity_in_stock=RATE,
        quantity_committed=RATE,
        quantity_expected=RATE,
    ),
    "manufacturing_orders": columns(
        planned_quantity=RATE,
        actual_quantity=RATE,
        production_deadline_date=TIMESTAMP,
        total_cost=MONEY,
    ),
    "materials": columns(purchase_uom_conversion_rate=RATE),
}
COLUMNS: dict[str, Hints] = {name: _COMMON | _OWN.get(name, {}) for name in RESOURCE_NAMES}


def seed_config() -> dict[str, Any]:
    """The seed's config dict, as written (only the secrets accessor differs)."""
    # fmt: off
    return {
        "client": {
            "base_url": "https://api.example.com",
            "auth": {
                "type": "bearer",
                "token": restsync.secrets["api_key"]
            }
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge"
        },
        "resources": [
            {
                "name": "customers",
                "endpoint": {
                    "path": "/v1/customers",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "shipping_fee",
                "endpoint": {
                    "path": "/v1/sales_order_shipping_fee",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "costs",
                "endpoint": {
                    "path": "/v1/additional_costs",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "customer_addresses",
                "endpoint": {
                    "path": "/v1/customer_addresses",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "variants",
                "endpoint": {
                    "path": "/v1/variants",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "tax_rates",
                "endpoint": {
                    "path": "/v1/tax_rates",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "suppliers",
                "endpoint": {
                    "path": "/v1/suppliers",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "stocktakes",
                "endpoint": {
                    "path": "/v1/stocktakes",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "stock_adjustments",
                "endpoint": {
                    "path": "/v1/stock_adjustments",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "sales_orders",
                "endpoint": {
                    "path": "/v1/sales_orders",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "sales_order_fulfillments",
                "endpoint": {
                    "path": "/v1/sales_order_fulfillments",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "sales_order_addresses",
                "endpoint": {
                    "path": "/v1/sales_order_addresses",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "recipes",
                "endpoint": {
                    "path": "/v1/recipes",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "purchase_orders",
                "endpoint": {
                    "path": "/v1/purchase_orders",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "products",
                "endpoint": {
                    "path": "/v1/products",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "price_lists",
                "endpoint": {
                    "path": "/v1/price_lists",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "inventory",
                "endpoint": {
                    "path": "/v1/inventory",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "locations",
                "endpoint": {
                    "path": "/v1/locations",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "manufacturing_orders",
                "endpoint": {
                    "path": "/v1/manufacturing_orders",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            },
            {
                "name": "materials",
                "endpoint": {
                    "path": "/v1/materials",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": 50
                    }
                }
            }
        ]
    }
    # fmt: on
