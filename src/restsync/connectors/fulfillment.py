"""Fulfillment API (seed 000): api_key in the query string, offset pagination, records under
`data`, merged on `id`."""

from __future__ import annotations

from typing import Any

import restsync

TITLE = "Fulfillment API: fulfillment records (api_key in query, offset pagination)"
SECRETS = ("api_key",)
DEFAULT_BASE_URL = "https://api.example.com"
# Incremental settings added on top of the seed: the API's modified-since filter.
INCREMENTAL: dict[str, dict[str, Any]] = {
    "fulfillment_data": {"cursor_path": "updated_at", "start_param": "updated_since"},
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
