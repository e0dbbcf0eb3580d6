"""Paginator and auth entries, checked against their registries (`restsync.paginate.PAGINATORS`,
`restsync.auth.AUTH_TYPES`): what a registered type's constructor takes is what a config may say."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

from restsync.auth import AUTH_TYPES, auth_keys
from restsync.config._defaults import (
    type_of,
)
from restsync.config._dialect import (
    API_KEY_LOCATIONS,
    AUTH_CONFIGS,
    PAGINATOR_CONFIGS,
    REFUSED_KEYS,
    RENAMED_PAGINATORS,
)
from restsync.config._validate.base import _Base, _value_problems
from restsync.config._validate.messages import (
    _and,
    _at,
    _is_absolute,
    _key_types,
    _kind,
    _or,
    _quoted,
    _required_params,
    _unknown,
)
from restsync.errors import Problem
from restsync.paginate import PAGINATORS, REGISTERED_CONFIGS, paginator_params
from restsync.paginate._stop_condition import parse_stop_condition
from restsync.util.suggest import suggest

_AUTH_UNSUPPORTED = REFUSED_KEYS["auth"]

_PAGINATOR_RENAMED = RENAMED_PAGINATORS


def paginator_key_types(name: str) -> dict[str, Any]:
    """Each config key of paginator type `name` with its value type (`Any` when unknown):
    from the config TypedDict it was registered with, else the dialect's for a built-in
    type, else its constructor's annotations."""
    params = paginator_params(name)
    registered = name in REGISTERED_CONFIGS
    config = REGISTERED_CONFIGS[name] if registered else PAGINATOR_CONFIGS.get(name)
    try:
        if config is not None:
            hints = typing.get_type_hints(config, include_extras=True)
        else:
            hints = typing.get_type_hints(PAGINATORS[name].__init__, include_extras=True)
    except Exception:  # annotations that do not resolve are not checked
        hints = {}
    return {key: hints.get(key, Any) for key in params}


class _RegistryChecks(_Base):
    """The `paginator` and `auth` entries of client, endpoints and resource_defaults."""

    def merges(self, path: str, endpoint: Mapping[Any, Any], key: str = "paginator") -> bool:
        """Whether a resource's `key` entry is merged into resource_defaults' (same type)."""
        mine, base = endpoint.get(key), self.default_endpoint.get(key)
        return (
            path.startswith("resources[")
            and isinstance(mine, Mapping)
            and isinstance(base, Mapping)
            and type_of(mine) in (None, type_of(base))
        )

    def auth(self, path: str, auth: Any, *, partial: bool = False) -> None:
        """An auth dict, checked against its class in the auth registry (`partial`: an entry
        merged into resource_defaults' one, whose required keys are checked once merged)."""
        if auth is None:
            return
        if isinstance(auth, (str, int, float, list, tuple)):
            # Never echo it: a string here is most likely the token itself.
            self.add(
                path,
                f"expected a dict such as {{'type': 'bearer', 'token': ...}}, got {_kind(auth)}",
            )
            return
        if not isinstance(auth, Mapping):
            return  # an auth object (httpx.Auth or your own)
        self.extend(_auth_type_problems(path, auth, partial=partial))
        kind = _auth_kind(auth)
        if kind is None:
            return  # a wrong type (reported), or options of the default's type (partial)
        required, optional = auth_keys(kind)
        self.keys(path, auth, {"type", *required, *optional}, _AUTH_UNSUPPORTED)
        if not partial:
            self.extend(_missing_auth_key_problems(path, auth, kind, required))
        self.extend(_credential_problems(path, auth, required))
        self.extend(_auth_option_problems(path, auth, kind, required))
        self.exclusive(path, auth, "auth")
        self.extend(_token_url_problems(path, auth, kind))

    def paginator(self, path: str, paginator: Any, *, partial: bool = False) -> None:
        """A paginator name or dict, checked against its class in the paginator registry
        (`partial`: as for `auth`)."""
        types = list(PAGINATORS)
        if paginator is None:
            return
        if isinstance(paginator, str):
            if paginator in _PAGINATOR_RENAMED:
                self.add(path, _PAGINATOR_RENAMED[paginator])
            elif paginator not in PAGINATORS:
                self.add(path, self.unknown("paginator", paginator, types))
            else:
                required = _required_params(paginator_params(paginator))
                if required:
                    example = ", ".join(f"'{k}': ..." for k in required)
                    self.add(
                        path,
                        f"the '{paginator}' paginator needs {_and(_quoted(required))}; "
                        f"write {{'type': '{paginator}', {example}}}",
                    )
            return
        if isinstance(paginator, (int, float, list, tuple)):
            self.add(path, f"expected a paginator name or dict, got {_kind(paginator)}")
            return
        if not isinstance(paginator, Mapping):
            return  # a paginator object
        if "type" not in paginator and partial:
            return  # options of the default's type: checked once merged
        if "type" not in paginator:
            self.add(path, f"a paginator dict needs a 'type' ({_or(_quoted(types))})")
            return
        kind = paginator["type"]
        if not isinstance(kind, str):
            self.add(_at(path, "type"), f"expected a paginator name, got {_kind(kind)}")
            return
        if kind in _PAGINATOR_RENAMED:
            self.add(_at(path, "type"), _PAGINATOR_RENAMED[kind])
            return
        if kind not in PAGINATORS:
            self.add(_at(path, "type"), self.unknown("paginator", kind, types))
            return
        key_types = paginator_key_types(kind)
        self.keys(path, paginator, {"type", *key_types})
        for key in _required_params(paginator_params(kind)):
            if key not in paginator and not partial:
                self.add(path, f"the '{kind}' paginator needs '{key}'")
        for key, value in paginator.items():
            if key == "stop_condition":
                self.stop_condition(_at(path, key), value)
            elif key in key_types:
                self.value(_at(path, key), value, key_types[key])
        self.exclusive(path, paginator, "paginator")

    def stop_condition(self, path: str, text: Any) -> None:
        if not self.string(path, text):
            return
        try:
            parse_stop_condition(text)
        except ValueError as exc:
            self.add(path, str(exc))


