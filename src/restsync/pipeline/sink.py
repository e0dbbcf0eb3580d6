"""The bytes that cross a run's boundaries: pages between threads, messages over the pipe.

Pages: the extraction thread packs each page as soon as it is read (`pack_records`), or
ships its response body as it came (`pack_body`, the `b"R"` frame); the normalizer unpacks
them (`unpack_records`), or reads the bodies with Arrow (`raw_pages`).

Messages: the normalizer process (`restsync.pipeline.worker`) and the run that started it
talk over its stdin and stdout in frames of a kind byte and a 64-bit length (`send`,
`receive`); the payload is a pickle of plain data (a `Batch`, the schema as a dict, the
`BatchError`s of a batch, whose `DataError`s keep their fields).
"""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

import orjson

_HEADER = struct.Struct("!BQ")
# message kinds: the run sends INIT, BATCH..., FINISH, COMPLETE; the process answers ACK
# (per batch), RESULT (to FINISH and COMPLETE), or FAILED once and ends
INIT, BATCH, FINISH, COMPLETE, ACK, RESULT, FAILED = range(7)
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


def write_message(stream: IO[bytes], kind: int, payload: bytes) -> None:
    """One frame: the kind, the payload's length, the payload."""
    stream.write(_HEADER.pack(kind, len(payload)))
    stream.write(payload)
    stream.flush()


def read_message(stream: IO[bytes]) -> tuple[int, bytes]:
    """The next frame; EOFError when the other side closed the pipe."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the other side closed the pipe")
    kind, size = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("the other side closed the pipe mid-message")
    return kind, payload


def send(stream: IO[bytes], kind: int, message: Any) -> None:
    """`message` (plain data, pickled) in one frame."""
    write_message(stream, kind, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def receive(stream: IO[bytes]) -> tuple[int, Any]:
    """The next frame's kind and message (unpickled: the pipe's other end is restsync's own
    process, never the network)."""
    kind, payload = read_message(stream)
    return kind, pickle.loads(payload)  # noqa: S301 - our own process
