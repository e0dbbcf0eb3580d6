"""`restsync.util`: the one path walker, did-you-mean, JSON text and URL masker."""

from __future__ import annotations

import pytest

from restsync.util.jsontext import json_text
from restsync.util.paths import compile_path, find_first, lookup
from restsync.util.redact import redact_url
from restsync.util.suggest import did_you_mean, suggest

BODY = {
    "items": [{"id": 1}, {"id": 2}, {"id": 3}],
    "@odata.nextLink": "https://h/next",
    "@odata": {"nextLink": "https://h/other"},
    "meta": {"-1": "a key", "next": None},
}


def test_dotted_paths_walk_keys_and_digit_positions() -> None:
    assert find_first(BODY, "items.0.id") == 1
    assert find_first(BODY, "items.2.id") == 3
    assert compile_path("items.3.id")(BODY) == []


def test_a_negative_position_is_jsonpath_only_as_in_dlt() -> None:
    assert find_first(BODY, "items[-1].id") == 3
    assert compile_path("items.-1.id")(BODY) == []  # a key, never a position from the end
    assert find_first(BODY, "meta.-1") == "a key"


def test_a_key_with_dots_is_found_whole_first() -> None:
    assert find_first(BODY, "@odata.nextLink") == "https://h/next"
    assert find_first({"@odata": {"nextLink": "x"}}, "@odata.nextLink") == "x"


def test_lookup_tells_a_present_null_from_a_missing_key() -> None:
    assert lookup(BODY, "meta.next") == (True, None)
    assert lookup(BODY, "meta.previous") == (False, None)
    assert lookup(BODY, "items.1") == (True, {"id": 2})


def test_invalid_jsonpath_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid JSONPath"):
        compile_path("$.items[")


@pytest.mark.parametrize(
    ("word", "choices", "expected"),
    [
        ("Offset", ["offset", "cursor"], "offset"),  # case first
        ("offest", ["offset", "cursor"], "offset"),  # close spelling
        ("retry_on", ["retry_on_status_codes", "max_retries"], "retry_on_status_codes"),  # prefix
        ("ret", ["retry_on_status_codes"], None),  # a prefix shorter than 4 is no guess
        ("zzz", ["offset", "cursor"], None),
    ],
)
def test_suggest(word: str, choices: list[str], expected: str | None) -> None:
    assert suggest(word, choices) == expected
    assert did_you_mean(word, choices) == (f" (did you mean '{expected}'?)" if expected else "")


def test_json_text_falls_back_to_json_for_what_orjson_cannot_encode() -> None:
    assert json_text({"a": [1, "é"], 2: None}) == '{"a":[1,"é"],"2":null}'
    assert json_text(2**70) == str(2**70)
    assert json_text({"s": {1}}) == '{"s": "{1}"}'


def test_redact_url_masks_user_info_whole() -> None:
    assert redact_url("postgresql://app:pw@db:5432/wh") == "postgresql://***@db:5432/wh"
    assert redact_url("postgresql://app@db/wh") == "postgresql://***@db/wh"
    assert redact_url("https://h/x?api_key=k&page=2") == "https://h/x?api_key=***&page=2"
