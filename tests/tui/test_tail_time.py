"""Live tail keeps time: while it is on, a call in progress shows how long it has been up,
counted each second; off, it shows no duration (it has none yet). Sorted by another column, new
calls go where that sort puts them and the status line says so."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from calltui.columns import fmt_duration
from calltui.model import CallQuery, Outcome
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_settings
from calltui.tail import TailPolicy
from calltui.tui.app import CallTUI
from calltui.tui.widgets.call_table import CallTable
from tests.conftest import FIXED_NOW
from tests.tui.harness import settle


def tail_app(sim: SimApp, outcomes: frozenset[Outcome] = frozenset()) -> CallTUI:
    def now() -> datetime:
        assert sim.world.fixed_now is not None
        return sim.world.fixed_now

    return CallTUI(
        demo_settings(timezone="UTC"),
        transport=httpx.ASGITransport(app=sim),
        query=CallQuery(since=now() - timedelta(hours=1), outcomes=outcomes),
        now=now,
        tail=TailPolicy(interval_s=0.05),
    )


def duration_cell(table: CallTable, index: int) -> str:
    x = 1
    line = table.render_line(index + 1 - int(table.scroll_y)).text
    for key, _, w in table.columns:
        if key == "duration":
            return line[x : x + w].strip()
        x += w + 1
    raise AssertionError("no DUR column")


async def test_a_call_in_progress_counts_its_time_while_tail_is_on():
    sim = SimApp(seed=1, now=FIXED_NOW)
    app = tail_app(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.main.table
        store = app.session.store
        index = next(
            i for i, r in enumerate(table.view) if store.calls[r].outcome is Outcome.IN_PROGRESS
        )
        call = store.calls[table.view[index]]
        assert call.started_at is not None
        assert duration_cell(table, index) == "-"  # no tail: no clock to count by
        await pilot.press("t")
        await pilot.pause(1.2)
        up = int((FIXED_NOW - call.started_at).total_seconds())
        assert duration_cell(table, index) == fmt_duration(up)
        assert sim.world.fixed_now is not None
        sim.world.fixed_now += timedelta(seconds=7)
        await pilot.pause(1.2)
        assert duration_cell(table, index) == fmt_duration(up + 7)
        await pilot.press("t")
        await pilot.pause(0.1)
        assert duration_cell(table, index) == "-"


async def test_sorted_by_another_column_new_calls_go_by_that_sort_and_the_status_says_so():
    sim = SimApp(seed=1, now=FIXED_NOW)
    app = tail_app(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause(0.2)
        status = app.query_one("#status")
        assert "sort puts them" not in str(status.render())
        table = app.main.table
        while table.sort.key != "to":
            await pilot.press("s")
            await settle(pilot)
        table.cursor = 0  # the tail follows: new calls go into the table at once
        assert sim.world.fixed_now is not None
        sim.world.fixed_now += timedelta(minutes=3)
        store = app.session.store
        before = len(store)
        for _ in range(200):
            await pilot.pause(0.05)
            if len(store) > before:
                break
        await settle(pilot)
        assert len(store) > before  # new calls came
        assert "new calls go where the TO descending sort puts them" in str(status.render())
        shown = [store.calls[r].to or "" for r in table.view]
        assert shown == sorted(shown, reverse=True)


async def test_each_second_only_the_duration_cells_of_calls_in_progress_are_drawn_again():
    # Over SSH a tail with nothing new writes next to nothing: a second on a call's clock is
    # its duration cell, not its line; and the lines are the ones on screen, scrolled or not.
    sim = SimApp(seed=7, now=FIXED_NOW - timedelta(hours=5))  # four calls up at once
    app = tail_app(sim, outcomes=frozenset({Outcome.IN_PROGRESS}))
    async with app.run_test(size=(200, 7)) as pilot:
        await settle(pilot)
        table = app.main.table
        await pilot.press("t")
        await pilot.pause(0.2)
        keys = [k for k, _, _ in table.columns]
        x = 1 + sum(w + 1 for _, _, w in table.columns[: keys.index("duration")])
        w = table.columns[keys.index("duration")][2]
        rows = table.size.height - 1  # below the header
        assert len(table.view) > rows  # every row is a call in progress, more than fit
        for top in (0, len(table.view) - rows):
            table.scroll_to(y=top, animate=False)
            await pilot.pause(0.1)
            assert int(table.scroll_y) == top
            table._repaint_regions.clear()
            table._tick_live()
            regions = table._repaint_regions
            assert sorted(r.y for r in regions) == list(range(1, rows + 1))
            assert all(r.x == x and r.width == w and r.height == 1 for r in regions)
