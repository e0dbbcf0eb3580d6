"""The end-to-end matrix on every destination: DuckDB, Postgres (a real server) and Parquet.

Per destination: all five seeds load exactly the sandbox's records, child tables link to
their parents, types are right; running twice leaves the same tables; after `sb.mutate`
an incremental rerun requests the window and converges to a full load of the changed API;
kill-and-rerun through the CLI converges to the uninterrupted run. The Parquet output read
with DuckDB equals the DuckDB destination's rows. `restsync show` works on every destination
and never prints a password.

Short form (make test): every seed on every destination for load / twice / incremental, a
spread of six kill points on Postgres and Parquet. `RESTSYNC_LONG=1` adds more kill points.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restsync.connectors import connector_module, connector_source
from restsync.extract._incremental import parse_instant
from restsync.pipeline import Pipeline

from .conftest import CONNECTORS
from .dest_helpers import (
    column_types,
    kind_of,
    query,
    reading,
    restsync_type,
    snapshot,
    stored_state,
    tables,
)

LONG = bool(os.environ.get("RESTSYNC_LONG"))
SMALL = {"fulfillment": 450, "ecommerce": 230, "orders": 650, "commerce": 60, "inventory": 75}
DESTS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres), "parquet"]
# The short form leaves DuckDB's load / twice / incremental to test_seeds_duckdb.py (the same
# checks); DuckDB is still loaded for every seed by the Parquet-equals-DuckDB test.
MATRIX_DESTS = DESTS if LONG else DESTS[1:]
TS_COLUMNS = ("updated_at", "last_modified_date", "created_at", "modified_on")
PG_TYPES = {
    "timestamp with time zone",
    "bigint",
    "double precision",
    "numeric",
    "boolean",
    "text",
    "jsonb",
    "date",
}
NATIVE_TS = {
    "duckdb": "TIMESTAMP WITH TIME ZONE",
    "postgres": "timestamp with time zone",
    "parquet": "timestamp[us, tz=UTC]",
}


def url_for(kind: str, where: Path, request: pytest.FixtureRequest) -> str:
    """A destination URL of `kind` (a fresh file / folder under `where`, or the test server)."""
    if kind == "duckdb":
        return f"duckdb:///{where / 'dest.duckdb'}"
    if kind == "parquet":
        return f"parquet:///{where / 'lake'}"
    return str(request.getfixturevalue("postgres_url"))


def dataset_for(name: str) -> str:
    """A dataset nobody else uses (the Postgres server is shared by a worker's tests)."""
    return f"{name}_{uuid.uuid4().hex[:8]}"


def run(
    tmp_path: Path, sb: Any, name: str, url: str, dataset: str, *, incremental: bool = True
) -> Any:
    source = connector_source(name, base_url=sb.base_url, incremental=incremental)
    pipe = Pipeline(name, url, dataset, pipelines_dir=tmp_path / "pipelines")
    info = pipe.run(source)
    assert info.loaded, str(info)
    assert not info.failed_resources, str(info)
    return info


def pk_of(name: str) -> str:
    return "order_id" if name == "orders" else "id"


def resource_names(name: str) -> list[str]:
    return [r["name"] for r in connector_module(name).seed_config()["resources"]]


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Start a seed's sandbox with its secrets in the environment, as a user would."""
    from restsync.sandbox import Sandbox

    started: list[Any] = []

    def start(name: str, records: int | None = None) -> Any:
        sb = Sandbox(name, records=records or SMALL[name])
        sb.__enter__()
        started.append(sb)
        for k, v in sb.env().items():
            monkeypatch.setenv(k, v)
        return sb

    yield start
    for sb in started:
        sb.__exit__(None, None, None)


# ---- what a load must hold ---------------------------------------------------------------------


def assert_exact_records(url: str, dataset: str, sb: Any, name: str) -> None:
    """Every resource holds exactly the sandbox's records: count, unique keys, same ids."""
    pk = pk_of(name)
    with reading(url):
        _exact_records(url, dataset, sb, name, pk)


def _exact_records(url: str, dataset: str, sb: Any, name: str, pk: str) -> None:
    for rname in resource_names(name):
        expected = sb.expected(rname)
        ids = [r[0] for r in query(url, dataset, f'SELECT "{pk}" FROM {{t:{rname}}}')]
        assert len(ids) == len(expected), rname
        assert len(set(ids)) == len(ids), f"duplicate keys in {rname}"
        assert {str(i) for i in ids} == {str(r[pk]) for r in expected}, rname


def assert_children_link(url: str, dataset: str) -> None:
    with reading(url):
        _children_link(url, dataset)


def _children_link(url: str, dataset: str) -> None:
    names = tables(url, dataset)
    children = [t for t in names if "__" in t]
    assert children, "no child tables"
    for child in children:
        parent = child.rsplit("__", 1)[0]
        assert parent in names, child
        (orphans,) = query(
            url,
            dataset,
            f"SELECT count(*) FROM {{t:{child}}} c LEFT JOIN {{t:{parent}}} p "
            "ON c._dlt_parent_id = p._dlt_id WHERE p._dlt_id IS NULL",
        )
        assert orphans == (0,), f"{child} has rows without a parent in {parent}"


def assert_types(url: str, dataset: str) -> None:
    kind = kind_of(url)
    types = column_types(url, dataset)
    found = [(t, c, d) for t, cols in types.items() for c, d in cols.items() if c in TS_COLUMNS]
    assert found, "no timestamp columns found"
    for t, c, d in found:
        assert d == NATIVE_TS[kind], f"{t}.{c} is {d} on {kind}"
    for t, cols in types.items():
        assert cols["_dlt_id"] in ("VARCHAR", "text", "string"), t
        for c, d in cols.items():
            assert not restsync_type(d).startswith("?"), f"{t}.{c}: unexpected type {d}"
            if kind == "postgres":
                assert d in PG_TYPES, f"{t}.{c} is {d}"


# ---- the matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CONNECTORS)
@pytest.mark.parametrize("kind", MATRIX_DESTS)
def test_seed_loads_exactly_the_sandbox_records(
    tmp_path: Path, sandbox: Any, request: pytest.FixtureRequest, kind: str, name: str
) -> None:
    sb = sandbox(name)
    url, dataset = url_for(kind, tmp_path, request), dataset_for(name)
    run(tmp_path, sb, name, url, dataset)
    assert_exact_records(url, dataset, sb, name)
    assert_children_link(url, dataset)
    assert_types(url, dataset)


@pytest.mark.parametrize("name", CONNECTORS)
@pytest.mark.parametrize("kind", MATRIX_DESTS)
def test_merge_twice_leaves_the_same_tables(
    tmp_path: Path, sandbox: Any, request: pytest.FixtureRequest, kind: str, name: str
) -> None:
    sb = sandbox(name)
    url, dataset = url_for(kind, tmp_path, request), dataset_for(name)
    run(tmp_path, sb, name, url, dataset, incremental=False)
    first = snapshot(url, dataset)
    assert any(first.values())
    run(tmp_path, sb, name, url, dataset, incremental=False)
    assert snapshot(url, dataset) == first
    assert_exact_records(url, dataset, sb, name)


@pytest.mark.parametrize("name", ["orders", "inventory", "commerce", "fulfillment"])
@pytest.mark.parametrize("kind", MATRIX_DESTS)
def test_incremental_rerun_requests_the_window_and_converges(
    tmp_path: Path, sandbox: Any, request: pytest.FixtureRequest, kind: str, name: str
) -> None:
    sb = sandbox(name)
    url, dataset = url_for(kind, tmp_path, request), dataset_for(name)
    module = connector_module(name)
    resource = resource_names(name)[0]
    inc = module.INCREMENTAL[resource]
    run(tmp_path, sb, name, url, dataset)
    state = stored_state(url, dataset, name)[resource]
    assert state["last_value"], state

    changed, inserted = sb.mutate(resource, updates=4, inserts=3)[resource]
    seen = len(sb.requests)
    run(tmp_path, sb, name, url, dataset)
    again = [r for r in sb.requests[seen:] if r.resource == resource]
    assert again, "no request for the resource on the second run"
    for r in again:
        assert inc["start_param"] in r.query, r
        assert parse_instant(r.query[inc["start_param"]]) == parse_instant(state["last_value"])

    # updates and inserts are there, nothing duplicated
    pk = pk_of(name)
    cursor = inc["cursor_path"]
    col = "modified_on" if cursor == "modifiedOn" else cursor
    rows = query(url, dataset, f'SELECT "{pk}", "{col}" FROM {{t:{resource}}}')
    expected = sb.expected(resource)
    assert len(rows) == len(expected)
    by_key = {str(k): v for k, v in rows}
    assert len(by_key) == len(rows)
    for rec in expected:
        assert parse_instant(by_key[str(rec[pk])]) == parse_instant(rec[cursor]), rec[pk]
    assert {str(k) for k in changed + inserted} <= set(by_key)
    assert_children_link(url, dataset)

    # and the tables equal a full load of the changed API into a fresh dataset
    fresh = dataset_for(name)
    fresh_url = url_for(kind, tmp_path / "fresh", request)
    run(tmp_path / "fresh", sb, name, fresh_url, fresh, incremental=False)
    assert snapshot(url, dataset) == snapshot(fresh_url, fresh)


@pytest.mark.parametrize("name", CONNECTORS)
def test_parquet_read_by_duckdb_equals_the_duckdb_destination(
    tmp_path: Path, sandbox: Any, request: pytest.FixtureRequest, name: str
) -> None:
    sb = sandbox(name)
    duck, lake = url_for("duckdb", tmp_path, request), url_for("parquet", tmp_path, request)
    dataset = f"{name}_data"
    run(tmp_path, sb, name, duck, dataset)
    run(tmp_path, sb, name, lake, dataset)
    a, b = snapshot(duck, dataset), snapshot(lake, dataset)
    assert sorted(a) == sorted(b)
    for t in a:
        assert a[t] == b[t], t
    ta, tb = column_types(duck, dataset), column_types(lake, dataset)
    as_types = {t: {c: restsync_type(d) for c, d in cols.items()} for t, cols in ta.items()}
    bs_types = {t: {c: restsync_type(d) for c, d in cols.items()} for t, cols in tb.items()}
    assert as_types == bs_types


# ---- kill and rerun through the CLI --------------------------------------------------------------

# Short form: commerce (6 resources, 11 tables, 12 pages at 60 records). Long: inventory too
# (20 resources, 33 tables, 40 pages) and more points.
KILL_RECORDS = {"commerce": 60, "inventory": 60}
KILL_POINTS = [
    ("commerce", "page", 7),
    ("commerce", "stage_complete", 1),
    ("commerce", "load_begin", 1),
    ("commerce", "load_table", 1),
    ("commerce", "before_commit", 1),
    ("commerce", "after_commit", 1),
    ("commerce", "parquet_apply", 3),  # inside the Parquet commit, between two tables' moves
]
if LONG:
    KILL_POINTS += [
        ("commerce", "page", 1),
        ("commerce", "page", 12),
        ("commerce", "load_table", 11),  # the last of its 11 tables
        ("commerce", "parquet_apply", 1),
        ("commerce", "parquet_apply", 11),
        *[("inventory", p, n) for p, n in [("page", 1), ("page", 23), ("page", 40)]],
        *[("inventory", p, n) for p, n in [("load_table", 1), ("load_table", 20)]],
        *[("inventory", p, 1) for p in ("load_begin", "before_commit", "after_commit")],
        ("inventory", "parquet_apply", 17),
    ]
KILL_DESTS = [pytest.param("postgres", marks=pytest.mark.postgres), "parquet"]
BEFORE_COMMIT = {"page", "stage_complete", "load_begin", "load_table", "before_commit"}


def run_cli(
    cwd: Path, sb: Any, url: str, dataset: str, kill_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RESTSYNC_KILL_AT"}
    env.update(sb.env())
    if kill_at:
        env["RESTSYNC_KILL_AT"] = kill_at
    args = ["run", sb.name, "--base-url", sb.base_url, "--destination", url, "--dataset", dataset]
    return subprocess.run(
        [sys.executable, "-m", "restsync.cli.main", *args, "--quiet"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def kill_sandboxes() -> Iterator[dict[str, Any]]:
    """connector -> its sandbox, started on first use, shared by a worker's kill tests."""
    started: dict[str, Any] = {}
    yield started
    for sb in started.values():
        sb.__exit__(None, None, None)


@pytest.fixture(scope="module")
def references() -> dict[tuple[str, str], Any]:
    """(connector, kind) -> (tables, state) of an uninterrupted CLI run, once per worker."""
    return {}


def kill_sandbox(name: str, sandboxes: dict[str, Any]) -> Any:
    from restsync.sandbox import Sandbox

    if name not in sandboxes:
        sandboxes[name] = Sandbox(name, records=KILL_RECORDS[name]).__enter__()
    return sandboxes[name]


def reference_for(
    kind: str, sb: Any, refs: dict[tuple[str, str], Any], where: Path, request: Any
) -> Any:
    key = (sb.name, kind)
    if key not in refs:
        url, dataset = url_for(kind, where, request), dataset_for("ref")
        done = run_cli(where, sb, url, dataset)
        assert done.returncode == 0, done.stderr[-2000:]
        refs[key] = (snapshot(url, dataset), stored_state(url, dataset, sb.name))
    return refs[key]


KILL_CASES = [
    pytest.param(kind, name, point, n, marks=marks, id=f"{kind}-{name}-{point}-{n}")
    for kind, marks in (("postgres", [pytest.mark.postgres]), ("parquet", []))
    for name, point, n in KILL_POINTS
    if kind == "parquet" or point != "parquet_apply"
]


@pytest.mark.parametrize(("kind", "name", "point", "n"), KILL_CASES)
def test_kill_then_rerun_converges(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    kill_sandboxes: dict[str, Any],
    references: dict[tuple[str, str], Any],
    request: pytest.FixtureRequest,
    kind: str,
    name: str,
    point: str,
    n: int,
) -> None:
    sb = kill_sandbox(name, kill_sandboxes)
    expected_tables, expected_state = reference_for(
        kind, sb, references, tmp_path_factory.mktemp(f"ref-{kind}"), request
    )
    assert any(expected_tables.values())
    url, dataset = url_for(kind, tmp_path, request), dataset_for("killed")
    killed = run_cli(tmp_path, sb, url, dataset, kill_at=f"{point}:{n}")
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    after_kill = snapshot(url, dataset)
    if point in BEFORE_COMMIT:
        # nothing of the killed run is visible to a reader
        assert not any(after_kill.values()), {t: len(r) for t, r in after_kill.items()}
        assert stored_state(url, dataset, sb.name) == {}
    elif point == "after_commit":
        assert after_kill == expected_tables
    rerun = run_cli(tmp_path, sb, url, dataset)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert snapshot(url, dataset) == expected_tables
    assert stored_state(url, dataset, sb.name) == expected_state


MERGE_KILL_POINTS = [("before_commit", 1), ("after_commit", 1)]
if LONG:
    MERGE_KILL_POINTS += [("load_table", 1), ("load_table", 2), ("load_table", 3), ("page", 1)]


@pytest.mark.parametrize(
    ("point", "n"), MERGE_KILL_POINTS, ids=[f"{p}-{n}" for p, n in MERGE_KILL_POINTS]
)
@pytest.mark.parametrize("kind", [*KILL_DESTS, *(["duckdb"] if LONG else [])])
def test_kill_during_a_merge_over_stored_rows_converges(
    tmp_path: Path, sandbox: Any, request: pytest.FixtureRequest, kind: str, point: str, n: int
) -> None:
    """The second, incremental run (updates and inserts over stored rows) killed, then rerun."""
    sb = sandbox("orders", records=300)
    url, dataset = url_for(kind, tmp_path, request), dataset_for("orders")
    assert run_cli(tmp_path, sb, url, dataset).returncode == 0
    before = snapshot(url, dataset)
    state = stored_state(url, dataset, "orders")
    sb.mutate("orders", updates=7, inserts=5)
    killed = run_cli(tmp_path, sb, url, dataset, kill_at=f"{point}:{n}")
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    if point in BEFORE_COMMIT:
        assert snapshot(url, dataset) == before
        assert stored_state(url, dataset, "orders") == state
    rerun = run_cli(tmp_path, sb, url, dataset)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    fresh_url, fresh = url_for(kind, tmp_path / "fresh", request), dataset_for("orders")
    run(tmp_path / "fresh", sb, "orders", fresh_url, fresh)
    assert snapshot(url, dataset) == snapshot(fresh_url, fresh)
    assert stored_state(url, dataset, "orders") == stored_state(fresh_url, fresh, "orders")


# ---- restsync show ----------------------------------------------------------------------------


def cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "RESTSYNC_KILL_AT"}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "restsync.cli.main", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("kind", DESTS)
def test_show_lists_tables_and_state(
    tmp_path: Path, sandbox: Any, request: pytest.FixtureRequest, kind: str
) -> None:
    sb = sandbox("commerce")
    url, dataset = url_for(kind, tmp_path, request), dataset_for("commerce")
    if kind == "postgres":
        user_host = url.split("://", 1)[1]
        url = f"postgresql://{user_host.replace('@', ':Sh0w-n0t-this@', 1)}"
    run(tmp_path, sb, "commerce", url, dataset)
    done = cli(
        tmp_path, "show", "--destination", url, "--pipeline", "commerce", "--dataset", dataset
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout + done.stderr
    assert "Sh0w-n0t-this" not in text
    for rname in resource_names("commerce"):
        count = len(sb.expected(rname))
        assert any(line.split()[:2] == [rname, str(count)] for line in text.splitlines()), (
            rname,
            text,
        )
    assert "cursor modifiedOn" in text
    assert "committed" in text
