"""The collector and allocator settings of a run (`restsync._runtime`)."""

from __future__ import annotations

import gc
import platform

from restsync._runtime import (
    RUN_THRESHOLD,
    collector_paused,
    relaxed_gc,
    release_free_memory,
    settle_process,
)


def test_relaxed_gc_raises_the_threshold_and_restores_it() -> None:
    before = gc.get_threshold()
    with relaxed_gc():
        assert gc.get_threshold()[0] == max(before[0], RUN_THRESHOLD)
    assert gc.get_threshold() == before


def test_release_free_memory_trims_where_glibc_is() -> None:
    blocks = [bytearray(4096) for _ in range(20_000)]  # ~80 MB freed below
    del blocks
    assert release_free_memory() is (platform.libc_ver()[0] == "glibc")


def test_collector_paused_disables_gc_and_restores_it() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the outer block turns it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_settle_process_freezes_what_is_loaded() -> None:
    before = gc.get_threshold()
    try:
        settle_process(threshold=123_456)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == 123_456
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
