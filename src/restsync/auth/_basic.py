"""HTTP Basic auth: `{type: http_basic, username, password}`."""

from __future__ import annotations

import base64
from collections.abc import Generator, Mapping
from typing import Any, ClassVar

import httpx

from restsync.auth._base import SourceAuth


class HttpBasicAuth(SourceAuth):
    """Sends `Authorization: Basic base64(username:password)`."""

    type_name: ClassVar[str] = "http_basic"
    required_keys: ClassVar[tuple[str, ...]] = ("username", "password")

    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        self.username = self.secret(username, "username")
        self.password = self.secret(password, "password")
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        self.secret(token)
        self._header = f"Basic {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def describe(self) -> str:
        return "the username and password (HTTP Basic)"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, path: str = "client.auth") -> HttpBasicAuth:
        cls.check_config(config, path=path)
        return cls(config["username"], config["password"])
