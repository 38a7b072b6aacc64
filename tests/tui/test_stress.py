"""The TUI under stress, over a simulator that answers slowly: resize storms while loading, Esc
cancelling every load (and no request after it), filters changed faster than pages arrive,
accounts switched in the middle of a fetch, and a provider down for many minutes of a fake
clock that comes back (exponential backoff, then its rows merge in, in time order).

No uncaught exception and no worker dead of an error in any of them (see test_faults_tui).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import httpx
from textual.widgets import Static
from textual.worker import WorkerState

from calltui.engine import Recovery
from calltui.model import FAILED_OUTCOMES, CallQuery, Outcome
from calltui.sim.app import SimApp
from calltui.tui.app import CallTUI
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.widgets.sidebar import Sidebar
from tests.conftest import FIXED_NOW, FakeClock
from tests.reliability.conftest import uncaught  # noqa: F401  (autouse guard)
from tests.tui.harness import view_calls
from tests.tui.test_faults_tui import (
    ACCOUNTS,
    cursor_key,
    failed,
    fault_app,
    in_time_order,
    keys,
    marks,
    recover,
    requests_to,
    running,
    status,
    table_of,
    until,
)

LATENCY_MS = 80
"""Every answer of the slow simulator takes this long: loads are still going when keys come."""


def fetching(app: CallTUI) -> list[str]:
    """The list-fetching workers still running."""
    return [w.name for w in app.workers if w.group == "fetch" and not w.is_finished]


class Counting(httpx.AsyncBaseTransport):
    """The in-process transport, counting exchanges under way and finished (an ASGI exchange
    is whole once handle_async_request returns: the body is read by then)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.in_flight = 0
        self.finished = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        try:
            response = await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1
        self.finished += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- resizes -----------------------------------------------------------------------------------
def assert_laid_out(app: CallTUI, width: int, height: int) -> None:
    assert app.size == (width, height)
    assert app.screen.has_class("narrow") == (width < 100)
    assert app.screen.has_class("short") == (height < 20)
    sidebar = app.query_one(Sidebar)
    table = table_of(app)
    assert sidebar.display == (width >= 100)
    assert table.outer_size.width == width - (0 if width < 100 else sidebar.outer_size.width)
    assert app.query_one("#pane").display == (height >= 20)
    room = table.content_region.width - table.styles.scrollbar_size_vertical
    assert table.columns == table._fit(room)
    for y in range(table.size.height):
        assert table.render_line(y).cell_length == table.size.width
    assert app.query_one("#status", Static).size.width == width


async def test_a_resize_storm_while_loading_leaves_a_live_app_laid_out_for_its_last_size() -> None:
    sim = SimApp(seed=7, now=FIXED_NOW, latency_ms=LATENCY_MS)
    app = fault_app(sim, since=timedelta(hours=6))
    rng = random.Random(11)
    storm = [(40, 12), (200, 60)] + [(rng.randint(40, 200), rng.randint(12, 60)) for _ in range(46)]
    async with running(app, size=(120, 40)) as pilot:
        for i, size in enumerate(storm):
            await pilot.resize_terminal(*size)
            if i % 8 == 0:
                await pilot.press("j", "G")  # the cursor moves, more pages are wanted
            if i == 20:
                await pilot.press("enter")  # a call opens, and the storm goes on over it
            if i == 30:
                assert isinstance(app.screen, DetailScreen)
                await pilot.press("escape")
        assert fetching(app)  # all of it happened while loading
        assert not isinstance(app.screen, DetailScreen)
        for width, height in ((130, 45), (60, 16)):
            await pilot.resize_terminal(width, height)
            await until(pilot, lambda: app.main.idle, "the load idle")
            await pilot.pause(0.1)
            assert_laid_out(app, width, height)
        assert view_calls(app) and in_time_order(app)
        at = table_of(app).cursor
        await pilot.press("k")
        assert table_of(app).cursor == max(0, at - 1)


