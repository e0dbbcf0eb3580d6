"""Where the Postgres password comes from, against a server that really asks for one.

The URL's password wins; else `RESTSYNC_DESTINATION_PASSWORD`, the secret
`destination.password` (env `DESTINATION__PASSWORD` or `.restsync/secrets.toml`), `PGPASSWORD`.
The password is never printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg

pytestmark = pytest.mark.postgres

PASSWORD = "Pw-9f3k-only-here"
CLI = (sys.executable, "-m", "restsync.cli.main")
PASSWORD_VARS = (
    "RESTSYNC_DESTINATION_PASSWORD",
    "DESTINATION__PASSWORD",
    "SOURCES__DESTINATION__PASSWORD",
    "PGPASSWORD",
    "RESTSYNC_KILL_AT",
)


@pytest.fixture(scope="module")
def scram_url() -> Iterator[str]:
    """A throwaway server whose loopback connections need a password (scram-sha-256)."""
    import psycopg

    bindir = pg.find_pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries; run scripts/ensure-postgres")
    srv = pg.PostgresServer(bindir)
    try:
        url = srv.start()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"ALTER ROLE {pg.USER} PASSWORD '{PASSWORD}'".encode())
            (srv.data / "pg_hba.conf").write_text(
                "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
            )
            conn.execute(b"SELECT pg_reload_conf()")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, password="wrong-password").close()
        yield url
    finally:
        srv.stop()


def with_password(url: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{password}@{host}"


def show(
    cwd: Path, url: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in PASSWORD_VARS}
    full.update(env or {})
    return subprocess.run(
        [*CLI, "show", "--destination", url],  # an empty database: "no restsync dataset"
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_a_password_the_connection_is_refused(tmp_path: Path, scram_url: str) -> None:
    done = show(tmp_path, scram_url)
    assert done.returncode != 0
    assert "cannot connect" in done.stderr
    assert "check host, port, database and credentials" in done.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"RESTSYNC_DESTINATION_PASSWORD": PASSWORD},
        {"DESTINATION__PASSWORD": PASSWORD},
        {"PGPASSWORD": PASSWORD},
        # the first place that has one wins
        {"RESTSYNC_DESTINATION_PASSWORD": PASSWORD, "DESTINATION__PASSWORD": "wrong-one"},
        {"DESTINATION__PASSWORD": PASSWORD, "PGPASSWORD": "wrong-one"},
    ],
    ids=["restsync-env", "secret-env", "pgpassword", "env-before-secret", "secret-before-pg"],
)
def test_password_from_the_environment(tmp_path: Path, scram_url: str, env: dict[str, str]) -> None:
    done = show(tmp_path, scram_url, env)
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def test_password_from_secrets_toml(tmp_path: Path, scram_url: str) -> None:
    (tmp_path / ".restsync").mkdir()
    (tmp_path / ".restsync" / "secrets.toml").write_text(
        f'[destination]\npassword = "{PASSWORD}"\n'
    )
    done = show(tmp_path, scram_url)
    assert done.returncode == 0, done.stderr


def test_the_urls_password_wins_and_is_never_printed(tmp_path: Path, scram_url: str) -> None:
    good = show(
        tmp_path,
        with_password(scram_url, PASSWORD),
        {"RESTSYNC_DESTINATION_PASSWORD": "wrong-one"},
    )
    assert good.returncode == 0, good.stderr
    assert PASSWORD not in good.stdout + good.stderr
    assert "***" in good.stdout
    bad = show(
        tmp_path,
        with_password(scram_url, "Not-the-pw-77"),
        {"RESTSYNC_DESTINATION_PASSWORD": PASSWORD},
    )
    assert bad.returncode != 0
    assert "Not-the-pw-77" not in bad.stdout + bad.stderr
    assert PASSWORD not in bad.stdout + bad.stderr


def test_run_and_python_api_with_the_password_from_the_environment(
    tmp_path: Path, scram_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import restsync
    from restsync.connectors import connector_source
    from restsync.sandbox import Sandbox

    with Sandbox("commerce", records=30) as sb:
        env = {**sb.env(), "RESTSYNC_DESTINATION_PASSWORD": PASSWORD}
        full = {k: v for k, v in os.environ.items() if k not in PASSWORD_VARS}
        full.update(env)
        done = subprocess.run(
            [*CLI, "run", "commerce", "--base-url", sb.base_url, *("--destination", scram_url)],
            cwd=tmp_path,
            env=full,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr

        for k in PASSWORD_VARS:
            monkeypatch.delenv(k, raising=False)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.chdir(tmp_path)
        pipe = restsync.pipeline("commerce", destination=scram_url, dataset_name="api_data")
        info = pipe.run(connector_source("commerce", base_url=sb.base_url))
        assert info.loaded
        assert not info.failed_resources
        assert PASSWORD not in str(info)
        assert PASSWORD not in repr(pipe.destination())
