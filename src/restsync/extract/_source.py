"""`rest_api_source(config)`: a validated source, ready to run in a pipeline."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from restsync.errors import ConfigError, Problem
from restsync.extract._resources import ResourcePlan, plan_config
from restsync.util.suggest import did_you_mean

if TYPE_CHECKING:
    import httpx

    from restsync.http._client import SourceClient


class RestApiSource:
    """A REST API source built from a config dict in the `rest_api_source` dialect.

    The config is validated when the source is built; no request is made until a pipeline
    runs it.

        source = rest_api_source({"client": {...}, "resources": [...]})
        source.with_resources("orders")
    """

    def __init__(self, config: Mapping[str, Any], name: str | None = None) -> None:
        self.plans: list[ResourcePlan] = plan_config(config)
        self.config: Mapping[str, Any] = config
        #: Whether the name was given; a config file's source is otherwise named after it.
        self.name_given = name is not None
        self.name = name or "rest_api"
        self.client_config: dict[str, Any] = dict(config.get("client") or {})

    @property
    def resource_names(self) -> list[str]:
        return [p.name for p in self.plans]

    def with_resources(self, *names: str) -> RestApiSource:
        """A copy that extracts only `names` (and, unselected, the parents they need)."""
        known = set(self.resource_names)
        unknown = [n for n in names if n not in known]
        if unknown:
            problems = []
            for n in unknown:
                hint = did_you_mean(n, sorted(known))
                problems.append(
                    Problem(
                        "--resources",
                        f"unknown resource '{n}'{hint}; this source has "
                        f"{', '.join(self.resource_names)}",
                    )
                )
            raise ConfigError(problems)
        clone = copy.copy(self)
        by_name = {p.name: p for p in self.plans}
        wanted: set[str] = set(names)
        needed = set(wanted)
        for n in names:
            parent = by_name[n].parent
            while parent:
                needed.add(parent)
                parent = by_name[parent].parent
        plans = []
        for p in self.plans:
            if p.name in needed:
                q = copy.copy(p)
                q.selected = p.selected and p.name in wanted
                plans.append(q)
        clone.plans = plans
        return clone


def build_client(
    client_config: Mapping[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    **options: Any,
) -> SourceClient:
    """The `SourceClient` a run sends a source's requests with, from its `client` config:
    base_url, auth, headers, max_concurrency, rate_limit, allow_cross_origin_pagination and
    timeout. `restsync check --probe` and `restsync init` build theirs here too.

    `transport` replaces the network (an `httpx.MockTransport` in tests); `options` go to
    `SourceClient` as they are (`sleep=`, `clock=` to run in simulated time).

    ```python
    async with build_client(source.client_config) as client:
        response = await client.send(request, resource="orders", policy=RetryPolicy())
    ```
    """
    from restsync.auth import build_auth
    from restsync.http._client import SourceClient

    cc = client_config
    return SourceClient(
        cc.get("base_url") or "",
        auth=build_auth(cc.get("auth")),
        headers=cc.get("headers"),
        max_concurrency=int(cc.get("max_concurrency") or 4),
        rate_limit=cc.get("rate_limit"),
        transport=transport,
        allow_cross_origin_pagination=bool(cc.get("allow_cross_origin_pagination")),
        timeout=float(cc["timeout"]) if cc.get("timeout") else None,
        **options,
    )


def rest_api_source(config: Mapping[str, Any], name: str | None = None) -> RestApiSource:
    """Build a source from a `rest_api_source` config dict (validated now, run later)."""
    return RestApiSource(config, name=name)
