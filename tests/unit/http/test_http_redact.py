from __future__ import annotations

import pytest

from restsync.util.redact import (
    SENSITIVE_PARAMS,
    redact_headers,
    redact_text,
    redact_url,
    register_secret,
)


@pytest.mark.parametrize("name", sorted(SENSITIVE_PARAMS))
def test_sensitive_params_are_masked_by_name(name: str) -> None:
    url = f"https://api.example.com/v1/x?offset=300&{name}=not-registered-value-{name}"
    assert redact_url(url) == f"https://api.example.com/v1/x?offset=300&{name}=***"


def test_param_names_are_case_insensitive_and_fragment_kept() -> None:
    assert (
        redact_url("https://h/x?API_KEY=abc123&page=2#frag")
        == "https://h/x?API_KEY=***&page=2#frag"
    )


def test_other_params_are_kept() -> None:
    url = "https://h/x?offset=300&limit=100&keyword=shoes"
    assert redact_url(url) == url


def test_registered_secret_is_masked_anywhere() -> None:
    register_secret("s3cr3t-in-path-value")
    assert (
        redact_url("https://h/keys/s3cr3t-in-path-value/items?x=1")
        == "https://h/keys/***/items?x=1"
    )
    assert redact_url("https://h/x?q=s3cr3t-in-path-value") == "https://h/x?q=***"
    assert redact_text("token s3cr3t-in-path-value here") == "token *** here"


def test_url_encoded_secret_is_masked() -> None:
    register_secret("a+b/c=d&e-secret")
    assert "a%2Bb%2Fc%3Dd%26e-secret" not in redact_url("https://h/x?q=a%2Bb%2Fc%3Dd%26e-secret")


def test_userinfo_is_masked() -> None:
    assert redact_url("https://user:pass@host.example/x") == "https://***@host.example/x"


def test_short_values_are_not_registered() -> None:
    register_secret("ab")
    assert redact_text("ab cd") == "ab cd"


def test_longest_secret_wins() -> None:
    register_secret("overlap-secret-123")
    register_secret("overlap-secret-123-longer")
    assert redact_text("x overlap-secret-123-longer y") == "x *** y"


def test_redact_headers() -> None:
    register_secret("hdr-secret-value-9")
    out = redact_headers(
        {
            "Authorization": "Bearer abc.def",
            "X-API-Key": "k-123456",
            "Cookie": "session=1",
            "X-Custom": "prefix hdr-secret-value-9",
            "Accept": "application/json",
        }
    )
    assert out == {
        "Authorization": "Bearer ***",
        "X-API-Key": "***",
        "Cookie": "***",
        "X-Custom": "prefix ***",
        "Accept": "application/json",
    }
