"""Secret masking: by value (every secret restsync handed out) and by query parameter name.

Two nets catch a secret before it reaches a log line, an exception, stats or a stored URL:

* by value: every credential restsync resolves or receives (`restsync.secrets[...]`, auth
  config values, OAuth2 access tokens) is registered with `register_secret`, and
  `redact_text` replaces it wherever it appears, whatever the parameter or header is called;
* by name: `redact_url` masks the values of query parameters whose names say they hold a
  secret (`api_key=***`), and `redact_headers` those of credential-bearing headers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote_plus

_lock = threading.Lock()
_secrets: set[str] = set()
# Longest first, so a secret that contains another is masked whole. Rebuilt on register.
_ordered: tuple[str, ...] = ()

MASK = "***"

SENSITIVE_PARAMS: frozenset[str] = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "key",
        "token",
        "access_token",
        "access-token",
        "secret",
        "client_secret",
        "password",
        "pwd",
        "client_id",
        "username",
        "signature",
        "sig",
        "auth",
    }
)
"""Query parameter names whose values `redact_url` always masks (compared case-insensitively)."""

SENSITIVE_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "x-access-token",
        "x-token",
    }
)
"""Header names whose values `redact_headers` always masks (compared case-insensitively)."""


def register_secret(value: str) -> None:
    """Remember `value` as a secret, so `redact_text` masks it wherever it appears.

    Values shorter than 4 characters are ignored: masking them would garble ordinary text.
    The URL-encoded forms are registered too, since a key sent in a query string is encoded.
    """
    global _ordered
    if not value or len(value) < 4:
        return
    text = str(value)
    forms = {text, quote(text, safe=""), quote_plus(text, safe="")}
    with _lock:
        if forms <= _secrets:
            return
        _secrets.update(forms)
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def registered_secrets() -> frozenset[str]:
    """Every secret value registered so far (with its URL-encoded forms)."""
    with _lock:
        return frozenset(_secrets)


def restore_secrets(snapshot: frozenset[str]) -> None:
    """Forget every secret registered since `snapshot = registered_secrets()` (test isolation)."""
    global _ordered
    with _lock:
        _secrets.intersection_update(snapshot)
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def is_secret(value: str) -> bool:
    """Whether `value` is a registered secret (exactly)."""
    return value in _secrets


def contains_secret(text: str) -> bool:
    """Whether any registered secret appears in `text`."""
    return any(value in text for value in _ordered)


def redact_text(text: str) -> str:
    """Mask every registered secret value in `text` (longest first)."""
    for value in _ordered:
        if value in text:
            text = text.replace(value, MASK)
    return text


def is_sensitive_param(name: str) -> bool:
    """Whether a query parameter called `name` holds a secret by its name alone."""
    return name.lower() in SENSITIVE_PARAMS


def is_sensitive_header(name: str) -> bool:
    """Whether a header called `name` carries credentials by its name alone."""
    return name.lower() in SENSITIVE_HEADERS


def redact_url(url: object) -> str:
    """Return `url` as text with secrets masked.

    The values of sensitive query parameters (see `SENSITIVE_PARAMS`) become `***`
    (`?api_key=***&offset=300`), user info in the authority is masked, and any registered
    secret is masked wherever else it appears (a key in a path segment, say).
    """
    text = str(url)
    scheme_end = text.find("://")
    if scheme_end != -1:
        # user:password@host
        start = scheme_end + 3
        end = len(text)
        for sep in "/?#":
            pos = text.find(sep, start)
            if pos != -1:
                end = min(end, pos)
        at = text.rfind("@", start, end)
        if at != -1:
            text = f"{text[:start]}{MASK}@{text[at + 1 :]}"
    qpos = text.find("?")
    if qpos != -1:
        fpos = text.find("#", qpos)
        query = text[qpos + 1 : fpos if fpos != -1 else len(text)]
        fragment = text[fpos:] if fpos != -1 else ""
        parts = []
        for part in query.split("&"):
            name, eq, _value = part.partition("=")
            if eq and is_sensitive_param(unquote_plus(name)):
                parts.append(f"{name}={MASK}")
            else:
                parts.append(part)
        text = f"{text[:qpos]}?{'&'.join(parts)}{fragment}"
    return redact_text(text)


def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> dict[str, str]:
    """Return a copy of `headers` with credential-bearing values masked.

    Sensitive header names (`Authorization`, `Cookie`, `X-API-Key`, ...) keep their scheme
    word when there is one (`Bearer ***`); every other value has registered secrets masked.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        if is_sensitive_header(name):
            scheme, sep, _rest = value.partition(" ")
            out[name] = f"{scheme} {MASK}" if sep and scheme.isalpha() else MASK
        else:
            out[name] = redact_text(value)
    return out
