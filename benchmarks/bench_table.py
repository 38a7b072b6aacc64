"""Table: first paint of 100,000 records in the call table against Textual's DataTable, and
key-to-frame latency with 1,000,000 records against 1,000.

Both run headless through Textual's pilot (`App.run_test`, 120x40), each widget alone on its
screen. First paint is timed from the app's compose() to the first pilot.pause() returning with
the rows on screen: the DataTable is given its rows (already formatted strings) in on_mount, the
call table a store already filled (filling happens as pages arrive, not at paint time). The
DataTable takes tens of seconds for 100,000 rows, so it is run with 10,000 and its time scaled
by 10 (its cost grows at least linearly with rows: each cell is measured).

Key-to-frame: for each key (down, pagedown, end; home before each end, not timed), from the key
event handed to the app's driver (as the pilot does, without its idle waits) to the end of the
last frame it causes (App.post_display_hook, called after every frame, headless too). Textual
paces frames at 60 Hz, which would add up to 16.7 ms of waiting for the next tick whatever the
table does: TEXTUAL_FPS=1000 is set so the frame follows as soon as the app is idle. Sizes
alternate; each key's median with 1,000,000 records is compared with its median with 1,000 and
the worst key's ratio is the result; p99 is of all the 1,000,000-record presses.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import statistics
import sys
import time
from datetime import timezone

os.environ["TEXTUAL_FPS"] = "1000"  # read when Textual is imported, just below

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from benchmarks.common import finish, report, synthetic_calls
from calltui.model import Call, PageRef
from calltui.render import fmt_duration, fmt_time
from calltui.store import CallStore
from calltui.tui.idle_gc import IdleGC
from calltui.tui.widgets.call_table import COLUMNS, CallTable

SIZE = (120, 40)
PAINT_ROWS, BASELINE_ROWS = 100_000, 10_000
PAINT_GOAL, LATENCY_GOAL, P99_GOAL_MS = 0.01, 1.25, 16.0
SMALL, BIG = 1_000, 1_000_000
ROUNDS, PER_KEY, ALTERNATIONS = 2, 10, 4
KEYS = ("down", "pagedown", "end")
QUIET_S = 0.02


def fill(n: int) -> CallStore:
    store = CallStore(max_records=n)
    calls = synthetic_calls(n)
    for number in itertools.count():
        page = list(itertools.islice(calls, 500))
        if not page:
            break
        ref = PageRef("bench", ("/calls", {"page": number}))
        for c in page:
            c.page = ref
        store.extend(page)
    store.flush()
    return store


def cells(c: Call) -> tuple[str, ...]:
    """A record as the call table shows it, for the DataTable."""
    code = f"{c.sip_code} {c.cause}" if c.sip_code is not None else (c.cause or "-")
    return (
        fmt_time(c.started_at, timezone.utc, short=True),
        c.account,
        c.from_ or "-",
        c.to or "-",
        {"inbound": "in", "outbound": "out"}.get(c.direction or "", "-"),
        fmt_duration(c.duration_s),
        c.outcome.value,
        "-" if c.mos is None else f"{c.mos:.1f}",
        code,
    )


class DataTableApp(App[None]):
    def __init__(self, rows: list[tuple[str, ...]]) -> None:
        super().__init__()
        self.rows = rows
        self.t0 = 0.0

    def compose(self) -> ComposeResult:
        self.t0 = time.perf_counter()
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*(title for _, title, _ in COLUMNS))
        table.add_rows(self.rows)
        table.focus()


class CallTableApp(App[None]):
    """The call table alone, with CallTUI's garbage-collection policy (IdleGC)."""

    def __init__(self, store: CallStore) -> None:
        super().__init__()
        self.store = store
        self.t0 = 0.0
        self.last_frame = 0.0
        self.idle_gc = IdleGC()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.idle_gc.input()
        await super().on_event(event)

    def on_unmount(self) -> None:
        self.idle_gc.stop()

    def post_display_hook(self) -> None:
        self.last_frame = time.perf_counter()

    def compose(self) -> ComposeResult:
        self.t0 = time.perf_counter()
        yield CallTable(self.store, timezone.utc)

    def on_mount(self) -> None:
        self.idle_gc.start(self)
        table = self.query_one(CallTable)
        table.set_view(self.store.view(), "end of results")
        table.focus()


