"""load_config_file: YAML, TOML, JSON and Python files; errors that say where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from restsync.config import load_config_file, validate_config
from restsync.config._secrets import Secret, Secrets
from restsync.errors import ConfigError, SecretNotFoundError

from .seed_configs import SEED_CONFIGS

SECRETS = Secrets(environ={"API_KEY": "key-from-env-123"}, cwd="/nonexistent")

YAML = """
client:
  base_url: https://api.example.com
  auth:
    type: api_key
    name: api_key
    api_key: ${secrets.api_key}
    location: query
resource_defaults:
  primary_key: id
  write_disposition: merge
resources:
  - name: fulfillment_data
    endpoint:
      path: /v1/fulfillment
      data_selector: data
      paginator: {type: offset, limit: 100}
"""

TOML = """
[client]
base_url = "https://api.example.com"

[client.auth]
type = "api_key"
name = "api_key"
api_key = "${secrets.api_key}"
location = "query"

[resource_defaults]
primary_key = "id"
write_disposition = "merge"

[[resources]]
name = "fulfillment_data"

[resources.endpoint]
path = "/v1/fulfillment"
data_selector = "data"
paginator = { type = "offset", limit = 100 }
"""


def expected_seed() -> dict[str, object]:
    config = json.loads(json.dumps(SEED_CONFIGS["000_61538489df696836"]))
    config["client"]["auth"]["api_key"] = "key-from-env-123"
    return config


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("source.yaml", YAML),
        ("source.yml", YAML),
        ("source.toml", TOML),
        (
            "source.json",
            json.dumps(SEED_CONFIGS["000_61538489df696836"]).replace(
                '"test-api-key-value"', '"${secrets.api_key}"'
            ),
        ),
    ],
)
def test_data_files_load_and_resolve_secrets(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    config = load_config_file(path, secrets_from=SECRETS)
    assert config == expected_seed()
    assert isinstance(config["client"]["auth"]["api_key"], Secret)
    validate_config(config)


def test_secret_inside_a_longer_string_and_escape(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {"headers": {"Authorization": "Bearer ${secrets.api_key}", "X": "$${secrets.x}"}}
        )
    )
    config = load_config_file(path, secrets_from=SECRETS)
    assert config["headers"] == {"Authorization": "Bearer key-from-env-123", "X": "${secrets.x}"}
    assert isinstance(config["headers"]["Authorization"], Secret)
    assert not isinstance(config["headers"]["X"], Secret)


def test_missing_secret_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("client:\n  auth:\n    token: ${secrets.nope}\n")
    with pytest.raises(SecretNotFoundError, match="missing secret 'nope'"):
        load_config_file(path, secrets_from=SECRETS)


def test_python_module_with_source(tmp_path: Path) -> None:
    path = tmp_path / "src.py"
    path.write_text("class Source:\n    pass\n\nsource = Source()\nconfig = {'ignored': True}\n")
    assert type(load_config_file(path)).__name__ == "Source"


@pytest.mark.parametrize("attr", ["config", "CONFIG"])
def test_python_module_with_config_dict(tmp_path: Path, attr: str) -> None:
    path = tmp_path / "cfg.py"
    path.write_text(f"{attr} = {{'resources': ['posts']}}\n")
    assert load_config_file(path) == {"resources": ["posts"]}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.yaml", "client:\n  base_url: [1,\n", "bad.yaml: not valid YAML at line 3: "),
        ("bad.toml", "[client]\nbase_url = \n", "bad.toml: not valid TOML: "),
        ("bad.json", '{\n  "client": {,\n}', "bad.json: not valid JSON at line 2, column 14: "),
        ("list.yaml", "- a\n- b\n", "list.yaml: the file must hold a dict"),
        ("empty.py", "x = 1\n", "empty.py: exposes neither 'source' nor 'config'"),
        ("syntax.py", "config = {\n", "syntax.py: Python syntax error at line 1"),
        (
            "boom.py",
            "raise RuntimeError('boom')\n",
            "boom.py: running the file failed: RuntimeError: boom",
        ),
        ("notdict.py", "config = [1]\n", "notdict.py: 'config' must be a dict, not list"),
        ("c.ini", "", "c.ini: unknown config file type '.ini'"),
    ],
)
def test_file_errors_say_what_and_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(name).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config_file(name)
    assert str(info.value.problems[0]).startswith(expected), str(info.value)
    if name == "bad.toml":
        assert "line 2" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_file(tmp_path / "nope.yaml")
    assert str(info.value.problems[0]).endswith("nope.yaml: file not found; check the path")