def _auth_kind(auth: Mapping[Any, Any]) -> str | None:
    """The registered auth type an auth dict names (a bare 'token' is bearer auth)."""
    if "type" in auth:
        kind = auth["type"]
        return kind if isinstance(kind, str) and kind in AUTH_TYPES else None
    return "bearer" if "token" in auth else None


def _auth_type_problems(path: str, auth: Mapping[Any, Any], *, partial: bool) -> list[Problem]:
    """An auth dict's 'type': a registered one, or none with a 'token' (or when `partial`)."""
    types = list(AUTH_TYPES)
    if "type" not in auth:
        if "token" in auth or partial:
            return []
        return [
            Problem(
                path, f"auth needs a 'type' ({_or(_quoted(types))}), or a 'token' for bearer auth"
            )
        ]
    kind = auth["type"]
    if not isinstance(kind, str):
        return [Problem(_at(path, "type"), f"expected {_or(_quoted(types))}, got {_kind(kind)}")]
    if kind in AUTH_TYPES:
        return []
    # Echo it only when it is plainly a misspelt type: it may be a pasted token.
    secret = suggest(kind, types) is None
    return [Problem(_at(path, "type"), _unknown("auth type", kind, types, secret))]


def _missing_auth_key_problems(
    path: str, auth: Mapping[Any, Any], kind: str, required: Sequence[str]
) -> list[Problem]:
    missing = [k for k in required if k not in auth]
    if not missing:
        return []
    got = [str(k) for k in auth if k != "type"]
    return [
        Problem(
            path,
            f"'{kind}' auth needs {_and(_quoted(missing))}; "
            f"got {'keys ' + ', '.join(got) if got else 'no other keys'}",
        )
    ]


def _credential_problems(
    path: str, auth: Mapping[Any, Any], required: Sequence[str]
) -> list[Problem]:
    """The required keys (the credentials) that are set: non-empty strings."""
    problems: list[Problem] = []
    for key in required:
        if key not in auth:
            continue
        value = auth[key]
        if value is None:
            problems.append(
                Problem(_at(path, key), f'is null; set it, e.g. restsync.secrets["{key}"]')
            )
        elif not isinstance(value, str):
            problems.append(Problem(_at(path, key), f"expected a string, got {_kind(value)}"))
        elif not value:
            problems.append(Problem(_at(path, key), "is empty; set it, e.g. from restsync.secrets"))
    return problems


def _auth_option_problems(
    path: str, auth: Mapping[Any, Any], kind: str, required: Sequence[str]
) -> list[Problem]:
    """The other keys of a built-in auth type, against the types of its config TypedDict."""
    config_type = AUTH_CONFIGS.get(kind)
    if config_type is None:
        return []
    types_of = _key_types(config_type)
    problems: list[Problem] = []
    for key, value in auth.items():
        if key in types_of and key not in required and key != "type":
            # an unknown location may be a pasted key: do not echo it then
            secret = key == "location" and (
                not isinstance(value, str) or suggest(value, API_KEY_LOCATIONS) is None
            )
            problems += _value_problems(_at(path, key), value, types_of[key], secret=secret)
    return problems


def _token_url_problems(path: str, auth: Mapping[Any, Any], kind: str) -> list[Problem]:
    """OAuth2's token URL: absolute."""
    if kind not in ("oauth2", "oauth2_client_credentials"):
        return []
    url_key = "token_url" if kind == "oauth2" else "access_token_url"
    url = auth.get(url_key)
    if isinstance(url, str) and url and not _is_absolute(url):
        return [Problem(_at(path, url_key), "must be an absolute http(s) URL")]
    return []
