"""Commerce API (seed 003): bearer token, base path `/1.0/`, six resources with cursor
pagination on absolute `pagination.nextPageUrl` URLs."""

from __future__ import annotations

from typing import Any

import restsync
from restsync.connectors.hints import (
    BIGINT,
    MONEY,
    TEXT_KEY,
    TIMESTAMP,
    Hints,
    columns,
)

TITLE = "Commerce API: 6 resources (bearer token, cursor pagination on absolute next URLs)"
SECRETS = ("api_key",)
DEFAULT_BASE_URL = "https://api.example.com/1.0/"
INCREMENTAL: dict[str, dict[str, Any]] = {
    name: {"cursor_path": "modifiedOn", "start_param": "modifiedAfter"}
    for name in ("inventory", "orders", "store_pages", "products", "transactions", "profiles")
}

#: the seed's schema, as `columns` hints on top of its dict (see `connectors.hints`)
COLUMNS: dict[str, Hints] = {
    "inventory": columns(id=TEXT_KEY, quantity=BIGINT, modifiedOn=TIMESTAMP),
    "orders": columns(
        id=TEXT_KEY,
        createdOn=TIMESTAMP,
        modifiedOn=TIMESTAMP,
        fulfilledOn=TIMESTAMP,
        subtotal__value=MONEY,
        grandTotal__value=MONEY,
        refundedTotal__value=MONEY,
    ),
    "store_pages": columns(id=TEXT_KEY, modifiedOn=TIMESTAMP),
    "products": columns(id=TEXT_KEY, createdOn=TIMESTAMP, modifiedOn=TIMESTAMP),
    "transactions": columns(
        id=TEXT_KEY,
        createdOn=TIMESTAMP,
        modifiedOn=TIMESTAMP,
        totalSales__value=MONEY,
        totalNetSales__value=MONEY,
    ),
    "profiles": columns(
        id=TEXT_KEY,
        createdOn=TIMESTAMP,
        modifiedOn=TIMESTAMP,
        transactionsSummary__firstOrderSubmittedOn=TIMESTAMP,
        transactionsSummary__totalOrderAmount__value=MONEY,
    ),
}


def seed_config() -> dict[str, Any]:
    """The seed's config dict, as written (only the secrets accessor differs)."""
    # fmt: off
    return {
        "client": {
            "base_url": "https://api.example.com/1.0/",
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
                "name": "inventory",
                "endpoint": {
                    "path": "/commerce/inventory",
                    "data_selector": "inventory",
                    "paginator": {
                        "type": "cursor",
                        "cursor_path": "pagination.nextPageUrl",
                        "stop_condition": "not pagination.nextPageUrl"
                    }
                }
            },
            {
                "name": "orders",
                "endpoint": {
                    "path": "/commerce/orders",
                    "data_selector": "result",
                    "paginator": {
                        "type": "cursor",
                        "cursor_path": "pagination.nextPageUrl",
                        "stop_condition": "not pagination.nextPageUrl"
                    }
                }
            },
            {
                "name": "store_pages",
                "endpoint": {
                    "path": "/commerce/store_pages",
                    "data_selector": "storePages",
                    "paginator": {
                        "type": "cursor",
                        "cursor_path": "pagination.nextPageUrl",
                        "stop_condition": "not pagination.nextPageUrl"
                    }
                }
            },
            {
                "name": "products",
                "endpoint": {
                    "path": "/commerce/products",
                    "data_selector": "products",
                    "paginator": {
                        "type": "cursor",
                        "cursor_path": "pagination.nextPageUrl",
                        "stop_condition": "not pagination.nextPageUrl"
                    }
                }
            },
            {
                "name": "transactions",
                "endpoint": {
                    "path": "/commerce/transactions",
                    "data_selector": "documents",
                    "paginator": {
                        "type": "cursor",
                        "cursor_path": "pagination.nextPageUrl",
                        "stop_condition": "not pagination.nextPageUrl"
                    }
                }
            },
            {
                "name": "profiles",
                "endpoint": {
                    "path": "/profiles",
                    "data_selector": "profiles",
                    "paginator": {
                        "type": "cursor",
                        "cursor_path": "pagination.nextPageUrl",
                        "stop_condition": "not pagination.nextPageUrl"
                    }
                }
            }
        ]
    }
    # fmt: on
