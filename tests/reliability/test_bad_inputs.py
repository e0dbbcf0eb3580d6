"""Bad input catalogue: each case runs through the user's entry points (`rest_api_source`,
`pipeline.run`, the CLI) and asserts the message it gets, or, for data that is odd but
loadable, that nothing is dropped or silently altered."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest

from restsync import rest_api_source
from restsync.errors import ConfigError, SecretNotFoundError
from restsync.sandbox import Faults, SandboxOptions

from .conftest import ROOT, Figures, PagesServer, fast_config, run_cli, run_config


def _validate_catalogue() -> ModuleType:
    """tests/unit/config/test_validate.py (its INVALID_CONFIGS), loaded as a package module."""
    name = "restsync_tests_unit_config"
    if f"{name}.test_validate" in sys.modules:
        return sys.modules[f"{name}.test_validate"]
    pkg_dir = ROOT / "tests" / "unit" / "config"
    spec = importlib.util.spec_from_file_location(
        name, pkg_dir / "__init__.py", submodule_search_locations=[str(pkg_dir)]
    )
    assert spec
    assert spec.loader
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[name] = pkg
    spec.loader.exec_module(pkg)
    return importlib.import_module(f"{name}.test_validate")


INVALID = _validate_catalogue().INVALID_CONFIGS


# ------------------------------------------------------------------ configs and secrets


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.id)
def test_invalid_config_fails_where_the_source_is_built(case: Any, figures: Figures) -> None:
    with pytest.raises(ConfigError) as info:
        rest_api_source(case.config)
    text = str(info.value)
    assert text.startswith("config error (")
    assert "nothing was requested" in text
    for line in case.expected:
        assert line in text
    figures.add("bad inputs: invalid configs", 1)


def test_the_catalogue_is_large_enough() -> None:
    assert len(INVALID) >= 25


@pytest.mark.parametrize("index", [1, 5, 12, 20, len(INVALID) - 1])
def test_invalid_config_file_exits_2_through_the_cli(
    tmp_path: Path, figures: Figures, index: int
) -> None:
    case = INVALID[index]
    path = tmp_path / "source.json"
    path.write_text(json.dumps(case.config, default=str), encoding="utf-8")
    done = run_cli(tmp_path, ["run", str(path), "--destination", f"duckdb:///{tmp_path}/x.db"])
    assert done.returncode == 2, done.stderr
    for line in case.expected:
        assert line in done.stderr
    assert not (tmp_path / "x.db").exists()
    figures.add("bad inputs: invalid configs through the CLI (exit 2)", 1)


@pytest.mark.parametrize(
    ("name", "key"),
    [("fulfillment", "api_key"), ("orders", "client_id"), ("inventory", "api_key")],
)
def test_missing_secret_names_the_key_and_every_place(
    tmp_path: Path, figures: Figures, name: str, key: str
) -> None:
    done = run_cli(tmp_path, ["run", name, "--destination", f"duckdb:///{tmp_path}/x.db"])
    assert done.returncode == 2, done.stderr
    env = key.upper()
    expected = (
        f"missing secret '{key}'; looked in env {env}, env SOURCES__{env}, "
        ".restsync/secrets.toml, .dlt/secrets.toml"
    )
    assert expected in done.stderr, done.stderr
    from restsync.connectors import connector_source

    with pytest.raises(SecretNotFoundError, match="missing secret"):
        connector_source(name)
    figures.add("bad inputs: missing secrets", 1)


# ------------------------------------------------------------------ HTTP statuses and bodies


def test_401_wrong_key(tmp_path: Path, sandbox: Any, figures: Figures, monkeypatch: Any) -> None:
    sb = sandbox("inventory", records=5)
    monkeypatch.setenv("API_KEY", "not-the-key-0123456789")
    config = fast_config("inventory", sb.base_url)
    config["resources"] = config["resources"][:1]
    info = run_config(tmp_path, "inventory", config)
    error = info.failed_resources["customers"]
    assert "-> 401 Unauthorized (not retried)" in error, error
    assert "not-the-key-0123456789" not in error
    figures.add("bad inputs: HTTP statuses", 1)


def test_403_forbidden_resource_others_load(tmp_path: Path, sandbox: Any, figures: Figures) -> None:
    sb = sandbox("ecommerce", records=5, options=SandboxOptions(forbidden_resources=("products",)))
    info = run_config(tmp_path, "ecommerce", fast_config("ecommerce", sb.base_url))
    assert set(info.failed_resources) == {"products"}
    error = info.failed_resources["products"]
    assert "-> 403 Forbidden (not retried)" in error, error
    assert info.resources["order_payments"].records == 5
    figures.add("bad inputs: HTTP statuses", 1)


def test_404_wrong_path(tmp_path: Path, sandbox: Any, figures: Figures) -> None:
    sb = sandbox("fulfillment", records=5)
    config = fast_config("fulfillment", sb.base_url)
    config["resources"][0]["endpoint"]["path"] = "/v1/fulfilment"
    info = run_config(tmp_path, "fulfillment", config)
    error = info.failed_resources["fulfillment_data"]
    assert "/v1/fulfilment?api_key=***" in error, error
    assert "-> 404 Not Found (not retried)" in error
    assert "check base_url and endpoint.path" in error
    figures.add("bad inputs: HTTP statuses", 1)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("html", "is not valid JSON (unexpected character"),
        ("non_utf8", "is not valid UTF-8"),
        ("truncate", "is not valid JSON (unexpected end of data"),
    ],
)
def test_unreadable_body_every_time_fails_with_what_came(
    tmp_path: Path, sandbox: Any, figures: Figures, fault: str, message: str
) -> None:
    sb = sandbox("fulfillment", records=5, faults=Faults(**{fault: 1.0}))
    info = run_config(tmp_path, "fulfillment", fast_config("fulfillment", sb.base_url))
    error = info.failed_resources["fulfillment_data"]
    assert message in error, error
    assert "body starts:" in error
    assert "api_key=***" in error
    assert len(sb.requests) == 4  # the first attempt and its 3 retries
    figures.add("bad inputs: unreadable bodies", 1)


def test_data_selector_matching_nothing(tmp_path: Path, sandbox: Any, figures: Figures) -> None:
    sb = sandbox("fulfillment", records=5)
    config = fast_config("fulfillment", sb.base_url)
    config["resources"][0]["endpoint"]["data_selector"] = "results"
    info = run_config(tmp_path, "fulfillment", config)
    error = info.failed_resources["fulfillment_data"]
    assert "data_selector 'results' matched nothing in the response from" in error, error
    assert "top-level keys: data, offset, limit, total" in error
    assert "set endpoint.data_selector to one of: data" in error
    assert len(sb.requests) == 1  # a first page that does not match is not retried
    figures.add("bad inputs: data_selector", 1)


# ------------------------------------------------------------------ records


def _run_pages(tmp_path: Path, pages: list[Any], **resource: Any) -> tuple[Any, Path]:
    with PagesServer(pages) as server:
        info = run_config(tmp_path, "odd", server.config(**resource))
    return info, tmp_path / "odd.duckdb"


def _columns(db: Path, table: str = "items") -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'odd_data' AND table_name = ?",
                [table],
            ).fetchall()
        )
    finally:
        con.close()


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


MERGE = {"primary_key": "id", "write_disposition": "merge"}


@pytest.mark.parametrize(
    ("records", "resource", "message"),
    [
        ([1, 2, "x"], {}, "record 0 on page 1 is int 1, not an object"),
        ([[1], [2]], {}, "record 0 on page 1 is list"),
        (
            [{"id": 1}, {"name": "x"}],
            MERGE,
            "record 1 on page 1 has no primary key 'id'",
        ),
        ([{"id": 1}, {"id": None}], MERGE, "record 1 on page 1 has a null primary key 'id'"),
    ],
    ids=["scalars", "lists", "pk-missing", "pk-null"],
)
def test_records_that_cannot_be_loaded(
    tmp_path: Path, figures: Figures, records: list[Any], resource: dict[str, Any], message: str
) -> None:
    info, _ = _run_pages(tmp_path, [records], **resource)
    error = info.failed_resources["items"]
    assert f"resource 'items': {message}" in error, error
    assert "/items?page=1" in error
    figures.add("bad inputs: records", 1)


def test_duplicate_keys_within_a_page_last_wins(tmp_path: Path, figures: Figures) -> None:
    info, db = _run_pages(
        tmp_path, [[{"id": 1, "v": "a"}, {"id": 2, "v": "x"}, {"id": 1, "v": "b"}]], **MERGE
    )
    assert not info.failed_resources
    assert _rows(db, "SELECT id, v FROM odd_data.items ORDER BY id") == [(1, "b"), (2, "x")]
    figures.add("bad inputs: records", 1)


def test_type_drift_int_string_object_keeps_every_value(tmp_path: Path, figures: Figures) -> None:
    pages = [[{"id": 1, "v": 1}], [{"id": 2, "v": "two"}], [{"id": 3, "v": {"a": 3}}]]
    info, db = _run_pages(tmp_path, pages)
    assert not info.failed_resources
    assert "variant_column: items.v__v_text (text)" in info.schema_changes
    cols = _columns(db)
    assert cols["v"] == "BIGINT"
    assert cols["v__v_text"] == "VARCHAR"
    assert cols["v__a"] == "BIGINT"
    rows = _rows(db, "SELECT id, v, v__v_text, v__a FROM odd_data.items ORDER BY id")
    assert rows == [(1, 1, None, None), (2, None, "two", None), (3, None, None, 3)]
    figures.add("bad inputs: records", 1)


def test_enormous_string(tmp_path: Path, figures: Figures) -> None:
    big = "é" + "x" * 8_000_000 + "€"
    info, db = _run_pages(tmp_path, [[{"id": 1, "blob": big}]])
    assert not info.failed_resources
    ((length, head, tail),) = _rows(
        db, "SELECT length(blob), left(blob, 2), right(blob, 2) FROM odd_data.items"
    )
    assert (length, head, tail) == (len(big), "éx", "x€")
    figures.add("bad inputs: records", 1)


def test_deep_nesting_100_levels(tmp_path: Path, figures: Figures) -> None:
    deep = functools.reduce(lambda acc, _: {"x": acc}, range(100), "leaf")
    info, db = _run_pages(tmp_path, [[{"id": 1, "d": deep}]])
    assert not info.failed_resources
    cols = {c: t for c, t in _columns(db).items() if c.startswith("d__")}
    assert len(cols) == 1
    ((col, dtype),) = cols.items()
    assert dtype == "JSON"
    ((value,),) = _rows(db, f'SELECT "{col}" FROM odd_data.items')
    depth = col.count("__")
    rest = json.loads(value)
    for _ in range(100 - depth):
        rest = rest["x"]
    assert rest == "leaf"
    figures.add("bad inputs: records", 1)


def test_numbers_beyond_int64_and_float_precision_are_kept_exactly(
    tmp_path: Path, figures: Figures
) -> None:
    from decimal import Decimal

    big, wide, huge = 2**70 + 1, 2**53 + 1, 2**64 + 1
    pages: list[Any] = [
        b'{"data": [{"id": 1, "n": %d, "p": %d, "f": 1e308, "g": 0.1}], "total_pages": 2}'
        % (big, wide),
        b'{"data": [{"id": 2, "n": 1, "p": 0.5, "f": -1e-308, "g": %d}], "total_pages": 2}' % huge,
    ]
    info, db = _run_pages(tmp_path, pages)
    assert not info.failed_resources
    cols = _columns(db)
    assert cols["n"] == "DECIMAL(38,0)"
    rows = {r[0]: r[1:] for r in _rows(db, "SELECT id, n, f FROM odd_data.items")}
    assert rows[1] == (Decimal(big), 1e308)
    assert rows[2] == (Decimal(1), -1e-308)
    ((p,),) = _rows(db, "SELECT p__v_decimal FROM odd_data.items WHERE id = 1")
    assert p == Decimal(wide)
    ((g,),) = _rows(db, "SELECT g__v_decimal FROM odd_data.items WHERE id = 2")
    assert g == Decimal(huge)
    figures.add("bad inputs: records", 1)


def test_timestamps_in_mixed_offsets_are_one_instant(tmp_path: Path, figures: Figures) -> None:
    stamps = [
        "2024-01-01T00:00:00Z",
        "2024-01-01T01:00:00+01:00",
        "2023-12-31T18:30:00.000-05:30",
        "2024-01-01T00:00:00.000000+00:00",
    ]
    info, db = _run_pages(tmp_path, [[{"id": i, "t": t}] for i, t in enumerate(stamps)])
    assert not info.failed_resources
    assert _columns(db)["t"] == "TIMESTAMP WITH TIME ZONE"
    assert _rows(db, "SELECT count(DISTINCT t), count(*) FROM odd_data.items") == [(1, 4)]
    figures.add("bad inputs: records", 1)


def test_timestamps_in_mixed_formats_are_kept_as_sent(tmp_path: Path, figures: Figures) -> None:
    stamps = [
        "2024-01-01T00:00:00Z",
        "2024-01-01 00:00:00",
        "2024-01-01",
        "Mon, 01 Jan 2024 00:00:00 GMT",
        "2024-01-01T00:00:00.123456789Z",
    ]
    info, db = _run_pages(tmp_path, [[{"id": i, "t": t} for i, t in enumerate(stamps)]])
    assert not info.failed_resources
    # not one instant format: the column is text and every value is kept exactly as sent
    assert _columns(db)["t"] == "VARCHAR"
    rows = _rows(db, "SELECT t FROM odd_data.items ORDER BY id")
    assert [r[0] for r in rows] == stamps
    figures.add("bad inputs: records", 1)


def test_column_names_that_collide_after_snake_case(tmp_path: Path, figures: Figures) -> None:
    info, db = _run_pages(
        tmp_path, [[{"id": 1, "user_name": 1, "userName": 2, "UserName": 3, "user-name": 4}]]
    )
    assert not info.failed_resources
    collisions = [c for c in info.schema_changes if c.startswith("name_collision")]
    assert len(collisions) == 3, info.schema_changes
    assert (
        "keys 'user_name' and 'userName' both normalize to 'user_name'; 'userName' is stored as"
        " 'user_name_2'" in collisions[0]
    )
    row = _rows(db, "SELECT user_name, user_name_2, user_name_3, user_name_4 FROM odd_data.items")
    assert sorted(row[0]) == [1, 2, 3, 4]
    figures.add("bad inputs: records", 1)


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_bodies_compressed_without_being_asked_are_read(
    coding: str, tmp_path: Path, figures: Figures
) -> None:
    """An API that compresses with br or zstd whatever the request accepts: read, as requests
    (and so dlt) reads it with the same libraries installed."""
    import brotli
    import zstandard

    compress = brotli.compress if coding == "br" else zstandard.ZstdCompressor().compress
    records = [[{"id": p * 10 + i, "name": f"n{p}-{i}"} for i in range(10)] for p in range(3)]
    # the fourth page, empty, is the one that confirms the page count
    pages = [
        compress(json.dumps({"data": recs, "total_pages": 3}).encode()) for recs in [*records, []]
    ]
    paginator = {"type": "page_number", "total_path": "total_pages", "base_page": 1}
    with PagesServer(pages, headers={"content-encoding": coding}) as server:
        info = run_config(tmp_path, "odd", server.config(endpoint={"paginator": paginator}))
    assert info.resources["items"].error is None
    got = _rows(tmp_path / "odd.duckdb", "SELECT id, name FROM odd_data.items ORDER BY id")
    assert got == [(r["id"], r["name"]) for recs in records for r in recs]
    figures.add("bad inputs: unrequested br/zstd bodies read", 1)


def test_a_corrupt_compressed_body_fails_at_once_and_says_so(
    tmp_path: Path, figures: Figures
) -> None:
    pages = [b"\x1b\x00\xf8\xa5@\x02 not brotli at all"]
    paginator = {"type": "page_number", "total_path": "total_pages", "base_page": 1}
    with PagesServer(pages, headers={"content-encoding": "br"}) as server:
        info = run_config(tmp_path, "odd", server.config(endpoint={"paginator": paginator}))
        asked = len(server.requests)
    error = info.resources["items"].error
    assert error is not None
    message = str(error)
    assert "cannot be decompressed" in message
    assert "brotli" in message
    assert asked == 1, "a body that cannot be decompressed is not retried"
    figures.add("bad inputs: corrupt compressed bodies refused at once", 1)


def test_whole_numbers_sent_for_a_money_column_land_in_it(tmp_path: Path, figures: Figures) -> None:
    """decimal(18, 2), as the built-in connectors hint money: 5 is 5.00, not a variant."""
    from decimal import Decimal

    pages = [
        [{"id": p * 100 + i, "price": (i if i % 2 else f"{i}.25")} for i in range(100)]
        for p in range(2)
    ]
    money = {"data_type": "decimal", "precision": 18, "scale": 2}
    info, db = _run_pages(tmp_path, pages, columns={"price": money})
    assert info.resources["items"].error is None
    assert _columns(db)["price"] == "DECIMAL(18,2)"
    assert not [c for c in _columns(db) if c.startswith("price__v")]
    got = _rows(db, "SELECT id, price FROM odd_data.items ORDER BY id")
    want = [(r["id"], Decimal(str(r["price"]))) for page in pages for r in page]
    assert got == want
    figures.add("bad inputs: whole numbers in a money column", 1)
