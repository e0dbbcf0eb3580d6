"""The normalizer process: both of its ends.

`WorkerNormalization` (in the run) starts `python -m restsync.pipeline._worker` and drives it;
`serve` (in that process) normalizes with a `LocalNormalization`. They exchange the frames of
`restsync.pipeline._sink`: INIT, BATCH..., FINISH, COMPLETE; each batch is acknowledged with
its `BatchError`s, pickled with their fields. The process ends when its stdin closes — also
when the run's process is killed, so a SIGKILLed run leaves no worker behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from restsync._runtime import settle_process
from restsync.errors import RestsyncError
from restsync.pipeline._normalization import (
    Batch,
    BatchError,
    LocalNormalization,
    Normalized,
    NormalizerSpec,
)
from restsync.pipeline._sink import (
    ACK,
    BATCH,
    COMPLETE,
    FAILED,
    FINISH,
    INIT,
    RESULT,
    receive,
    send,
)
from restsync.schema._model import Schema

MAX_IN_FLIGHT = 4  # batches sent but not acknowledged: bounds the memory of both processes


class WorkerNormalization:
    """A `Normalization` in a child process (see `restsync.pipeline._normalization`)."""

    def __init__(
        self, schema: Schema, specs: list[NormalizerSpec], stage_root: Path, load_id: str
    ) -> None:
        env = {k: v for k, v in os.environ.items() if k != "RESTSYNC_KILL_AT"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "restsync.pipeline._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self._in: IO[bytes] = self.proc.stdin
        self._out: IO[bytes] = self.proc.stdout
        self._pending: deque[int] = deque()
        self._errors: list[BatchError] = []
        #: The stage files the process wrote, handed over by `finish` (see `close_files`).
        self.files: dict[str, list[Any]] = {}
        init = {
            "schema": schema.to_dict(),
            "specs": specs,
            "stage_root": str(stage_root),
            "load_id": load_id,
        }
        self._send(INIT, init)

    def _send(self, kind: int, message: Any) -> None:
        try:
            send(self._in, kind, message)
        except (BrokenPipeError, ConnectionResetError):
            raise self._ended() from None

    def _ended(self) -> RestsyncError:
        code = self.proc.wait()
        return RestsyncError(
            f"the normalizer process ended unexpectedly (exit code {code}); nothing was "
            "loaded, run again"
        )

    def _receive(self, expected: int) -> Any:
        try:
            kind, message = receive(self._out)
        except EOFError:
            raise self._ended() from None
        if kind == FAILED:
            raise RestsyncError(f"the normalizer process failed: {message}")
        if kind != expected:
            raise RestsyncError(f"the normalizer process answered {kind}, not {expected}")
        return message

    def _drain_one(self) -> None:
        batch_id, errors = self._receive(ACK)
        self._pending.remove(batch_id)
        self._errors.extend(errors)

    def prepare(self) -> None:
        pass

    def submit(self, batch: Batch) -> None:
        while len(self._pending) >= MAX_IN_FLIGHT:
            self._drain_one()
        self._send(BATCH, batch)
        self._pending.append(batch.id)

    def drain(self, *, wait: bool = False) -> list[BatchError]:
        while wait and self._pending:
            self._drain_one()
        out, self._errors = self._errors, []
        return out

    def finish(self) -> Normalized:
        while self._pending:
            self._drain_one()
        self._send(FINISH, None)
        schema_dict, changes, self.files = self._receive(RESULT)
        return Normalized(Schema.from_dict(schema_dict), changes)

    def complete(
        self,
        schema: Schema,
        state: Mapping[str, Any],
        counts: Mapping[str, Any],
        resources: list[str],
        exclude_tables: list[str],
    ) -> Path:
        message = (schema.to_dict(), dict(state), dict(counts), resources, exclude_tables)
        self._send(COMPLETE, message)
        return Path(self._receive(RESULT))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._in.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """The process's loop: answer the run's messages until its stdin closes."""
    local: LocalNormalization | None = None
    while True:
        try:
            kind, message = receive(stdin)
        except EOFError:
            return 0
        try:
            if kind == INIT:
                local = LocalNormalization(
                    Schema.from_dict(message["schema"]),
                    message["specs"],
                    Path(message["stage_root"]),
                    message["load_id"],
                )
                settle_process()
                continue
            assert local is not None
            if kind == BATCH:
                batch: Batch = message
                local.submit(batch)
                send(stdout, ACK, (batch.id, local.drain()))
            elif kind == FINISH:
                result = local.finish()
                files = local.close_files()
                send(stdout, RESULT, (result.schema.to_dict(), result.changes, files))
            elif kind == COMPLETE:
                schema_dict, state, counts, resources, exclude = message
                stage_dir = local.complete(
                    Schema.from_dict(schema_dict), state, counts, resources, exclude
                )
                send(stdout, RESULT, str(stage_dir))
        except Exception as exc:  # reported to the run, which fails
            send(stdout, FAILED, f"{type(exc).__name__}: {exc}")
            return 1


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the run that started this
    # process handles it and ends it by closing its input
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(serve(sys.stdin.buffer, sys.stdout.buffer))


if __name__ == "__main__":
    main()
