"""Named kill points for crash-safety tests.

`RESTSYNC_KILL_AT="<point>:<n>"` makes the process SIGKILL itself the n-th time (1-based) it
passes `checkpoint("<point>")`. Unset (always, outside the test harness), `checkpoint` is a
dictionary lookup and nothing else.

Points: `page` (a page was staged), `stage_complete` (the stage manifest is written),
`load_begin` (the destination transaction began), `load_refresh` (a refresh dropped or emptied
its tables inside the transaction), `load_table` (a table was written inside the
transaction), `before_commit`, `after_commit`, `parquet_apply` (the Parquet destination moved one
table's files into place during its commit).
"""

from __future__ import annotations

import os
import signal

_target: tuple[str, int] | None = None
_counts: dict[str, int] = {}
_spec = os.environ.get("RESTSYNC_KILL_AT", "")
if _spec:
    _name, _, _n = _spec.partition(":")
    _target = (_name, int(_n or "1"))

POINTS = (
    "page",
    "stage_complete",
    "load_begin",
    "load_refresh",
    "load_table",
    "before_commit",
    "after_commit",
    "parquet_apply",
)


def checkpoint(name: str) -> None:
    """Kill this process here if the harness asked for it (see the module docstring)."""
    if _target is None or _target[0] != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == _target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
