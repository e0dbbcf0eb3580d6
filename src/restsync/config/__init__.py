"""restsync.config: the config dialect, its validation, defaults, secrets and files.

    from restsync.config import validate_config, expand_resources

    validate_config(config)              # one ConfigError listing every problem
    for resource in expand_resources(config):
        ...                              # full dicts, resource_defaults merged in

The secrets accessor lives in `restsync.config._secrets.secrets` (and is `restsync.secrets`);
it is not re-exported here, so `restsync.config._secrets` stays the module.
"""

from __future__ import annotations

from restsync.config._defaults import (
    deep_merge,
    expand_resource,
    expand_resources,
    parent_resources,
    write_disposition_of,
)
from restsync.config._dialect import RESTAPIConfig
from restsync.config._files import load_config_file
from restsync.config._secrets import Secret, Secrets
from restsync.config._validate import find_problems, validate_config

__all__ = [
    "RESTAPIConfig",
    "Secret",
    "Secrets",
    "deep_merge",
    "expand_resource",
    "expand_resources",
    "find_problems",
    "load_config_file",
    "parent_resources",
    "validate_config",
    "write_disposition_of",
]
