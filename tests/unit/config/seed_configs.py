"""The five seed configs, exactly as the seeds write them (secrets as plain strings)."""

from __future__ import annotations

from typing import Any

# 000_61538489df696836.txt
SEED_000: dict[str, Any] = {
    "client": {
        "base_url": "https://api.example.com",
        "auth": {
            "type": "api_key",
            "name": "api_key",
            "api_key": "test-api-key-value",
            "location": "query",
        },
    },
    "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
    "resources": [
        {
            "name": "fulfillment_data",
            "endpoint": {
                "path": "/v1/fulfillment",
                "data_selector": "data",
                "paginator": {"type": "offset", "limit": 100},
            },
        }
    ],
}

# 001_2241679c14e8efea.txt
SEED_001: dict[str, Any] = {
    "client": {
        "base_url": "https://api.example.com",
        "auth": {
            "type": "api_key",
            "name": "api_key",
            "api_key": "test-api-key-value",
            "location": "query",
        },
    },
    "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
    "resources": [
        {
            "name": "order_payments",
            "endpoint": {
                "path": "/v1/order_payments",
                "data_selector": "data",
                "paginator": {"type": "offset", "limit": 100},
            },
        },
        {
            "name": "products",
            "endpoint": {
                "path": "/v1/products",
                "data_selector": "data",
                "paginator": {"type": "offset", "limit": 100},
            },
        },
    ],
}

# 002_c6d94701e4c57ed8.txt
SEED_002: dict[str, Any] = {
    "client": {
        "base_url": "https://api.example.com",
        "auth": {
            "type": "oauth2",
            "client_id": "test-client-id-value",
            "client_secret": "test-client-secret-value",
            "token_url": "https://auth.example.com/oauth/token",
        },
    },
    "resource_defaults": {"primary_key": "order_id", "write_disposition": "merge"},
    "resources": [
        {
            "name": "orders",
            "endpoint": {
                "path": "/v1/orders",
                "data_selector": "orders",
                "paginator": {"type": "offset", "limit": 200, "offset_param": "offset"},
                "error_handler": {
                    "retry_on_status_codes": [429, 500, 502, 503, 504],
                    "max_retries": 3,
                    "backoff_factor": 2,
                },
            },
        }
    ],
}

# 003_21fe8d06de4aae86.txt
SEED_003: dict[str, Any] = {
    "client": {
        "base_url": "https://api.example.com/1.0/",
        "auth": {"type": "bearer", "token": "test-api-key-value"},
    },
    "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
    "resources": [
        {
            "name": "inventory",
            "endpoint": {
                "path": "/commerce/inventory",
                "data_selector": "inventory",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "pagination.nextPageUrl",
                    "stop_condition": "not pagination.nextPageUrl",
                },
            },
        },
        {
            "name": "orders",
            "endpoint": {
                "path": "/commerce/orders",
                "data_selector": "result",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "pagination.nextPageUrl",
                    "stop_condition": "not pagination.nextPageUrl",
                },
            },
        },
        {
            "name": "store_pages",
            "endpoint": {
                "path": "/commerce/store_pages",
                "data_selector": "storePages",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "pagination.nextPageUrl",
                    "stop_condition": "not pagination.nextPageUrl",
                },
            },
        },
        {
            "name": "products",
            "endpoint": {
                "path": "/commerce/products",
                "data_selector": "products",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "pagination.nextPageUrl",
                    "stop_condition": "not pagination.nextPageUrl",
                },
            },
        },
        {
            "name": "transactions",
            "endpoint": {
                "path": "/commerce/transactions",
                "data_selector": "documents",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "pagination.nextPageUrl",
                    "stop_condition": "not pagination.nextPageUrl",
                },
            },
        },
        {
            "name": "profiles",
            "endpoint": {
                "path": "/profiles",
                "data_selector": "profiles",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "pagination.nextPageUrl",
                    "stop_condition": "not pagination.nextPageUrl",
                },
            },
        },
    ],
}

# 004_0f855e9a44bc7702.txt
SEED_004: dict[str, Any] = {
    "client": {
        "base_url": "https://api.example.com",
        "auth": {"type": "bearer", "token": "test-api-key-value"},
    },
    "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
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
                    "limit": 50,
                },
            },
        },
    ],
}

SEED_CONFIGS: dict[str, dict[str, Any]] = {
    "000_61538489df696836": SEED_000,
    "001_2241679c14e8efea": SEED_001,
    "002_c6d94701e4c57ed8": SEED_002,
    "003_21fe8d06de4aae86": SEED_003,
    "004_0f855e9a44bc7702": SEED_004,
}
