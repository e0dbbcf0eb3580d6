"""Fuzzing for a bounded time: the config validator (random values and mutated seed configs,
the strategies of tests/unit/config/test_fuzz.py) and the stop-condition parser, both through
`rest_api_source(config)`, the user's entry point. Nothing may escape but a `ConfigError`, and
no stop condition may reach `eval`/`exec`/`compile`.

`make test` (hypothesis derandomized): one round of 200 examples per target; RESTSYNC_LONG=1
(exploring): rounds of 200 new examples until 120 s per target are used."""

from __future__ import annotations

import builtins
import contextlib
import copy
import importlib
import importlib.util
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restsync import rest_api_source
from restsync.errors import ConfigError

from .conftest import LONG, ROOT, Figures

BUDGET = 120.0 if LONG else 5.0


def _unit_fuzz() -> ModuleType:
    name = "restsync_tests_unit_config"
    if f"{name}.test_fuzz" in sys.modules:
        return sys.modules[f"{name}.test_fuzz"]
    if name not in sys.modules:
        pkg_dir = ROOT / "tests" / "unit" / "config"
        spec = importlib.util.spec_from_file_location(
            name, pkg_dir / "__init__.py", submodule_search_locations=[str(pkg_dir)]
        )
        assert spec
        assert spec.loader
        pkg = importlib.util.module_from_spec(spec)
        sys.modules[name] = pkg
        spec.loader.exec_module(pkg)
    return importlib.import_module(f"{name}.test_fuzz")


UNIT = _unit_fuzz()


def _forbidden(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("restsync must not use eval/exec/compile on a config")


def _build(config: Any, *, no_eval: bool = False) -> None:
    with contextlib.ExitStack() as stack:
        if no_eval:
            for name in ("eval", "exec", "compile"):
                stack.enter_context(mock.patch.object(builtins, name, _forbidden))
        try:
            rest_api_source(config)
        except ConfigError as exc:
            message = str(exc)
        else:
            return
    assert message.startswith(("config error (", "missing secret")), message


def _for_a_while(strategy: st.SearchStrategy[Any], body: Callable[[Any], None]) -> int:
    """Run `body` on examples of `strategy` in rounds of 200 until BUDGET seconds are used."""
    count = 0

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def round_(value: Any) -> None:
        nonlocal count
        count += 1
        body(value)

    # derandomized (the CI profile of tests/conftest.py), every round would draw the same
    # examples: one round then; exploring (RESTSYNC_LONG=1), new rounds until the budget is used
    max_rounds = 1 if settings.default.derandomize else 1000
    end = time.monotonic() + BUDGET
    rounds = 0
    while time.monotonic() < end and rounds < max_rounds:
        round_()
        rounds += 1
    return count


def test_fuzz_config_validator_random_values(figures: Figures) -> None:
    n = _for_a_while(UNIT.VALUES, _build)
    figures.add("fuzz: random configs (only ConfigError)", n)


def test_fuzz_config_validator_mutated_seeds(figures: Figures) -> None:
    n = _for_a_while(UNIT.mutated_seed(), _build)
    figures.add("fuzz: mutated seed configs (only ConfigError)", n)


_PIECES = st.sampled_from(
    [
        *"abcxyz_.[]()'\"0123456789-=!<>,:{} \t\n\\",
        *("not ", " and ", " or ", " is ", "null", "len(", "records", "response"),
        *("__import__", "os.system(", "__class__", "lambda", "True", "eval(", "\x00", "é"),
    ]
)
_STOPS = st.one_of(
    st.lists(_PIECES, max_size=20).map("".join),
    st.text(max_size=40),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=5), max_size=2),
)


def _with_stop(stop: Any, *, no_eval: bool = True) -> None:
    config = {
        "client": {"base_url": "https://api.example.com"},
        "resources": [
            {
                "name": "things",
                "endpoint": {
                    "path": "/things",
                    "paginator": {
                        "type": "cursor",
                        "cursor_path": "next",
                        "stop_condition": copy.deepcopy(stop),
                    },
                },
            }
        ],
    }
    _build(config, no_eval=no_eval)


def test_fuzz_stop_condition_parser(figures: Figures) -> None:
    _with_stop(
        "not next", no_eval=False
    )  # lazy imports (which may exec) happen before eval is forbidden
    n = _for_a_while(_STOPS, _with_stop)
    figures.add("fuzz: stop conditions (only ConfigError, no eval)", n)
