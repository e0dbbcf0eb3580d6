"""Reading a response body as JSON: what Python's `json` reads, fast for plain UTF-8.

The fast path is orjson over the bytes as they came. A body orjson refuses is read the way
Python's `json` module and requests read it, so a source that works in dlt works here:

* a byte order mark (UTF-8, UTF-16, UTF-32), UTF-16/32 without one (`json.detect_encoding`),
  or the `charset` the Content-Type names (`iso-8859-1`, say);
* the `NaN`, `Infinity` and `-Infinity` tokens.

What neither reads is an error that says what came: the status, Content-Type and
Content-Encoding, the first bytes, and the page URL with its secrets masked. gzip, deflate,
br and zstd are decompressed by httpx (brotli and zstandard are dependencies); a body
compressed with another coding (`compress`, say) is named as such.
"""

from __future__ import annotations

import codecs
import contextlib
import json
from typing import Any

import httpx
import orjson

from restsync.digits import may_exceed_int64
from restsync.errors import ResourceError, SelectorError
from restsync.util.redact import redact_text

__all__ = ["decode_json"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_IDENTITY = frozenset({"", "identity"})


def decode_json(response: httpx.Response, *, resource: str, url: str) -> tuple[Any, bool]:
    """The decoded body, and whether it is orjson's reading of it (False: the standard
    library's, for integers beyond 64 bits or a body orjson does not read).

    `url` is the page URL, already redacted. Raises `SelectorError` for a body that is not
    JSON (or not in an encoding Python's `json` reads), saying what came instead.
    """
    content: bytes = response.content
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        return _decode_as_python(response, content, exc, resource=resource, url=url), False
    if may_exceed_int64(content):
        # orjson reads an integer beyond 64 bits as a float, silently rounding it; the
        # standard library keeps it exact (the normalizer then stores it as a decimal)
        with contextlib.suppress(ValueError):  # too many digits for int(): keep orjson's
            return json.loads(content), False
    return body, True


def _decode_as_python(
    response: httpx.Response,
    content: bytes,
    fast_error: orjson.JSONDecodeError,
    *,
    resource: str,
    url: str,
) -> Any:
    unasked = _unrequested_coding(response)
    if unasked:
        accepted = response.request.headers.get("accept-encoding", "") or "none"
        raise _error(
            response,
            url,
            resource,
            kind=ResourceError,
            what=f"is compressed with Content-Encoding '{unasked}', which restsync did not ask for"
            f" (Accept-Encoding: {accepted}) and cannot read",
            hint="the API ignores Accept-Encoding; ask its operators to honour it, or pass"
            " a header the API understands in client.headers",
        )
    encoding = _encoding(response, content)
    try:
        text = content.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        named = response.charset_encoding
        what = f"is not valid {encoding.upper()}" if named is None else f"is not valid {named}"
        if isinstance(exc, LookupError):
            what = f"declares charset '{named}', which Python does not know"
        raise _error(response, url, resource, what=f"{what} ({exc})") from None
    try:
        return json.loads(text, parse_constant=_non_finite)
    except json.JSONDecodeError as exc:
        reason = str(fast_error) if encoding in ("utf-8", "utf-8-sig") else str(exc)
        raise _error(response, url, resource, what=f"is not valid JSON ({reason})") from None


class NonFinite(float):
    """`NaN`, `Infinity` or `-Infinity` read from a body: a float that orjson refuses to
    write (where it would write a plain float's NaN as `null`), so the records holding it
    travel as pickle and reach the destination as the same value."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return (NonFinite, (float(self),))


def _non_finite(token: str) -> float:
    return NonFinite(token)


def _unrequested_coding(response: httpx.Response) -> str | None:
    """A Content-Encoding left on the body that the request did not accept (httpx
    decodes the ones it asked for)."""
    header: str | None = response.headers.get("content-encoding")
    if not header:
        return None
    accepted = {
        c.split(";", 1)[0].strip().lower()
        for c in response.request.headers.get("accept-encoding", "").split(",")
    }
    for coding in (c.strip().lower() for c in header.split(",")):
        if coding not in _IDENTITY and coding not in accepted:
            return coding
    return None


def _encoding(response: httpx.Response, content: bytes) -> str:
    """The encoding Python's `json` and requests would read `content` in: a byte order
    mark first, then the declared charset, then UTF-8/16/32 by the pattern of zero bytes."""
    for bom, name in _BOMS:
        if content.startswith(bom):
            return name
    declared = response.charset_encoding
    if declared:
        return declared.lower()
    return str(json.detect_encoding(content))


def _error(
    response: httpx.Response,
    url: str,
    resource: str,
    *,
    what: str,
    hint: str | None = None,
    kind: type[ResourceError] = SelectorError,
) -> ResourceError:
    """What came instead of JSON. A `SelectorError` may be a glitch the extraction retries;
    a plain `ResourceError` (a coding restsync cannot read) ends the resource at once."""
    content = response.content
    ctype = response.headers.get("content-type", "") or "absent"
    coding = response.headers.get("content-encoding")
    head = redact_text(repr(content[:64]))
    if len(content) > 64:
        head += f" ... ({len(content)} bytes)"
    if hint is None:
        if "html" in ctype.lower():
            hint = (
                "the API answered an HTML page, not JSON (an error or login page?): check"
                " base_url and endpoint.path"
            )
        else:
            hint = "the API's response is not JSON restsync can read; check what it serves there"
    return kind(
        f"the response from {url} {what}; status {response.status_code}, content-type {ctype}"
        + (f", content-encoding {coding}" if coding else "")
        + f"; body starts: {head}",
        resource=resource,
        url=url,
        status=response.status_code,
        hint=hint,
    )
