"""Incremental runs through a pipeline into DuckDB: a backfill (`end_value`) loads its range
and leaves the stored cursor where it was; digit-string cursors move as numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import httpx

import restsync
from restsync.extract._source import rest_api_source

BASE = "https://api.example.com/v1"


class _Api:
    """`/items?since=&until=`: the records with `since <= seq < until` (as numbers)."""

    def __init__(self, seqs: list[Any]) -> None:
        self.seqs = seqs
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        since = request.url.params.get("since")
        until = request.url.params.get("until")
        data = [
            {"id": i, "seq": s}
            for i, s in enumerate(self.seqs)
            if (since is None or int(s) >= int(since)) and (until is None or int(s) < int(until))
        ]
        return httpx.Response(200, json={"data": data})


def _source(**incremental: Any) -> Any:
    return rest_api_source(
        {
            "client": {"base_url": BASE, "paginator": "single_page"},
            "resources": [
                {
                    "name": "items",
                    "primary_key": "id",
                    "write_disposition": "merge",
                    "endpoint": {
                        "path": "items",
                        "data_selector": "data",
                        "incremental": {
                            "cursor_path": "seq",
                            "start_param": "since",
                            "end_param": "until",
                            **incremental,
                        },
                    },
                }
            ],
        }
    )


def _run(tmp_path: Path, api: _Api, **incremental: Any) -> list[Any]:
    pipeline = restsync.pipeline(
        "inc",
        destination=f"duckdb:///{tmp_path}/inc.duckdb",
        pipelines_dir=tmp_path / "pipelines",
        transport=httpx.MockTransport(api),
        normalize_mode="local",
    )
    info = pipeline.run(_source(**incremental))
    assert not info.failed_resources, str(info)
    con = duckdb.connect(str(tmp_path / "inc.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT seq FROM inc_data.items ORDER BY id").fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def test_a_backfill_loads_its_range_and_leaves_the_stored_cursor(tmp_path: Path) -> None:
    api = _Api(list(range(20)))
    assert _run(tmp_path, api, initial_value=15) == [15, 16, 17, 18, 19]
    # the backfill: [0, 5), whatever the stored cursor (19) says
    assert _run(tmp_path, api, initial_value=0, end_value=5) == [0, 1, 2, 3, 4, 15, 16, 17, 18, 19]
    assert api.requests[-1].url.params["since"] == "0"
    # the next ordinary run starts at the cursor the first run stored, not at the backfill's
    api.seqs = [*api.seqs, 20]
    _run(tmp_path, api, initial_value=15)
    assert api.requests[-1].url.params["since"] == "19"


def test_digit_string_cursors_move_as_numbers(tmp_path: Path) -> None:
    api = _Api([str(s) for s in (7, 8, 9)])
    assert _run(tmp_path, api) == ["7", "8", "9"]
    api.seqs = [*api.seqs, "10", "11"]
    assert _run(tmp_path, api) == ["7", "8", "9", "10", "11"]  # "10" is after "9"
    assert api.requests[-1].url.params["since"] == "9"
