"""Config files: YAML, TOML, JSON and Python.

    load_config_file("inventory.yaml")   # -> the config dict
    load_config_file("inventory.py")     # -> the module's `source`, else `config`/`CONFIG`

YAML, TOML and JSON files hold the config dict itself (`client`, `resource_defaults`,
`resources`). They never hold credentials: write `"${secrets.api_key}"` where a secret
goes, and it is resolved through `restsync.secrets` when the file is loaded (inside a
longer string too: `"Bearer ${secrets.token}"`). A string holding a reference becomes a
`Secret`, so it is masked everywhere. Write `$${` for a literal `${`.

A Python file is run as a module; it exposes `source` (anything, e.g. what
`rest_api_source(...)` returned), or else a `config` or `CONFIG` dict. A source built
without a `name` is named after the file's stem, as a YAML/TOML/JSON config's pipeline is.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from restsync.config._secrets import Secret, Secrets, secrets
from restsync.errors import ConfigError, Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CONFIG_SUFFIXES: tuple[str, ...] = (".yaml", ".yml", ".toml", ".json", ".py")
_SECRET_REF = re.compile(r"\$(\$?)\{secrets\.([A-Za-z0-9_.\-]+)\}")


def load_config_file(path: str | Path, *, secrets_from: Secrets | None = None) -> Any:
    """Read a config file; return the config dict (or a Python file's `source` object).

    Args:
        path: a `.yaml`/`.yml`, `.toml`, `.json` or `.py` file.
        secrets_from: where `${secrets.<key>}` references resolve; `restsync.secrets` by default.

    Raises:
        ConfigError: the file is missing, does not parse (the message has the line), is not
            a dict, or a Python file exposes neither `source` nor `config`; also a missing
            secret (`SecretNotFoundError`).
    """
    file = Path(path)
    shown = str(path)
    suffix = file.suffix.lower()
    if suffix not in CONFIG_SUFFIXES:
        raise ConfigError(
            Problem(
                shown, f"unknown config file type '{file.suffix}'; use {', '.join(CONFIG_SUFFIXES)}"
            )
        )
    if not file.is_file():
        raise ConfigError(Problem(shown, "file not found; check the path"))
    if suffix == ".py":
        return _load_python(file, shown)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(shown, f"cannot read the file: {exc}")) from None
    if suffix in (".yaml", ".yml"):
        data = _parse_yaml(text, shown)
    elif suffix == ".toml":
        data = _parse_toml(text, shown)
    else:
        data = _parse_json(text, shown)
    if not isinstance(data, Mapping):
        raise ConfigError(
            Problem(shown, "the file must hold a dict with 'client' and 'resources' at the top")
        )
    return resolve_secret_refs(data, secrets_from or secrets)


def resolve_secret_refs(value: Any, source: Secrets) -> Any:
    """`value` with every `${secrets.<key>}` in its strings resolved through `source`."""
    if isinstance(value, Mapping):
        return {k: resolve_secret_refs(v, source) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secret_refs(v, source) for v in value]
    if isinstance(value, str) and "${" in value:
        found: list[Secret] = []

        def sub(m: re.Match[str]) -> str:
            if m.group(1):  # `$${...}` is a literal `${...}`
                return m.group(0)[1:]
            found.append(source[m.group(2)])
            return str(found[-1])

        text = _SECRET_REF.sub(sub, value)
        if not found:
            return text
        one = found[0] if len(found) == 1 else None  # keeps its key and where it was found
        return Secret(text, getattr(one, "key", ""), getattr(one, "source", ""))
    return value


def _parse_yaml(text: str, shown: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "somewhere"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(Problem(shown, f"not valid YAML at {where}: {problem}")) from None


def _parse_toml(text: str, shown: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says where: "... (at line 3, column 7)"
        raise ConfigError(Problem(shown, f"not valid TOML: {exc}")) from None


def _parse_json(text: str, shown: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            Problem(shown, f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
        ) from None


def _load_python(file: Path, shown: str) -> Any:
    name = f"_restsync_config_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ConfigError(Problem(shown, "cannot be imported as a Python module"))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ConfigError:
        raise
    except SyntaxError as exc:
        raise ConfigError(
            Problem(shown, f"Python syntax error at line {exc.lineno}: {exc.msg}")
        ) from None
    except Exception as exc:
        raise ConfigError(
            Problem(shown, f"running the file failed: {type(exc).__name__}: {exc}")
        ) from exc
    for attr in ("source", "config", "CONFIG"):
        if hasattr(module, attr):
            value = getattr(module, attr)
            if attr != "source" and not isinstance(value, Mapping):
                raise ConfigError(
                    Problem(shown, f"'{attr}' must be a dict, not {type(value).__name__}")
                )
            if attr == "source" and getattr(value, "name_given", True) is False:
                value.name = file.stem
            return value
    raise ConfigError(
        Problem(
            shown,
            "exposes neither 'source' nor 'config'; "
            "add e.g. `source = rest_api_source({...})` or `config = {...}`",
        )
    )


__all__ = ["CONFIG_SUFFIXES", "load_config_file", "resolve_secret_refs"]
