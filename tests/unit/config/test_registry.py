"""The paginator and auth registries are the dialect's one definition of those types: a type
registered with `register_paginator` / `register_auth` is usable by name in a config dict
given to `rest_api_source`, with its keys checked there; the built-in TypedDicts spell
exactly the keys their classes take."""

from __future__ import annotations

import inspect
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import restsync
from restsync.auth import AUTH_TYPES, SourceAuth, auth_keys, register_auth
from restsync.config._dialect import (
    AUTH_CONFIGS,
    PAGINATOR_CONFIGS,
    PAGINATOR_TYPES,
    keys_of,
)
from restsync.config._dialect import (
    AUTH_TYPES as AUTH_TYPE_NAMES,
)
from restsync.errors import ConfigError
from restsync.http._request import PageRequest
from restsync.paginate import PAGINATORS, Paginator, paginator_params, register_paginator

from .test_dialect_fidelity import BASE, Api, json, problems, rows, run


class SinceIdPaginator(Paginator):
    """Asks for the records after the last id seen (`?since_id=`)."""

    def __init__(
        self,
        *,
        since_param: str = "since_id",
        start: int = 0,
        stop_condition: str | None = None,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(stop_condition=stop_condition, max_pages=max_pages)
        self.since_param = since_param
        self.last = start

    def init_request(self, request: PageRequest) -> None:
        request.params[self.since_param] = self.last

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        self.has_next_page = bool(records)
        if records:
            self.last = self.check_reference(records[-1]["id"], "since_id")

    def update_request(self, request: PageRequest) -> None:
        request.params[self.since_param] = self.last


class HeaderTokenAuth(SourceAuth):
    """A token in a header of your choice."""

    type_name = "header_token"

    def __init__(self, token: str, header: str = "X-Token") -> None:
        super().__init__()
        self.token = self.secret(token, "token")
        self.header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self.token
        yield request


@pytest.fixture
def registered() -> Iterator[None]:
    register_paginator("since_id", SinceIdPaginator)
    register_auth("header_token", HeaderTokenAuth)
    yield
    PAGINATORS.pop("since_id")
    AUTH_TYPES.pop("header_token")


def _since_id_api() -> Api:
    data = [{"id": i} for i in range(1, 6)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-api") != "s3cret":
            return json({"error": "no token"}, 401)
        after = int(request.url.params["after"])
        return json([r for r in data if r["id"] > after][:2])

    return Api(handler)


def _config(paginator: Any, auth: Any) -> dict[str, Any]:
    return {
        "client": {"base_url": BASE, "auth": auth},
        "resources": [{"name": "items", "endpoint": {"path": "items", "paginator": paginator}}],
    }


@pytest.mark.usefixtures("registered")
def test_registered_types_run_by_name_from_a_config_dict(tmp_path: Path) -> None:
    api = _since_id_api()
    config = _config(
        {"type": "since_id", "since_param": "after", "max_pages": 10},
        {"type": "header_token", "token": "s3cret", "header": "X-Api"},
    )
    run(config, api, tmp_path)
    assert [r.url.params["after"] for r in api.requests] == ["0", "2", "4", "5"]
    assert rows(tmp_path, "items", "id") == [(1,), (2,), (3,), (4,), (5,)]


@pytest.mark.usefixtures("registered")
def test_registered_types_keys_are_checked_at_rest_api_source() -> None:
    config = _config(
        {"type": "since_id", "since_parm": "after", "start": "zero"},
        {"type": "header_token", "header": "X-Api"},
    )
    assert problems(config) == [
        "client.auth: 'header_token' auth needs 'token'; got keys header",
        "resources[0].endpoint.paginator: unknown key 'since_parm' (did you mean 'since_param'?)",
        "resources[0].endpoint.paginator.start: expected an integer, got a string",
    ]


def test_an_unregistered_type_is_unknown_at_rest_api_source() -> None:
    config = _config({"type": "since_id"}, None)
    with pytest.raises(ConfigError, match="unknown paginator 'since_id'"):
        restsync.rest_api_source(config)


def test_builtin_typeddicts_spell_exactly_the_keys_their_classes_take() -> None:
    assert set(PAGINATOR_TYPES) == set(PAGINATORS)
    for name in PAGINATOR_TYPES:
        assert keys_of(PAGINATOR_CONFIGS[name]) - {"type"} == set(paginator_params(name)), name
    assert set(AUTH_TYPE_NAMES) == set(AUTH_TYPES)
    for name in AUTH_TYPE_NAMES:
        required, optional = auth_keys(name)
        assert keys_of(AUTH_CONFIGS[name]) - {"type"} == {*required, *optional}, name
        assert AUTH_TYPES[name].type_name == name


def test_paginator_literals_are_one_definition() -> None:
    import restsync.paginate as paginate

    assert "PaginatorType" in dir(paginate)
    from restsync.config import _dialect as dialect

    assert paginate.PaginatorType is dialect.PaginatorType
    assert inspect.getsource(paginate).count("Literal[") == 0
