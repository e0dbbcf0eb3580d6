"""The state tests use the destination fixtures of tests/unit/destinations (DuckDB, Parquet and
a real Postgres), loaded from there so there is one copy of them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_DESTINATIONS = Path(__file__).parents[1] / "destinations"
if str(_DESTINATIONS) not in sys.path:
    sys.path.insert(0, str(_DESTINATIONS))

_NAME = "restsync_tests_destinations_conftest"
if _NAME in sys.modules:
    _shared = sys.modules[_NAME]
else:
    _spec = importlib.util.spec_from_file_location(_NAME, _DESTINATIONS / "conftest.py")
    assert _spec
    assert _spec.loader
    _shared = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _shared
    _spec.loader.exec_module(_shared)

postgres_url = _shared.postgres_url
make_destination = _shared.make_destination
dest = _shared.dest
