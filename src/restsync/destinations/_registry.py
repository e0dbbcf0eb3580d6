"""Destination URLs and names -> `Destination` objects.

    duckdb                               ./<pipeline>.duckdb
    duckdb:///path/to.db                 that file (relative without the third slash)
    postgresql://user:pass@host:5432/db  (also postgres://); password may come from secrets
                                         (see `postgres_password`)
    parquet:///path  or  file:///path    a folder of Parquet files

To add a destination, write its module and add one line to `DESTINATIONS`: the URL
scheme, and a factory taking the parsed URL and the `DestinationArgs`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from restsync.destinations._base import Destination
from restsync.errors import ConfigError
from restsync.util.redact import MASK, redact_url, register_secret
from restsync.util.suggest import did_you_mean


@dataclass
class DestinationArgs:
    """What every destination factory gets besides the URL."""

    pipeline_name: str
    dataset_name: str
    pipelines_dir: Path
    credentials: str | None = None

    def __repr__(self) -> str:
        creds = None if self.credentials is None else MASK
        return (
            f"DestinationArgs(pipeline_name={self.pipeline_name!r}, "
            f"dataset_name={self.dataset_name!r}, pipelines_dir={str(self.pipelines_dir)!r}, "
            f"credentials={creds!r})"
        )


def _path_of(url: str, scheme: str) -> str:
    rest = url[len(scheme) + 1 :]
    if rest.startswith("///"):
        return "/" + rest[3:]
    if rest.startswith("//"):
        return rest[2:]
    return rest


def _duckdb(url: str, args: DestinationArgs) -> Destination:
    from restsync.destinations._duckdb import DuckDBDestination

    if url == "duckdb":
        path = Path.cwd() / f"{args.pipeline_name}.duckdb"
    else:
        path = Path(unquote(_path_of(url, "duckdb")))
    return DuckDBDestination(path, dataset_name=args.dataset_name)


PASSWORD_ENV = "RESTSYNC_DESTINATION_PASSWORD"  # noqa: S105 - a variable name
PASSWORD_SECRET = "destination.password"  # noqa: S105 - a secret key


def postgres_password(url: str, credentials: str | None = None) -> str | None:
    """The password for a Postgres URL, first found wins (None: let libpq decide):

    1. the password in the URL (`postgresql://user:pass@host/db`): then this returns None,
    2. `credentials` given by the caller,
    3. the environment variable `RESTSYNC_DESTINATION_PASSWORD`,
    4. the secret `destination.password` (env `DESTINATION__PASSWORD`, or
       `[destination] password = "..."` in `.restsync/secrets.toml` / `.dlt/secrets.toml`),
    5. the environment variable `PGPASSWORD` (libpq's own; also `~/.pgpass` via libpq).

    Every password found is registered with the redactor, so it is masked wherever printed.
    """
    from restsync.config._secrets import secrets

    try:
        if urlsplit(url).password:
            return None
    except ValueError:
        return None
    found: str | None = (
        credentials
        or os.environ.get(PASSWORD_ENV)
        or secrets.get(PASSWORD_SECRET)
        or os.environ.get("PGPASSWORD")
        or None
    )
    if found:
        register_secret(found)
    return found


def _postgres(url: str, args: DestinationArgs) -> Destination:
    from restsync.destinations._postgres import PostgresDestination

    return PostgresDestination(
        url,
        dataset_name=args.dataset_name,
        password=postgres_password(url, args.credentials),
    )


def _parquet(url: str, args: DestinationArgs) -> Destination:
    from restsync.destinations._parquet import ParquetDestination

    scheme = url.split(":", 1)[0]
    if url in ("parquet", "file"):
        path = Path.cwd() / args.pipeline_name
    else:
        path = Path(unquote(_path_of(url, scheme)))
    return ParquetDestination(path, dataset_name=args.dataset_name)


Factory = Callable[[str, DestinationArgs], Destination]

DESTINATIONS: dict[str, Factory] = {
    "duckdb": _duckdb,
    "postgresql": _postgres,
    "postgres": _postgres,
    "parquet": _parquet,
    "file": _parquet,
}


def destination_from_url(
    url_or_name: str,
    *,
    pipeline_name: str,
    dataset_name: str | None = None,
    pipelines_dir: str | os.PathLike[str] | None = None,
    credentials: str | None = None,
) -> Destination:
    """The destination a URL or bare name stands for (see the module docstring).

    `credentials` is a password to use when the URL has none (from `restsync.secrets`).
    Raises `ConfigError` for an unknown scheme, with the known ones; passwords never
    appear in the message.
    """
    scheme = url_or_name.split(":", 1)[0].lower() if ":" in url_or_name else url_or_name.lower()
    factory = DESTINATIONS.get(scheme)
    if factory is None:
        hint = did_you_mean(scheme, list(DESTINATIONS))
        msg = (
            f"destination: unknown destination '{redact_url(url_or_name)}'{hint}; "
            f"known: {', '.join(sorted(DESTINATIONS))}"
        )
        raise ConfigError(msg)
    args = DestinationArgs(
        pipeline_name=pipeline_name,
        dataset_name=dataset_name or pipeline_name,
        pipelines_dir=Path(pipelines_dir) if pipelines_dir else Path.cwd() / ".restsync",
        credentials=credentials,
    )
    return factory(url_or_name, args)
