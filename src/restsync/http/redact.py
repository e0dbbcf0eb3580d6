"""Secret masking: by value (every secret restsync handed out) and by query parameter name."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_secrets: set[str] = set()

MASK = "***"


def register_secret(value: str) -> None:
    """Remember `value` as a secret, so `redact_text` masks it wherever it appears."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(str(value))


def registered_secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


def redact_text(text: str) -> str:
    """Mask every registered secret value in `text` (longest first)."""
    for value in sorted(registered_secrets(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text
