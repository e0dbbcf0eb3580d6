"""`restsync.secrets`: credentials looked up by key, never written into the config.

`secrets["api_key"]` looks in these places, first hit wins:

1. the environment variable `API_KEY` (the key upper-cased, `.` -> `__`, `-` -> `_`),
2. the environment variable `SOURCES__API_KEY`,
3. `.restsync/secrets.toml`, then
4. `.dlt/secrets.toml` (so a dlt project's secrets keep working),

both files relative to the current working directory, with the key looked up at the top
level and under `[sources]` (`api_key = "..."` or `[sources] api_key = "..."`; a dotted key
`"github.token"` walks into tables). An empty environment variable counts as unset.

Every value is returned as a `Secret` (a `str` whose `repr` is masked) and registered with
the redactor, so it is masked in every log line, error and stored URL.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from restsync.errors import ConfigError, Problem, SecretNotFoundError
from restsync.util.redact import register_secret

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

SECRET_FILES: tuple[str, ...] = (".restsync/secrets.toml", ".dlt/secrets.toml")


class Secret(str):
    """A string that holds a credential: it works as the value, but its `repr` is masked.

    `str(secret)` and f-strings give the value (it must reach the API); `repr()`, which
    tracebacks, debuggers and container reprs use, shows `Secret('***')`. It keeps the key it
    was looked up by and where it was found (`key`, `source`), never shown with the value:
    `secret.label` is what error hints name (`secret 'api_key', from env API_KEY`).
    """

    key: str
    source: str

    def __new__(cls, value: str, key: str = "", source: str = "") -> Secret:
        self = super().__new__(cls, value)
        self.key = key
        self.source = source
        return self

    def __repr__(self) -> str:
        return "Secret('***')"

    def __getnewargs__(self) -> tuple[str]:
        return (str(self),)

    @property
    def label(self) -> str:
        """`secret 'api_key', from env API_KEY`: the key and where it was found (no value)."""
        if not self.key:
            return "a secret"
        return f"secret '{self.key}'" + (f", from {self.source}" if self.source else "")


def env_names(key: str) -> list[str]:
    """The environment variable names a key is looked up under, in order."""
    name = key.upper().replace(".", "__").replace("-", "_")
    if name.startswith("SOURCES__"):
        return [name]
    return [name, f"SOURCES__{name}"]


class Secrets:
    """Resolves secrets by key from the environment and `secrets.toml` files.

    `restsync.secrets` is the instance you normally use; build your own for tests:

        s = Secrets(environ={"API_KEY": "k"}, cwd=tmp_path)
        assert s["api_key"] == "k"
    """

    def __init__(
        self, environ: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None
    ) -> None:
        self._environ = environ
        self._cwd = Path(cwd) if cwd is not None else None

    def __getitem__(self, key: str) -> Secret:
        value = self._lookup(key)
        if value is None:
            raise SecretNotFoundError(key, self.looked_in(key))
        return value

    def get(self, key: str, default: str | None = None) -> str | None:
        """The secret for `key`, or `default` when no place holds it."""
        value = self._lookup(key)
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

    def looked_in(self, key: str) -> list[str]:
        """The places `key` is looked up in, as error messages name them."""
        return [f"env {name}" for name in env_names(key)] + list(SECRET_FILES)

    def _lookup(self, key: str) -> Secret | None:
        if not isinstance(key, str) or not key:
            raise ConfigError(Problem("", f"a secret key must be a non-empty string, got {key!r}"))
        environ = os.environ if self._environ is None else self._environ
        for name in env_names(key):
            value = environ.get(name)
            if value:
                return _secret(value, key, f"env {name}")
        cwd = self._cwd if self._cwd is not None else Path.cwd()
        for rel in SECRET_FILES:
            path = cwd / rel
            if not path.is_file():
                continue
            data = _read_toml(path, rel)
            for root in (data, data.get("sources")):
                if isinstance(root, dict):
                    found = _walk(root, key)
                    if found is not None:
                        return _as_secret(found, key, rel)
        return None


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(Problem(shown, f"not valid TOML: {exc}; fix the file")) from None
    except OSError as exc:
        raise ConfigError(Problem(shown, f"cannot read: {exc.strerror}")) from None


def _walk(root: dict[str, Any], key: str) -> Any:
    if key in root:
        return root[key]
    node: Any = root
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _as_secret(value: Any, key: str, where: str) -> Secret:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(
            Problem(where, f"secret '{key}' is a table or list, not a value; give it a string")
        )
    return _secret(str(value), key, where)


def _secret(value: str, key: str, source: str) -> Secret:
    register_secret(value)
    return Secret(value, key, source)


secrets = Secrets()
"""The process-wide secrets accessor (`restsync.secrets`)."""

__all__ = ["SECRET_FILES", "Secret", "Secrets", "env_names", "secrets"]
