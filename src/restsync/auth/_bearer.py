"""Bearer token auth: `{type: bearer, token}` (a dict with only `token` means the same)."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar

import httpx

from restsync.auth._base import SourceAuth


class BearerAuth(SourceAuth):
    """Sends `Authorization: Bearer <token>`."""

    type_name: ClassVar[str] = "bearer"
    required_keys: ClassVar[tuple[str, ...]] = ("token",)

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = self.secret(token, "token")
        self._header = f"Bearer {self.token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def describe(self) -> str:
        return "the bearer token"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, path: str = "client.auth") -> BearerAuth:
        cls.check_config(config, path=path)
        return cls(config["token"])
