"""An endpoint: path, method, params (resolve and incremental), incremental, response actions
and error handler."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from restsync.config._dialect import (
    HTTP_METHODS,
    REFUSED_KEYS,
    EndpointConfig,
    ErrorHandlerConfig,
    IncrementalConfig,
    IncrementalParamConfig,
    ResolveParamConfig,
    ResponseActionConfig,
    keys_of,
)
from restsync.config._validate.messages import _at, _is_int, _is_plain, _kind, _show
from restsync.config._validate.registries import _RegistryChecks


class _EndpointChecks(_RegistryChecks):
    """An endpoint dict and the blocks in it."""

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