# --- Esc ---------------------------------------------------------------------------------------
async def test_escape_during_loads_cancels_the_workers_and_no_request_follows() -> None:
    sim = SimApp(seed=7, now=FIXED_NOW, latency_ms=LATENCY_MS)
    transport = Counting(httpx.ASGITransport(app=sim))
    app = fault_app(sim, since=timedelta(hours=6), transport=transport)
    async with running(app) as pilot:
        await until(pilot, lambda: transport.in_flight > 0 and bool(fetching(app)), "a load")
        await pilot.press("G")  # ask for more while it loads
        loaded = keys(app)
        loads = [w for w in app.workers if w.group in ("fetch", "pane") and not w.is_finished]
        await pilot.press("escape")
        await until(pilot, lambda: not fetching(app), "the fetch workers finished")
        assert loads and all(w.state == WorkerState.CANCELLED for w in loads)
        assert transport.in_flight == 0  # the requests under way were dropped with them
        seen, finished = len(sim.seen), transport.finished
        await pilot.pause(5 * LATENCY_MS / 1000)
        assert (len(sim.seen), transport.finished, transport.in_flight) == (seen, finished, 0)
        assert loaded <= keys(app)  # what was loaded stays
        assert "stopped" in status(app) and "stopped" in table_of(app).status_text

        # r loads again.
        await pilot.press("r")
        await until(
            pilot, lambda: len(sim.seen) > seen and len(view_calls(app)) > 0, "loading again"
        )
        assert "stopped" not in status(app)


async def test_escape_cancels_a_pending_retry_too() -> None:
    clock = FakeClock()
    sim = SimApp(seed=7, now=FIXED_NOW, faults="500@plivo")
    app = fault_app(sim, failing="plivo", recovery=clock.recovery())
    async with running(app) as pilot:
        await until(pilot, lambda: failed(app) == {"demo-plivo"} and clock.waits, "a backoff")
        await pilot.press("escape")
        await until(pilot, lambda: not fetching(app), "every fetch worker finished")
        sent = requests_to(sim, "plivo")
        clock.advance(3600)
        await pilot.pause(0.2)
        assert requests_to(sim, "plivo") == sent
        assert "retrying" not in status(app)
        assert marks(app)["demo-plivo"] == "✖"  # still failed, and R still retries it
        recover(sim)
        await pilot.press("R")
        await until(
            pilot, lambda: "demo-plivo" in {c.account for c in view_calls(app)}, "plivo rows"
        )


# --- filters and accounts changed mid-fetch ----------------------------------------------------
async def test_rapid_filter_changes_end_with_only_the_last_querys_rows() -> None:
    sim = SimApp(seed=7, now=FIXED_NOW, latency_ms=LATENCY_MS, faults="slow@tmedia=0.5")
    app = fault_app(sim, since=timedelta(hours=4))
    base = CallQuery(since=FIXED_NOW - timedelta(hours=4))
    steps = [
        replace(base, text="1"),
        replace(base, outcomes=frozenset({Outcome.BUSY})),
        replace(base, to="44"),
        replace(base, direction="outbound", min_duration=30),
        replace(base, direction="inbound"),
    ]
    async with running(app) as pilot:
        await until(pilot, lambda: bool(fetching(app)) and len(sim.seen) > 0, "a load")
        for query in steps:
            app.main.set_query(query)
            await pilot.pause(0.03)
        await pilot.press("f", "f", "f")  # failed only: on, off, on
        final = replace(steps[-1], outcomes=FAILED_OUTCOMES)
        assert app.main.query_ == final
        await until(
            pilot, lambda: app.main.idle and len(view_calls(app)) > 20, "the last query's rows"
        )
        await pilot.pause(0.3)  # anything of an older query still coming would be here by now
        shown = view_calls(app)
        assert all(final.matches(c) for c in shown)
        assert len(app.session.store) == len(shown)  # nothing of another query even in the store
        assert all(final.matches(c) for c in app.session.store.calls)
        assert in_time_order(app)


