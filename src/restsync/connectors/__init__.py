"""Built-in connectors: the five seed integrations, each its seed's config dict as written.

    from restsync.connectors import connector_source
    source = connector_source("inventory", base_url="http://127.0.0.1:8000")

Each connector module holds `seed_config()` (the dict exactly as the seed gives it, with
`restsync.secrets[...]` for the credentials), `SECRETS` (the secret keys it reads), and
`INCREMENTAL` (the incremental settings restsync adds on top, where the API has a
modified-since filter) and `COLUMNS` (the `columns` hints restsync adds on top: the schema the
seed describes, see `connectors.hints`).
"""

from __future__ import annotations

import copy
import importlib
from types import ModuleType
from typing import Any

from restsync.errors import ConfigError, Problem
from restsync.extract._source import RestApiSource
from restsync.util.suggest import did_you_mean

CONNECTORS: tuple[str, ...] = ("fulfillment", "ecommerce", "orders", "commerce", "inventory")


def connector_module(name: str) -> ModuleType:
    """The module of the built-in connector `name`."""
    if name not in CONNECTORS:
        hint = did_you_mean(name, CONNECTORS)
        raise ConfigError(
            [Problem("", f"unknown connector '{name}'{hint}; built-in: {', '.join(CONNECTORS)}")]
        )
    return importlib.import_module(f"restsync.connectors.{name}")


def connector_config(
    name: str, *, base_url: str | None = None, incremental: bool = True
) -> dict[str, Any]:
    """The connector's seed config, pointed at `base_url` and with its incremental settings."""
    module = connector_module(name)
    config: dict[str, Any] = copy.deepcopy(module.seed_config())
    if base_url:
        config["client"]["base_url"] = base_url
    for resource in config["resources"]:
        hints = module.COLUMNS.get(resource["name"])
        if hints and "columns" not in resource:
            resource["columns"] = copy.deepcopy(hints)
    if incremental:
        for resource in config["resources"]:
            inc = module.INCREMENTAL.get(resource["name"])
            if inc:
                resource["endpoint"]["incremental"] = dict(inc)
    return config


def connector_source(
    name: str, *, base_url: str | None = None, incremental: bool = True
) -> RestApiSource:
    """A source for the built-in connector `name`."""
    return RestApiSource(
        connector_config(name, base_url=base_url, incremental=incremental), name=name
    )


__all__ = ["CONNECTORS", "connector_config", "connector_module", "connector_source"]
