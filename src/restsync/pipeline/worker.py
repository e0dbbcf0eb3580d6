"""The normalizer process: `python -m restsync.pipeline.worker`, driven by `WorkerSink`.

It reads framed messages on stdin (INIT, BATCH..., FINISH, COMPLETE) and answers on stdout.
It ends when its stdin closes — also when the parent process is killed, so a SIGKILLed run
leaves no worker behind.
"""

from __future__ import annotations

import pickle
import signal
import sys
from pathlib import Path
from typing import Any

from restsync.errors import DataError
from restsync.pipeline.gcpolicy import settle_process
from restsync.pipeline.sink import (
    ACK,
    BATCH,
    COMPLETE,
    FAILED,
    FINISH,
    INIT,
    RESULT,
    LocalSink,
    read_message,
    write_message,
)
from restsync.schema.model import Schema


def serve(stdin: Any, stdout: Any) -> int:
    sink: LocalSink | None = None
    while True:
        try:
            kind, payload = read_message(stdin)
        except EOFError:
            return 0
        try:
            if kind == INIT:
                init = pickle.loads(payload)  # noqa: S301 - our own parent process
                sink = LocalSink(
                    Schema.from_dict(init["schema"]),
                    init["specs"],
                    Path(init["stage_root"]),
                    init["load_id"],
                )
                settle_process()
            elif kind == BATCH:
                assert sink is not None
                batch_id, resource, seq_start, pages = pickle.loads(payload)  # noqa: S301
                del payload
                sink.submit_packed(batch_id, resource, pages, seq_start)
                error: tuple[str, str, str | None, int | None] | None = None
                for failed in sink.errors():
                    exc: DataError = failed.error
                    error = (failed.resource, exc.message, exc.hint, exc.record_index)
                write_message(stdout, ACK, pickle.dumps((batch_id, error)))
            elif kind == FINISH:
                assert sink is not None
                schema, changes = sink.finish()
                files = sink.close_files()
                write_message(stdout, RESULT, pickle.dumps((schema.to_dict(), changes, files)))
            elif kind == COMPLETE:
                assert sink is not None
                schema_dict, state, counts, resources, exclude = pickle.loads(payload)  # noqa: S301
                stage_dir = sink.complete(
                    Schema.from_dict(schema_dict), state, counts, resources, exclude
                )
                write_message(stdout, RESULT, pickle.dumps(str(stage_dir)))
        except Exception as exc:  # reported to the parent, which fails the run
            write_message(stdout, FAILED, pickle.dumps(f"{type(exc).__name__}: {exc}"))
            return 1


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the run that started this
    # process handles it and ends it by closing its input
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(serve(sys.stdin.buffer, sys.stdout.buffer))


if __name__ == "__main__":
    main()
