"""OAuth2 client credentials.

Two config spellings build the same scheme:

* `{type: "oauth2", client_id, client_secret, token_url, scopes?, audience?}`
* `{type: "oauth2_client_credentials", access_token_url, client_id, client_secret,
  access_token_request_data?, default_token_expiration=3600}` (dlt's spelling)

Both accept `client_auth: "body"` (the default: credentials in the form body) or `"basic"`
(HTTP Basic on the token request, `client_secret_basic`), `scopes` (or `scope`), `audience`,
and a pre-set `access_token`, which is sent until the API rejects it with 401 (then a new
token is fetched, as for an expired one).
The token is fetched through the client's own transport, cached, refreshed `skew` seconds
before it expires, and refreshed once when the API answers 401.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
import orjson

from restsync.auth._base import SourceAuth, check_keys
from restsync.errors import AuthError, ConfigError, Problem
from restsync.util.redact import redact_text, redact_url, register_secret
from restsync.util.urls import origin_of

ClientAuthMethod = Literal["body", "basic"]

_COMMON_OPTIONAL = (
    "scopes",
    "scope",
    "audience",
    "client_auth",
    "access_token",
    "access_token_request_data",
    "default_token_expiration",
)


@dataclass(frozen=True)
class Token:
    """An access token and when it expires (on the auth's clock)."""

    value: str
    expires_at: float
    lifetime: float

    def expires_within(self, skew: float, *, now: float) -> bool:
        """Whether the token runs out within `skew` seconds (at most half its lifetime)."""
        return now + min(skew, self.lifetime / 2) >= self.expires_at


class OAuth2ClientCredentials(SourceAuth):
    """OAuth2 client-credentials grant; sends `Authorization: Bearer <access token>`.

    ```python
    auth = OAuth2ClientCredentials("https://auth.example.com/token", "id", "secret",
                                   scopes=["read"], client_auth="basic")
    ```

    Safe with concurrent requests: one token request at a time (an `asyncio.Lock`), and a
    request that waited for the lock uses the token the other one fetched.
    """

    type_name: ClassVar[str] = "oauth2"
    required_keys: ClassVar[tuple[str, ...]] = ("token_url", "client_id", "client_secret")
    optional_keys: ClassVar[tuple[str, ...]] = _COMMON_OPTIONAL
    url_key: ClassVar[str] = "token_url"
    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scopes: list[str] | str | None = None,
        audience: str | None = None,
        client_auth: ClientAuthMethod = "body",
        extra_data: Mapping[str, Any] | None = None,
        default_expires_in: float = 3600,
        skew: float = 60,
        clock: Callable[[], float] = time.monotonic,
        token_url_key: str = "token_url",  # noqa: S107 - a config key name
        access_token: str | None = None,
    ) -> None:
        super().__init__()
        if client_auth not in ("body", "basic"):
            raise ValueError(f"unknown client_auth {client_auth!r}; use 'body' or 'basic'")
        self.token_url = str(token_url)
        self.client_id = self.secret(client_id, "client_id")
        self.client_secret = self.secret(client_secret, "client_secret")
        self.scopes = " ".join(scopes) if isinstance(scopes, list) else scopes
        self.audience = audience
        self.client_auth: ClientAuthMethod = client_auth
        self.extra_data = {str(k): str(v) for k, v in (extra_data or {}).items()}
        for value in self.extra_data.values():
            register_secret(value)
        self.default_expires_in = float(default_expires_in)
        self.skew = float(skew)
        self.token: Token | None = None
        if access_token:
            # A pre-set token has no known lifetime: it is used until the API answers 401.
            never = float("inf")
            self.token = Token(self.secret(access_token, "access_token"), never, never)
        self.token_requests = 0
        self._clock = clock
        self._token_url_key = token_url_key
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        if client_auth == "basic":
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            self._basic = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
            register_secret(self._basic[6:])
        else:
            self._basic = ""

    # -- the token request ------------------------------------------------------------

    def token_request(self) -> httpx.Request:
        """The request that asks the token endpoint for a new access token."""
        form = {"grant_type": "client_credentials"}
        headers = {"Accept": "application/json"}
        if self.client_auth == "basic":
            headers["Authorization"] = self._basic
        else:
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret
        if self.scopes:
            form["scope"] = self.scopes
        if self.audience:
            form["audience"] = self.audience
        form.update(self.extra_data)
        return httpx.Request("POST", self.token_url, data=form, headers=headers)

    def parse_token(self, response: httpx.Response) -> Token:
        """Read the token endpoint's answer; raise `AuthError` when it issued no token."""
        self.token_requests += 1
        where = f"token request POST {redact_url(self.token_url)}"
        if not response.is_success:
            excerpt = _excerpt(response)
            raise AuthError(
                f"{where} -> {response.status_code} {response.reason_phrase}"
                + (f": {excerpt}" if excerpt else ""),
                url=redact_url(self.token_url),
                status=response.status_code,
                hint=self._check_hint(),
            )
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(
                f"{where} -> {response.status_code} without an access_token in a JSON body: "
                f"{_excerpt(response)}",
                url=redact_url(self.token_url),
                status=response.status_code,
                hint=f"check that {self._token_url_key} is the client-credentials token endpoint",
            )
        register_secret(token)
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        try:
            lifetime = float(expires_in) if expires_in is not None else self.default_expires_in
        except (TypeError, ValueError):
            lifetime = self.default_expires_in
        if lifetime <= 0:
            lifetime = self.default_expires_in
        return Token(token, self._clock() + lifetime, lifetime)

    def needs_token(self) -> bool:
        """Whether the cached token is missing or about to expire."""
        token = self.token
        return token is None or token.expires_within(self.skew, now=self._clock())

    def _authorize(self, request: httpx.Request) -> httpx.Request:
        assert self.token is not None
        request.headers["Authorization"] = f"Bearer {self.token.value}"
        return request

    # -- flows --------------------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow for synchronous use and for driving by hand (no lock)."""
        if self.needs_token():
            self.token = self.parse_token((yield self.token_request()))
        response = yield self._authorize(request)
        if response.status_code == 401:
            # The token may have been revoked early: refresh once, then let the 401 stand.
            self.token = self.parse_token((yield self.token_request()))
            yield self._authorize(request)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow `SourceClient` uses: token requests are serialized by a lock."""
        # One lock per event loop: the same auth may serve several runs (asyncio.run each).
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        lock = self._lock
        if self.needs_token():
            async with lock:
                if self.needs_token():  # another request may have refreshed it meanwhile
                    token_response = yield self.token_request()
                    await token_response.aread()
                    self.token = self.parse_token(token_response)
        used = self.token
        response = yield self._authorize(request)
        if response.status_code == 401:
            async with lock:
                if self.token is used:
                    token_response = yield self.token_request()
                    await token_response.aread()
                    self.token = self.parse_token(token_response)
            yield self._authorize(request)

    # -- policy -------------------------------------------------------------------------

    def extra_origins(self) -> frozenset[str]:
        return frozenset({origin_of(self.token_url)})

    def describe(self) -> str:
        return f"the access token from {redact_url(self.token_url)}"

    def rejection_hint(self, status: int) -> str:
        if status == 401:
            return (
                f"the API rejected a freshly issued access token from {redact_url(self.token_url)};"
                " check the client's scopes/audience and that it may use this API"
            )
        return (
            f"the API refused access with the token from {redact_url(self.token_url)};"
            " check the scopes/audience granted to the client"
        )

    def _check_hint(self) -> str:
        how = "HTTP Basic" if self.client_auth == "basic" else "the form body"
        other = "body" if self.client_auth == "basic" else "basic"
        return (
            f"check secrets 'client_id' and 'client_secret' (sent in {how}; try client_auth:"
            f" '{other}') and that {self._token_url_key} is the token endpoint"
        )

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, path: str = "client.auth"
    ) -> OAuth2ClientCredentials:
        """Build from this class's spelling (`token_url`, or dlt's `access_token_url`)."""
        url_key = cls.url_key
        check_keys(
            config,
            type_name=cls.type_name,
            required=cls.required_keys,
            optional=cls.optional_keys,
            path=path,
        )
        client_auth = config.get("client_auth", "body")
        if client_auth not in ("body", "basic"):
            raise ConfigError(
                Problem(f"{path}.client_auth", f"unknown value {client_auth!r}; use body or basic")
            )
        scopes = config.get("scopes", config.get("scope"))
        if scopes is not None and not isinstance(scopes, (str, list)):
            raise ConfigError(Problem(f"{path}.scopes", "expected a list of scopes or a string"))
        extra = config.get("access_token_request_data") or {}
        if not isinstance(extra, Mapping):
            raise ConfigError(Problem(f"{path}.access_token_request_data", "expected a dict"))
        expires = config.get("default_token_expiration", 3600)
        if isinstance(expires, bool) or not isinstance(expires, (int, float)) or expires <= 0:
            raise ConfigError(
                Problem(f"{path}.default_token_expiration", "expected a number of seconds > 0")
            )
        return cls(
            str(config[url_key]),
            config["client_id"],
            config["client_secret"],
            scopes=[str(s) for s in scopes] if isinstance(scopes, list) else scopes,
            audience=config.get("audience"),
            client_auth=client_auth,
            extra_data=extra,
            default_expires_in=expires,
            token_url_key=url_key,
            access_token=config.get("access_token") or None,
        )


class DltOAuth2ClientCredentials(OAuth2ClientCredentials):
    """`{type: "oauth2_client_credentials", access_token_url, ...}`: dlt's spelling of the
    same grant (`access_token_request_data` is added to the token request's form)."""

    type_name: ClassVar[str] = "oauth2_client_credentials"
    required_keys: ClassVar[tuple[str, ...]] = ("access_token_url", "client_id", "client_secret")
    url_key: ClassVar[str] = "access_token_url"


def _excerpt(response: httpx.Response, limit: int = 200) -> str:
    text = response.content[: limit * 4].decode("utf-8", "replace")
    text = redact_text(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
