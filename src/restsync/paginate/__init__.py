"""Pagination: turning one response into the next request.

A paginator is chosen per endpoint from the config's `paginator` entry, by `type`
(`build_paginator`). Add your own with `register_paginator`. Every paginator gets the
loop guards of `Paginator` (repeated cursor/URL, repeated page content, `max_pages`) and
may take a `stop_condition` (see `restsync.paginate._stop_condition`).

`PAGINATORS` is the one registry of paginator types: a type's config keys are its class's
constructor parameters (`paginator_params`); `REGISTERED_CONFIGS` holds the config TypedDict
a registered type was given (validation reads the value types from it, else from the
dialect's `PAGINATOR_CONFIGS` for a built-in, else from the constructor's annotations:
`restsync.config._validate.paginator_key_types`). Validation, `build_paginator` and `check`
all read it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from restsync.paginate._auto import AutoPaginator, detect_paginator
from restsync.paginate._base import Paginator, PaginatorType
from restsync.paginate._cursor import CursorPaginator, HeaderCursorPaginator
from restsync.paginate._links import HeaderLinkPaginator, JSONLinkPaginator, parse_link_header
from restsync.paginate._offset import OffsetPaginator
from restsync.paginate._page_number import PageNumberPaginator
from restsync.paginate._single_page import SinglePagePaginator
from restsync.paginate._stop_condition import StopCondition, parse_stop_condition
from restsync.util.suggest import did_you_mean

__all__ = [
    "PAGINATORS",
    "REGISTERED_CONFIGS",
    "AutoPaginator",
    "CursorPaginator",
    "HeaderCursorPaginator",
    "HeaderLinkPaginator",
    "JSONLinkPaginator",
    "OffsetPaginator",
    "PageNumberPaginator",
    "Paginator",
    "PaginatorType",
    "SinglePagePaginator",
    "StopCondition",
    "build_paginator",
    "detect_paginator",
    "paginator_params",
    "parse_link_header",
    "parse_stop_condition",
    "register_paginator",
]

#: The paginator classes by config `type`. A test keeps it in step with `PaginatorType`.
PAGINATORS: dict[str, type[Paginator]] = {
    "auto": AutoPaginator,
    "single_page": SinglePagePaginator,
    "offset": OffsetPaginator,
    "page_number": PageNumberPaginator,
    "cursor": CursorPaginator,
    "json_link": JSONLinkPaginator,
    "header_link": HeaderLinkPaginator,
    "header_cursor": HeaderCursorPaginator,
}


#: The config TypedDict each registered type was given (None: read its constructor's
#: annotations), by name; a built-in type not registered again has the dialect's.
REGISTERED_CONFIGS: dict[str, type[Any] | None] = {}


def register_paginator(name: str, cls: type[Paginator], config: type[Any] | None = None) -> None:
    """Make `cls` available as `{"type": name, ...}` in configs given to `rest_api_source`.

    Its constructor's keyword parameters are the config keys it accepts (a parameter without
    a default is required); their annotations, or the TypedDict `config`, give the value
    types validation checks::

        register_paginator("since_id", SinceIdPaginator)
        rest_api_source({..., "endpoint": {"paginator": {"type": "since_id", "start": 0}}})
    """
    if not (isinstance(cls, type) and issubclass(cls, Paginator)):
        raise TypeError(f"paginator '{name}' must be a Paginator subclass, got {cls!r}")
    PAGINATORS[name] = cls
    REGISTERED_CONFIGS[name] = config


def paginator_params(name: str) -> dict[str, inspect.Parameter]:
    """The config keys paginator type `name` accepts (its constructor's parameters)."""
    cls = PAGINATORS[name]
    params = inspect.signature(cls.__init__).parameters
    return {
        key: p
        for key, p in params.items()
        if key != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def build_paginator(config: str | Mapping[str, Any] | Paginator | None) -> Paginator:
    """Build a paginator from a config entry.

    `None` and `"auto"` give auto-detection; a string is a type without options
    (`"single_page"`); a dict has a `type` and that type's options; a `Paginator`
    instance is used as it is. Raises `ValueError` for an unknown type or key, or a
    missing required key (full validation, with config paths, is `restsync.config`'s).
    """
    if isinstance(config, Paginator):
        return config
    if config is None:
        return AutoPaginator()
    if isinstance(config, str):
        name, options = config, {}
    elif isinstance(config, Mapping):
        options = dict(config)
        kind = options.pop("type", None)
        if kind is None:
            if options:
                raise ValueError(
                    f"paginator needs a 'type' (one of {', '.join(PAGINATORS)}); "
                    f"got keys {', '.join(sorted(options))}"
                )
            kind = "auto"
        if not isinstance(kind, str):
            raise ValueError(f"paginator type must be a string, got {kind!r}")
        name = kind
    else:
        raise ValueError(
            f"paginator must be a type name, a dict or a Paginator, got {type(config).__name__}"
        )
    if name not in PAGINATORS:
        raise ValueError(f"unknown paginator '{name}'{did_you_mean(name, PAGINATORS)}")
    params = paginator_params(name)
    unknown = [key for key in options if key not in params]
    if unknown:
        key = unknown[0]
        raise ValueError(
            f"paginator '{name}' has no option '{key}'{did_you_mean(key, params)}; "
            f"it takes: {', '.join(params) or 'no options'}"
        )
    missing = [key for key, p in params.items() if p.default is p.empty and key not in options]
    if missing:
        raise ValueError(f"paginator '{name}' needs '{missing[0]}'")
    return PAGINATORS[name](**options)
