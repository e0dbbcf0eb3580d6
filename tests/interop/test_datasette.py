"""Datasette (installed from PyPI) serving a SQLite file this module creates: its JSON API's
`next`/`next_url` keyset pagination, synced with an explicit paginator, with auto-detection,
and incrementally (`version__gt`, Datasette's column filter) after rows change."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Runner, Server, free_port, python_module, serve, start_server
from .data import assert_exact, item, items, merge_config, sql_row

pytest.importorskip("datasette")

N_ITEMS = 300
N_EVENTS = 120
PAGE = 50


def _write(con: sqlite3.Connection, table: str, records: list[dict[str, Any]]) -> None:
    con.executemany(
        f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [sql_row(r) for r in records],
    )
    con.commit()


def _create(db: Path) -> None:
    with sqlite3.connect(db) as con:
        for table in ("items", "events"):
            con.execute(
                f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT, price REAL, "
                "qty INTEGER, active INTEGER, version INTEGER, meta TEXT, tags TEXT)"
            )
        _write(con, "items", items(N_ITEMS))
        _write(con, "events", items(N_EVENTS))
    con.close()


@pytest.fixture(scope="module")
def datasette(module_dir: Path) -> Iterator[tuple[Server, Path]]:
    db = module_dir / "shop.db"
    _create(db)
    port = free_port()
    server = start_server(
        "datasette",
        python_module("datasette", "serve", str(db), "--host", "127.0.0.1", "--port", str(port)),
        port=port,
        ready_path="/-/versions.json",
        log_dir=module_dir,
    )
    for running in serve(server):
        yield running, db


def _config(url: str, table: str, **endpoint: Any) -> dict[str, Any]:
    # objects instead of arrays; the two JSON text columns as JSON
    params = {"_shape": "objects", "_size": PAGE, "_json": ["meta", "tags"]}
    return merge_config(f"{url}/shop/", f"{table}.json", table, **{"params": params, **endpoint})


def test_explicit_json_link(datasette: tuple[Server, Path], runner: Runner) -> None:
    server, _ = datasette
    config = _config(
        server.url,
        "items",
        data_selector="rows",
        paginator={"type": "json_link", "next_url_path": "next_url"},
    )
    synced = runner.run("ds_explicit", config)
    assert synced.info.resources["items"].pages == N_ITEMS // PAGE
    assert_exact(synced.db, synced.dataset, "items", items(N_ITEMS), bool_as_int=True)


def test_auto_detected(datasette: tuple[Server, Path], runner: Runner) -> None:
    """No paginator, no data_selector: `next` is Datasette's keyset token (sent back as
    `_next`) and `next_url` the next page's URL."""
    server, _ = datasette
    synced = runner.run("ds_auto", _config(server.url, "items"))
    assert_exact(synced.db, synced.dataset, "items", items(N_ITEMS), bool_as_int=True)


def test_incremental_second_run(datasette: tuple[Server, Path], runner: Runner) -> None:
    server, db = datasette
    config = _config(
        server.url,
        "events",
        data_selector="rows",
        paginator={"type": "json_link", "next_url_path": "next_url"},
        incremental={"cursor_path": "version", "start_param": "version__gt", "initial_value": 0},
    )
    first = runner.run("ds_incremental", config)
    served = {r["id"]: r for r in items(N_EVENTS)}
    assert_exact(first.db, first.dataset, "events", list(served.values()), bool_as_int=True)

    changed = [item(i, version=2, name=f"renamed {i}") for i in range(5, N_EVENTS, 10)]
    added = [item(i, version=2) for i in range(N_EVENTS + 1, N_EVENTS + 31)]
    with sqlite3.connect(db) as con:
        _write(con, "events", changed + added)
    con.close()
    served.update({r["id"]: r for r in changed + added})

    second = runner.run("ds_incremental", config)
    assert second.info.resources["events"].records == len(changed) + len(added)
    assert_exact(second.db, second.dataset, "events", list(served.values()), bool_as_int=True)
