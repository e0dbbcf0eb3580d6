"""Secret masking: by value (every secret restsync handed out) and by query parameter name.

Two nets catch a secret before it reaches a log line, an exception, stats or a stored URL:

* by value: every credential restsync resolves or receives (`restsync.secrets[...]`, auth
  config values, OAuth2 access tokens) is registered with `register_secret`, and
  `redact_text` replaces it wherever it appears, whatever the parameter or header is called;
* by name: `redact_url` masks the values of query parameters whose names say they hold a
  secret (`api_key=***`), and `redact_headers` those of credential-bearing headers.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote_plus

_lock = threading.Lock()
_secrets: set[str] = set()
_raw: set[str] = set()  # the values as registered, without their URL-encoded forms
# Longest first, so a secret that contains another is masked whole. Rebuilt on register.
_ordered: tuple[str, ...] = ()
# Every secret in any encoding an API may echo it in (see `_encoded_pattern`). Rebuilt too.
_encoded: re.Pattern[str] | None = None

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
    global _ordered, _encoded
    if not value or len(value) < 4:
        return
    text = str(value)
    forms = {text, quote(text, safe=""), quote_plus(text, safe="")}
    with _lock:
        if forms <= _secrets:
            return
        _secrets.update(forms)
        _raw.add(text)
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))
        _encoded = _encoded_pattern(_raw)


def registered_secrets() -> frozenset[str]:
    """Every secret value registered so far (with its URL-encoded forms)."""
    with _lock:
        return frozenset(_secrets)


def restore_secrets(snapshot: frozenset[str]) -> None:
    """Forget every secret registered since `snapshot = registered_secrets()` (test isolation)."""
    global _ordered, _encoded
    with _lock:
        _secrets.intersection_update(snapshot)
        _raw.intersection_update(snapshot)
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))
        _encoded = _encoded_pattern(_raw)


def is_secret(value: str) -> bool:
    """Whether `value` is a registered secret (exactly)."""
    return value in _secrets


def contains_secret(text: str) -> bool:
    """Whether any registered secret appears in `text`."""
    return any(value in text for value in _ordered)


def redact_text(text: str) -> str:
    """Mask every registered secret value in `text` (longest first), in every encoding an
    API may echo it in: as is, percent-encoded (`%2F` or `%2f`, `+` or `%20` for a space, any
    mix of encoded and plain characters) and JSON-escaped (`\\/`, `\\u002f`)."""
    for value in _ordered:
        if value in text:
            text = text.replace(value, MASK)
    pattern = _encoded
    if pattern is not None and ("%" in text or "\\" in text or "+" in text):
        text = pattern.sub(MASK, text)
    return text


def _encoded_pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching each of `values` in any of its encodings (longest first).

    Only values with a character that has another spelling need it: letters and digits
    are sent as they are.
    """
    spelled = [v for v in values if not (v.isascii() and v.isalnum())]
    if not spelled:
        return None
    spelled.sort(key=len, reverse=True)
    return re.compile("|".join("".join(_spellings(ch) for ch in v) for v in spelled))


_JSON_SHORT = {"/": r"\\/", '"': r"\\\"", "\\": r"\\\\", "\n": r"\\n", "\t": r"\\t"}


def _spellings(ch: str) -> str:
    """A pattern for one character of a secret: itself, percent-encoded, JSON-escaped."""
    if ch.isascii() and ch.isalnum():
        return ch
    alternatives = [re.escape(ch), "".join(f"%{_hex(b)}" for b in ch.encode())]
    if ch == " ":
        alternatives.append(r"\+")
    if ch in _JSON_SHORT:
        alternatives.append(_JSON_SHORT[ch])
    if ord(ch) <= 0xFFFF:
        alternatives.append(r"\\u" + "".join(_hex_digit(d) for d in f"{ord(ch):04X}"))
    return f"(?:{'|'.join(alternatives)})"


def _hex(byte: int) -> str:
    return "".join(_hex_digit(d) for d in f"{byte:02X}")


def _hex_digit(digit: str) -> str:
    return f"[{digit}{digit.lower()}]" if digit.isalpha() else digit


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
