"""Auth schemes, each an `httpx.Auth`, and the registry that builds them from config.

```python
auth = build_auth({"type": "api_key", "name": "api_key", "api_key": key, "location": "query"})
register_auth("my_scheme", MyAuth)    # then {type: "my_scheme", ...} works in configs
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from restsync.auth._api_key import ApiKeyAuth
from restsync.auth._base import SourceAuth, check_keys
from restsync.auth._basic import HttpBasicAuth
from restsync.auth._bearer import BearerAuth
from restsync.auth._oauth2 import DltOAuth2ClientCredentials, OAuth2ClientCredentials, Token
from restsync.errors import ConfigError, Problem
from restsync.util.suggest import did_you_mean

__all__ = [
    "AUTH_TYPES",
    "ApiKeyAuth",
    "BearerAuth",
    "DltOAuth2ClientCredentials",
    "HttpBasicAuth",
    "OAuth2ClientCredentials",
    "SourceAuth",
    "Token",
    "auth_keys",
    "build_auth",
    "check_keys",
    "register_auth",
]

AUTH_TYPES: dict[str, type[SourceAuth]] = {
    "bearer": BearerAuth,
    "api_key": ApiKeyAuth,
    "http_basic": HttpBasicAuth,
    "oauth2": OAuth2ClientCredentials,
    "oauth2_client_credentials": DltOAuth2ClientCredentials,
}
"""The one registry of auth schemes: classes keyed by the config `type`. A class's
`required_keys` and `optional_keys` are the keys its config dict takes (`auth_keys`);
validation and `build_auth` both read them."""


def register_auth(name: str, cls: type[SourceAuth]) -> None:
    """Make `{type: name, ...}` usable in configs given to `rest_api_source`.

    The class's `required_keys`/`optional_keys` are the keys validation accepts; a class
    that declares none takes its constructor's keyword parameters (required when they have
    no default). It is built with `cls.from_config(config)`, which by default calls the
    constructor with the dict's keys (without `type`).

    ```python
    register_auth("header_token", HeaderTokenAuth)
    ```
    """
    if not (isinstance(cls, type) and issubclass(cls, SourceAuth)):
        raise TypeError(f"register_auth({name!r}, ...) needs a SourceAuth subclass")
    AUTH_TYPES[name] = cls


def auth_keys(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (required, optional) config keys of auth type `name`, `type` not included."""
    return AUTH_TYPES[name].config_keys()


def build_auth(
    config: Mapping[str, Any] | httpx.Auth | None, *, path: str = "client.auth"
) -> httpx.Auth | None:
    """Turn `client.auth` into an `httpx.Auth`: None, an instance as is, or a dict by `type`.

    A dict without `type` but with `token` is bearer auth. Every credential in it is
    registered as a secret. Raises `ConfigError` (naming keys, never values) when the dict
    does not describe a known scheme.
    """
    if config is None:
        return None
    if isinstance(config, httpx.Auth):
        return config
    if not isinstance(config, Mapping):
        raise ConfigError(
            Problem(
                path, f"expected a dict with 'type' or an auth object; got {type(config).__name__}"
            )
        )
    kind = config.get("type")
    if kind is None:
        if "token" in config:
            kind = "bearer"
        else:
            keys = ", ".join(sorted(map(str, config))) or "no keys"
            raise ConfigError(
                Problem(
                    path,
                    f"missing 'type' (one of {', '.join(sorted(AUTH_TYPES))}); got keys {keys}",
                )
            )
    cls = AUTH_TYPES.get(str(kind))
    if cls is None:
        hint = did_you_mean(str(kind), sorted(AUTH_TYPES))
        raise ConfigError(Problem(f"{path}.type", f"unknown auth type {kind!r}{hint}"))
    return cls.from_config(config, path=path)