async def paint_datatable(rows: list[tuple[str, ...]]) -> float:
    app = DataTableApp(rows)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        took = time.perf_counter() - app.t0
        table = app.query_one(DataTable)
        assert table.row_count == len(rows) and table.virtual_size.height >= len(rows)
    return took


async def paint_calltable(store: CallStore) -> float:
    app = CallTableApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        took = time.perf_counter() - app.t0
        table = app.query_one(CallTable)
        assert len(table.view) == len(store) and table.renders > 0
    return took


async def press(app: CallTableApp, key: str) -> float:
    """Seconds from handing `key` to the driver to the end of the last frame it caused."""
    event = events.Key(key, None)
    event.set_sender(app)
    assert app._driver is not None
    frames_before = app.last_frame
    t0 = time.perf_counter()
    app._driver.send_message(event)
    # Quiet for QUIET_S after a frame: the key's work and its frames are done.
    while app.last_frame == frames_before or time.perf_counter() - app.last_frame < QUIET_S:
        await asyncio.sleep(0.002)
        if time.perf_counter() - t0 > 5:
            raise RuntimeError(f"no frame after {key}")
    return app.last_frame - t0


async def key_latencies(store: CallStore) -> dict[str, list[float]]:
    """Seconds per press of each timed key: ROUNDS of PER_KEY downs and page downs from the
    top, and PER_KEY ends (each from the top: home between them is not timed)."""
    app = CallTableApp(store)
    out: dict[str, list[float]] = {key: [] for key in KEYS}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(CallTable)
        for _ in range(ROUNDS):
            await press(app, "home")
            for key in ("down", "pagedown"):
                for _ in range(PER_KEY):
                    out[key].append(await press(app, key))
            for _ in range(PER_KEY):
                await press(app, "home")
                out["end"].append(await press(app, "end"))
                assert table.cursor == len(store) - 1
    return out


async def run() -> None:
    big = fill(BIG)
    paint_store = fill(PAINT_ROWS)
    small = fill(SMALL)
    rows = [cells(c) for c in itertools.islice(synthetic_calls(BASELINE_ROWS), BASELINE_ROWS)]
    gc.collect()

    ours = min([await paint_calltable(paint_store) for _ in range(3)])
    theirs = min([await paint_datatable(rows) for _ in range(2)])
    scaled = theirs * PAINT_ROWS / BASELINE_ROWS
    report(
        "table: first paint 100k rows, CallTable / DataTable",
        ours / scaled,
        PAINT_GOAL,
        detail=f"CallTable {ours * 1000:.0f} ms; DataTable 10k rows {theirs:.2f} s, "
        f"x10 = {scaled:.1f} s (scaled, not run at 100k)",
    )

    small_lat: dict[str, list[float]] = {key: [] for key in KEYS}
    big_lat: dict[str, list[float]] = {key: [] for key in KEYS}
    for _ in range(ALTERNATIONS):
        for lat, store in ((small_lat, small), (big_lat, big)):
            for key, took in (await key_latencies(store)).items():
                lat[key] += took
    # Per key: a down costs less than a page down, so a median over all presses together
    # would fall between the two and jump from one to the other with noise.
    ratios = {
        key: statistics.median(big_lat[key]) / statistics.median(small_lat[key]) for key in KEYS
    }
    worst = max(KEYS, key=lambda key: ratios[key])
    every = "; ".join(
        f"{key} {statistics.median(small_lat[key]) * 1000:.2f} -> "
        f"{statistics.median(big_lat[key]) * 1000:.2f} ms ({ratios[key]:.2f}x)"
        for key in KEYS
    )
    presses = len(big_lat[worst])
    report(
        f"table: key-to-frame latency, 1M rows / 1k rows (worst key: {worst})",
        ratios[worst],
        LATENCY_GOAL,
        detail=f"medians of {presses} presses per key and size: {every}",
    )
    big_all = [t for key in KEYS for t in big_lat[key]]
    small_all = [t for key in KEYS for t in small_lat[key]]
    p99 = statistics.quantiles(big_all, n=100)[98] * 1000
    p99_small = statistics.quantiles(small_all, n=100)[98] * 1000
    report(
        "table: key-to-frame p99 with 1M rows",
        p99,
        P99_GOAL_MS,
        "ms",
        detail=f"1k rows p99 {p99_small:.2f} ms",
    )


if __name__ == "__main__":
    asyncio.run(run())
    sys.exit(finish())
