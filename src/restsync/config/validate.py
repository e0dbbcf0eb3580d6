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

import difflib
import graphlib
import importlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from restsync.config.defaults import expand_resource, parent_resources, write_disposition_of
from restsync.config.dialect import (
    API_KEY_LOCATIONS,
    AUTH_CONFIGS,
    AUTH_TYPES,
    COLUMN_DATA_TYPES,
    HTTP_METHODS,
    INCREMENTAL_PLACEHOLDERS,
    PAGINATOR_CONFIGS,
    PAGINATOR_TYPES,
    WRITE_DISPOSITIONS,
    ClientConfig,
    ColumnHints,
    EndpointConfig,
    ErrorHandlerConfig,
    IncrementalConfig,
    IncrementalParamConfig,
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

REQUIRED_AUTH_KEYS: dict[str, tuple[str, ...]] = {
    "bearer": ("token",),
    "api_key": ("api_key",),
    "http_basic": ("username", "password"),
    "oauth2": ("client_id", "client_secret", "token_url"),
    "oauth2_client_credentials": ("access_token_url", "client_id", "client_secret"),
}
MERGE_STRATEGIES = ("delete-insert", "upsert", "insert-only", "scd2")
REPLACE_STRATEGIES = ("truncate-and-insert", "insert-from-staging", "staging-optimized")
PROCESSING_STEP_KINDS = ("filter", "map", "yield_map")

# Keys dlt knows that restsync refuses, with the reason.
_CLIENT_UNSUPPORTED = {
    "session": "not supported: restsync sends requests with httpx, not a requests.Session; "
    "use 'auth', 'headers' and 'timeout' instead",
}
_DEFAULTS_UNSUPPORTED = {
    "name": "a name cannot be a default; give each resource its own 'name'",
}
_COLUMN_TYPE_HINTS = {
    "wei": "data type 'wei' is not supported by restsync; use 'decimal' with precision and scale",
    "binary": "data type 'binary' is not supported by restsync; use 'text'",
    "time": "data type 'time' is not supported by restsync; use 'text'",
}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# (kind, minimum) specs for the scalar keys of paginators.
_Spec = tuple[str, float | None]
_PAGINATOR_FIELDS: dict[str, _Spec] = {
    "limit": ("int", 1),
    "offset": ("int", 0),
    "base_page": ("int", None),
    "page": ("int", None),
    "maximum_offset": ("int", 1),
    "maximum_page": ("int", 0),
    "offset_param": ("str", None),
    "limit_param": ("str", None),
    "page_param": ("str", None),
    "cursor_param": ("str", None),
    "offset_body_path": ("str", None),
    "limit_body_path": ("str", None),
    "page_body_path": ("str", None),
    "cursor_body_path": ("str", None),
    "cursor_path": ("str", None),
    "has_more_path": ("str", None),
    "total_path": ("str?", None),
    "next_url_path": ("str", None),
    "links_next_key": ("str", None),
    "cursor_key": ("str", None),
    "stop_after_empty_page": ("bool", None),
}
_EXCLUSIVE_PAGINATOR_KEYS = (
    ("offset_param", "offset_body_path"),
    ("limit_param", "limit_body_path"),
    ("page_param", "page_body_path"),
    ("cursor_param", "cursor_body_path"),
)


def validate_config(config: Mapping[str, Any]) -> None:
    """Check a whole config; raise one `ConfigError` listing every problem found.

    Nothing is requested and nothing is resolved: this looks at the dict only.

    Raises:
        ConfigError: with `.problems`, one `Problem(path, message)` per problem.
    """
    problems = find_problems(config)
    if problems:
        raise ConfigError(problems)


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
    return f"a {type(value).__name__} object"


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

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, redact_text(message)))

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
        secret = secret or isinstance(word, Secret)
        match = None if secret else _suggest(word, choices)
        shown = _show(word, secret=secret)
        if match is not None:
            return f"unknown {what} {shown} (did you mean '{match}'?)"
        if len(choices) <= 12:
            return f"unknown {what} {shown} (expected {_or(_quoted(choices))})"
        return f"unknown {what} {shown}; check the spelling"

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

    def boolean(self, path: str, value: Any) -> None:
        if not isinstance(value, bool):
            self.add(path, f"expected true or false, got {_kind(value)}")

    def integer(self, path: str, value: Any, minimum: float | None = None) -> None:
        if not _is_int(value):
            self.add(path, f"expected an integer, got {_kind(value)}")
        elif minimum is not None and value < minimum:
            if minimum == 1:
                self.add(path, f"must be a positive integer, got {value}")
            else:
                self.add(path, f"must be at least {minimum:g}, got {value}")

    def number(
        self, path: str, value: Any, minimum: float | None = None, *, above: bool = False
    ) -> None:
        if not _is_number(value):
            self.add(path, f"expected a number, got {_kind(value)}")
        elif minimum is not None and (value <= minimum if above else value < minimum):
            bound = f"greater than {minimum:g}" if above else f"at least {minimum:g}"
            self.add(path, f"must be {bound}, got {value}")

    def spec(self, path: str, value: Any, spec: _Spec) -> None:
        kind, minimum = spec
        if kind == "int":
            self.integer(path, value, minimum)
        elif kind == "bool":
            self.boolean(path, value)
        else:
            self.string(path, value, optional=kind == "str?")

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
        if "max_concurrency" in client:
            self.integer(_at(path, "max_concurrency"), client["max_concurrency"], 1)
        if "rate_limit" in client and client["rate_limit"] is not None:
            self.number(_at(path, "rate_limit"), client["rate_limit"], 0, above=True)
        if "allow_cross_origin_pagination" in client:
            self.boolean(
                _at(path, "allow_cross_origin_pagination"), client["allow_cross_origin_pagination"]
            )
        if "timeout" in client and client["timeout"] is not None:
            self.number(_at(path, "timeout"), client["timeout"], 0, above=True)

    def auth(self, path: str, auth: Any) -> None:
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
                self.add(
                    _at(path, "type"), f"expected {_or(_quoted(AUTH_TYPES))}, got {_kind(kind)}"
                )
                return
            if kind not in AUTH_TYPES:
                # Echo it only when it is plainly a misspelt type: it may be a pasted token.
                secret = _suggest(kind, AUTH_TYPES) is None
                self.add(_at(path, "type"), self.unknown("auth type", kind, AUTH_TYPES, secret))
                return
        elif "token" in auth:
            kind = "bearer"
        else:
            self.add(
                path,
                f"auth needs a 'type' ({_or(_quoted(AUTH_TYPES))}), or a 'token' for bearer auth",
            )
            return
        self.keys(path, auth, keys_of(AUTH_CONFIGS[kind]))
        required = REQUIRED_AUTH_KEYS[kind]
        missing = [k for k in required if k not in auth]
        if missing:
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
        if "name" in auth:
            self.string(_at(path, "name"), auth["name"])
        if "location" in auth:
            location = auth["location"]
            if isinstance(location, str) and location not in API_KEY_LOCATIONS:
                secret = _suggest(location, API_KEY_LOCATIONS) is None
                self.add(
                    _at(path, "location"),
                    self.unknown("location", location, API_KEY_LOCATIONS, secret),
                )
            else:
                self.choice(_at(path, "location"), location, API_KEY_LOCATIONS, "location")
        if "audience" in auth:
            self.string(_at(path, "audience"), auth["audience"])
        if "scopes" in auth:
            scopes = auth["scopes"]
            if not isinstance(scopes, str) and not (
                isinstance(scopes, (list, tuple)) and all(isinstance(s, str) for s in scopes)
            ):
                self.add(
                    _at(path, "scopes"),
                    f"expected a string or a list of strings, got {_kind(scopes)}",
                )
        if "access_token_request_data" in auth:
            self.mapping(_at(path, "access_token_request_data"), auth["access_token_request_data"])
        if "default_token_expiration" in auth:
            self.integer(_at(path, "default_token_expiration"), auth["default_token_expiration"], 1)
        if kind in ("oauth2", "oauth2_client_credentials"):
            url_key = "token_url" if kind == "oauth2" else "access_token_url"
            url = auth.get(url_key)
            if isinstance(url, str) and url and not _is_absolute(url):
                self.add(_at(path, url_key), "must be an absolute http(s) URL")

    def paginator(self, path: str, paginator: Any) -> None:
        if paginator is None:
            return
        if isinstance(paginator, str):
            if paginator not in PAGINATOR_TYPES:
                self.add(path, self.unknown("paginator", paginator, PAGINATOR_TYPES))
            elif paginator == "offset":
                self.add(
                    path,
                    "the 'offset' paginator needs a 'limit'; "
                    "write {'type': 'offset', 'limit': 100}",
                )
            return
        if isinstance(paginator, (int, float, list, tuple)):
            self.add(path, f"expected a paginator name or dict, got {_kind(paginator)}")
            return
        if not isinstance(paginator, Mapping):
            return  # a paginator object
        if "type" not in paginator:
            self.add(path, f"a paginator dict needs a 'type' ({_or(_quoted(PAGINATOR_TYPES))})")
            return
        kind = paginator["type"]
        if not isinstance(kind, str):
            self.add(_at(path, "type"), f"expected a paginator name, got {_kind(kind)}")
            return
        if kind not in PAGINATOR_TYPES:
            self.add(_at(path, "type"), self.unknown("paginator", kind, PAGINATOR_TYPES))
            return
        allowed = keys_of(PAGINATOR_CONFIGS[kind])
        self.keys(path, paginator, allowed)
        if kind == "offset" and "limit" not in paginator:
            self.add(path, "the 'offset' paginator needs a 'limit', e.g. 'limit': 100")
        for key, value in paginator.items():
            if key in allowed and key in _PAGINATOR_FIELDS:
                self.spec(_at(path, key), value, _PAGINATOR_FIELDS[key])
        for a, b in _EXCLUSIVE_PAGINATOR_KEYS:
            if a in paginator and b in paginator:
                self.add(path, f"set either '{a}' or '{b}', not both")
        if "stop_condition" in paginator and "stop_condition" in allowed:
            self.stop_condition(_at(path, "stop_condition"), paginator["stop_condition"])

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
            self.add(path, f"expected a resource dict or a resource name, got {_kind(resource)}")
            return
        if in_defaults:
            self.keys(path, resource, keys_of(ResourceDefaults), _DEFAULTS_UNSUPPORTED)
        else:
            self.keys(path, resource, keys_of(ResourceConfig))
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
        for key in ("selected", "parallelized"):
            if key in resource:
                self.boolean(_at(path, key), resource[key])
        if "max_table_nesting" in resource:
            self.integer(_at(path, "max_table_nesting"), resource["max_table_nesting"], 0)
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
        for key in ("table_format", "file_format"):
            if key in resource:
                self.string(_at(path, key), resource[key])

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
            self.keys(hint_path, hints, allowed)
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
            for key in (
                "nullable",
                "primary_key",
                "merge_key",
                "unique",
                "partition",
                "cluster",
                "sort",
                "hard_delete",
                "timezone",
            ):
                if key in hints:
                    self.boolean(_at(hint_path, key), hints[key])
            for key in ("precision", "scale"):
                if key in hints:
                    self.integer(_at(hint_path, key), hints[key], 0)
            if "dedup_sort" in hints:
                self.choice(
                    _at(hint_path, "dedup_sort"), hints["dedup_sort"], ("asc", "desc"), "dedup_sort"
                )

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
        if "json" in endpoint and "data" in endpoint:
            self.add(path, "set either 'json' or 'data', not both")
        if "headers" in endpoint:
            self.string_map(_at(path, "headers"), endpoint["headers"])
        if "data_selector" in endpoint:
            self.string(_at(path, "data_selector"), endpoint["data_selector"])
        if "paginator" in endpoint:
            self.paginator(_at(path, "paginator"), endpoint["paginator"])
        if "incremental" in endpoint and endpoint["incremental"] is not None:
            self.incremental(
                _at(path, "incremental"), endpoint["incremental"], keys_of(IncrementalConfig)
            )
        if "response_actions" in endpoint:
            self.response_actions(_at(path, "response_actions"), endpoint["response_actions"])
        if "error_handler" in endpoint:
            self.error_handler(_at(path, "error_handler"), endpoint["error_handler"])
        if "auth" in endpoint:
            self.auth(_at(path, "auth"), endpoint["auth"])

    def params(self, path: str, params: Any) -> None:
        if not self.mapping(path, params):
            return
        incremental_params = 0
        for key, value in params.items():
            if not isinstance(key, str):
                self.add(path, f"keys must be strings, got {_kind(key)} key {_show(key)}")
                continue
            if not isinstance(value, Mapping):
                continue
            param_path = _at(path, key)
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
        self.keys(path, incremental, allowed)
        if "cursor_path" not in incremental:
            self.add(path, "incremental needs a 'cursor_path', the record field to track")
        else:
            self.string(_at(path, "cursor_path"), incremental["cursor_path"])
        for key in ("start_param", "end_param"):
            if key in incremental:
                self.string(_at(path, key), incremental[key])
        if "end_value" in incremental and "initial_value" not in incremental:
            self.add(path, "'end_value' needs an 'initial_value'")
        if "lag" in incremental and incremental["lag"] is not None:
            self.number(_at(path, "lag"), incremental["lag"])
        if "convert" in incremental and not callable(incremental["convert"]):
            self.add(
                _at(path, "convert"), f"expected a function, got {_kind(incremental['convert'])}"
            )
        if "on_cursor_value_missing" in incremental:
            self.choice(
                _at(path, "on_cursor_value_missing"),
                incremental["on_cursor_value_missing"],
                ("raise", "include", "exclude"),
                "on_cursor_value_missing",
            )
        for key in ("range_start", "range_end"):
            if key in incremental:
                self.choice(_at(path, key), incremental[key], ("open", "closed"), key)
        if "row_order" in incremental and incremental["row_order"] is not None:
            self.choice(
                _at(path, "row_order"), incremental["row_order"], ("asc", "desc"), "row_order"
            )
        if "last_value_func" in incremental and not callable(incremental["last_value_func"]):
            self.choice(
                _at(path, "last_value_func"),
                incremental["last_value_func"],
                ("max", "min"),
                "last_value_func",
            )
        if "primary_key" in incremental:
            self.key_names(_at(path, "primary_key"), incremental["primary_key"])
        if "allow_external_schedulers" in incremental:
            self.boolean(
                _at(path, "allow_external_schedulers"), incremental["allow_external_schedulers"]
            )

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
        if "max_retries" in handler:
            self.integer(_at(path, "max_retries"), handler["max_retries"], 0)
        if "backoff_factor" in handler:
            self.number(_at(path, "backoff_factor"), handler["backoff_factor"], 0)
        if "max_backoff" in handler:
            self.number(_at(path, "max_backoff"), handler["max_backoff"], 0, above=True)
        if "respect_retry_after" in handler:
            self.boolean(_at(path, "respect_retry_after"), handler["respect_retry_after"])

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
                self.status_code(_at(action_path, "status_code"), action["status_code"])
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
            parents = self.placeholders(_at(path, "endpoint"), endpoint, names)
            graph[name] = {p for p in parents if p in names}
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
        """Check the endpoint's placeholders; return the parent resources named."""
        params = endpoint.get("params")
        params = params if isinstance(params, Mapping) else {}
        resolve_names = {
            k for k, v in params.items() if isinstance(v, Mapping) and v.get("type") == "resolve"
        }
        has_incremental = isinstance(endpoint.get("incremental"), Mapping) or any(
            isinstance(v, Mapping) and v.get("type") == "incremental" for v in params.values()
        )
        for key, value in params.items():
            if isinstance(value, Mapping) and value.get("type") == "resolve":
                parent = value.get("resource")
                if isinstance(parent, str) and parent and parent not in names:
                    self.add(
                        _at(_at(_at(path, "params"), key), "resource"),
                        self.unknown("resource", parent, sorted(names)),
                    )
        for ph in find_placeholders(endpoint):
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
                elif parts[1] not in names:
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
            elif len(parts) == 1:
                if ph.root not in resolve_names:
                    self.add(
                        where,
                        f"unknown placeholder '{text}'; use '{{resources.<parent>.<field>}}' "
                        "or '{incremental.start_value}'",
                    )
            else:
                self.add(
                    where,
                    self.unknown("placeholder root", ph.root, ("resources", "incremental"))
                    + f" in '{text}'",
                )
        return parent_resources({"endpoint": endpoint})

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


__all__ = ["REQUIRED_AUTH_KEYS", "find_problems", "validate_config"]


def _is_scd2(resource: Mapping[str, Any]) -> bool:
    wd = resource.get("write_disposition")
    return isinstance(wd, Mapping) and wd.get("strategy") == "scd2"
