"""The stop-condition language: grammar table, error messages, and safety."""

from __future__ import annotations

import builtins
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restsync.paginate._stop_condition import StopCondition, parse_stop_condition

BODY: dict[str, Any] = {
    "pagination": {"nextPageUrl": None, "page": 3, "pages": 3},
    "meta": {"has_more": False, "has_more_str": "false", "more_str": "TRUE", "total": "120"},
    "data": [{"id": 7, "name": "a"}, {"id": 9, "name": "b"}],
    "cursor": "",
    "count": 0,
    "name": "orders",
    "weird-key": 1,
    "@odata.nextLink": "https://x/next",
    "records": ["body-level"],
}
RECORDS = [{"id": 1}] * 40

VALID = [
    # (expression, value on BODY/RECORDS)
    ("not pagination.nextPageUrl", True),
    ("pagination.nextPageUrl", False),
    ("pagination.nextPageUrl is null", True),
    ("pagination.nextPageUrl is None", True),
    ("pagination.nextPageUrl is not null", False),
    ("pagination.missing.deeper is null", True),
    ("meta.has_more == false", True),
    ("meta.has_more == False", True),
    ("meta.has_more != true", True),
    ("not meta.has_more", True),
    ("not meta.has_more_str", True),  # the string "false" counts as false
    ("meta.has_more_str == false", True),
    ("meta.more_str == true", True),
    ("meta.more_str", True),
    ("pagination.page >= pagination.pages", True),
    ("pagination.page < pagination.pages", False),
    ("pagination.page == 3", True),
    ("pagination.page == 3.0", True),
    ("pagination.page != 3", False),
    ("meta.total > 100", True),  # a numeric string compares as a number
    ("meta.total <= 120", True),
    ("len(records) < 100", True),
    ("len(records) == 40", True),
    ("len(data) == 2", True),
    ("len(response.records) == 1", True),
    ("len(missing) == 0", True),
    ("len(name) == 6", True),
    ("data[0].id == 7", True),
    ("data[-1].id == 9", True),
    ("data[5].id is null", True),
    ('data[1]["name"] == "b"', True),
    ("data[0].name == 'a'", True),
    ('response["@odata.nextLink"] is not null', True),
    ("response.name == 'orders'", True),
    ("$.name == 'orders'", True),
    ("weird-key == 1", True),
    ("cursor == ''", True),
    ("not cursor", True),
    ("not count", True),
    ("count == false", False),  # 0 is not the boolean false
    ("count == 0", True),
    ("name == 1", False),
    ("name < 5", False),  # mismatched types never order
    ("missing < 5", False),
    ("missing == null", True),
    ("'a' < 'b'", True),
    ("-1 < 0", True),
    ("1e3 == 1000", True),
    ("true and not false", True),
    ("false or null or 0", False),
    ("not pagination.nextPageUrl and len(data) > 0", True),
    ("pagination.nextPageUrl or meta.has_more", False),
    ("(pagination.page == 1 or pagination.page == 3) and not meta.has_more", True),
    ("not not true", True),
    ("pagination.page == 3 and (meta.total == '120' or false)", True),
    ("a.__class__ is null", True),
    ("data.__class__.__name__ == 'list'", False),
    ("data.__len__ is null", True),
]


@pytest.mark.parametrize(("expression", "expected"), VALID)
def test_valid_expressions(expression: str, expected: bool) -> None:
    cond = parse_stop_condition(expression)
    assert cond.evaluate(BODY, RECORDS) is expected


INVALID = [
    ("", 'unexpected end of expression at column 1 in ""'),
    ("   ", 'unexpected end of expression at column 4 in "   "'),
    ("(a == 1))", "unexpected ')' at column 9 in \"(a == 1))\""),
    ("not pagination.x)", "unexpected ')' at column 17 in \"not pagination.x)\""),
    ("a ==", 'unexpected end of expression at column 5 in "a =="'),
    ("a = 1", "unexpected character '=' at column 3 in \"a = 1\""),
    ("a && b", "unexpected character '&' at column 3 in \"a && b\""),
    ("a.", 'unexpected end of expression at column 3 in "a."'),
    ("a..b", "unexpected '.' at column 3 in \"a..b\""),
    ("a[", 'unexpected end of expression at column 3 in "a["'),
    ("a[1.5]", "unexpected '1.5' at column 3 in \"a[1.5]\""),
    ("a[b]", "unexpected 'b' at column 3 in \"a[b]\""),
    ("len(1)", "unexpected '1' at column 5 in \"len(1)\""),
    ("len data", "unexpected 'data' at column 5 in \"len data\""),
    ("'open", 'unterminated string starting at column 1 in "\'open"'),
    ("a is 1", "unexpected '1' at column 6 in \"a is 1\""),
    ("a is not", 'unexpected end of expression at column 9 in "a is not"'),
    ("and a", "unexpected 'and' at column 1 in \"and a\""),
    ("a b", "unexpected 'b' at column 3 in \"a b\""),
    ("a == 1 == 2", "unexpected '==' at column 8 in \"a == 1 == 2\""),
    ("1.2.3 == a", "bad number '1.2.3' at column 1 in \"1.2.3 == a\""),
    ("__import__('os')", "unexpected '(' at column 11 in \"__import__('os')\""),
    (
        "os.system('rm -rf /')",
        "unexpected '(' at column 10 in \"os.system('rm -rf /')\"",
    ),
    ("a.b()", "unexpected '(' at column 4 in \"a.b()\""),
    ("lambda: 1", "unexpected character ':' at column 7 in \"lambda: 1\""),
    ("a if b else c", "unexpected 'if' at column 3 in \"a if b else c\""),
    ("x + 1", "unexpected character '+' at column 3 in \"x + 1\""),
    ('say "hi', 'unterminated string starting at column 5 in "say \\"hi"'),
]


