"""The promise as a property (DESIGN §0): for every generated API and run sequence, either a
run exits successfully and the destination equals the API's data under the config's meaning
(computed by the reference model in `model.py`), or it fails with a restsync error saying
so, and the destination keeps what the last successful run left. Never success with a
difference. Only restsync's public API is used (`rest_api_source`, `restsync.pipeline`).

`make test` (hypothesis derandomized, see tests/conftest.py): a few dozen examples per test;
RESTSYNC_LONG=1 (exploring, new examples every time): hundreds, and the whole model in one
more test (`test_the_whole_model`, skipped otherwise)."""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import restsync
from restsync.errors import RestsyncError

from .model import (
    FAULTS,
    SPELLINGS,
    DestinationImage,
    FakeApi,
    RunData,
    Scenario,
    cursor_number,
    expected_after,
    incremental_served,
)

LONG = bool(os.environ.get("RESTSYNC_LONG"))


def _examples(quick: int, long: int) -> Any:
    return settings(
        max_examples=long if LONG else quick,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --------------------------------------------------------------------------- strategies

AMOUNT_KINDS = ("int", "bigint", "float", "text", "bool", "null")
ID_FORMS = ("int", "float", "str", "mixed")


def _amount(kind: str, key: int, run: int) -> Any:
    return {
        "int": key * 10 + run,
        "bigint": 2**53 + 2 * key + 1,  # not exact as a double
        "float": key + run + 0.5,
        "text": f"amt-{'abc'[key % 3]}{'xyz'[run % 3]}",
        "bool": (key + run) % 2 == 0,
        "null": None,
    }[kind]


def _id(form: str, key: int) -> Any:
    if form == "mixed":
        form = ("int", "float", "str")[key % 3]
    return {"int": key, "float": float(key), "str": str(key)}[form]


def _record(key: int, run: int, id_form: str, amount: str, spelling: str) -> dict[str, Any]:
    return {
        "id": _id(id_form, key),
        "name": f"name-{'pqr'[key % 3]}{'stu'[run % 3]}",
        "amount": _amount(amount, key, run),
        spelling: key * 3,
        "address": {"city": ("Oslo", "Lima", "Pune")[(key + run) % 3]},
        "tags": ["a", "b", "c"][: (key + run) % 3],
    }


TOTALS = ("absent", "right", "low", "high")


@st.composite
def record_runs(
    draw: st.DrawFn, *, runs: tuple[int, int], drift: bool
) -> list[list[dict[str, Any]]]:
    """The records of each run: run 1 has ids 1..n; each later run keeps some ids (with new
    values), drops others and adds new ones; a run may serve a few keys a second time, later
    and changed (under merge the later one wins). With `drift`, the id's JSON type, the
    amount's type and the user field's spelling change from run to run."""
    count = draw(st.integers(runs[0], runs[1]))
    keys = list(range(1, draw(st.integers(0, 30)) + 1))
    next_key = len(keys) + 1
    result = []
    for run in range(count):
        if run:
            kept = [k for k in keys if draw(st.booleans())]
            added = draw(st.integers(0, 8))
            keys = kept + list(range(next_key, next_key + added))
            next_key += added
        id_form = draw(st.sampled_from(ID_FORMS)) if drift else "int"
        amount = draw(st.sampled_from(AMOUNT_KINDS)) if drift else "int"
        spelling = draw(st.sampled_from(SPELLINGS)) if drift else "user_id"
        records = [_record(k, run, id_form, amount, spelling) for k in keys]
        again = draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)) if keys else []
        records += [
            {**_record(k, run + 7, id_form, amount, spelling), "name": "again"} for k in again
        ]
        result.append(records)
    return result


def _no_empty_page(hidden: frozenset[int], width: int) -> frozenset[int]:
    """`hidden` without the positions that would empty a whole page of `width` records: an
    empty page is the end (DESIGN §3; with a total or page count too, as dlt's
    `stop_after_empty_page`, true by default, says, and as an offset that cannot advance
    must), and without a total no client can know otherwise."""
    kept: set[int] = set()
    for position in sorted(hidden):
        if all(p in kept for p in range(position - width + 1, position)):
            continue  # the width-1 positions before it are hidden: it would complete a page
        kept.add(position)
    return frozenset(kept)


