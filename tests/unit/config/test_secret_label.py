"""A `Secret` keeps the key it was looked up by and where it was found, never shown with
its value; credential hints name it (`secret 'api_key', from env API_KEY`)."""

from __future__ import annotations

import pickle
from pathlib import Path

from restsync.config._files import resolve_secret_refs
from restsync.config._secrets import Secret, Secrets


def test_from_the_environment() -> None:
    s = Secrets(environ={"API_KEY": "k-123"}, cwd="/nonexistent")["api_key"]
    assert s == "k-123"
    assert (s.key, s.source) == ("api_key", "env API_KEY")
    assert s.label == "secret 'api_key', from env API_KEY"
    assert "k-123" not in s.label
    assert "k-123" not in repr(s)


def test_from_the_sources_prefix_and_from_a_file(tmp_path: Path) -> None:
    s = Secrets(environ={"SOURCES__API_KEY": "k"}, cwd=tmp_path)["api_key"]
    assert s.label == "secret 'api_key', from env SOURCES__API_KEY"
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text('[sources]\ngithub.token = "t"\n')
    t = Secrets(environ={}, cwd=tmp_path)["github.token"]
    assert t.label == "secret 'github.token', from .dlt/secrets.toml"


def test_a_reference_in_a_config_file_keeps_its_label() -> None:
    source = Secrets(environ={"TOKEN": "abc"}, cwd="/nonexistent")
    resolved = resolve_secret_refs({"h": "Bearer ${secrets.token}"}, source)["h"]
    assert resolved == "Bearer abc"
    assert resolved.label == "secret 'token', from env TOKEN"


def test_pickled_secrets_keep_key_and_source() -> None:
    s = pickle.loads(pickle.dumps(Secret("v", "api_key", "env API_KEY")))
    assert (str(s), s.key, s.source) == ("v", "api_key", "env API_KEY")


def test_an_auth_hint_names_the_secret_not_the_config_key() -> None:
    from restsync.auth import build_auth

    token = Secrets(environ={"API_KEY": "k-9"}, cwd="/nonexistent")["api_key"]
    auth = build_auth({"type": "bearer", "token": token})
    assert auth is not None
    hint = auth.rejection_hint(401)
    assert hint.endswith("check secret 'api_key', from env API_KEY"), hint
    assert "'token'" not in hint
    assert "k-9" not in hint
