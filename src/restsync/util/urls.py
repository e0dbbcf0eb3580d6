"""URL helpers of the HTTP layer: origins and base_url joining."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@lru_cache(maxsize=1024)
def origin_of(url: str) -> str:
    """The origin of `url` as `scheme://host:port` (lowercased, default port made explicit).

    Two URLs may share credentials only when their origins are equal.
    """
    parts = urlsplit(str(url))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{host}:{port}" if port is not None else f"{scheme}://{host}"


def is_absolute(url: str) -> bool:
    """Whether `url` carries its own scheme and host (`https://...`, `//host/...`)."""
    return url.startswith("//") or _ABSOLUTE.match(url) is not None


def join_url(base_url: str, path: str) -> str:
    """Join `path` to `base_url`, keeping the base path.

    `https://host/1.0/` + `/commerce/orders` -> `https://host/1.0/commerce/orders`;
    `https://host` + `v1/x` -> `https://host/v1/x`; an absolute `path` is returned as is.
    """
    if is_absolute(path):
        if path.startswith("//"):
            return f"{urlsplit(base_url).scheme}:{path}"
        return path
    if not path:
        return base_url
    if path[0] in "?#":
        return base_url + path
    return f"{base_url.rstrip('/')}/{path.lstrip('/')}"
