"""What the TUI redraws, which is what it writes to the terminal (over SSH, what a user waits
for): a held key moves two table rows and leaves the detail pane until the keys settle; a live
tail poll that brings nothing new redraws nothing; the alert check of a poll, a scan of the
whole store, runs off the UI thread. Redraws are counted on the widgets (Textual's `refresh`
and `update`, passed through), never timed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual import events
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import OptionList, Static

from calltui.alerts import AlertPolicy
from calltui.config import parse_settings
from calltui.model import CallQuery
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_accounts
from calltui.tail import TailPolicy
from calltui.tui.app import CallTUI
from calltui.tui.widgets.call_table import CallTable
from tests.conftest import FIXED_NOW
from tests.tui.harness import make_app, settle, shows_what_it_would_draw

KEYS = 20


class Redraws:
    """Each call of `widget.NAME` (Textual's refresh or update), counted and passed through;
    for refresh, `whole` counts those of the whole widget (no region: every line again)."""

    def __init__(self, widget: Widget, name: str) -> None:
        self.calls = 0
        self.whole = 0
        original: Callable[..., Any] = getattr(widget, name)

        def counted(*args: Any, **kw: Any) -> Any:
            self.calls += 1
            if not args:
                self.whole += 1
            return original(*args, **kw)

        setattr(widget, name, counted)


async def until(pilot: Pilot[None], ok: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if ok():
            return
        await pilot.pause(0.02)
    pytest.fail(f"never happened: {what}")


def pane_text(app: CallTUI) -> str:
    return str(app.query_one("#pane-body", Static).render())


def burst(app: CallTUI, key: str, n: int) -> None:
    """`n` presses of `key` queued at once, as a held key's repeats come faster than the app
    handles them: no pause between them for anything to settle."""
    for _ in range(n):
        app.post_message(events.Key(key, None))


async def test_a_held_key_leaves_the_pane_until_it_settles_then_one_update_follows() -> None:
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        assert table.cursor == 0 and len(table.view) > KEYS
        pane = Redraws(app.query_one("#pane-body", Static), "update")
        burst(app, "down", KEYS)
        await until(pilot, lambda: table.cursor == KEYS, "the cursor moved")
        assert pane.calls == 0  # the keys came faster than the pane's wait: nothing drawn
        await settle(pilot)
        call = app.session.store.call(table.view[KEYS])
        assert call.id in pane_text(app)  # the pane shows where the cursor rests
        # Once: its summary, then once more with its drill-down (fetched once it rests).
        assert pane.calls == 2 and (call.account, call.id) in app.session.details


async def test_a_cursor_move_redraws_its_two_rows_not_the_table() -> None:
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        redraws = Redraws(table, "refresh")
        for _ in range(5):  # all on screen: nothing scrolls
            await pilot.press("down")
        await settle(pilot)
        assert table.cursor == 5
        assert redraws.calls >= 10 and redraws.whole == 0


async def test_a_cursor_move_in_a_scrolled_table_redraws_the_rows_it_left_and_reached() -> None:
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        assert len(table.view) > table.size.height
        for _ in range(2):
            await pilot.press("pagedown")
        await settle(pilot)
        assert table.scroll_y > 0
        for key in ("up", "up", "down"):  # within the rows on screen: nothing scrolls
            top = table.scroll_y
            await pilot.press(key)
            await settle(pilot)
            assert table.scroll_y == top
            assert await shows_what_it_would_draw(pilot, table), key


def _polls(app: CallTUI) -> Iterator[int]:
    poller = app.main.tailing.poller
    assert poller is not None
    return (a.polls for a in poller.accounts.values())


async def test_the_size_the_screen_was_drawn_at_lays_nothing_out_again() -> None:
    """Textual tells the screen its size three times as the app starts; only a new size lays
    it out (and repaints it whole) again."""
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        layouts = Redraws(app.screen, "_refresh_layout")
        for _ in range(3):
            app.screen.post_message(events.Resize(app.size, app.size))
        await settle(pilot)
        assert layouts.calls == 0
        await pilot.resize_terminal(90, 30)
        await settle(pilot)
        assert layouts.calls >= 1 and app.screen.has_class("narrow")


async def test_a_tail_poll_with_nothing_new_redraws_nothing() -> None:
    # The simulator's clock stands still: every poll finds nothing new and nothing ended.
    sim = SimApp(seed=1, now=FIXED_NOW)
    app = CallTUI(
        parse_settings(
            {"display": {"timezone": "UTC"}, "accounts": demo_accounts()}, Path("<test>")
        ),
        transport=httpx.ASGITransport(app=sim),
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        accounts=["demo-tmedia", "demo-plivo"],
        now=FIXED_NOW,
        tail=TailPolicy(interval_s=0.05),
    )
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await until(pilot, lambda: min(_polls(app)) >= 2, "the tail polled")
        await settle(pilot)
        status = app.query_one("#status", Static)
        shown = str(status.render())
        assert "tail on" in shown
        table = Redraws(app.query_one(CallTable), "refresh")
        line = Redraws(status, "update")
        pane = Redraws(app.query_one("#pane-body", Static), "update")
        before = min(_polls(app))
        await until(pilot, lambda: min(_polls(app)) >= before + 5, "five more polls")
        assert (table.calls, line.calls, pane.calls) == (0, 0, 0)
        assert str(status.render()) == shown


class ThreadsSeen(tuple[str, ...]):
    """The fields alerts split calls by; records the thread each check reads them on."""

    seen: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        ThreadsSeen.seen.add(threading.get_ident())
        return super().__iter__()


async def test_the_alert_check_runs_off_the_ui_thread_and_its_banner_shows() -> None:
    # The simulator's incident (503s on the London trunks) makes a trunk's ASR fall.
    app = CallTUI(
        parse_settings(
            {"display": {"timezone": "UTC"}, "accounts": demo_accounts()}, Path("<test>")
        ),
        transport=httpx.ASGITransport(app=SimApp(seed=1, now=FIXED_NOW)),
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        accounts=["demo-tmedia", "demo-plivo", "demo-jambonz"],
        now=FIXED_NOW,
        tail=TailPolicy(interval_s=0.05),
    )
    ThreadsSeen.seen = set()
    ui = threading.get_ident()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        app.main.tailing.alerting = AlertPolicy(min_attempts=5, by=ThreadsSeen(("trunk",)))
        await pilot.press("t")
        status = app.query_one("#status", Static)
        await until(pilot, lambda: "⚠" in str(status.render()), "the alert banner")
        assert app.main.tailing.alerts and "a: pivot" in str(status.render())
    assert ThreadsSeen.seen and ui not in ThreadsSeen.seen


async def test_kpis_computed_again_with_the_same_numbers_redraw_nothing() -> None:
    from calltui.tui.widgets.kpi_panel import KpiPanel

    app = make_app(["demo-plivo"])
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        panel = app.query_one(KpiPanel)
        await until(pilot, lambda: panel.computed >= 1, "the KPIs")
        await settle(pilot)
        head = Redraws(app.query_one("#kpi-head", Static), "update")
        causes = Redraws(app.query_one("#kpi-causes", OptionList), "clear_options")
        app.main.triage.kpi_request()  # the view changed, its numbers did not
        await until(pilot, lambda: panel.computed >= 2, "the KPIs again")
        await settle(pilot)
        assert (head.calls, causes.calls) == (0, 0)
