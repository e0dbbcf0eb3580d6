"""Strict, kind validation of a config dict: every problem at once, with paths and hints.

    validate_config(config)   # returns None, or raises one ConfigError listing every problem

Each problem names the key path in your own notation and says how to fix it:

    config error (2 problems), nothing was requested:
      resources[2].endpoint.paginator.type: unknown paginator 'offest' (did you mean 'offset'?)
      client.auth: 'api_key' auth needs 'api_key'; got keys name, location

Values under `auth` and `Secret` values are never echoed (`***`), and every message also
goes through the redactor, so no registered secret can appear in it.
"""

from __future__ import annotations

import collections.abc
import difflib
import graphlib
import importlib
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from typing_extensions import is_typeddict

from restsync.config.defaults import (
    TYPED_KEYS,
    canonical_endpoint,
    expand_resource,
    expand_resources,
    parent_resources,
    type_of,
    write_disposition_of,
)
from restsync.config.dialect import (
    API_KEY_LOCATIONS,
    AUTH_CONFIGS,
    COLUMN_DATA_TYPES,
    HTTP_METHODS,
    INCREMENTAL_PLACEHOLDERS,
    MERGE_STRATEGIES,
    REFUSED_KEYS,
    RENAMED_PAGINATORS,
    REPLACE_STRATEGIES,
    WRITE_DISPOSITIONS,
    ClientConfig,
    ColumnHints,
    EndpointConfig,
    ErrorHandlerConfig,
    IncrementalConfig,
    IncrementalParamConfig,
    Minimum,
    ResolveParamConfig,
    ResourceConfig,
    ResourceDefaults,
    ResponseActionConfig,
    RESTAPIConfig,
    WriteDispositionConfig,
    keys_of,
)
from restsync.config.placeholders import find_placeholders
from restsync.config.secrets import Secret
from restsync.errors import ConfigError, Problem
from restsync.http.redact import redact_text
from restsync.load.hints import write_problems

if TYPE_CHECKING:
    from restsync.extract.resources import ResourcePlan
from restsync.schema.naming import PATH_SEPARATOR, normalize_path, shorten_identifier

#: Table names restsync keeps for itself (and dlt's, so a dataset can be shared with dlt).
RESERVED_TABLE_PREFIXES: tuple[str, ...] = ("_restsync_", "_dlt_")

PROCESSING_STEP_KINDS = ("filter", "map", "yield_map")

# Keys dlt knows that restsync refuses, with what to do instead (one table, in the dialect).
_CLIENT_UNSUPPORTED = REFUSED_KEYS["client"]
_AUTH_UNSUPPORTED = REFUSED_KEYS["auth"]
_DEFAULTS_UNSUPPORTED = {**REFUSED_KEYS["resource"], **REFUSED_KEYS["resource_defaults"]}
_RESOURCE_UNSUPPORTED = REFUSED_KEYS["resource"]
_COLUMN_UNSUPPORTED = REFUSED_KEYS["column"]
_PAGINATOR_RENAMED = RENAMED_PAGINATORS
_COLUMN_TYPE_HINTS = {
    "wei": "data type 'wei' is not supported by restsync; use 'decimal' with precision and scale",
    "binary": "data type 'binary' is not supported by restsync; use 'text'",
    "time": "data type 'time' is not supported by restsync; use 'text'",
}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Cross-field rules within one dict: keys that exclude each other, by level. (The rules
# across dicts and resources, placeholders, parents, cycles and tables, are `_Checker`'s
# `across_resources`.)
EXCLUSIVE_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "paginator": (
        ("offset_param", "offset_body_path"),
        ("limit_param", "limit_body_path"),
        ("page_param", "page_body_path"),
        ("cursor_param", "cursor_body_path"),
    ),
    "auth": (("scope", "scopes"),),
    "endpoint": (("json", "data"),),
}


def validate_config(config: Mapping[str, Any]) -> None:
    """Check a whole config; raise one `ConfigError` listing every problem found.

    Nothing is requested and nothing is resolved: this looks at the dict only.

    Raises:
        ConfigError: with `.problems`, one `Problem(path, message)` per problem.
    """
    problems = find_problems(config)
    if problems:
        raise ConfigError(problems)


def plan_config(config: Mapping[str, Any]) -> list[ResourcePlan]:
    """Validate `config` and return the plans the run reads, parents before children.

    What validation accepts is what the plans hold: every resource expanded
    (`resource_defaults` merged), its endpoint in canonical form (dlt's legacy forms
    rewritten, see `restsync.config.defaults.canonical_endpoint`).

    Raises:
        ConfigError: every problem of the config at once (see `validate_config`).
    """
    from restsync.extract.resources import build_plan, order_plans

    validate_config(config)
    return order_plans([build_plan(r) for r in expand_resources(config)])


def find_problems(config: Any) -> list[Problem]:
    """Every problem in `config`, in the order of the config; empty when it is valid."""
    checker = _Checker()
    checker.config(config)
    return checker.problems


# --- message helpers ------------------------------------------------------------------


def _at(path: str, key: object) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    text = str(key)
    if _IDENT.fullmatch(text):
        return f"{path}.{text}" if path else text
    return f"{path}[{text!r}]"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a dict"
    if isinstance(value, (list, tuple)):
        return "a list"
    if callable(value):
        return "a function"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} object"


