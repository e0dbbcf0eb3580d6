"""E-commerce API (seed 001): order payments and products, api_key in the query string,
offset pagination, every resource merged on `id`."""

from __future__ import annotations

from typing import Any

import restsync
from restsync.connectors.hints import (
    BIGINT,
    INT_KEY,
    MONEY,
    TIMESTAMP,
    Hints,
    columns,
)

TITLE = "E-commerce API: order_payments and products (api_key in query, offset pagination)"
SECRETS = ("api_key",)
DEFAULT_BASE_URL = "https://api.example.com"
INCREMENTAL: dict[str, dict[str, Any]] = {
    "order_payments": {"cursor_path": "updated_at", "start_param": "updated_since"},
    "products": {"cursor_path": "updated_at", "start_param": "updated_since"},
}

#: the seed's schema, as `columns` hints on top of its dict (see `connectors.hints`)
COLUMNS: dict[str, Hints] = {
    "order_payments": columns(
        id=INT_KEY,
        customer_id=BIGINT,
        amount=MONEY,
        fee=MONEY,
        created_at=TIMESTAMP,
        updated_at=TIMESTAMP,
    ),
    "products": columns(
        id=INT_KEY,
        product_id=BIGINT,
        price=MONEY,
        created_at=TIMESTAMP,
        updated_at=TIMESTAMP,
    ),
}


def seed_config() -> dict[str, Any]:
    """The seed's config dict, as written (only the secrets accessor differs)."""
    # fmt: off
    return {
        "client": {
            "base_url": "https://api.example.com",
            "auth": {
                "type": "api_key",
                "name": "api_key",
                "api_key": restsync.secrets["api_key"],
                "location": "query"
            }
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge"
        },
        "resources": [
            {
                "name": "order_payments",
                "endpoint": {
                    "path": "/v1/order_payments",
                    "data_selector": "data",
                    "paginator": {
                        "type": "offset",
                        "limit": 100
                    }
                }
            },
            {
                "name": "products",
                "endpoint": {
                    "path": "/v1/products",
                    "data_selector": "data",
                    "paginator": {
                        "type": "offset",
                        "limit": 100
                    }
                }
            }
        ]
    }
    # fmt: on
