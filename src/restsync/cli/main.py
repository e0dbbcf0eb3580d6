"""The `restsync` command."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("restsync: the command line is not built yet")
