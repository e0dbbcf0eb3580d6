"""The HTTP layer's name for the URL helpers, which live in `restsync.util.urls`."""

from __future__ import annotations

from restsync.util.urls import is_absolute, join_url, origin_of

__all__ = ["is_absolute", "join_url", "origin_of"]
