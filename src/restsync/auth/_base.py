"""The base class of restsync's auth schemes and the config checks they share."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import httpx

from restsync.errors import ConfigError, Problem
from restsync.util.redact import register_secret
from restsync.util.suggest import did_you_mean
from restsync.util.urls import origin_of


class SourceAuth(httpx.Auth):
    """An `httpx.Auth` that knows where it may go and how to explain a refusal.

    Subclass it, set `type_name`, implement `auth_flow` (and `from_config` if the scheme
    is built from a config dict), then `register_auth(type_name, YourAuth)`:

    ```python
    class HeaderTokenAuth(SourceAuth):
        type_name = "header_token"
        def __init__(self, token: str) -> None:
            super().__init__(); self.token = self.secret(token)
        def auth_flow(self, request):
            request.headers["X-Token"] = self.token
            yield request
    ```

    `SourceClient` calls `bind(base_url)`; credentials go only to `origins`.
    """

    type_name: ClassVar[str] = "custom"
    required_keys: ClassVar[tuple[str, ...]] = ()
    optional_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._bound: set[str] = set()
        self._secret_fields: dict[str, str] = {}

    def bind(self, base_url: str) -> None:
        """Allow this auth on `base_url`'s origin (called by `SourceClient`)."""
        self._bound.add(origin_of(base_url))

    @property
    def origins(self) -> frozenset[str]:
        """The origins this auth's credentials may be sent to."""
        return frozenset(self._bound) | self.extra_origins()

    def extra_origins(self) -> frozenset[str]:
        """Origins besides base_url's that this auth talks to itself (a token URL, say)."""
        return frozenset()

    def describe(self) -> str:
        """How the credentials travel, for error hints (`the key sent in header 'X-Key'`)."""
        return "the credentials"

    def rejection_hint(self, status: int) -> str:
        """One line telling you what to check when the API answers 401 or 403."""
        action = "rejected" if status == 401 else "refused access with"
        secrets = self.secret_labels()
        check = f"; check {secrets}" if secrets else ""
        return f"the API {action} {self.describe()}{check}"

    def secret(self, value: Any, field: str | None = None) -> str:
        """Register `value` as a secret (so it is masked everywhere) and return it as text.

        `field` names the config key it came from, for hints ("check secret 'api_key'").
        """
        text = str(value)
        register_secret(text)
        if field is not None:
            self._secret_fields[field] = _secret_label(value, field)
        return text

    def secret_labels(self) -> str:
        """The secrets this auth uses, as a hint fragment: `secret 'api_key', from env API_KEY`."""
        labels = list(self._secret_fields.values())
        if not labels:
            return ""
        noun = "secret" if len(labels) == 1 else "secrets"
        return f"{noun} {' and '.join(labels)}"

    @classmethod
    def config_keys(cls) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The (required, optional) keys of this scheme's config dict, `type` not included:
        `required_keys`/`optional_keys` when the class declares them, else the constructor's
        keyword parameters (required when they have no default)."""
        if cls.required_keys or cls.optional_keys:
            return tuple(cls.required_keys), tuple(cls.optional_keys)
        params = [
            p
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        required = tuple(p.name for p in params if p.default is p.empty)
        optional = tuple(p.name for p in params if p.default is not p.empty)
        return required, optional

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, path: str = "client.auth") -> SourceAuth:
        """Build the scheme from its config dict: by default the constructor called with the
        dict's keys (without `type`), after `check_config`."""
        cls.check_config(config, path=path)
        options = {str(k): v for k, v in config.items() if k != "type"}
        try:
            return cls(**options)
        except TypeError as exc:
            raise ConfigError(
                Problem(path, f"'{cls.type_name}' auth cannot be built from this dict: {exc}")
            ) from None

    @classmethod
    def check_config(cls, config: Mapping[str, Any], *, path: str = "client.auth") -> None:
        """Raise `ConfigError` listing missing, empty and unknown keys (never their values)."""
        required, optional = cls.config_keys()
        check_keys(
            config,
            type_name=cls.type_name,
            required=required,
            optional=optional,
            path=path,
        )


def check_keys(
    config: Mapping[str, Any],
    *,
    type_name: str,
    required: Iterable[str],
    optional: Iterable[str],
    path: str,
) -> None:
    """Collect every key problem of an auth dict, then raise them together."""
    required = tuple(required)
    known = {"type", *required, *optional}
    present = sorted(k for k in config if k != "type")
    got = ", ".join(present) if present else "no keys"
    problems: list[Problem] = []
    for key in required:
        if key not in config:
            problems.append(Problem(path, f"'{type_name}' auth needs '{key}'; got keys {got}"))
        elif config[key] is None or config[key] == "":
            problems.append(Problem(f"{path}.{key}", "is empty; set it to the secret's value"))
    for key in config:
        if key not in known:
            hint = did_you_mean(str(key), sorted(known))
            problems.append(Problem(f"{path}.{key}", f"unknown key for '{type_name}' auth{hint}"))
    if problems:
        raise ConfigError(problems)


def _secret_label(value: Any, field: str) -> str:
    # restsync.secrets hands out str subclasses that may know their key and where they came from.
    key = getattr(value, "key", None)
    name = key if isinstance(key, str) and key else field
    label = f"'{name}'"
    source = getattr(value, "source", None)
    if isinstance(source, str) and source:
        label += f", from {source}"
    return label
