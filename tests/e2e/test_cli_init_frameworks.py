"""`restsync init URL` against the collection endpoints of real frameworks on loopback —
Datasette (a Link header, a token at `next`, the URL at `next_url`) and Django REST framework
(`count`, `next`, `results`) — then `restsync run` of the written file loads every row exactly."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import yaml

BIN = Path(sys.executable).parent
RESTSYNC = str(BIN / "restsync")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(args: list[str], url: str, cwd: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "ended")
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"{url} did not answer")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def init_and_run(tmp_path: Path, url: str, name: str) -> dict[str, Any]:
    done = subprocess.run(
        [RESTSYNC, "init", url, "--name", name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    config: dict[str, Any] = yaml.safe_load((tmp_path / f"{name}.yaml").read_text())
    ran = subprocess.run(
        [RESTSYNC, "run", f"{name}.yaml", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr + ran.stdout
    return config


def loaded(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


ROWS = [(i, f"item {i}", f"2024-02-{1 + i % 28:02d}T10:00:00Z") for i in range(1, 251)]


@pytest.fixture
def datasette(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("datasette")
    db = tmp_path / "shop.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT)")
    con.executemany("INSERT INTO items VALUES (?, ?, ?)", ROWS)
    con.commit()
    con.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(
        [str(BIN / "datasette"), "serve", str(db), "-h", "127.0.0.1", "-p", str(port)],
        f"{base}/shop/items.json",
        tmp_path,
    )
    try:
        yield base
    finally:
        stop(proc)


def test_init_url_on_datasette(tmp_path: Path, datasette: str) -> None:
    config = init_and_run(tmp_path, f"{datasette}/shop/items.json?_shape=objects", "items")
    endpoint = config["resources"][0]["endpoint"]
    # Datasette also sends a Link header with rel="next": detected first, and proven
    assert endpoint["paginator"] == {"type": "header_link"}
    assert endpoint["data_selector"] == "rows"
    assert config["resources"][0]["primary_key"] == "id"
    got = loaded(tmp_path / "items.duckdb", "SELECT id, name FROM items_data.items ORDER BY id")
    assert got == [(i, name) for i, name, _ in ROWS]


DRF_APP = """
import sys
import django
from django.conf import settings

settings.configure(
    DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], SECRET_KEY="k" * 50,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={},
    REST_FRAMEWORK={
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_AUTHENTICATION_CLASSES": [], "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()
from django.urls import path
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import APIView

ITEMS = [{"id": i, "title": f"item {i}", "modified": f"2024-03-{1 + i % 28:02d}T08:00:00Z"}
         for i in range(1, 131)]

class Items(APIView):
    def get(self, request):
        pages = PageNumberPagination()
        pages.page_size = 25
        return pages.get_paginated_response(pages.paginate_queryset(ITEMS, request, view=self))

urlpatterns = [path("api/items/", Items.as_view())]

from wsgiref.simple_server import make_server
from django.core.wsgi import get_wsgi_application
make_server("127.0.0.1", int(sys.argv[1]), get_wsgi_application()).serve_forever()
"""


@pytest.fixture
def drf(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("rest_framework")
    app = tmp_path / "drf_app.py"
    app.write_text(DRF_APP)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve([sys.executable, str(app), str(port)], f"{base}/api/items/", tmp_path)
    try:
        yield base
    finally:
        stop(proc)


def test_init_url_on_django_rest_framework(tmp_path: Path, drf: str) -> None:
    config = init_and_run(tmp_path, f"{drf}/api/items/", "items")
    resource = config["resources"][0]
    assert resource["endpoint"]["paginator"] == {"type": "json_link", "next_url_path": "next"}
    assert resource["endpoint"]["data_selector"] == "results"
    assert resource["primary_key"] == "id"
    assert resource["endpoint"]["incremental"] == {"cursor_path": "modified"}
    got = loaded(tmp_path / "items.duckdb", "SELECT id, title FROM items_data.items ORDER BY id")
    assert got == [(i, f"item {i}") for i in range(1, 131)]