@st.composite
def scenarios(
    draw: st.DrawFn,
    *,
    styles: tuple[str, ...] = ("page_number", "offset", "cursor", "json_link"),
    hostile: bool = True,
    auto: bool | None = False,
    drift: bool = False,
    runs: tuple[int, int] = (1, 2),
    dispositions: tuple[str, ...] = ("append", "merge"),
    totals: tuple[str, ...] | None = None,
    cuts: bool = False,
) -> Scenario:
    """`totals`: what page-number and offset bodies may say of the total, drawn per run
    (default: absent, right, low or high when `hostile`, else right). `cuts`: some pages'
    first answers are cut short (`RunData.cut`)."""
    style = draw(st.sampled_from(styles))
    limit = draw(st.integers(1, 8))
    clamp = draw(st.one_of(st.none(), st.integers(1, limit))) if hostile else None
    sizes = (
        tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))) if hostile else (limit,)
    )
    run_data = []
    for records in draw(record_runs(runs=runs, drift=drift)):
        hidden: frozenset[int] = frozenset()
        faults: tuple[tuple[int, str], ...] = ()
        past_end = "empty"
        total = draw(st.sampled_from(totals or (TOTALS if hostile else ("right",))))
        if hostile:
            if style in ("page_number", "offset") and records:
                hidden = frozenset(draw(st.sets(st.integers(0, len(records) - 1), max_size=4)))
                hidden = _no_empty_page(hidden, min(limit, clamp or limit))
            faults = tuple(
                draw(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(FAULTS)), max_size=1))
            )
            # A `null` first page is an empty collection (Go encodes an empty slice as `null`):
            # nothing in it says that records exist, and no client can know otherwise. A
            # `null` after a page with records, and an error object anywhere, are failures.
            faults = tuple(f for f in faults if f != (0, "null"))
            if style in ("page_number", "offset"):
                past_end = draw(st.sampled_from(("empty", "last_page")))
        cut = frozenset(draw(st.sets(st.integers(0, 6), min_size=1, max_size=3))) if cuts else None
        run_data.append(
            RunData(tuple(records), hidden, faults, total, past_end, cut or frozenset())
        )
    is_auto = draw(st.booleans()) if auto is None else auto
    return Scenario(
        style=style,
        limit=limit,
        clamp=clamp,
        sizes=sizes,
        auto=is_auto,
        disposition=draw(st.sampled_from(dispositions)),
        runs=tuple(run_data),
    )


# --------------------------------------------------------------------------- the property


def _describe(scenario: Scenario, run: RunData, api: FakeApi) -> str:
    shown = api.log[:12] + (["..."] if len(api.log) > 12 else [])
    return (
        f"style={scenario.style} auto={scenario.auto} limit={scenario.limit} "
        f"clamp={scenario.clamp} sizes={scenario.sizes} disposition={scenario.disposition}; "
        f"this run: {len(run.records)} records, hidden positions {sorted(run.hidden)}, "
        f"faults {list(run.faults)}, total {run.total}, past the end {run.past_end}; "
        f"requests: {shown}"
    )


def check_promise(scenario: Scenario, postgres: str | None = None) -> list[str | None]:
    """Run every run of `scenario` into a fresh DuckDB file (or a fresh dataset of the
    `postgres` server) and check each outcome; returns each run's error (None: it succeeded)."""
    errors: list[str | None] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "promise.duckdb"
        destination = postgres or f"duckdb:///{db}"
        name = f"promise_{uuid.uuid4().hex[:12]}" if postgres else "promise"
        loaded: list[dict[str, Any]] = []
        last: float | None = None  # the incremental cursor's last value loaded
        for number, run in enumerate(scenario.runs, 1):
            api = FakeApi(scenario, run)
            pipeline = restsync.pipeline(
                name,
                destination=destination,
                pipelines_dir=Path(tmp) / "pipelines",
                transport=httpx.MockTransport(api),
            )
            source = restsync.rest_api_source(scenario.config())
            error: str | None
            try:
                info = pipeline.run(source)
            except RestsyncError as exc:  # anything else is a crash, and fails the test
                error = f"{type(exc).__name__}: {exc}"
            else:
                error = info.failed_resources.get("items")
                assert error or info.loaded, f"run {number} neither loaded nor failed: {info}"
                assert error is None or "items" in error, f"the error names no resource: {error}"
            where = _describe(scenario, run, api)
            assert not api.overflow, (
                f"run {number} paged forever (past {api.requests} requests): {where}"
            )
            if error is None:
                served = api.servable()
                if scenario.incremental:
                    served = incremental_served(run.records, last)
                    last = max([cursor_number(r["updated"]) for r in served] + [last or 0.0])
                loaded = expected_after(scenario.disposition, loaded, served)
            else:
                assert error.strip(), f"run {number} failed without a message: {where}"
            image = (
                DestinationImage.read_postgres(postgres, pipeline.dataset_name)
                if postgres
                else DestinationImage.read(db, pipeline.dataset_name)
            )
            difference = image.difference(loaded)
            outcome = (
                "exited successfully" if error is None else f"failed ({error.splitlines()[0]})"
            )
            assert difference is None, (
                f"run {number} {outcome} but the destination is not the API's data: "
                f"{difference}\n{where}"
            )
            errors.append(error)
    return errors