def _show(value: object, *, secret: bool = False) -> str:
    """A value for a message: quoted and cut short, or `***` for secrets."""
    if secret or isinstance(value, Secret):
        return "'***'"
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"'{text}'"


def _or(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _quoted(items: Iterable[str]) -> list[str]:
    return [f"'{i}'" for i in items]


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    # `retry_on` for `retry_on_status_codes`: a clear prefix is a good guess too
    prefixed = [c for c in choices if len(word) >= 4 and c.startswith(word)]
    return prefixed[0] if len(prefixed) == 1 else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_absolute(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _unknown(what: str, word: str, choices: Sequence[str], secret: bool = False) -> str:
    secret = secret or isinstance(word, Secret)
    match = None if secret else _suggest(word, choices)
    shown = _show(word, secret=secret)
    if match is not None:
        return f"unknown {what} {shown} (did you mean '{match}'?)"
    if len(choices) <= 12:
        return f"unknown {what} {shown} (expected {_or(_quoted(choices))})"
    return f"unknown {what} {shown}; check the spelling"


def _is_dlt_resource(value: object) -> bool:
    """A `dlt.resource`/`DltResource` object (recognised without importing dlt)."""
    cls = type(value)
    return cls.__module__.split(".")[0] == "dlt" or "DltResource" in {
        c.__name__ for c in cls.__mro__
    }


def _is_plain(value: object) -> bool:
    """A query parameter value as is: text, a number, a boolean, null, or a list of them."""
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) and not isinstance(v, (list, tuple)) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _key_types(typed_dict: type[Any]) -> dict[str, Any]:
    """A TypedDict's keys with their value types (`Annotated` extras kept)."""
    import httpx  # named by the auth types' annotations

    try:
        return typing.get_type_hints(typed_dict, localns={"httpx": httpx}, include_extras=True)
    except Exception:  # a type that does not resolve is not checked
        return {}


def _required_params(params: Mapping[str, inspect.Parameter]) -> list[str]:
    return [key for key, p in params.items() if p.default is p.empty]


def _describe(annotation: Any) -> str:
    """A type of the dialect in words: `an integer`, `'open' or 'closed'`."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _describe(get_args(annotation)[0])
    if origin is Literal:
        return _or(_quoted(str(a) for a in get_args(annotation)))
    if origin in (Union, types.UnionType):
        return _or([_describe(a) for a in get_args(annotation)])
    names = {
        type(None): "null",
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a dict",
    }
    return names.get(origin or annotation, "a value of the right type")


def _type_problems(value: Any, annotation: Any, *, what: str, secret: bool = False) -> list[str]:
    """What is wrong with `value` as a value of `annotation` (empty when nothing is).

    One generic walk over the types the dialect uses: `Any`, `Annotated[..., Minimum(n)]`,
    `Literal`, unions (`X | None`), `list[X]`, `dict`, `Callable`, `bool`, `int`, `float`,
    `str`, TypedDicts. Any other type is not checked here.
    """
    origin = get_origin(annotation)
    if annotation is Any:
        return []
    if origin is Annotated:
        base, *extras = get_args(annotation)
        problems = _type_problems(value, base, what=what, secret=secret)
        for extra in extras:
            if problems or not isinstance(extra, Minimum):
                continue
            if extra.exclusive and value <= extra.value:
                problems = [f"must be greater than {extra.value:g}, got {value}"]
            elif value < extra.value:
                if extra.value == 1 and _is_int(value):
                    problems = [f"must be a positive integer, got {value}"]
                else:
                    problems = [f"must be at least {extra.value:g}, got {value}"]
        return problems
    if origin is Literal:
        choices = [str(a) for a in get_args(annotation)]
        if not isinstance(value, str):
            return [f"expected {_or(_quoted(choices))}, got {_kind(value)}"]
        return [] if value in choices else [_unknown(what, value, choices, secret)]
    if origin in (Union, types.UnionType):
        arms = [a for a in get_args(annotation) if a is not type(None)]
        if value is None and len(arms) < len(get_args(annotation)):
            return []
        results = [_type_problems(value, arm, what=what, secret=secret) for arm in arms]
        if any(not r for r in results):
            return []
        if len(results) == 1:
            return results[0]
        return [f"expected {_describe(annotation)}, got {_kind(value)}"]
    if origin in (list, collections.abc.Sequence):
        if not isinstance(value, (list, tuple)):
            return [f"expected {_describe(annotation)}, got {_kind(value)}"]
        item_type = (get_args(annotation) or (Any,))[0]
        for i, item in enumerate(value):
            problems = _type_problems(item, item_type, what=what, secret=secret)
            if problems:
                return [f"item {i}: {problems[0]}"]
        return []
    if origin in (dict, collections.abc.Mapping) or annotation is dict or is_typeddict(annotation):
        return [] if isinstance(value, Mapping) else [f"expected a dict, got {_kind(value)}"]
    if origin is collections.abc.Callable:
        return [] if callable(value) else [f"expected a function, got {_kind(value)}"]
    if annotation is bool:
        return [] if isinstance(value, bool) else [f"expected true or false, got {_kind(value)}"]
    if annotation is int:
        return [] if _is_int(value) else [f"expected an integer, got {_kind(value)}"]
    if annotation is float:
        return [] if _is_number(value) else [f"expected a number, got {_kind(value)}"]
    if annotation is str:
        if not isinstance(value, str):
            return [f"expected a string, got {_kind(value)}"]
        return [] if value else ["must not be empty"]
    return []


def _stop_condition_parser() -> Callable[[str], object] | None:
    # The parser belongs to restsync.paginate; when it is not there, this check is skipped.
    try:
        module = importlib.import_module("restsync.paginate.stop_condition")
    except ImportError:
        return None
    parser = getattr(module, "parse_stop_condition", None)
    return parser if callable(parser) else None


# --- the checker ----------------------------------------------------------------------


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # resource_defaults' endpoint: a resource's paginator/auth of the same type is merged
        # into its entry, so its required keys are checked on the merged entry
        self.default_endpoint: Mapping[Any, Any] = {}

    def add(self, path: str, message: str) -> None:
        problem = Problem(path, redact_text(message))
        if problem not in self.problems:  # a merged entry may repeat its parts' problems
            self.problems.append(problem)

    # generic checks ------------------------------------------------------------------

    def keys(
        self,
        path: str,
        value: Mapping[Any, Any],
        allowed: Iterable[str],
        unsupported: Mapping[str, str] | None = None,
    ) -> None:
        allowed = sorted(allowed)
        for key in value:
            if not isinstance(key, str):
                self.add(path, f"keys must be strings, got {_kind(key)} key {_show(key)}")
            elif unsupported and key in unsupported:
                self.add(_at(path, key), unsupported[key])
            elif key not in allowed:
                self.add(path, self.unknown("key", key, allowed))

    def unknown(self, what: str, word: str, choices: Sequence[str], secret: bool = False) -> str:
        return _unknown(what, word, choices, secret)

    def mapping(self, path: str, value: Any, what: str = "a dict") -> bool:
        if isinstance(value, Mapping):
            return True
        self.add(path, f"expected {what}, got {_kind(value)}")
        return False

    def string(self, path: str, value: Any, *, optional: bool = False) -> bool:
        if optional and value is None:
            return True
        if not isinstance(value, str):
            self.add(path, f"expected a string, got {_kind(value)}")
            return False
        if not value:
            self.add(path, "must not be empty")
            return False
        return True

    def choice(self, path: str, value: Any, choices: Sequence[str], what: str) -> bool:
        if not isinstance(value, str):
            self.add(path, f"expected {_or(_quoted(choices))}, got {_kind(value)}")
            return False
        if value not in choices:
            self.add(path, self.unknown(what, value, choices))
            return False
        return True

    def key_names(self, path: str, value: Any) -> None:
        """primary_key / merge_key: a column name or a list of them."""
        if isinstance(value, str):
            if not value:
                self.add(path, "must not be empty")
            return
        if isinstance(value, (list, tuple)) and value:
            for i, item in enumerate(value):
                if not isinstance(item, str) or not item:
                    self.add(_at(path, i), f"expected a column name, got {_kind(item)}")
            return
        what = "an empty list" if isinstance(value, (list, tuple)) else _kind(value)
        self.add(path, f"expected a column name or a list of column names, got {what}")

    def string_map(self, path: str, value: Any, *, secret_values: bool = False) -> None:
        if not self.mapping(path, value):
            return
        for key, item in value.items():
            if not isinstance(key, str):
                self.add(path, f"keys must be strings, got {_kind(key)} key {_show(key)}")
            elif not isinstance(item, str):
                self.add(_at(path, key), f"expected a string, got {_kind(item)}")

    # the levels ----------------------------------------------------------------------

    def config(self, config: Any) -> None:
        if not isinstance(config, Mapping):
            self.add(
                "",
                f"the config must be a dict with 'client' and 'resources', got {_kind(config)}",
            )
            return
        self.keys("", config, keys_of(RESTAPIConfig))
        client = config.get("client")
        if client is not None and self.mapping("client", client):
            self.client("client", client)
        defaults = config.get("resource_defaults")
        if defaults is not None and self.mapping("resource_defaults", defaults):
            self.resource("resource_defaults", defaults, in_defaults=True)
            if isinstance(defaults.get("endpoint"), Mapping):
                self.default_endpoint = defaults["endpoint"]
        resources = config.get("resources")
        if resources is None:
            self.add("", "the config needs 'resources', a list of resource names or dicts")
        elif not isinstance(resources, (list, tuple)):
            self.add("resources", f"expected a list of resources, got {_kind(resources)}")
        elif not resources:
            self.add("resources", "the list is empty; add at least one resource")
        else:
            for i, resource in enumerate(resources):
                self.resource(_at("resources", i), resource, in_defaults=False)
            self.across_resources(config, list(resources))

    def client(self, path: str, client: Mapping[Any, Any]) -> None:
        self.keys(path, client, keys_of(ClientConfig), _CLIENT_UNSUPPORTED)
        if "base_url" in client:
            base_url = client["base_url"]
            if self.string(_at(path, "base_url"), base_url) and not _is_absolute(base_url):
                self.add(
                    _at(path, "base_url"),
                    "must be an absolute http(s) URL, e.g. 'https://api.example.com'",
                )
        if "headers" in client:
            self.string_map(_at(path, "headers"), client["headers"])
        if "auth" in client:
            self.auth(_at(path, "auth"), client["auth"])
        if "paginator" in client:
            self.paginator(_at(path, "paginator"), client["paginator"])
        self.typed(path, client, ClientConfig, skip=("base_url", "headers", "auth", "paginator"))

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
        from restsync.auth import AUTH_TYPES, auth_keys

        types = list(AUTH_TYPES)
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
        if "type" in auth:
            kind = auth["type"]
            if not isinstance(kind, str):
                self.add(_at(path, "type"), f"expected {_or(_quoted(types))}, got {_kind(kind)}")
                return
            if kind not in AUTH_TYPES:
                # Echo it only when it is plainly a misspelt type: it may be a pasted token.
                secret = _suggest(kind, types) is None
                self.add(_at(path, "type"), self.unknown("auth type", kind, types, secret))
                return
        elif "token" in auth:
            kind = "bearer"
        elif partial:
            return  # options of the default's type: checked once merged
        else:
            self.add(
                path,
                f"auth needs a 'type' ({_or(_quoted(types))}), or a 'token' for bearer auth",
            )
            return
        required, optional = auth_keys(kind)
        self.keys(path, auth, {"type", *required, *optional}, _AUTH_UNSUPPORTED)
        missing = [k for k in required if k not in auth]
        if missing and not partial:
            got = [str(k) for k in auth if k != "type"]
            self.add(
                path,
                f"'{kind}' auth needs {_and(_quoted(missing))}; "
                f"got {'keys ' + ', '.join(got) if got else 'no other keys'}",
            )
        for key in required:
            if key not in auth:
                continue
            value = auth[key]
            if value is None:
                self.add(
                    _at(path, key),
                    f'is null; set it, e.g. restsync.secrets["{key}"]',
                )
            elif not isinstance(value, str):
                self.add(_at(path, key), f"expected a string, got {_kind(value)}")
            elif not value:
                self.add(_at(path, key), "is empty; set it, e.g. from restsync.secrets")
        config_type = AUTH_CONFIGS.get(kind)
        if config_type is not None:
            types_of = _key_types(config_type)
            for key, value in auth.items():
                if key in types_of and key not in required and key != "type":
                    # an unknown location may be a pasted key: do not echo it then
                    secret = key == "location" and (
                        not isinstance(value, str) or _suggest(value, API_KEY_LOCATIONS) is None
                    )
                    self.value(_at(path, key), value, types_of[key], secret=secret)
        self.exclusive(path, auth, "auth")
        if kind in ("oauth2", "oauth2_client_credentials"):
            url_key = "token_url" if kind == "oauth2" else "access_token_url"
            url = auth.get(url_key)
            if isinstance(url, str) and url and not _is_absolute(url):
                self.add(_at(path, url_key), "must be an absolute http(s) URL")

    def paginator(self, path: str, paginator: Any, *, partial: bool = False) -> None:
        """A paginator name or dict, checked against its class in the paginator registry
        (`partial`: as for `auth`)."""
        from restsync.paginate import PAGINATORS, paginator_key_types, paginator_params

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

    def exclusive(self, path: str, value: Mapping[Any, Any], level: str) -> None:
        for a, b in EXCLUSIVE_KEYS[level]:
            if a in value and b in value:
                self.add(path, f"set either '{a}' or '{b}', not both")

    def typed(
        self, path: str, value: Mapping[Any, Any], typed_dict: type[Any], skip: Iterable[str] = ()
    ) -> None:
        """Check each present key's value against its type in `typed_dict` (but `skip`)."""
        types_of = _key_types(typed_dict)
        skipped = set(skip)
        for key, item in value.items():
            if key in types_of and key not in skipped:
                self.value(_at(path, key), item, types_of[key])

    def value(self, path: str, value: Any, annotation: Any, *, secret: bool = False) -> None:
        """Check `value` against a type of the dialect (generic over the TypedDicts' types)."""
        what = path.rsplit(".", 1)[-1]
        for problem in _type_problems(value, annotation, what=what, secret=secret):
            self.add(path, problem)

    def stop_condition(self, path: str, text: Any) -> None:
        if not self.string(path, text):
            return
        parse = _stop_condition_parser()
        if parse is None:
            return
        try:
            parse(text)
        except ValueError as exc:
            self.add(path, str(exc))

    def resource(self, path: str, resource: Any, *, in_defaults: bool) -> None:
        if isinstance(resource, str):
            if not resource:
                self.add(path, "a resource name must not be empty")
            return
        if not isinstance(resource, Mapping):
            if _is_dlt_resource(resource):
                self.add(
                    path,
                    "a dlt resource object cannot be part of a restsync config; write the "
                    "resource as a dict ({'name': ..., 'endpoint': ...}), or run it with dlt",
                )
            else:
                self.add(
                    path, f"expected a resource dict or a resource name, got {_kind(resource)}"
                )
            return
        if in_defaults:
            self.keys(path, resource, keys_of(ResourceDefaults), _DEFAULTS_UNSUPPORTED)
        else:
            self.keys(path, resource, keys_of(ResourceConfig), _RESOURCE_UNSUPPORTED)
            if "name" not in resource:
                self.add(path, "a resource needs a 'name'")
            else:
                self.string(_at(path, "name"), resource["name"])
        if "endpoint" in resource:
            self.endpoint(_at(path, "endpoint"), resource["endpoint"])
        for key in ("primary_key", "merge_key"):
            if key in resource:
                self.key_names(_at(path, key), resource[key])
        if "write_disposition" in resource:
            self.write_disposition(_at(path, "write_disposition"), resource["write_disposition"])
        if "table_name" in resource:
            table_name = resource["table_name"]
            if not callable(table_name):
                self.string(_at(path, "table_name"), table_name)
        if "columns" in resource:
            self.columns(_at(path, "columns"), resource["columns"])
        scalars = {k: resource[k] for k in ("selected", "max_table_nesting") if k in resource}
        self.typed(path, scalars, ResourceConfig)
        if "schema_contract" in resource:
            self.schema_contract(_at(path, "schema_contract"), resource["schema_contract"])
        if "include_from_parent" in resource:
            fields = resource["include_from_parent"]
            if not isinstance(fields, (list, tuple)) or not all(
                isinstance(f, str) and f for f in fields
            ):
                self.add(
                    _at(path, "include_from_parent"),
                    f"expected a list of field names, got {_kind(fields)}",
                )
        if "processing_steps" in resource:
            self.processing_steps(_at(path, "processing_steps"), resource["processing_steps"])

    def write_disposition(self, path: str, value: Any) -> None:
        if isinstance(value, str):
            self.choice(path, value, WRITE_DISPOSITIONS, "write_disposition")
            return
        if not isinstance(value, Mapping):
            self.add(
                path, f"expected {_or(_quoted(WRITE_DISPOSITIONS))} or a dict, got {_kind(value)}"
            )
            return
        self.keys(path, value, keys_of(WriteDispositionConfig))
        if "disposition" not in value:
            self.add(path, f"needs a 'disposition' ({_or(_quoted(WRITE_DISPOSITIONS))})")
            return
        disposition = value["disposition"]
        if not self.choice(
            _at(path, "disposition"), disposition, WRITE_DISPOSITIONS, "write_disposition"
        ):
            return
        if "strategy" not in value:
            return
        strategy = value["strategy"]
        strategies: Sequence[str] = {"merge": MERGE_STRATEGIES, "replace": REPLACE_STRATEGIES}.get(
            disposition, ()
        )
        if not strategies:
            self.add(_at(path, "strategy"), f"'{disposition}' takes no strategy; remove it")
        else:
            self.choice(_at(path, "strategy"), strategy, strategies, f"{disposition} strategy")

    def schema_contract(self, path: str, contract: Any) -> None:
        """dlt's `schema_contract`: one mode for all, or a mode per entity."""
        from restsync.schema.contract import CONTRACT_ENTITIES, CONTRACT_MODES

        if isinstance(contract, str):
            self.choice(path, contract, CONTRACT_MODES, "schema_contract mode")
            return
        if not self.mapping(path, contract, "a contract mode or a dict of entity -> mode"):
            return
        self.keys(path, contract, CONTRACT_ENTITIES)
        for entity in CONTRACT_ENTITIES:
            if entity in contract:
                self.choice(
                    _at(path, entity), contract[entity], CONTRACT_MODES, "schema_contract mode"
                )

    def columns(self, path: str, columns: Any) -> None:
        if isinstance(columns, Mapping):
            items: list[tuple[str, Any]] = [
                (_at(path, name), hints) for name, hints in columns.items()
            ]
            named = False
        elif isinstance(columns, (list, tuple)):
            items = [(_at(path, i), hints) for i, hints in enumerate(columns)]
            named = True
        else:
            self.add(path, f"expected a dict of column name -> hints, got {_kind(columns)}")
            return
        allowed = keys_of(ColumnHints)
        for hint_path, hints in items:
            if not self.mapping(hint_path, hints, "a dict of column hints"):
                continue
            self.keys(hint_path, hints, allowed, _COLUMN_UNSUPPORTED)
            if named and "name" not in hints:
                self.add(hint_path, "a column in a list needs a 'name'")
            if "name" in hints:
                self.string(_at(hint_path, "name"), hints["name"])
            if "data_type" in hints:
                data_type = hints["data_type"]
                if isinstance(data_type, str) and data_type in _COLUMN_TYPE_HINTS:
                    self.add(_at(hint_path, "data_type"), _COLUMN_TYPE_HINTS[data_type])
                else:
                    self.choice(
                        _at(hint_path, "data_type"), data_type, COLUMN_DATA_TYPES, "data type"
                    )
            self.typed(hint_path, hints, ColumnHints, skip=("name", "data_type"))

    def processing_steps(self, path: str, steps: Any) -> None:
        if not isinstance(steps, (list, tuple)):
            self.add(path, f"expected a list of steps like {{'filter': fn}}, got {_kind(steps)}")
            return
        for i, step in enumerate(steps):
            step_path = _at(path, i)
            if not self.mapping(step_path, step, "a step like {'filter': fn}"):
                continue
            self.keys(step_path, step, PROCESSING_STEP_KINDS)
            kinds = [k for k in step if k in PROCESSING_STEP_KINDS]
            if len(kinds) != 1:
                self.add(
                    step_path, f"a step has exactly one of {_or(_quoted(PROCESSING_STEP_KINDS))}"
                )
            for kind in kinds:
                if not callable(step[kind]):
                    self.add(_at(step_path, kind), f"expected a function, got {_kind(step[kind])}")

    def endpoint(self, path: str, endpoint: Any) -> None:
        if isinstance(endpoint, str):
            if not endpoint:
                self.add(path, "an endpoint path must not be empty")
            return
        if not isinstance(endpoint, Mapping):
            self.add(path, f"expected an endpoint dict or a path string, got {_kind(endpoint)}")
            return
        self.keys(path, endpoint, keys_of(EndpointConfig))
        if "path" in endpoint and endpoint["path"] is not None:
            self.string(_at(path, "path"), endpoint["path"])
        if "method" in endpoint:
            self.choice(_at(path, "method"), endpoint["method"], HTTP_METHODS, "method")
        if "params" in endpoint:
            self.params(_at(path, "params"), endpoint["params"])
        self.exclusive(path, endpoint, "endpoint")
        if "headers" in endpoint:
            self.string_map(_at(path, "headers"), endpoint["headers"])
        if "data_selector" in endpoint:
            self.string(_at(path, "data_selector"), endpoint["data_selector"])
        if "paginator" in endpoint:
            self.paginator(
                _at(path, "paginator"), endpoint["paginator"], partial=self.merges(path, endpoint)
            )
        params = endpoint.get("params")
        if (
            "incremental" in endpoint
            and isinstance(params, Mapping)
            and any(
                isinstance(v, Mapping) and v.get("type") == "incremental" for v in params.values()
            )
        ):
            self.add(
                path,
                "set either 'incremental' or a param of type 'incremental', not both",
            )
        if "incremental" in endpoint and endpoint["incremental"] is not None:
            self.incremental(
                _at(path, "incremental"), endpoint["incremental"], keys_of(IncrementalConfig)
            )
        if "response_actions" in endpoint:
            self.response_actions(_at(path, "response_actions"), endpoint["response_actions"])
        if "error_handler" in endpoint:
            self.error_handler(_at(path, "error_handler"), endpoint["error_handler"])
        if "auth" in endpoint:
            self.auth(
                _at(path, "auth"), endpoint["auth"], partial=self.merges(path, endpoint, "auth")
            )

    def params(self, path: str, params: Any) -> None:
        if not self.mapping(path, params):
            return
        incremental_params = 0
        for key, value in params.items():
            if not isinstance(key, str):
                self.add(path, f"keys must be strings, got {_kind(key)} key {_show(key)}")
                continue
            param_path = _at(path, key)
            if not isinstance(value, Mapping):
                if not _is_plain(value):
                    self.add(
                        param_path,
                        f"expected a plain value (text, number, boolean, null or a list of "
                        f"them), got {_kind(value)}; for an incremental cursor write "
                        "{'type': 'incremental', 'cursor_path': ...} or endpoint.incremental",
                    )
                continue
            kind = value.get("type")
            if kind == "resolve":
                self.keys(param_path, value, keys_of(ResolveParamConfig))
                for field in ("resource", "field"):
                    if field not in value:
                        self.add(param_path, f"a 'resolve' param needs '{field}'")
                    else:
                        self.string(_at(param_path, field), value[field])
            elif kind == "incremental":
                incremental_params += 1
                self.incremental(param_path, value, keys_of(IncrementalParamConfig))
                for key in ("end_value", "end_param"):
                    if key in value:
                        self.add(
                            _at(param_path, key),
                            f"an incremental param takes no '{key}' (it is sent as the start "
                            "value); for a window write endpoint.incremental with "
                            "'start_param' and 'end_param'",
                        )
            elif isinstance(kind, str):
                self.add(
                    _at(param_path, "type"),
                    self.unknown("param type", kind, ("resolve", "incremental")),
                )
            else:
                self.add(
                    param_path,
                    "a dict param needs 'type': 'resolve' or 'incremental'; "
                    "for a parent's field write '{resources.<parent>.<field>}'",
                )
        if incremental_params > 1:
            self.add(path, "at most one param can be of type 'incremental'")

    def incremental(self, path: str, incremental: Any, allowed: Iterable[str]) -> None:
        if not self.mapping(path, incremental, "an incremental dict like {'cursor_path': ...}"):
            return
        self.keys(path, incremental, allowed, REFUSED_KEYS["incremental"])
        if "cursor_path" not in incremental:
            self.add(path, "incremental needs a 'cursor_path', the record field to track")
        else:
            self.string(_at(path, "cursor_path"), incremental["cursor_path"])
        if "end_value" in incremental and "initial_value" not in incremental:
            self.add(path, "'end_value' needs an 'initial_value'")
        if "primary_key" in incremental:
            self.key_names(_at(path, "primary_key"), incremental["primary_key"])
        self.typed(path, incremental, IncrementalConfig, skip=("cursor_path", "primary_key"))

    def error_handler(self, path: str, handler: Any) -> None:
        if not self.mapping(path, handler):
            return
        self.keys(path, handler, keys_of(ErrorHandlerConfig))
        if "retry_on_status_codes" in handler:
            codes_path = _at(path, "retry_on_status_codes")
            codes = handler["retry_on_status_codes"]
            if not isinstance(codes, (list, tuple)):
                self.add(codes_path, f"expected a list of HTTP status codes, got {_kind(codes)}")
            else:
                for i, code in enumerate(codes):
                    self.status_code(_at(codes_path, i), code)
        self.typed(path, handler, ErrorHandlerConfig, skip=("retry_on_status_codes",))

    def status_code(self, path: str, code: Any) -> None:
        if not _is_int(code):
            self.add(path, f"expected an HTTP status code, got {_kind(code)}")
        elif not 100 <= code <= 599:
            self.add(path, f"{code} is not an HTTP status code (100-599)")

    def response_actions(self, path: str, actions: Any) -> None:
        if callable(actions) and not isinstance(actions, (list, tuple, Mapping)):
            return
        if not isinstance(actions, (list, tuple)):
            self.add(path, f"expected a list of actions, got {_kind(actions)}")
            return
        for i, action in enumerate(actions):
            action_path = _at(path, i)
            if callable(action) and not isinstance(action, Mapping):
                continue
            if not self.mapping(action_path, action, "an action dict or a function"):
                continue
            self.keys(action_path, action, keys_of(ResponseActionConfig))
            if "status_code" not in action and "content" not in action:
                self.add(action_path, "an action needs 'status_code' or 'content' to match on")
            if "status_code" in action:
                code = action["status_code"]
                if isinstance(code, str) and code.strip().isdigit():
                    code = int(code)
                self.status_code(_at(action_path, "status_code"), code)
            if "content" in action:
                self.string(_at(action_path, "content"), action["content"])
            if "action" not in action:
                self.add(action_path, "an action needs 'action': 'ignore' or a function")
                continue
            what = action["action"]
            if isinstance(what, str):
                self.choice(_at(action_path, "action"), what, ("ignore",), "action")
            elif isinstance(what, (list, tuple)):
                if not all(callable(f) for f in what):
                    self.add(_at(action_path, "action"), "expected a list of functions")
            elif not callable(what):
                self.add(
                    _at(action_path, "action"),
                    f"expected 'ignore' or a function, got {_kind(what)}",
                )

    # checks across resources -----------------------------------------------------------

    def across_resources(self, config: Mapping[Any, Any], resources: list[Any]) -> None:
        defaults = config.get("resource_defaults")
        if not isinstance(defaults, Mapping):
            defaults = {}
        names: dict[str, int] = {}
        merged: list[tuple[int, dict[str, Any]]] = []
        for i, resource in enumerate(resources):
            if isinstance(resource, Mapping):
                name = resource.get("name")
            elif isinstance(resource, str):
                name = resource
            else:
                continue
            if not isinstance(name, str) or not name:
                continue
            if name in names:
                where = _at("resources", i)
                if isinstance(resource, Mapping):
                    where = _at(where, "name")
                self.add(where, f"duplicate resource name '{name}' (also resources[{names[name]}])")
                continue
            names[name] = i
            merged.append((i, expand_resource(resource, defaults)))

        client = config.get("client")
        base_url = client.get("base_url") if isinstance(client, Mapping) else None
        needs_base_url: tuple[int, str, str] | None = None
        graph: dict[str, set[str]] = {}
        for i, resource in merged:
            path = _at("resources", i)
            name = resource["name"]
            endpoint = resource.get("endpoint")
            if not isinstance(endpoint, Mapping):
                continue
            url = endpoint.get("path")
            if needs_base_url is None and isinstance(url, str) and not _is_absolute(url):
                needs_base_url = (i, name, url)
            for problem in write_problems(resource, path):
                self.add(problem.path, problem.message)
            if (
                write_disposition_of(resource) == "merge"
                and not self.has_key(resource)
                and not _is_scd2(resource)
            ):
                self.add(
                    path,
                    f"'{name}' uses write_disposition 'merge' but has no primary_key or "
                    "merge_key; add e.g. 'primary_key': 'id' (here or in resource_defaults)",
                )
            self.merged_typed_entries(path, resources[i], defaults, endpoint)
            parents = self.placeholders(_at(path, "endpoint"), endpoint, names)
            graph[name] = {p for p in parents if p in names}
            if len(parents) > 1:
                self.add(
                    _at(path, "endpoint"),
                    f"refers to several parent resources ({', '.join(sorted(parents))}); "
                    "a resource can have one parent",
                )
            if "include_from_parent" in resource and not parents:
                self.add(
                    _at(path, "include_from_parent"),
                    "needs a parent resource: use '{resources.<parent>.<field>}' in the endpoint",
                )
        if needs_base_url is not None and not isinstance(base_url, str):
            i, name, url = needs_base_url
            self.add(
                "client.base_url",
                f"missing, and resources[{i}] ('{name}') has the relative path {_show(url)}; "
                "set client.base_url or use absolute URLs",
            )
        self.cycles(graph, names)
        self.tables(merged)

    def merged_typed_entries(
        self, path: str, raw: Any, defaults: Mapping[Any, Any], endpoint: Mapping[str, Any]
    ) -> None:
        """A paginator or auth merged from resource_defaults and the resource (same type)
        is checked as merged: it is what runs."""
        own = raw.get("endpoint") if isinstance(raw, Mapping) else None
        base = defaults.get("endpoint")
        if not isinstance(own, Mapping) or not isinstance(base, Mapping):
            return
        for key in TYPED_KEYS:
            if isinstance(own.get(key), Mapping) and isinstance(base.get(key), Mapping):
                where = _at(_at(path, "endpoint"), key)
                if key == "paginator":
                    self.paginator(where, endpoint.get(key))
                else:
                    self.auth(where, endpoint.get(key))

    def tables(self, resources: list[tuple[int, dict[str, Any]]]) -> None:
        """Each resource writes its own table, unless the config says to share one with an
        explicit `table_name`; no table is one restsync keeps for itself or another
        resource's child table (`items__tags` beside `items`)."""
        owners: dict[str, list[tuple[int, str, bool]]] = {}
        for i, resource in resources:
            given = resource.get("table_name")
            if callable(given):
                continue  # named per record, at run time
            raw = given if isinstance(given, str) and given else resource["name"]
            table = shorten_identifier(normalize_path(str(raw)))
            owners.setdefault(table, []).append((i, resource["name"], isinstance(given, str)))
        for table, owned in owners.items():
            i, name, _ = owned[0]
            where = _at("resources", i)
            if table.startswith(RESERVED_TABLE_PREFIXES):
                self.add(
                    where,
                    f"'{name}' would write the table '{table}', a name restsync reserves "
                    f"(tables starting with {_or(_quoted(RESERVED_TABLE_PREFIXES))}); "
                    "rename the resource or set 'table_name'",
                )
            if len(owned) > 1 and not all(explicit for _, _, explicit in owned):
                others = ", ".join(f"resources[{j}] ('{n}')" for j, n, _ in owned[1:])
                self.add(
                    where,
                    f"'{name}' and {others} would write one table, '{table}' (names are "
                    "normalized to snake_case); rename one, or give each the same "
                    "'table_name' to share the table on purpose",
                )
            parent = next(
                (t for t in owners if t != table and table.startswith(t + PATH_SEPARATOR)), None
            )
            if parent is not None:
                j, parent_name, _ = owners[parent][0]
                self.add(
                    where,
                    f"'{name}' would write the table '{table}', where resources[{j}] "
                    f"('{parent_name}') keeps its nested lists ('{parent}__<field>'); "
                    "rename the resource or set another 'table_name'",
                )

    @staticmethod
    def has_key(resource: Mapping[str, Any]) -> bool:
        if resource.get("primary_key") or resource.get("merge_key"):
            return True
        columns = resource.get("columns")
        hints: Iterable[Any] = ()
        if isinstance(columns, Mapping):
            hints = columns.values()
        elif isinstance(columns, (list, tuple)):
            hints = columns
        return any(
            isinstance(h, Mapping) and (h.get("primary_key") is True or h.get("merge_key") is True)
            for h in hints
        )

    def placeholders(
        self, path: str, endpoint: Mapping[str, Any], names: Mapping[str, int]
    ) -> set[str]:
        """Check the endpoint's placeholders; return the parent resources named.

        They are read from the canonical endpoint (`canonical_endpoint`: legacy resolve
        params and plain params named in the path already bound), so what passes here is
        what the run binds.
        """
        params = endpoint.get("params")
        params = params if isinstance(params, Mapping) else {}
        canonical = canonical_endpoint(endpoint)
        has_incremental = isinstance(canonical.get("incremental"), Mapping)
        reported: set[str] = set()
        for key, value in params.items():
            if isinstance(value, Mapping) and value.get("type") == "resolve":
                parent = value.get("resource")
                if isinstance(parent, str) and parent and parent not in names:
                    reported.add(parent)
                    self.add(
                        _at(_at(_at(path, "params"), key), "resource"),
                        self.unknown("resource", parent, sorted(names)),
                    )
        for ph in find_placeholders(canonical):
            where = path + "." + ph.where if not ph.where.startswith("[") else path + ph.where
            text = "{" + ph.text + "}"
            parts = ph.parts
            if ph.root == "resources":
                if len(parts) < 3 or not all(parts[1:]):
                    self.add(
                        where,
                        f"placeholder '{text}' needs a resource and a field, "
                        "e.g. '{resources.posts.id}'",
                    )
                elif parts[1] not in names and parts[1] not in reported:
                    self.add(
                        where, self.unknown("resource", parts[1], sorted(names)) + f" in '{text}'"
                    )
            elif ph.root == "incremental":
                if len(parts) != 2 or parts[1] not in INCREMENTAL_PLACEHOLDERS:
                    field = ".".join(parts[1:])
                    self.add(
                        where,
                        self.unknown("incremental value", field, INCREMENTAL_PLACEHOLDERS)
                        + f" in '{text}'",
                    )
                elif not has_incremental:
                    self.add(
                        where,
                        f"'{text}' needs an 'incremental' block in the endpoint, "
                        "e.g. {'cursor_path': 'updated_at', 'initial_value': ...}",
                    )
            elif len(parts) == 1 and ph.where == "path" and ph.root in params:
                self.add(
                    where,
                    f"'{text}' names the param '{ph.root}', which a path cannot hold; a path "
                    "binds plain values and {'type': 'resolve', ...} params only",
                )
            elif len(parts) == 1:
                self.add(
                    where,
                    f"unknown placeholder '{text}'; use '{{resources.<parent>.<field>}}' "
                    "or '{incremental.start_value}'"
                    + ("" if ph.where == "path" else ", or a param of that name in the path"),
                )
            else:
                self.add(
                    where,
                    self.unknown("placeholder root", ph.root, ("resources", "incremental"))
                    + f" in '{text}'",
                )
        return parent_resources({"endpoint": canonical})

    def cycles(self, graph: Mapping[str, set[str]], names: Mapping[str, int]) -> None:
        try:
            graphlib.TopologicalSorter(graph).prepare()
        except graphlib.CycleError as exc:
            cycle: list[str] = list(exc.args[1])
            # graphlib gives the cycle ending where it started; show it from parent to child
            cycle.reverse()
            first = min(cycle, key=lambda n: names.get(n, 0))
            self.add(
                _at("resources", names.get(first, 0)),
                f"resources depend on each other in a cycle: {' -> '.join(cycle)}; "
                "a parent cannot read from its own children",
            )


__all__ = [
    "EXCLUSIVE_KEYS",
    "RESERVED_TABLE_PREFIXES",
    "find_problems",
    "plan_config",
    "validate_config",
]


def _is_scd2(resource: Mapping[str, Any]) -> bool:
    wd = resource.get("write_disposition")
    return isinstance(wd, Mapping) and wd.get("strategy") == "scd2"
