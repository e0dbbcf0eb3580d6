"""The collector and allocator settings of a run."""

from __future__ import annotations

import gc
import platform

from restsync.pipeline.gcpolicy import RUN_THRESHOLD, relaxed_gc, release_free_memory


def test_relaxed_gc_raises_the_threshold_and_restores_it() -> None:
    before = gc.get_threshold()
    with relaxed_gc():
        assert gc.get_threshold()[0] == max(before[0], RUN_THRESHOLD)
    assert gc.get_threshold() == before


def test_release_free_memory_trims_where_glibc_is() -> None:
    blocks = [bytearray(4096) for _ in range(20_000)]  # ~80 MB freed below
    del blocks
    assert release_free_memory() is (platform.libc_ver()[0] == "glibc")
