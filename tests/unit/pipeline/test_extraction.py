"""The extraction thread starts before the destination opens, but sends nothing until the
stored state is handed over; a run that stops early never leaves it behind."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

import restsync
from restsync.errors import LoadError
from restsync.pipeline._extraction import DONE, QUEUE_PAGES, ExtractionThread


class _Api:
    """Pages of `pages` records each, `last` pages long; counts the requests."""

    def __init__(self, last: int = 3, per_page: int = 2) -> None:
        self.last = last
        self.per_page = per_page
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(str(request.url))
        page = int(request.url.params.get("page", "1"))
        rows = [] if page > self.last else [{"id": page * 100 + i} for i in range(self.per_page)]
        return httpx.Response(200, content=orjson.dumps({"data": rows}))


def _source(**extra: Any) -> Any:
    return restsync.rest_api_source(
        {
            "client": {"base_url": "https://api.test/"},
            "resources": [
                {
                    "name": "items",
                    "endpoint": {
                        "path": "items",
                        "data_selector": "data",
                        "paginator": {"type": "page_number", "page_param": "page"},
                        **extra,
                    },
                }
            ],
        }
    )


def _no_extraction_thread_left() -> bool:
    return not [t for t in threading.enumerate() if t.name.startswith("restsync-extract-")]


def test_no_request_is_sent_when_the_destination_does_not_open(tmp_path: Path) -> None:
    api = _Api()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    pipeline = restsync.pipeline(
        "p",
        destination=f"duckdb:///{blocker}/sub/db.duckdb",  # its folder cannot be made
        pipelines_dir=tmp_path / "pipelines",
        transport=httpx.MockTransport(api),
    )
    with pytest.raises((LoadError, OSError)):
        pipeline.run(_source())
    assert api.requests == []
    assert _no_extraction_thread_left()


def test_requests_wait_for_the_state_and_use_it() -> None:
    api = _Api()
    extraction = ExtractionThread(
        _source(incremental={"cursor_path": "id", "start_param": "since"}),
        {"items"},
        name="t",
        transport=httpx.MockTransport(api),
    )
    try:
        # the thread is up and its client built, yet nothing was asked for
        assert extraction.pages.empty()
        assert api.requests == []
        extraction.begin({"items": {"cursor_path": "id", "last_value": 150}})
        items = list(iter(extraction.pages.get, DONE))
    finally:
        extraction.close()
    assert extraction.error is None
    assert all("since=150" in url for url in api.requests)
    pages = [p for p in items if p.count]
    assert sum(p.count for p in pages) == 4  # 200, 201, 300, 301: the stored cursor was 150
    assert _no_extraction_thread_left()


def test_a_reader_that_stops_with_the_queue_full_does_not_leave_the_thread_hanging() -> None:
    api = _Api(last=QUEUE_PAGES * 3)
    extraction = ExtractionThread(
        _source(), {"items"}, name="t", transport=httpx.MockTransport(api)
    )
    extraction.begin({})
    first = extraction.pages.get()  # then the reader stops, the queue fills up
    while not extraction.pages.full():
        threading.Event().wait(0.01)
    extraction.close()
    assert first.count == 2
    assert _no_extraction_thread_left()
    assert len(api.requests) < QUEUE_PAGES * 3  # the resource ended early


_IMPORTS_AT_BEGIN = """
import sys, tempfile
import httpx, orjson, restsync
from restsync.pipeline import _extraction

seen = []
begin = _extraction.ExtractionThread.begin

def spy(self, state):
    seen.append("pyarrow" in sys.modules)
    return begin(self, state)

_extraction.ExtractionThread.begin = spy

def api(request):
    page = int(request.url.params.get("page", "1"))
    rows = [{"id": page}] if page <= 2 else []
    return httpx.Response(200, content=orjson.dumps({"data": rows}))

source = restsync.rest_api_source({
    "client": {"base_url": "https://api.test/"},
    "resources": [{"name": "items", "endpoint": {"path": "items", "data_selector": "data",
        "paginator": {"type": "page_number", "base_page": 1, "total_path": None}}}],
})
out = tempfile.mkdtemp()
info = restsync.pipeline("p", destination=f"duckdb:///{out}/x.duckdb", pipelines_dir=out,
                         transport=httpx.MockTransport(api)).run(source)
print(seen, info.tables["items"].inserted, "pyarrow" in sys.modules)
"""


def test_the_requests_start_before_arrow_is_imported() -> None:
    """What only normalizing and loading need (Arrow) is imported while the first requests are
    out, not before them: the destination opens and the state is read without it."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _IMPORTS_AT_BEGIN], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["[False]", "2", "True"], out.stderr[-2000:]
