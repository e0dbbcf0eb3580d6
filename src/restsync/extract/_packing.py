"""How a page's records travel from the extraction to the normalizer: packed into bytes.

One module owns the format, both ends of it and the choice between its forms:

- `J` + orjson's encoding of the records, `P` + their pickle (what JSON cannot hold
  exactly: integers beyond 64 bits, `NaN`, datetimes): `pack_records`;
- `R` + the key's length, the key, then the response body itself, whose top-level key holds
  the records as they are loaded (`Page.raw`): no encoding at all (`pack_body`). The
  normalizer reads a batch of such bodies with `pyarrow.json` once the schema has settled
  (`raw_pages`, `join_bodies`, `Normalizer.normalize_pages`).

A page travels as its body only when nothing changed its records after `data_selector`
found them (`ships_raw`) and orjson read the body exactly (`raw_page`: no integer beyond
64 bits, see `restsync.digits`).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

import orjson

from restsync.digits import may_exceed_double, may_exceed_int64

__all__ = [
    "join_bodies",
    "may_exceed_double",
    "may_exceed_int64",
    "pack_body",
    "pack_records",
    "raw_page",
    "raw_pages",
    "ships_raw",
    "unpack_records",
]

#: orjson refuses these (TypeError) instead of turning them into JSON text, so a record with
#: a datetime, a dataclass or a str subclass in it is pickled and arrives as it was
_PACK_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def pack_records(records: list[Any]) -> bytes:
    """One page's records as bytes, made as soon as the page is read.

    Holding decoded records until a batch is full costs more than encoding them: on the
    bench shape, keeping 50 pages of records alive before freeing them added 4 µs a
    record (cold memory), and encoding a cold batch cost six times a hot page's encoding.
    Pages therefore travel packed (JSON by orjson; pickle for what JSON cannot hold
    exactly, e.g. integers beyond 64 bits) and are decoded where they are normalized.
    """
    try:
        return b"J" + orjson.dumps(records, option=_PACK_OPTIONS)
    except TypeError:
        return b"P" + pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)


def pack_body(body: bytes, key: str) -> bytes | None:
    """A page shipped as its response `body`, whose top-level `key` holds the records (see
    `Page.raw`): no encoding at all. None when the key is too long to frame."""
    name = key.encode()
    if len(name) > 255:
        return None
    return b"R" + bytes((len(name),)) + name + body


def _body_of(payload: bytes) -> tuple[str, memoryview]:
    """The key and the body of a page packed by `pack_body`."""
    size = payload[1]
    return payload[2 : 2 + size].decode(), memoryview(payload)[2 + size :]


def raw_pages(payloads: list[bytes]) -> tuple[str, list[memoryview]] | None:
    """The bodies of pages packed by `pack_body`, when all of them are, under one key."""
    key: str | None = None
    bodies: list[memoryview] = []
    for payload in payloads:
        if payload[:1] != b"R":
            return None
        name, body = _body_of(payload)
        if key is None:
            key = name
        elif name != key:
            return None
        bodies.append(body)
    return None if key is None else (key, bodies)


def unpack_records(payloads: list[bytes]) -> list[Any]:
    """The records of packed pages, in page order."""
    records: list[Any] = []
    for payload in payloads:
        tag = payload[:1]
        if tag == b"J":
            records.extend(orjson.loads(memoryview(payload)[1:]))
        elif tag == b"R":
            key, body = _body_of(payload)
            records.extend(orjson.loads(body)[key])
        else:
            records.extend(pickle.loads(memoryview(payload)[1:]))  # noqa: S301 - packed here
    return records


def join_bodies(bodies: Sequence[bytes | memoryview]) -> bytes:
    """Bodies unpacked by `raw_pages` as one JSON-lines text (a body a line; a run of
    digits never spans two pages: "\\n" parts them)."""
    return b"\n".join(bodies)


def ships_raw(selector: Any, *, windowed: bool, processed: bool, adds_parent_fields: bool) -> bool:
    """Whether a resource's pages may travel as their bodies: a selector names where the
    records are, and nothing filters (the incremental window), maps (`processing_steps`)
    or adds to them (`include_from_parent`)."""
    return bool(selector) and not (windowed or processed or adds_parent_fields)


def raw_page(
    content: bytes, body: Any, key: Any, records: list[Any], *, by_orjson: bool
) -> tuple[bytes, str] | None:
    """`(content, key)` when `records` are exactly the list under the top-level `key` of
    `body` as orjson read it from `content` (`by_orjson`: no integer beyond 64 bits, see
    `restsync.http._body.decode_json`), so the page can travel as its body; else None."""
    if by_orjson and type(body) is dict and isinstance(key, str) and body.get(key) is records:
        return content, key
    return None
