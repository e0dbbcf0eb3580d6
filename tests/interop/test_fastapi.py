"""FastAPI with fastapi-pagination (both installed from PyPI) under uvicorn: `Page` and
`LimitOffsetPage`, each synced with an explicit paginator and with auto-detection, and an
incremental second run after records change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Runner, Server, free_port, python_module, serve, start_server
from .data import assert_exact, item, items, merge_config

pytest.importorskip("fastapi")
pytest.importorskip("fastapi_pagination")

N_ITEMS = 230
N_EVENTS = 110


@pytest.fixture(scope="module")
def fastapi_server(module_dir: Path) -> Iterator[tuple[Server, Path]]:
    data = module_dir / "data"
    data.mkdir()
    (data / "items.json").write_text(json.dumps(items(N_ITEMS)))
    (data / "events.json").write_text(json.dumps(items(N_EVENTS)))
    port = free_port()
    server = start_server(
        "fastapi",
        python_module(
            "uvicorn",
            "tests.interop.fastapi_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ),
        port=port,
        ready_path="/page/items?size=1",
        log_dir=module_dir,
        env={"FASTAPI_DATA": str(data)},
    )
    for running in serve(server):
        yield running, data


def _config(url: str, path: str, name: str = "items", **endpoint: Any) -> dict[str, Any]:
    return merge_config(url, path, name, **endpoint)


EXPLICIT = {
    "page": (
        "page/items",
        {
            "data_selector": "items",
            "params": {"size": 40},
            "paginator": {
                "type": "page_number",
                "base_page": 1,
                "page_param": "page",
                "total_path": "pages",
            },
        },
    ),
    "limit_offset": (
        "lo/items",
        {
            "data_selector": "items",
            "paginator": {"type": "offset", "limit": 40, "total_path": "total"},
        },
    ),
}


@pytest.mark.parametrize("case", sorted(EXPLICIT))
def test_explicit(case: str, fastapi_server: tuple[Server, Path], runner: Runner) -> None:
    server, _ = fastapi_server
    path, endpoint = EXPLICIT[case]
    synced = runner.run(f"fastapi_{case}", _config(server.url, path, **endpoint))
    assert_exact(synced.db, synced.dataset, "items", items(N_ITEMS))


@pytest.mark.parametrize("path", ["page/items", "lo/items"])
def test_auto_detected(path: str, fastapi_server: tuple[Server, Path], runner: Runner) -> None:
    """No paginator, no data_selector. `Page` has `page` and `pages`; `LimitOffsetPage` has
    `total`, `limit` and `offset` (fastapi-pagination's defaults: 50 records a page)."""
    server, _ = fastapi_server
    synced = runner.run(f"fastapi_auto_{path.split('/')[0]}", _config(server.url, path))
    assert_exact(synced.db, synced.dataset, "items", items(N_ITEMS))


def test_incremental_second_run(fastapi_server: tuple[Server, Path], runner: Runner) -> None:
    server, data = fastapi_server
    config = _config(
        server.url,
        "events",
        name="events",
        data_selector="items",
        params={"size": 30},
        paginator={"type": "page_number", "base_page": 1, "total_path": "pages"},
        incremental={"cursor_path": "version", "start_param": "version_gt", "initial_value": 0},
    )
    first = runner.run("fastapi_incremental", config)
    served = {r["id"]: r for r in items(N_EVENTS)}
    assert_exact(first.db, first.dataset, "events", list(served.values()))

    changed = [item(i, version=2, name=f"renamed {i}") for i in range(2, N_EVENTS, 8)]
    added = [item(i, version=2) for i in range(N_EVENTS + 1, N_EVENTS + 36)]
    served.update({r["id"]: r for r in changed + added})
    (data / "events.json").write_text(json.dumps(list(served.values())))

    second = runner.run("fastapi_incremental", config)
    assert second.info.resources["events"].records == len(changed) + len(added)
    assert_exact(second.db, second.dataset, "events", list(served.values()))