@_examples(quick=40, long=400)
@given(scenarios(hostile=True, runs=(1, 1)))
def test_hostile_pagination_is_exact_or_an_error(scenario: Scenario) -> None:
    """Explicit paginators over clamped, filtered and variable pages, absent/right/lying
    totals, `null`/error bodies and repeated pages, under append and merge."""
    check_promise(scenario)


@_examples(quick=25, long=250)
@given(scenarios(hostile=False, auto=None, runs=(1, 1), totals=("right", "absent"), cuts=True))
def test_bodies_cut_short_once_are_asked_again_and_loaded_exactly(scenario: Scenario) -> None:
    """An honest API whose answer to some pages is cut short once (a dropped proxy, say): the
    page is asked again, also a page fetched ahead (page counts and totals let restsync fetch
    ahead), and the run ends as it does without the cuts: exactly the API's data, or the same
    error."""
    whole = replace(scenario, runs=tuple(replace(r, cut=frozenset()) for r in scenario.runs))
    expected = check_promise(whole)
    got = check_promise(scenario)
    assert [e is None for e in got] == [e is None for e in expected], (got, expected)


@_examples(quick=25, long=250)
@given(scenarios(hostile=False, auto=True, runs=(1, 1), totals=TOTALS))
def test_auto_detected_pagination_is_exact_or_an_error(scenario: Scenario) -> None:
    """No paginator in the config; every API shows its pagination in its bodies (a cursor, a
    next link, a total or page count, right or lying, or only the page number or offset)."""
    check_promise(scenario)


@_examples(quick=20, long=300)
@given(
    scenarios(
        styles=("json_link", "cursor"),
        hostile=False,
        drift=True,
        runs=(2, 3),
        dispositions=("append", "merge", "replace"),
    )
)
def test_drift_across_runs_is_exact_or_an_error(scenario: Scenario) -> None:
    """Two or three runs, clean pagination; the id's JSON type, a value's type and a field's
    spelling change between runs, under append, merge and replace."""
    check_promise(scenario)


@st.composite
def incremental_scenarios(draw: st.DrawFn) -> Scenario:
    """Two or three incremental merge runs: each later run changes some records (a new, higher
    `updated`) and adds some; the cursor is served as a number or as a string of digits, and
    its values cross a power of ten (9 -> 10) so that text order and number order differ."""
    keys = list(range(1, draw(st.integers(1, 12)) + 1))
    version = {key: key for key in keys}  # run 1's last cursor value is len(keys)
    clock = len(keys)
    runs = []
    for run in range(draw(st.integers(2, 3))):
        if run:
            for key in keys:
                if draw(st.booleans()):
                    clock += draw(st.integers(1, 6))
                    version[key] = clock
            for key in range(len(keys) + 1, len(keys) + 1 + draw(st.integers(0, 4))):
                clock += 1
                keys.append(key)
                version[key] = clock
        form = draw(st.sampled_from(("int", "str", "mixed")))
        records = []
        for key in keys:
            record = _record(key, version[key], "int", "int", "user_id")
            as_text = form == "str" or (form == "mixed" and key % 2 == 0)
            record["updated"] = str(version[key]) if as_text else version[key]
            records.append(record)
        runs.append(RunData(tuple(records)))
    return Scenario(
        style="cursor",
        limit=draw(st.integers(1, 5)),
        clamp=None,
        sizes=(draw(st.integers(1, 5)),),
        auto=False,
        disposition="merge",
        runs=tuple(runs),
        incremental=True,
    )


@_examples(quick=25, long=250)
@given(incremental_scenarios())
def test_incremental_runs_are_exact_or_an_error(scenario: Scenario) -> None:
    """Incremental merge runs whose cursor is served as numbers or strings of digits: the
    destination always equals the API's current data."""
    check_promise(scenario)


@pytest.mark.slow
@pytest.mark.skipif(not LONG, reason="the whole model runs under RESTSYNC_LONG=1 (make test-long)")
@_examples(quick=150, long=1000)
@given(
    scenarios(
        hostile=True,
        auto=None,
        drift=True,
        runs=(1, 3),
        dispositions=("append", "merge", "replace"),
    )
)
def test_the_whole_model(scenario: Scenario) -> None:
    """Everything at once: hostile pages, auto-detection, drift, three dispositions."""
    check_promise(scenario)
