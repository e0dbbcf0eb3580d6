"""Orders API (seed 002): OAuth2 client credentials, offset pagination (limit 200), records
under `orders`, merged on `order_id`, incremental on `last_modified_date`."""

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

TITLE = "Orders API: orders (OAuth2 client credentials, offset pagination, incremental)"
SECRETS = ("client_id", "client_secret", "token_url")
DEFAULT_BASE_URL = "https://api.example.com"
INCREMENTAL: dict[str, dict[str, Any]] = {
    "orders": {"cursor_path": "last_modified_date", "start_param": "modified_since"},
}

#: the seed's schema, as `columns` hints on top of its dict (see `connectors.hints`)
COLUMNS: dict[str, Hints] = {
    "orders": columns(
        order_id=TEXT_KEY,
        order_number=BIGINT,
        totals__subtotal=MONEY,
        totals__tax=MONEY,
        totals__shipping=MONEY,
        totals__grand_total=MONEY,
        created_date=TIMESTAMP,
        last_modified_date=TIMESTAMP,
    ),
}


def seed_config() -> dict[str, Any]:
    """The seed's config dict, as written (only the secrets accessor differs)."""
    # fmt: off
    return {
        "client": {
            "base_url": "https://api.example.com",
            "auth": {
                "type": "oauth2",
                "client_id": restsync.secrets["client_id"],
                "client_secret": restsync.secrets["client_secret"],
                "token_url": restsync.secrets["token_url"]
            }
        },
        "resource_defaults": {
            "primary_key": "order_id",
            "write_disposition": "merge"
        },
        "resources": [
            {
                "name": "orders",
                "endpoint": {
                    "path": "/v1/orders",
                    "data_selector": "orders",
                    "paginator": {
                        "type": "offset",
                        "limit": 200,
                        "offset_param": "offset"
                    },
                    "error_handler": {
                        "retry_on_status_codes": [429, 500, 502, 503, 504],
                        "max_retries": 3,
                        "backoff_factor": 2
                    }
                }
            }
        ]
    }
    # fmt: on
