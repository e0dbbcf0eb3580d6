"""Whatever it is given, validate_config raises nothing but ConfigError."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restsync.config import expand_resources, find_problems, validate_config
from restsync.config._dialect import PAGINATOR_TYPES, EndpointConfig, ResourceConfig, keys_of
from restsync.errors import ConfigError

from .seed_configs import SEED_CONFIGS

# Keys the validator knows, so random dicts reach the deeper checks often.
KEYS = sorted(
    keys_of(ResourceConfig)
    | keys_of(EndpointConfig)
    | {
        "type",
        "client",
        "resources",
        "resource_defaults",
        "base_url",
        "auth",
        "limit",
        "token",
        "disposition",
        "strategy",
        "data_type",
        "cursor_path",
        "status_code",
        "action",
    }
)
TEXT = st.one_of(
    st.sampled_from(
        [
            *PAGINATOR_TYPES,
            "merge",
            "GET",
            "{resources.a.id}",
            "{incremental.start_value}",
            "{x}",
            "{resources.}",
            "https://x.io",
            "/p",
            "",
            "bearer",
            "api_key",
        ]
    ),
    st.text(max_size=12),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 1000), st.floats(allow_nan=True), TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), TEXT, st.integers(0, 3)), inner, max_size=5
        ),
    ),
    max_leaves=30,
)


def check(config: Any) -> None:
    problems = find_problems(config)  # raises nothing at all
    if problems:
        with pytest.raises(ConfigError) as info:
            validate_config(config)
        assert info.value.problems == problems
        assert str(info.value)
    else:
        validate_config(config)
        expand_resources(config)  # a valid config always expands


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_random_values(config: Any) -> None:
    check(config)


@st.composite
def mutated_seed(draw: st.DrawFn) -> Any:
    config: Any = copy.deepcopy(draw(st.sampled_from(list(SEED_CONFIGS.values()))))
    for _ in range(draw(st.integers(1, 4))):
        # walk to a random container and replace, add or delete one entry
        node = config
        for _ in range(draw(st.integers(0, 5))):
            children = list(node.values()) if isinstance(node, dict) else node
            containers = [c for c in children if isinstance(c, (dict, list))]
            if not containers:
                break
            node = draw(st.sampled_from(containers))
        op = draw(st.sampled_from(["replace", "add", "delete"]))
        if isinstance(node, dict):
            if op == "add" or not node:
                node[draw(st.one_of(st.sampled_from(KEYS), TEXT))] = draw(VALUES)
            else:
                key = draw(st.sampled_from(list(node)))
                if op == "delete":
                    del node[key]
                else:
                    node[key] = draw(VALUES)
        elif isinstance(node, list):
            if op == "add" or not node:
                node.append(draw(VALUES))
            else:
                i = draw(st.integers(0, len(node) - 1))
                if op == "delete":
                    del node[i]
                else:
                    node[i] = draw(VALUES)
    return config


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_seed())
def test_mutated_seeds(config: Any) -> None:
    check(config)
