"""The shape of each sandbox API, as its seed in `seeds/` describes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from restsync.sandbox import records as r

AuthScheme = Literal["query_key", "bearer", "oauth2"]
PaginationScheme = Literal["offset", "page_number", "cursor"]


@dataclass(frozen=True)
class ResourceSpec:
    """One resource: its seed name and path, where its records sit, and its keys."""

    name: str
    #: The path as the seed writes it (joined to the seed's base_url).
    seed_path: str
    #: The path the server answers on.
    path: str
    selector: str
    primary_key: str
    #: The change cursor (updated_at / last_modified_date / modifiedOn).
    cursor_field: str
    default_records: int
    builder: r.Builder


@dataclass(frozen=True)
class ApiSpec:
    """One API: its auth and pagination schemes, incremental parameter and resources."""

    name: str
    seed: str
    auth: AuthScheme
    pagination: PaginationScheme
    #: The modified-since query parameter: records with cursor >= the value are served.
    since_param: str
    #: Appended to the server origin to form the seed's base_url ("" or "/1.0/").
    base_path: str
    default_page_size: int
    max_page_size: int
    resources: tuple[ResourceSpec, ...]
    #: offset APIs: the offset parameter name.
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_param: str = "page"

    def resource(self, name: str) -> ResourceSpec:
        """The resource named `name` (as in the seed)."""
        for res in self.resources:
            if res.name == name:
                return res
        known = ", ".join(x.name for x in self.resources)
        raise KeyError(f"API '{self.name}' has no resource '{name}'; it has {known}")


def _inv(name: str, path: str, builder: r.Builder) -> ResourceSpec:
    return ResourceSpec(name, path, path, "data", "id", "updated_at", 120, builder)


def _sq(name: str, seed_path: str, selector: str, builder: r.Builder) -> ResourceSpec:
    return ResourceSpec(
        name, seed_path, "/1.0" + seed_path, selector, "id", "modifiedOn", 250, builder
    )


APIS: dict[str, ApiSpec] = {
    "fulfillment": ApiSpec(
        name="fulfillment",
        seed="000",
        auth="query_key",
        pagination="offset",
        since_param="updated_since",
        base_path="",
        default_page_size=100,
        max_page_size=250,
        resources=(
            ResourceSpec(
                "fulfillment_data",
                "/v1/fulfillment",
                "/v1/fulfillment",
                "data",
                "id",
                "updated_at",
                1000,
                r.fulfillment,
            ),
        ),
    ),
    "ecommerce": ApiSpec(
        name="ecommerce",
        seed="001",
        auth="query_key",
        pagination="offset",
        since_param="updated_since",
        base_path="",
        default_page_size=100,
        max_page_size=250,
        resources=(
            ResourceSpec(
                "order_payments",
                "/v1/order_payments",
                "/v1/order_payments",
                "data",
                "id",
                "updated_at",
                500,
                r.order_payment,
            ),
            ResourceSpec(
                "products",
                "/v1/products",
                "/v1/products",
                "data",
                "id",
                "updated_at",
                300,
                r.ecommerce_product,
            ),
        ),
    ),
    "orders": ApiSpec(
        name="orders",
        seed="002",
        auth="oauth2",
        pagination="offset",
        since_param="modified_since",
        base_path="",
        default_page_size=100,
        max_page_size=250,
        resources=(
            ResourceSpec(
                "orders",
                "/v1/orders",
                "/v1/orders",
                "orders",
                "order_id",
                "last_modified_date",
                1000,
                r.order,
            ),
        ),
    ),
    "commerce": ApiSpec(
        name="commerce",
        seed="003",
        auth="bearer",
        pagination="cursor",
        since_param="modifiedAfter",
        base_path="/1.0/",
        default_page_size=50,
        max_page_size=50,
        resources=(
            _sq("inventory", "/commerce/inventory", "inventory", r.commerce_inventory),
            _sq("orders", "/commerce/orders", "result", r.commerce_order),
            _sq("store_pages", "/commerce/store_pages", "storePages", r.commerce_store_page),
            _sq("products", "/commerce/products", "products", r.commerce_product),
            _sq("transactions", "/commerce/transactions", "documents", r.commerce_transaction),
            _sq("profiles", "/profiles", "profiles", r.commerce_profile),
        ),
    ),
    "inventory": ApiSpec(
        name="inventory",
        seed="004",
        auth="bearer",
        pagination="page_number",
        since_param="updated_at_min",
        base_path="",
        default_page_size=50,
        max_page_size=250,
        resources=(
            _inv("customers", "/v1/customers", r.inv_customer),
            _inv("shipping_fee", "/v1/sales_order_shipping_fee", r.inv_shipping_fee),
            _inv("costs", "/v1/additional_costs", r.inv_cost),
            _inv("customer_addresses", "/v1/customer_addresses", r.inv_customer_address),
            _inv("variants", "/v1/variants", r.inv_variant),
            _inv("tax_rates", "/v1/tax_rates", r.inv_tax_rate),
            _inv("suppliers", "/v1/suppliers", r.inv_supplier),
            _inv("stocktakes", "/v1/stocktakes", r.inv_stocktake),
            _inv("stock_adjustments", "/v1/stock_adjustments", r.inv_stock_adjustment),
            _inv("sales_orders", "/v1/sales_orders", r.inv_sales_order),
            _inv("sales_order_fulfillments", "/v1/sales_order_fulfillments", r.inv_fulfillment),
            _inv("sales_order_addresses", "/v1/sales_order_addresses", r.inv_sales_order_address),
            _inv("recipes", "/v1/recipes", r.inv_recipe),
            _inv("purchase_orders", "/v1/purchase_orders", r.inv_purchase_order),
            _inv("products", "/v1/products", r.inv_product),
            _inv("price_lists", "/v1/price_lists", r.inv_price_list),
            _inv("inventory", "/v1/inventory", r.inv_inventory),
            _inv("locations", "/v1/locations", r.inv_location),
            _inv("manufacturing_orders", "/v1/manufacturing_orders", r.inv_manufacturing_order),
            _inv("materials", "/v1/materials", r.inv_material),
        ),
    ),
    "bench": ApiSpec(
        name="bench",
        seed="bench",
        auth="bearer",
        pagination="page_number",
        since_param="updated_at_min",
        base_path="",
        default_page_size=100,
        max_page_size=1000,
        resources=(
            ResourceSpec(
                "items",
                "/v1/items",
                "/v1/items",
                "data",
                "id",
                "updated_at",
                10_000,
                r.bench_variant,
            ),
        ),
    ),
}

#: The sandbox APIs, by name.
API_NAMES: tuple[str, ...] = tuple(APIS)
