"""The messages over the pipe between a run and its normalizer process (the pages inside
them are packed by `restsync.extract._packing`).

The normalizer process (`restsync.pipeline._worker`) and the run that started it
talk over its stdin and stdout in frames of a kind byte and a 64-bit length (`send`,
`receive`); the payload is a pickle of plain data (a `Batch`, the schema as a dict, the
`BatchError`s of a batch, whose `DataError`s keep their fields).
"""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

_HEADER = struct.Struct("!BQ")
# message kinds: the run sends INIT, BATCH..., FINISH, COMPLETE; the process answers ACK
# (per batch), RESULT (to FINISH and COMPLETE), or FAILED once and ends
INIT, BATCH, FINISH, COMPLETE, ACK, RESULT, FAILED = range(7)


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