@pytest.mark.parametrize(("expression", "message"), INVALID)
def test_invalid_expressions_point_at_the_column(expression: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_stop_condition(expression)
    assert str(info.value) == message


def test_nesting_is_bounded() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_stop_condition("(" * 500 + "a" + ")" * 500)
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_stop_condition("not " * 500 + "a")
    assert parse_stop_condition("(" * 20 + "a" + ")" * 20).evaluate({"a": 1}, [])


def test_records_name_and_response_root() -> None:
    cond = parse_stop_condition("len(records) < 2 and len(response.records) == 3")
    assert cond.evaluate({"records": [1, 2, 3]}, [1])
    assert not cond.evaluate({"records": [1, 2, 3]}, [1, 2])
    assert cond.evaluate({"records": [1, 2, 3]}) is True  # records default to none
    assert repr(cond) == "StopCondition('len(records) < 2 and len(response.records) == 3')"


def test_paths_never_reach_python_attributes() -> None:
    class Trap:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"attribute {name} was read")

        def __getitem__(self, key: Any) -> Any:
            raise AssertionError(f"item {key} was read")

    for text in ("a.b", "a[0]", "a.__class__", "len(a)", "a.__dict__ is null"):
        cond = parse_stop_condition(text)
        cond.evaluate({"a": Trap()}, [])  # no attribute or item of a non-JSON value
    assert parse_stop_condition("a.__class__ is null").evaluate({"a": {}}, [])
    assert parse_stop_condition("a.keys is null").evaluate({"a": {"x": 1}}, [])
    assert parse_stop_condition("a.keys == 1").evaluate({"a": {"keys": 1}}, [])


def test_non_string_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parse_stop_condition(3)  # type: ignore[arg-type]


# --- properties -------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    [
        *"abcxyz_.[]()'\"0123456789-=!<> \t",
        *("not ", " and ", " or ", " is ", "null", "len(", "records", "response"),
        *("__import__", "os.system(", "__class__", "True", "eval("),
    ]
)
_BODIES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


def _forbidden(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the evaluator must not use eval/exec/compile")


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(_ALPHABET, max_size=12), raw=st.text(max_size=30), body=_BODIES)
def test_random_text_parses_or_raises_value_error(pieces: list[str], raw: str, body: Any) -> None:
    for text in ("".join(pieces), raw):
        with (
            mock.patch.object(builtins, "eval", _forbidden),
            mock.patch.object(builtins, "exec", _forbidden),
            mock.patch.object(builtins, "compile", _forbidden),
        ):
            try:
                cond = parse_stop_condition(text)
            except ValueError as exc:
                message = str(exc)
                assert " at column " in message
                continue
            assert isinstance(cond, StopCondition)
            assert cond.evaluate(body, [body]) in (True, False)


_NAMES = st.sampled_from(["a", "b", "meta", "has_more", "records", "response", "__class__"])
_PATHS = st.builds(
    lambda head, rest: head + "".join(rest),
    _NAMES,
    st.lists(
        _NAMES.map(lambda n: "." + n) | st.integers(-3, 3).map(lambda i: f"[{i}]"), max_size=3
    ),
)
_LITERALS = st.sampled_from(["1", "-2.5", "'x'", '"y"', "true", "False", "null", "None"])
_OPERANDS = _PATHS | _LITERALS | _PATHS.map(lambda p: f"len({p})")


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    return (
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner, ops, inner)
        | st.builds(lambda a, b: f"{a} and {b}", inner, inner)
        | st.builds(lambda a, b: f"{a} or {b}", inner, inner)
        | inner.map(lambda a: f"not {a}")
        | inner.map(lambda a: f"({a})")
        | inner.map(lambda a: f"({a}) is not null")
    )


@settings(max_examples=200, deadline=None)
@given(text=st.recursive(_OPERANDS, _combine, max_leaves=6), body=_BODIES)
def test_grammar_generated_expressions_always_parse(text: str, body: Any) -> None:
    try:
        cond = parse_stop_condition(text)
    except ValueError as exc:
        # `a == b == c` is not in the grammar (comparisons do not chain)
        assert "unexpected" in str(exc)  # noqa: PT017
        return
    assert cond.evaluate(body, []) in (True, False)
