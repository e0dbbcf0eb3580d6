"""Message helpers of config validation, and the one walk of the dialect's value types."""

from __future__ import annotations

import collections.abc
import inspect
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from typing_extensions import is_typeddict

from restsync.config._dialect import (
    Minimum,
)
from restsync.config._secrets import Secret
from restsync.util.suggest import suggest

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_absolute(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _unknown(what: str, word: str, choices: Sequence[str], secret: bool = False) -> str:
    secret = secret or isinstance(word, Secret)
    match = None if secret else suggest(word, choices)
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
        return _annotated_problems(value, annotation, what=what, secret=secret)
    if origin is Literal:
        return _literal_problems(value, annotation, what=what, secret=secret)
    if origin in (Union, types.UnionType):
        return _union_problems(value, annotation, what=what, secret=secret)
    if origin in (list, collections.abc.Sequence):
        return _list_problems(value, annotation, what=what, secret=secret)
    return _plain_type_problems(value, annotation)


def _annotated_problems(value: Any, annotation: Any, *, what: str, secret: bool) -> list[str]:
    """`Annotated[X, Minimum(n)]`: the problems of `X`, else the first minimum not met."""
    base, *extras = get_args(annotation)
    problems = _type_problems(value, base, what=what, secret=secret)
    for extra in extras:
        if problems or not isinstance(extra, Minimum):
            continue
        problems = _minimum_problems(value, extra)
    return problems


def _minimum_problems(value: Any, minimum: Minimum) -> list[str]:
    if minimum.exclusive and value <= minimum.value:
        return [f"must be greater than {minimum.value:g}, got {value}"]
    if value < minimum.value:
        if minimum.value == 1 and _is_int(value):
            return [f"must be a positive integer, got {value}"]
        return [f"must be at least {minimum.value:g}, got {value}"]
    return []


def _literal_problems(value: Any, annotation: Any, *, what: str, secret: bool) -> list[str]:
    choices = [str(a) for a in get_args(annotation)]
    if not isinstance(value, str):
        return [f"expected {_or(_quoted(choices))}, got {_kind(value)}"]
    return [] if value in choices else [_unknown(what, value, choices, secret)]


def _union_problems(value: Any, annotation: Any, *, what: str, secret: bool) -> list[str]:
    """None where the union allows it; else fine when any arm is, the one arm's problems,
    or the union in words."""
    arms = [a for a in get_args(annotation) if a is not type(None)]
    if value is None and len(arms) < len(get_args(annotation)):
        return []
    results = [_type_problems(value, arm, what=what, secret=secret) for arm in arms]
    if any(not r for r in results):
        return []
    if len(results) == 1:
        return results[0]
    return [f"expected {_describe(annotation)}, got {_kind(value)}"]


def _list_problems(value: Any, annotation: Any, *, what: str, secret: bool) -> list[str]:
    """`list[X]`: a list whose first wrong item is named."""
    if not isinstance(value, (list, tuple)):
        return [f"expected {_describe(annotation)}, got {_kind(value)}"]
    item_type = (get_args(annotation) or (Any,))[0]
    for i, item in enumerate(value):
        problems = _type_problems(item, item_type, what=what, secret=secret)
        if problems:
            return [f"item {i}: {problems[0]}"]
    return []


def _plain_type_problems(value: Any, annotation: Any) -> list[str]:
    """dicts (and TypedDicts), functions, `bool`, `int`, `float`, `str`; any other type passes."""
    origin = get_origin(annotation)
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
