"""The HTTP layer's name for the redactor, which lives in `restsync.util.redact` (below
every layer, so auth, config and destinations mask secrets without importing the HTTP
layer)."""

from __future__ import annotations

from restsync.util.redact import (
    MASK,
    SENSITIVE_HEADERS,
    SENSITIVE_PARAMS,
    contains_secret,
    is_secret,
    is_sensitive_header,
    is_sensitive_param,
    redact_headers,
    redact_text,
    redact_url,
    register_secret,
    registered_secrets,
    restore_secrets,
)

__all__ = [
    "MASK",
    "SENSITIVE_HEADERS",
    "SENSITIVE_PARAMS",
    "contains_secret",
    "is_secret",
    "is_sensitive_header",
    "is_sensitive_param",
    "redact_headers",
    "redact_text",
    "redact_url",
    "register_secret",
    "registered_secrets",
    "restore_secrets",
]
