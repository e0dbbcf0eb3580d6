"""The destination tests import helper modules of this folder by name; the `dest` fixture
(DuckDB, Parquet and a real Postgres) is in tests/unit/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))
