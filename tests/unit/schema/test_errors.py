"""DataError messages and schema behaviour that is not a golden case."""

from __future__ import annotations

import pyarrow as pa
import pytest

from restsync.errors import DataError
from restsync.schema._evolve import conform
from restsync.schema._model import SEQ, Schema
from restsync.schema._normalize import Normalizer, infer_batch


def test_missing_primary_key_under_merge() -> None:
    norm = Normalizer(
        Schema("s"), "products", "products", write_disposition="merge", primary_key="id"
    )
    records = [{"id": i, "name": "x", "price": 1} for i in range(17)]
    records.append({"product_id": 5, "name": "y", "price": 2.0})
    with pytest.raises(DataError) as exc:
        norm.normalize(records, "l", 0)
    msg = str(exc.value)
    assert "resource 'products'" in msg
    assert "record 17 on this page has no primary key 'id'" in msg
    assert (
        "set primary_key to a field every record has (fields seen: product_id, name, price)" in msg
    )
    assert exc.value.resource == "products"


def test_null_primary_key_under_merge() -> None:
    norm = Normalizer(Schema("s"), "p", "p", write_disposition="merge", primary_key="id")
    with pytest.raises(DataError, match="record 0 on this page has a null primary key 'id'"):
        norm.normalize([{"id": None}], "l", 0)


def test_record_not_an_object() -> None:
    norm = Normalizer(Schema("s"), "p", "p")
    with pytest.raises(DataError, match=r"record 1 on this page is int 5, not an object"):
        norm.normalize([{"a": 1}, 5], "l", 0)


def test_huge_text_deep_nesting_and_big_numbers() -> None:
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(100):
        deep = {"n": deep}
    rec = {"id": 1, "text": "x" * 10_000_000, "deep": deep, "big": 2**200, "f": 1e308}
    out = Normalizer(Schema("s"), "r", "r").normalize([rec], "l", 0)
    t = out["r"]
    assert len(t.column("text")[0].as_py()) == 10_000_000
    json_cols = [n for n in t.column_names if n.startswith("deep__")]
    assert len(json_cols) == 1
    assert "leaf" in t.column(json_cols[0])[0].as_py()
    assert t.column("big")[0].as_py() == str(2**200)
    assert t.column("f")[0].as_py() == 1e308


def test_locked_column_keeps_type_and_promotes_bigint_to_double() -> None:
    schema = infer_batch([{"a": 1, "s": "x"}], "r", "r")
    norm = Normalizer(schema, "r", "r")  # columns now exist: locked
    norm.normalize([{"a": 1.5, "s": 7}], "l", 0)
    cols = {c.name: c.data_type for c in schema.tables["r"].columns.values()}
    assert cols["a"] == "double"
    assert cols["s"] == "text"
    assert cols["s__v_bigint"] == "bigint"
    assert any(c.kind == "promotion" for c in norm.changes)


def test_conform_promotes_and_moves_to_variants() -> None:
    schema = Schema("s")
    norm = Normalizer(schema, "r", "r")
    first = norm.normalize([{"v": "abc"}, {"v": "def"}], "l", 0)["r"]
    norm.normalize([{"v": 3}], "l", 2)
    conformed = conform(first, schema.tables["r"])
    assert conformed.column("v").to_pylist() == [None, None]
    assert conformed.column("v__v_text").to_pylist() == ["abc", "def"]
    assert conformed.column(SEQ).to_pylist() == [0, 1]
    assert conformed.schema.field("v").type == pa.int64()


def test_a_decimal_hint_without_scale_is_normalized_as_staged_and_created() -> None:
    from decimal import Decimal

    from restsync.schema._model import DEFAULT_SCALE
    from restsync.stage import arrow_type

    schema = Schema("s")
    money = {"data_type": "decimal", "precision": 12}
    out = Normalizer(schema, "r", "r", columns={"a": money}).normalize(
        [{"a": "1.25"}, {"a": 2.5}], "l", 0
    )
    column = schema.tables["r"].columns["a"]
    assert out["r"].schema.field("a").type == pa.decimal128(12, DEFAULT_SCALE)
    assert arrow_type(column) == pa.decimal128(12, DEFAULT_SCALE)
    assert out["r"].column("a").to_pylist() == [Decimal("1.25"), Decimal("2.5")]
    assert not [c for c in schema.tables["r"].columns if c.startswith("a__v_")]


def test_whole_numbers_land_in_a_narrow_decimal_column() -> None:
    """decimal(10, 2) holds 5 exactly: an integer sent for a money column is not a variant."""
    from decimal import Decimal

    schema = Schema("s")
    money = {"data_type": "decimal", "precision": 10, "scale": 2}
    out = Normalizer(schema, "r", "r", columns={"a": money}).normalize(
        [{"a": 5}, {"a": "1.25"}, {"a": -3}, {"a": 2.5}], "l", 0
    )
    assert out["r"].schema.field("a").type == pa.decimal128(10, 2)
    assert out["r"].column("a").to_pylist() == [
        Decimal("5.00"),
        Decimal("1.25"),
        Decimal("-3.00"),
        Decimal("2.50"),
    ]
    assert not [c for c in schema.tables["r"].columns if c.startswith("a__v_")]


def test_an_integer_too_wide_for_a_decimal_column_is_kept_in_a_variant() -> None:
    """A value that does not fit decimal(10, 2) is not rounded or lost: the batch's integers
    go to the variant column, exactly."""
    schema = Schema("s")
    money = {"data_type": "decimal", "precision": 10, "scale": 2}
    out = Normalizer(schema, "r", "r", columns={"a": money}).normalize(
        [{"a": 5}, {"a": 10**12}], "l", 0
    )
    assert out["r"].column("a__v_bigint").to_pylist() == [5, 10**12]
