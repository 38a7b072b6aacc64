"""Many records in the TUI, as the collector sees them: once rows have loaded and the user is
idle, the store's objects are frozen out of the full collections (calltui.tui.idle_gc.IdleGC), so
a collection does not grow with the calls loaded; and the collector's pauses can be logged
(CALLTUI_GC_LOG) for the benchmarks."""

from __future__ import annotations

import gc
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from rich.segment import Segment
from textual.strip import Strip

from calltui.model import CallQuery
from calltui.tui.idle_gc import IdleGC, give_back_free_memory
from tests.conftest import FIXED_NOW
from tests.tui.harness import make_app, settle

DAY = CallQuery(since=FIXED_NOW - timedelta(hours=20))


async def test_loaded_rows_are_kept_out_of_full_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "gc.log"
    monkeypatch.setenv(IdleGC.LOG_ENV, str(log))
    app = make_app([], query=DAY)
    async with app.run_test() as pilot:
        await settle(pilot)  # the first listing is under way (it starts after the first frame)
        app.main.feed.want_all()
        for _ in range(600):
            await pilot.pause(0.2)
            if app.main.feed.exhausted:
                break
        store = app.session.store
        assert app.main.feed.exhausted and len(store) > 5000, (len(store), app.main.feed.pending())
        await pilot.pause(3 * IdleGC.IDLE_S)  # idle: a collection, then what it left frozen
        # Every page of the store, with its request, is out of the generations a collection
        # scans (gc.get_objects lists only those).
        scanned = {id(o) for o in gc.get_objects()}
        pages = [p for p in store._pages if p.ref is not None]
        assert pages and not any(id(p) in scanned or id(p.ref) in scanned for p in pages)
        gc.collect()  # as an idle tick would
    # Each full collection's duration, wall and CPU, one a line.
    lines = [line.split() for line in log.read_text().splitlines()]
    assert lines and all(len(ms) == 2 and float(ms[0]) >= 0 for ms in lines)


async def test_a_line_drawn_whole_is_freed_without_the_collector() -> None:
    # Frozen while on screen, a line that held itself (Textual caches a strip's one piece, the
    # strip, in the strip) was never freed once dropped: 12 MB of a load of 276,000 calls.
    textual_divide = Strip.divide
    async with make_app([]).run_test() as pilot:
        await settle(pilot)
        line = Strip([Segment("abc"), Segment("de")])
        before = sys.getrefcount(line)
        assert line.divide([5, 9]) == [line]
        assert sys.getrefcount(line) == before
        assert [piece.text for piece in line.divide([1, 5])] == ["a", "bcde"]
    assert Strip.divide is textual_divide  # as it was once the app has stopped


def test_what_a_load_makes_is_frozen_before_any_row_shows() -> None:
    # Hundreds of accounts fetch their first pages for seconds before the merge shows a row:
    # the pages fetched count as loading, so what survives each collection is frozen then too.
    fetched = [0]
    idle = IdleGC(lambda: fetched[0])
    try:
        gc.freeze()
        held = [[n] for n in range(5000)]  # the clients and pages in flight
        fetched[0] = 3
        idle._tick()
        assert gc.get_freeze_count() >= len(held)
        scanned = {id(o) for o in gc.get_objects()}
        assert not any(id(x) in scanned for x in held)
        frozen = gc.get_freeze_count()
        later = [[n] for n in range(5000)]
        idle._tick()  # nothing fetched since: collected, not frozen
        assert gc.get_freeze_count() == frozen
        assert any(id(x) in {id(o) for o in gc.get_objects()} for x in later)
    finally:
        gc.unfreeze()


def test_the_free_memory_goes_back_once_each_load_is_over() -> None:
    fetched, released = [0], []
    idle = IdleGC(lambda: fetched[0], release=lambda: released.append(fetched[0]))
    try:
        for pages in (1, 2, 2, 2, 5, 5, 5):  # two loads, each followed by quiet ticks
            fetched[0] = pages
            idle._tick()
        assert released == [2, 5]
    finally:
        gc.unfreeze()


def test_giving_back_free_memory_is_harmless_where_the_c_library_cannot() -> None:
    give_back_free_memory()  # glibc: malloc_trim; elsewhere nothing, and never an error
