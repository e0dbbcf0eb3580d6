"""dlt's snake_case naming, as the schema names tables and columns.

The convention itself lives in `restsync.util.naming`, below every layer: config
validation predicts table names with it before the schema package is involved.
"""

from __future__ import annotations

from restsync.util.naming import (
    EMPTY_IDENTIFIER,
    MAX_IDENTIFIER_LENGTH,
    PATH_SEPARATOR,
    VARIANT_SEPARATOR,
    NameCollision,
    make_path,
    normalize_identifier,
    normalize_path,
    shorten_identifier,
    variant_name,
)

__all__ = [
    "EMPTY_IDENTIFIER",
    "MAX_IDENTIFIER_LENGTH",
    "PATH_SEPARATOR",
    "VARIANT_SEPARATOR",
    "NameCollision",
    "make_path",
    "normalize_identifier",
    "normalize_path",
    "shorten_identifier",
    "variant_name",
]
