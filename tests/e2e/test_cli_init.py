"""`restsync init`: a FastAPI app on loopback (a real framework serving its own
/openapi.json) with two paginated collections and a child collection; `init` writes a config,
and `restsync run` of that file, unchanged, loads every row exactly."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

fastapi = pytest.importorskip("fastapi")
Request = fastapi.Request  # module level: the handlers' annotations are resolved here

RESTSYNC = str(Path(sys.executable).with_name("restsync"))
TOKEN = "tok-" + "7" * 24  # what the app accepts; only ever in the environment
THINGS = [
    {"id": i, "name": f"thing {i}", "updated_at": f"2024-01-{1 + i % 28:02d}T00:00:00Z"}
    for i in range(1, 231)
]
ORDERS = [{"order_id": 1000 + i, "total": i * 1.5} for i in range(1, 172)]
PARTS = {
    t["id"]: [{"id": t["id"] * 10 + k, "label": f"p{k}"} for k in range(t["id"] % 4)]
    for t in THINGS
}


def build_app() -> Any:
    from fastapi import Depends, FastAPI, HTTPException, Query
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

    app = FastAPI(title="Shop API")
    bearer = HTTPBearer()

    def check(creds: HTTPAuthorizationCredentials = Depends(bearer)) -> None:
        if creds.credentials != TOKEN:
            raise HTTPException(status_code=401, detail="bad token")

    from pydantic import BaseModel

    class Thing(BaseModel):
        id: int
        name: str
        updated_at: str

    class ThingPage(BaseModel):
        items: list[Thing]
        total: int

    class Order(BaseModel):
        order_id: int
        total: float

    class OrderPage(BaseModel):
        data: list[Order]
        total_pages: int
        page: int

    class Part(BaseModel):
        id: int
        label: str

    @app.get("/things", response_model=ThingPage, dependencies=[Depends(check)])
    def things(offset: int = 0, limit: int = Query(50, le=50)) -> Any:
        return {"items": THINGS[offset : offset + limit], "total": len(THINGS)}

    @app.get("/orders", response_model=OrderPage, dependencies=[Depends(check)])
    def orders(page: int = Query(1, ge=1), page_size: int = Query(40, le=40)) -> Any:
        start = (page - 1) * page_size
        pages = math.ceil(len(ORDERS) / page_size)
        return {"data": ORDERS[start : start + page_size], "total_pages": pages, "page": page}

    @app.get("/things/{thing_id}/parts", response_model=list[Part], dependencies=[Depends(check)])
    def parts(thing_id: int) -> Any:
        return PARTS[thing_id]

    return app


@pytest.fixture
def shop() -> Iterator[str]:
    from restsync.sandbox.server import _ServerThread

    server = _ServerThread(build_app())
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "API_TOKEN": TOKEN}
    return subprocess.run(
        [RESTSYNC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_init_openapi_then_run_loads_every_row(tmp_path: Path, shop: str) -> None:
    done = cli(tmp_path, "init", "--openapi", f"{shop}/openapi.json", "-o", "shop.yaml")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "shop.yaml").read_text()
    assert TOKEN not in text
    assert "${secrets.api_token}" in text
    assert text.startswith("# Written by `restsync init --openapi")
    config = yaml.safe_load(text)
    by_name = {r["name"]: r for r in config["resources"]}
    assert set(by_name) == {"things", "orders", "parts"}
    assert by_name["things"]["endpoint"]["paginator"]["type"] == "offset"
    assert by_name["orders"]["endpoint"]["paginator"]["type"] == "page_number"
    assert by_name["parts"]["endpoint"]["path"] == "/things/{resources.things.id}/parts"
    assert by_name["orders"]["primary_key"] == "order_id"

    ran = cli(tmp_path, "run", "shop.yaml", "--json")
    assert ran.returncode == 0, ran.stderr + ran.stdout
    db = tmp_path / "shop.duckdb"
    assert rows(db, "SELECT id, name, updated_at::VARCHAR FROM shop_data.things ORDER BY id")[
        :1
    ] == [(1, "thing 1", "2024-01-02 00:00:00+00")]
    assert sorted(r[0] for r in rows(db, "SELECT id FROM shop_data.things")) == [
        t["id"] for t in THINGS
    ]
    assert sorted(rows(db, "SELECT order_id, total FROM shop_data.orders")) == [
        (o["order_id"], o["total"]) for o in ORDERS
    ]
    want_parts = sorted((p["id"], p["label"]) for ps in PARTS.values() for p in ps)
    assert sorted(rows(db, "SELECT id, label FROM shop_data.parts")) == want_parts


def test_init_url_proves_the_paginator_and_runs(tmp_path: Path, shop: str) -> None:
    done = cli(tmp_path, "init", f"{shop}/orders", "--auth", "bearer:api_token")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "orders.yaml").read_text()
    assert TOKEN not in text
    assert "paginator: page_number, proven: walked 3 pages" in text
    config = yaml.safe_load(text)
    resource = config["resources"][0]
    assert resource["primary_key"] == "order_id"
    assert resource["endpoint"]["data_selector"] == "data"
    assert resource["endpoint"]["paginator"]["total_path"] == "total_pages"
    assert config["client"]["auth"] == {"type": "bearer", "token": "${secrets.api_token}"}

    ran = cli(tmp_path, "run", "orders.yaml", "--json")
    assert ran.returncode == 0, ran.stderr + ran.stdout
    got = rows(tmp_path / "orders.duckdb", "SELECT order_id, total FROM orders_data.orders")
    assert sorted(got) == [(o["order_id"], o["total"]) for o in ORDERS]


def test_init_url_proves_its_guesses_by_walking(tmp_path: Path, shop: str) -> None:
    """`things` states a total but no way to the next page: one page loses records, `?page=`
    is not a parameter it knows (page 2 repeats page 1); offset walks every record."""
    done = cli(tmp_path, "init", f"{shop}/things?page=1", "--auth", "bearer:api_token")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "things.yaml").read_text()
    assert (
        "paginator single_page refused: it stops after 1 page(s) with 50 records, the API says 230"
        in text
    )
    assert "paginator page_number refused: resource 'things': page 2 returned the same" in text
    assert "paginator: offset, proven: walked 3 pages, 150 records, none repeated" in text
    ran = cli(tmp_path, "run", "things.yaml", "--json")
    assert ran.returncode == 0, ran.stderr + ran.stdout
    got = rows(tmp_path / "things.duckdb", "SELECT id FROM things_data.things")
    assert sorted(r[0] for r in got) == [t["id"] for t in THINGS]


def test_init_never_writes_a_secret_and_names_the_secret(tmp_path: Path, shop: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "API_TOKEN"}
    done = subprocess.run(
        [RESTSYNC, "init", f"{shop}/orders", "--auth", "bearer:shop_token"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "missing secret 'shop_token'" in done.stderr
    assert not (tmp_path / "orders.yaml").exists()


def test_init_url_takes_the_next_url_when_the_token_guess_repeats(tmp_path: Path) -> None:
    """A token at `next` (sent back as `_next`, which auto-detection cannot know) and the
    next page's URL at `next_url`: the cursor guess repeats page 1 and is refused; the
    json_link reading of `next_url` is proven and runs."""
    from fastapi import FastAPI

    from restsync.sandbox.server import _ServerThread

    events = [{"id": i, "kind": "click"} for i in range(1, 96)]
    app = FastAPI()

    @app.get("/events")
    def page(request: Request, _next: int = 0) -> Any:
        chunk = events[_next : _next + 20]
        more = _next + 20 < len(events)
        nxt = str(_next + 20) if more else None
        url = str(request.url.include_query_params(_next=nxt)) if more else None
        return {"events": chunk, "next": nxt, "next_url": url}

    server = _ServerThread(app)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        done = cli(tmp_path, "init", f"{base}/events")
        assert done.returncode == 0, done.stderr
        text = (tmp_path / "events.yaml").read_text()
        assert "paginator cursor refused" in text
        assert "paginator: json_link, proven" in text
        ran = cli(tmp_path, "run", "events.yaml", "--json")
        assert ran.returncode == 0, ran.stderr + ran.stdout
    finally:
        server.stop()
    got = rows(tmp_path / "events.duckdb", "SELECT id FROM events_data.events ORDER BY id")
    assert got == [(e["id"],) for e in events]
