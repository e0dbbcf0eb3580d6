"""API key auth: `{type: api_key, name="Authorization", api_key, location="header"}`.

`location` is `header`, `query` (or its alias `param`) or `cookie`.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar, Literal, get_args

import httpx

from restsync.auth._base import SourceAuth
from restsync.errors import ConfigError, Problem

ApiKeyLocation = Literal["header", "query", "param", "cookie"]


class ApiKeyAuth(SourceAuth):
    """Sends the key as a header (the default), a query parameter or a cookie."""

    type_name: ClassVar[str] = "api_key"
    required_keys: ClassVar[tuple[str, ...]] = ("api_key",)
    optional_keys: ClassVar[tuple[str, ...]] = ("name", "location")

    def __init__(
        self, api_key: str, name: str = "Authorization", location: ApiKeyLocation = "header"
    ) -> None:
        super().__init__()
        if location not in get_args(ApiKeyLocation):
            raise ValueError(f"unknown api_key location {location!r}")
        self.api_key = self.secret(api_key, "api_key")
        self.name = name
        self.location: ApiKeyLocation = "query" if location == "param" else location

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.location == "header":
            request.headers[self.name] = self.api_key
        elif self.location == "query":
            # Key first, so a redacted URL reads `?api_key=***&offset=300`.
            url = request.url
            rest = [(k, v) for k, v in url.params.multi_items() if k != self.name]
            request.url = url.copy_with(params=[(self.name, self.api_key), *rest])
        else:
            pair = f"{self.name}={self.api_key}"
            existing = request.headers.get("Cookie")
            request.headers["Cookie"] = f"{existing}; {pair}" if existing else pair
        yield request

    def describe(self) -> str:
        if self.location == "query":
            return f"the key sent as query parameter '{self.name}'"
        if self.location == "cookie":
            return f"the key sent in cookie '{self.name}'"
        return f"the key sent in header '{self.name}'"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, path: str = "client.auth") -> ApiKeyAuth:
        cls.check_config(config, path=path)
        location = config.get("location", "header")
        if location not in get_args(ApiKeyLocation):
            raise ConfigError(
                Problem(
                    f"{path}.location",
                    f"unknown location {location!r}; use header, query or cookie",
                )
            )
        name = config.get("name", "Authorization")
        if not isinstance(name, str) or not name:
            raise ConfigError(Problem(f"{path}.name", "must be a non-empty string"))
        return cls(config["api_key"], name=name, location=location)
