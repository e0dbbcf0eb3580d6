"""restsync secrets: the lookup order, the masked repr, the missing-secret message."""

from __future__ import annotations

from pathlib import Path

import pytest

from restsync.config._secrets import Secret, Secrets, env_names
from restsync.errors import ConfigError, SecretNotFoundError
from restsync.util.redact import redact_text


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / ".restsync/secrets.toml", 'api_key = "from-restsync-toml"\n')
    write(
        tmp_path / ".dlt/secrets.toml",
        'api_key = "from-dlt-toml"\n[sources]\nclient_id = "dlt-client-id"\n'
        '[sources.github]\ntoken = "dlt-github-token"\n',
    )
    return tmp_path


def test_env_wins_over_prefixed_env_and_files(project: Path) -> None:
    env = {"API_KEY": "from-env", "SOURCES__API_KEY": "from-sources-env"}
    assert Secrets(environ=env, cwd=project)["api_key"] == "from-env"


def test_prefixed_env_comes_second(project: Path) -> None:
    env = {"SOURCES__API_KEY": "from-sources-env"}
    assert Secrets(environ=env, cwd=project)["api_key"] == "from-sources-env"


def test_restsync_toml_before_dlt_toml(project: Path) -> None:
    assert Secrets(environ={}, cwd=project)["api_key"] == "from-restsync-toml"


def test_dlt_toml_under_sources_and_dotted_keys(project: Path) -> None:
    s = Secrets(environ={}, cwd=project)
    assert s["client_id"] == "dlt-client-id"
    assert s["github.token"] == "dlt-github-token"


def test_empty_env_counts_as_unset(project: Path) -> None:
    assert Secrets(environ={"API_KEY": ""}, cwd=project)["api_key"] == "from-restsync-toml"


def test_env_names() -> None:
    assert env_names("api_key") == ["API_KEY", "SOURCES__API_KEY"]
    assert env_names("github.api-token") == ["GITHUB__API_TOKEN", "SOURCES__GITHUB__API_TOKEN"]
    assert env_names("sources.api_key") == ["SOURCES__API_KEY"]


def test_default_environ_and_cwd(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    assert Secrets()["api_key"] == "from-restsync-toml"
    monkeypatch.setenv("API_KEY", "from-real-env")
    assert Secrets()["api_key"] == "from-real-env"


def test_value_is_a_masked_secret_and_registered(tmp_path: Path) -> None:
    value = Secrets(environ={"TOKEN": "tok-123456789"}, cwd=tmp_path)["token"]
    assert isinstance(value, Secret)
    assert value == "tok-123456789"
    assert f"Bearer {value}" == "Bearer tok-123456789"
    assert repr(value) == "Secret('***')"
    assert "tok-123456789" not in repr({"token": value})
    assert redact_text("sent tok-123456789") == "sent ***"


def test_missing_secret_names_every_place(tmp_path: Path) -> None:
    with pytest.raises(SecretNotFoundError) as info:
        Secrets(environ={}, cwd=tmp_path)["api_key"]
    assert str(info.value) == (
        "missing secret 'api_key'; looked in env API_KEY, env SOURCES__API_KEY, "
        ".restsync/secrets.toml, .dlt/secrets.toml"
    )
    assert info.value.key == "api_key"
    assert isinstance(info.value, ConfigError)


def test_get_with_default(tmp_path: Path) -> None:
    s = Secrets(environ={"A": "a-value"}, cwd=tmp_path)
    assert s.get("a") == "a-value"
    assert s.get("b") is None
    assert s.get("b", "fallback") == "fallback"
    assert "a" in s
    assert "b" not in s


def test_numbers_become_strings_tables_are_an_error(tmp_path: Path) -> None:
    write(tmp_path / ".restsync/secrets.toml", "pin = 1234\n[github]\ntoken = 't'\n")
    s = Secrets(environ={}, cwd=tmp_path)
    assert s["pin"] == "1234"
    with pytest.raises(ConfigError, match="secret 'github' is a table or list"):
        s["github"]


def test_broken_toml_says_which_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / ".dlt/secrets.toml", 'ok = "x"\napi_key = \n')
    with pytest.raises(ConfigError) as info:
        Secrets(environ={}, cwd=tmp_path)["api_key"]
    assert str(info.value.problems[0]).startswith(".dlt/secrets.toml: not valid TOML:")
    assert "line 2" in str(info.value)


def test_module_instance_is_a_secrets() -> None:
    import importlib

    module = importlib.import_module("restsync.config._secrets")
    assert isinstance(module.secrets, Secrets)
