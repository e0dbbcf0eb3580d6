"""The built-in connectors: each config passes `rest_api_source` validation and plans; its
secrets, incremental settings and column hints name what the seed's API really has (the
sandbox API of the same seed is the reference for resources, keys and fields).

Loads through the sandbox are in tests/e2e/test_seeds_duckdb.py and test_seed_schemas.py."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from restsync.config._secrets import env_names
from restsync.connectors import CONNECTORS, connector_config, connector_module, connector_source
from restsync.errors import ConfigError, SecretNotFoundError
from restsync.extract._source import rest_api_source
from restsync.sandbox.apis import APIS
from restsync.sandbox.records import Gen


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every connector's secrets in the environment (no secrets.toml of the machine's)."""
    monkeypatch.chdir(tmp_path)
    for name in CONNECTORS:
        for key in connector_module(name).SECRETS:
            value = "https://auth.example.com/token" if key.endswith("url") else f"t-{key}"
            monkeypatch.setenv(env_names(key)[0], value)


def fields(records: list[dict[str, Any]]) -> set[str]:
    """Every field path the records hold, nested objects joined with `__` (as hints name them)."""
    out: set[str] = set()

    def walk(prefix: str, value: dict[str, Any]) -> None:
        for key, v in value.items():
            path = f"{prefix}__{key}" if prefix else key
            out.add(path)
            if isinstance(v, dict):
                walk(path, v)

    for record in records:
        walk("", record)
    return out


def sample(api: str, resource: str, n: int = 60) -> list[dict[str, Any]]:
    spec = APIS[api].resource(resource)
    g = Gen(random.Random(7))
    return [{**spec.builder(g, i), spec.cursor_field: "2024-01-01T00:00:00Z"} for i in range(n)]


def test_the_five_seeds() -> None:
    assert set(CONNECTORS) == {"fulfillment", "ecommerce", "orders", "commerce", "inventory"}
    assert set(CONNECTORS) <= set(APIS)


@pytest.mark.parametrize("name", CONNECTORS)
def test_config_validates_and_plans_every_resource(name: str) -> None:
    config = connector_config(name)
    source = rest_api_source(config, name=name)  # validation and planning
    assert source.resource_names == [r["name"] for r in config["resources"]]
    spec = APIS[name]
    assert set(source.resource_names) == {r.name for r in spec.resources}
    for plan in source.plans:
        res = spec.resource(plan.name)
        assert plan.selected
        assert plan.primary_key == [res.primary_key]
        assert plan.write_disposition == "merge"
        assert plan.endpoint["data_selector"] == res.selector
        assert plan.endpoint["path"] == res.seed_path


@pytest.mark.parametrize("name", CONNECTORS)
def test_base_url_and_incremental_switches(name: str) -> None:
    module = connector_module(name)
    source = connector_source(name, base_url="http://127.0.0.1:9/")
    assert source.client_config["base_url"] == "http://127.0.0.1:9/"
    by_name = {p.name: p for p in source.plans}
    assert set(module.INCREMENTAL) <= set(by_name)
    for resource, inc in module.INCREMENTAL.items():
        assert by_name[resource].incremental == inc
    plain = connector_source(name, incremental=False)
    assert all(p.incremental is None for p in plain.plans)
    # the module's seed dict is copied, not changed
    assert connector_config(name)["client"]["base_url"] == module.DEFAULT_BASE_URL


@pytest.mark.parametrize("name", CONNECTORS)
def test_incremental_settings_match_the_api(name: str) -> None:
    spec = APIS[name]
    for resource, inc in connector_module(name).INCREMENTAL.items():
        assert inc["cursor_path"] == spec.resource(resource).cursor_field
        assert inc["start_param"] == spec.since_param


@pytest.mark.parametrize("name", CONNECTORS)
def test_column_hints_name_real_resources_and_fields(name: str) -> None:
    module = connector_module(name)
    config = connector_config(name)
    resources = {r["name"]: r for r in config["resources"]}
    assert module.COLUMNS
    assert set(module.COLUMNS) <= set(resources)
    for resource, hints in module.COLUMNS.items():
        assert resources[resource]["columns"] == hints  # added to the config
        seen = fields(sample(name, resource))
        missing = set(hints) - seen
        assert not missing, f"{name}.{resource}: hints for fields the API never sends: {missing}"
        key = APIS[name].resource(resource).primary_key
        if key in hints:
            assert hints[key]["nullable"] is False


@pytest.mark.parametrize("name", CONNECTORS)
def test_secrets_are_exactly_the_ones_the_config_reads(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = connector_module(name).SECRETS
    assert secrets
    for key in secrets:
        with monkeypatch.context() as m:
            for env in env_names(key):
                m.delenv(env, raising=False)
            with pytest.raises(SecretNotFoundError) as exc:
                connector_config(name)
            assert exc.value.key == key


def test_an_unknown_connector_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match="did you mean 'inventory'"):
        connector_source("inventry")
