"""Django REST framework (installed from PyPI) under uvicorn: its three paginations
(PageNumberPagination, LimitOffsetPagination, CursorPagination), each synced with an explicit
paginator and with auto-detection, and an incremental second run after rows change."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Runner, Server, free_port, python_module, serve, start_server
from .data import assert_exact, item, items, merge_config, sql_row

pytest.importorskip("rest_framework")
pytest.importorskip("django")

N_ITEMS = 260
N_EVENTS = 90


@pytest.fixture(scope="module")
def drf(module_dir: Path) -> Iterator[tuple[Server, Path]]:
    db = module_dir / "drf.sqlite3"
    seed = module_dir / "seed.json"
    seed.write_text(json.dumps({"items": items(N_ITEMS), "events": items(N_EVENTS)}))
    port = free_port()
    server = start_server(
        "drf",
        python_module(
            "uvicorn",
            "tests.interop.drf_site.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ),
        port=port,
        ready_path="/pn/items/?page_size=1",
        log_dir=module_dir,
        env={"DRF_DB": str(db), "DRF_SEED": str(seed)},
    )
    for running in serve(server):
        yield running, db


def _config(url: str, path: str, name: str = "items", **endpoint: Any) -> dict[str, Any]:
    return merge_config(url, path, name, **endpoint)


EXPLICIT = {
    "page_number_next_link": (
        "pn/items/",
        {
            "data_selector": "results",
            "params": {"page_size": 40},
            "paginator": {"type": "json_link", "next_url_path": "next"},
        },
    ),
    # dlt's page_number: DRF answers 404 past the last page, which the config ignores
    "page_number": (
        "pn/items/",
        {
            "data_selector": "results",
            "paginator": {
                "type": "page_number",
                "base_page": 1,
                "page_param": "page",
                "total_path": None,
            },
            "response_actions": [{"status_code": 404, "action": "ignore"}],
        },
    ),
    "limit_offset": (
        "lo/items/",
        {
            "data_selector": "results",
            "paginator": {"type": "offset", "limit": 40, "total_path": "count"},
        },
    ),
    "cursor": (
        "cursor/items/",
        {
            "data_selector": "results",
            "paginator": {"type": "json_link", "next_url_path": "next"},
        },
    ),
}


@pytest.mark.parametrize("case", sorted(EXPLICIT))
def test_explicit(case: str, drf: tuple[Server, Path], runner: Runner) -> None:
    server, _ = drf
    path, endpoint = EXPLICIT[case]
    synced = runner.run(f"drf_{case}", _config(server.url, path, **endpoint))
    assert_exact(synced.db, synced.dataset, "items", items(N_ITEMS))


@pytest.mark.parametrize("path", ["pn/items/", "lo/items/", "cursor/items/"])
def test_auto_detected(path: str, drf: tuple[Server, Path], runner: Runner) -> None:
    """No paginator, no data_selector: every DRF pagination has `next` (a URL) and `results`."""
    server, _ = drf
    synced = runner.run(f"drf_auto_{path.split('/')[0]}", _config(server.url, path))
    assert_exact(synced.db, synced.dataset, "items", items(N_ITEMS))


def _update_events(db: Path, records: list[dict[str, Any]]) -> None:
    with sqlite3.connect(db) as con:
        con.executemany(
            "INSERT OR REPLACE INTO events (id, name, price, qty, active, version, meta, tags) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [sql_row(r) for r in records],
        )
    con.close()


def test_incremental_second_run(drf: tuple[Server, Path], runner: Runner) -> None:
    server, db = drf
    config = _config(
        server.url,
        "events/",
        name="events",
        data_selector="results",
        paginator={"type": "json_link", "next_url_path": "next"},
        incremental={"cursor_path": "version", "start_param": "version__gt", "initial_value": 0},
    )
    first = runner.run("drf_incremental", config)
    served = {r["id"]: r for r in items(N_EVENTS)}
    assert_exact(first.db, first.dataset, "events", list(served.values()))

    changed = [item(i, version=2, name=f"renamed {i}") for i in range(3, N_EVENTS, 9)]
    added = [item(i, version=2) for i in range(N_EVENTS + 1, N_EVENTS + 41)]
    _update_events(db, changed + added)
    served.update({r["id"]: r for r in changed + added})

    second = runner.run("drf_incremental", config)
    assert second.info.resources["events"].records == len(changed) + len(added)
    assert_exact(second.db, second.dataset, "events", list(served.values()))
