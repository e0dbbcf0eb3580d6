"""restsync's HTTP layer: one client per source, with the policy around it.

`SourceClient` scopes credentials to base_url's origin, retries and throttles through
`RetryTransport` and `HostLimits`, and raises `HTTPStatusError`/`AuthError` with secrets
masked by `restsync.util.redact`. `PageRequest` (`request.py`) is what paginators shape and
the client sends.
"""

from __future__ import annotations

from restsync.http._client import MAX_REDIRECTS, SourceClient
from restsync.http._limits import HostLimits, HostThrottle
from restsync.http._request import PageRequest
from restsync.http._retry import (
    RETRYABLE_ERRORS,
    RequestTrace,
    ResourceStats,
    RetryPolicy,
    RetryTransport,
    parse_retry_after,
)
from restsync.util.redact import redact_headers, redact_text, redact_url, register_secret
from restsync.util.urls import join_url, origin_of

__all__ = [
    "MAX_REDIRECTS",
    "RETRYABLE_ERRORS",
    "HostLimits",
    "HostThrottle",
    "PageRequest",
    "RequestTrace",
    "ResourceStats",
    "RetryPolicy",
    "RetryTransport",
    "SourceClient",
    "join_url",
    "origin_of",
    "parse_retry_after",
    "redact_headers",
    "redact_text",
    "redact_url",
    "register_secret",
]
