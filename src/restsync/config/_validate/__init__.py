"""Strict, kind validation of a config dict: every problem at once, with paths and hints.

    validate_config(config)   # returns None, or raises one ConfigError listing every problem

Each problem names the key path in your own notation and says how to fix it:

    config error (2 problems), nothing was requested:
      resources[2].endpoint.paginator.type: unknown paginator 'offest' (did you mean 'offset'?)
      client.auth: 'api_key' auth needs 'api_key'; got keys name, location

Values under `auth` and `Secret` values are never echoed (`***`), and every message also
goes through the redactor, so no registered secret can appear in it.

The checks are split by concern: `resources` (the config, its client and resources, and
the rules across resources), `endpoint` (endpoints, params, incremental, response actions,
error handler), `registries` (paginator and auth entries against their registries),
`write` (write disposition, columns, schema contract, tables, `write_problems`), on top of
`base` (the generic checks) and `messages` (message helpers, the walk of the dialect's
value types).
"""

from __future__ import annotations

from restsync.config._validate.base import EXCLUSIVE_KEYS
from restsync.config._validate.registries import paginator_key_types
from restsync.config._validate.resources import (
    PROCESSING_STEP_KINDS,
    find_problems,
    validate_config,
)
from restsync.config._validate.write import RESERVED_TABLE_PREFIXES, write_problems

__all__ = [
    "EXCLUSIVE_KEYS",
    "PROCESSING_STEP_KINDS",
    "RESERVED_TABLE_PREFIXES",
    "find_problems",
    "paginator_key_types",
    "validate_config",
    "write_problems",
]
