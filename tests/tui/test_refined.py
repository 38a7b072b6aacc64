"""A record its drill-down refines, in the TUI: a Bandwidth call is listed failed (its list
record has no cause) and, once its drill-down has read USER_BUSY in the hangup event, its table
row, the detail pane and the KPI panel say busy."""

from __future__ import annotations

from datetime import timedelta

from textual.pilot import Pilot
from textual.widgets import Static

from calltui.model import Outcome
from calltui.sim import bandwidth as bwsim
from calltui.sim.app import SimApp
from calltui.tui.app import CallTUI
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.kpi_panel import KpiPanel
from tests.conftest import FIXED_NOW
from tests.tui.harness import go_to, make_app, open_detail, settle, view_calls
from tests.tui.test_triage import expected_kpis, kpis_settled

SEED = 1
"""The demo app's (tests.tui.harness.make_app): the same world as the app's simulator."""


def user_busy_id() -> str:
    """A Bandwidth call of the last hour whose callee was busy: `rejected` in the list."""
    world = SimApp(seed=SEED, now=FIXED_NOW).world
    since = FIXED_NOW - timedelta(hours=1)
    busy = next(
        c for c in world.calls("bandwidth", since) if c.outcome == "busy" and c.end < FIXED_NOW
    )
    return bwsim.call_id(busy)


def cursor_line(app: CallTUI) -> str:
    table = app.query_one(CallTable)
    strip = table.render_line(table.cursor + 1 - int(table.scroll_y))  # below the header
    return "".join(segment.text for segment in strip)


async def leave(pilot: Pilot[None]) -> None:
    await pilot.press("escape")
    await settle(pilot)


async def test_the_table_row_and_the_kpis_follow_a_drill_down_that_names_the_cause():
    wanted = user_busy_id()
    app = make_app(["demo-bandwidth"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")  # the KPI panel, in place of the detail pane
        panel = app.query_one(KpiPanel)
        await kpis_settled(pilot, panel, 0)
        assert panel.result is not None
        before, computed = panel.result.merged, panel.computed
        row = app.session.store.find("demo-bandwidth", wanted)
        assert row is not None
        listed = app.session.store.brief(row)
        assert (listed.outcome, listed.cause) == (Outcome.FAILED, None)

        await go_to(pilot, app, lambda c: c.id == wanted)
        screen = await open_detail(pilot, app)
        assert screen.detail is not None and screen.detail.call.outcome is Outcome.BUSY
        await leave(pilot)

        shown = view_calls(app)[app.query_one(CallTable).cursor]
        assert (shown.id, shown.outcome, shown.cause) == (wanted, Outcome.BUSY, "USER_BUSY")
        line = cursor_line(app)
        assert " busy " in line and "USER_BUSY" in line and " failed " not in line
        await kpis_settled(pilot, panel, computed)
        after = panel.result.merged
        assert after.to_dict() == expected_kpis(app)[0].to_dict()
        # Busy is the callee's doing: one more effective attempt, as many failed ones.
        assert (after.attempts, after.failed) == (before.attempts, before.failed)
        assert after.effective == before.effective + 1


async def test_the_detail_pane_says_what_the_drill_down_found():
    wanted = user_busy_id()
    app = make_app(["demo-bandwidth"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await go_to(pilot, app, lambda c: c.id == wanted)
        pane = app.query_one("#pane-body", Static)
        for _ in range(200):  # the pane fetches the drill-down once the cursor rests
            if app.session.cached(view_calls(app)[app.query_one(CallTable).cursor]):
                break
            await pilot.pause(0.05)
        await settle(pilot)
        text = str(pane.render())
        assert " BUSY " in text and "USER_BUSY" in text
        assert " busy " in cursor_line(app)
