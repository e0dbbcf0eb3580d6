"""Identifier normalization (dlt snake_case) and shortening."""

from __future__ import annotations

import pytest

from restsync.schema._naming import (
    MAX_IDENTIFIER_LENGTH,
    make_path,
    normalize_identifier,
    normalize_path,
    shorten_identifier,
    variant_name,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("customerId", "customer_id"),
        ("Shipping Address", "shipping_address"),
        ("HTTPServer", "http_server"),
        ("1st", "_1st"),
        ("id_", "idx"),
        ("a__b", "a_b"),
        ("café", "cafx"),
        ("a+b", "axb"),
        ("e-mail", "e_mail"),
        ("  spaced  ", "spaced"),
        ("user@host", "userahost"),
        ("already_snake", "already_snake"),
    ],
)
def test_snake_case(raw: str, expected: str) -> None:
    assert normalize_identifier(raw) == expected
    assert normalize_identifier(raw) == expected  # cached path


def test_path_keeps_separator() -> None:
    assert make_path("shipping_address", "city") == "shipping_address__city"
    assert normalize_path("shippingAddress__zipCode") == "shipping_address__zip_code"


def test_long_identifiers_are_shortened_stably() -> None:
    long_a = "a" * 80 + "_x"
    long_b = "a" * 80 + "_y"
    sa, sb = shorten_identifier(long_a), shorten_identifier(long_b)
    assert len(sa.encode()) <= MAX_IDENTIFIER_LENGTH
    assert sa != sb
    assert shorten_identifier(long_a) == sa
    assert shorten_identifier("short") == "short"


def test_variant_name() -> None:
    assert variant_name("price", "text") == "price__v_text"
