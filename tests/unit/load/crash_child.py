"""Run by the crash test: load a stage and SIGKILL ourselves at a chosen step."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from restsync.destinations._registry import destination_from_url
from restsync.load import load_stage
from restsync.stage import open_stage


def main() -> None:
    url, stage_dir, point = sys.argv[1], sys.argv[2], sys.argv[3]
    dest = destination_from_url(url, pipeline_name="shop", dataset_name="shop")
    cls = type(dest)
    hooks = {
        "before_ensure": "ensure_tables",
        "mid_write": "write",
        "before_commit": "commit",
    }
    calls = {"n": 0}

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "after_ensure":
        real = cls.ensure_tables

        def after(self, schema):  # type: ignore[no-untyped-def]
            out = real(self, schema)
            die()
            return out

        cls.ensure_tables = after  # type: ignore[method-assign]
    elif point == "mid_commit" and hasattr(cls, "_apply"):
        real_apply = cls._apply

        def apply(self, tx):  # type: ignore[no-untyped-def]
            import os as _os

            real_replace = _os.replace
            n = {"i": 0}

            def replace(a, b):  # type: ignore[no-untyped-def]
                n["i"] += 1
                if n["i"] == 2:
                    die()
                real_replace(a, b)

            _os.replace = replace  # type: ignore[assignment]
            real_apply(self, tx)

        cls._apply = apply  # type: ignore[attr-defined]
    else:
        name = hooks[point]
        real_m = getattr(cls, name)

        def hooked(self, *a, **k):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if point != "mid_write" or calls["n"] == 2:
                die()
            return real_m(self, *a, **k)

        setattr(cls, name, hooked)
    staged = open_stage(Path(stage_dir))
    assert staged is not None
    load_stage(dest, staged, "shop")


if __name__ == "__main__":
    main()
