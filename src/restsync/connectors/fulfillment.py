"""Fulfillment API (seed 000): api_key in the query string, offset pagination, records under
`data`, merged on `id`."""

from __future__ import annotations

from typing import Any

import restsync
from restsync.connectors.hints import (
    BIGINT,
    INT_KEY,
    RATE,
    TIMESTAMP,
    Hints,
    columns,
)

TITLE = "Fulfillment API: fulfillment records (api_key in query, offset pagination)"
SECRETS = ("api_key",)
DEFAULT_BASE_URL = "https://api.example.com"
# Incremental settings added on top of the seed: the API's modified-since filter.
INCREMENTAL: dict[str, dict[str, Any]] = {
    "fulfillment_data": {"cursor_path": "updated_at", "start_param": "updated_since"},
}

#: the seed's schema, as `columns` hints on top of its dict (see `connectors.hints`)
COLUMNS: dict[str, Hints] = {
    "fulfillment_data": columns(
        id=INT_KEY,
        customer_id=BIGINT,
        weight_kg=RATE,
        created_at=TIMESTAMP,
        shipped_at=TIMESTAMP,
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
                "name": "fulfillment_data",
                "endpoint": {
                    "path": "/v1/fulfillment",
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
