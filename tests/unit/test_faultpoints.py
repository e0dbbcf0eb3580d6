"""The kill points the crash tests can name are the ones the code passes."""

from __future__ import annotations

import re
from pathlib import Path

import restsync
from restsync.faultpoints import POINTS

SRC = Path(restsync.__file__).parent


def test_every_checkpoint_in_the_code_is_listed_and_every_listed_point_is_passed() -> None:
    passed = {
        name
        for path in SRC.rglob("*.py")
        for name in re.findall(r"\bcheckpoint\(\"(\w+)\"\)", path.read_text(encoding="utf-8"))
    }
    assert passed == set(POINTS)
    assert len(POINTS) == len(set(POINTS))
