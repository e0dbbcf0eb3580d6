"""The process-wide runtime policy of a run: the cyclic garbage collector and the allocator.

Every setting restsync makes to `gc` or to the C allocator is made here, so that one module
says how a run treats them:

- `relaxed_gc()` (around `Pipeline.run`): the collector runs less often. A run allocates
  millions of short-lived containers (decoded pages, records, batches) that hold no
  reference cycles: reference counting frees them. With the default gen-0 threshold (700
  allocations) the collector runs several times per decoded page, and each of its
  older-generation passes walks every page still buffered; measured on the bench shape,
  that doubled the cost of decoding a batch (46 ms against 22 ms for 5,000 records). During
  a run the collector keeps running, only less often. What would wait for it is freed
  otherwise: httpx's response/stream cycle is cut once the body is read
  (`restsync.http._client._unbind`).
- `collector_paused()` (around one normalizer walk, `restsync.schema._normalize`): no cyclic
  collection at all while a batch is walked; a pass over the whole heap in the middle of a
  walk costs more than the walk itself.
- `settle_process()` (the normalizer process, `restsync.pipeline._worker`): what is loaded
  at start-up (modules, the schema) is frozen out of the collector's passes.
- `release_free_memory()` (between extraction and the load): the heap memory freed during
  extraction goes back to the operating system (glibc keeps it for reuse otherwise): the
  load's own memory comes on top of what the process holds, and that sum is the run's peak.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
from collections.abc import Iterator

#: Allocations between two young-generation passes during a run (CPython's default is 700).
RUN_THRESHOLD = 200_000


@contextlib.contextmanager
def relaxed_gc(threshold: int = RUN_THRESHOLD) -> Iterator[None]:
    """Collect less often inside the block; the previous thresholds come back after it."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], threshold), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside: a walk allocates many short-lived containers, and a pass
    over the whole heap (the pages held by the caller) in the middle of it costs more than
    the walk itself. Reference counting frees what the walk drops; the collector is back on
    afterwards (when it was on before)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def settle_process(threshold: int = RUN_THRESHOLD) -> None:
    """For a process of restsync's own (the normalizer): what is loaded so far (modules,
    the schema) is never collected, and young passes are rare."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold, *gc.get_threshold()[1:])


def release_free_memory() -> bool:
    """Return freed heap memory to the operating system (glibc's `malloc_trim`); True when
    the C library has it (elsewhere nothing happens)."""
    try:  # the symbols already in the process: glibc's when it is the C library
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim(0)
    return True