async def test_switching_accounts_during_a_fetch_shows_only_the_picked_one() -> None:
    sim = SimApp(seed=7, now=FIXED_NOW, latency_ms=LATENCY_MS)
    app = fault_app(sim, since=timedelta(hours=4))
    async with running(app) as pilot:
        await until(pilot, lambda: bool(fetching(app)) and len(sim.seen) > 0, "a load")
        app.query_one(Sidebar).focus()
        for _ in ACCOUNTS:
            await pilot.press("down", "enter")  # each pick while the last one loads
            app.query_one(Sidebar).focus()
            await pilot.pause(0.03)
        assert app.main.selected == ["demo-jambonz"]
        await until(pilot, lambda: app.main.idle and len(view_calls(app)) > 20, "jambonz rows")
        await pilot.pause(0.3)
        assert {c.account for c in view_calls(app)} == {"demo-jambonz"}
        assert {c.account for c in app.session.store.calls} == {"demo-jambonz"}
        assert in_time_order(app)
        assert "demo-jambonz" in str(app.query_one("#filterbar", Static).render())


# --- a provider down for minutes ---------------------------------------------------------------
def test_recovery_waits_double_up_to_a_few_minutes() -> None:
    policy = Recovery()
    assert [policy.delay(n) for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 240, 240, 240]


async def test_a_provider_down_for_minutes_is_retried_with_backoff_then_merges_in() -> None:
    clock = FakeClock()
    sim = SimApp(seed=7, now=FIXED_NOW, faults="500@jambonz")
    app = fault_app(sim, since=timedelta(hours=4), recovery=clock.recovery())
    bad = "demo-jambonz"
    async with running(app) as pilot:
        await until(
            pilot,
            lambda: failed(app) == {bad} and clock.waits == [5] and len(view_calls(app)) > 0,
            "the first backoff",
        )
        assert "retrying demo-jambonz in 5 s" in status(app)
        assert marks(app)[bad] == "✖"
        loaded = keys(app)
        for wait in (10, 20, 40, 80, 160, 240, 240):
            sent = requests_to(sim, "jambonz")
            await pilot.pause(0.1)
            assert requests_to(sim, "jambonz") == sent  # nothing is sent while it waits
            before = len(clock.waits)
            clock.advance(clock.waits[-1])
            await until(pilot, lambda n=before: len(clock.waits) > n, f"the backoff of {wait} s")
            assert requests_to(sim, "jambonz") > sent
            assert clock.waits[-1] == wait
            assert f"retrying demo-jambonz in {wait} s" in status(app)
            assert marks(app)[bad] == "✖"
            assert loaded <= keys(app)  # every loaded row stays the whole time
        assert sum(clock.waits) > 10 * 60  # down for more than ten minutes of its clock

        on = cursor_key(app)
        recover(sim)
        clock.advance(240)
        await until(pilot, lambda: bad in {c.account for c in view_calls(app)}, "its rows")
        await until(pilot, lambda: not failed(app), "no account failed")
        assert loaded <= keys(app)
        assert cursor_key(app) == on
        assert in_time_order(app)
        assert marks(app)[bad] != "✖" and "retrying" not in status(app)

        # It goes on with the others as the table is scrolled down: its older calls come in
        # between theirs, in time order.
        def oldest_of_bad() -> float:
            return min(c.started_at.timestamp() for c in view_calls(app) if c.account == bad)  # type: ignore[union-attr]

        oldest = oldest_of_bad()
        for _ in range(3):
            size = len(app.session.store)
            await pilot.press("G")
            await until(
                pilot, lambda n=size: len(app.session.store) > n and app.main.idle, "more rows"
            )
        assert oldest_of_bad() < oldest
        assert in_time_order(app)
        assert loaded <= keys(app)
