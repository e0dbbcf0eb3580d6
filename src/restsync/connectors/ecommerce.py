"""E-commerce API (seed 001): order payments and products, api_key in the query string,
offset pagination, every resource merged on `id`."""

from __future__ import annotations

from typing import Any

import restsync

TITLE = "E-commerce API: order_payments and products (api_key in query, offset pagination)"
SECRETS = ("api_key",)
DEFAULT_BASE_URL = "https://api.example.com"
INCREMENTAL: dict[str, dict[str, Any]] = {
    "order_payments": {"cursor_path": "updated_at", "start_param": "updated_since"},
    "products": {"cursor_path": "updated_at", "start_param": "updated_since"},
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
