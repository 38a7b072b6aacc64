"""The TUI when a provider fails (the TUI half of the fault matrix): every provider, under each
representative fault, with all five demo accounts. The failing account is marked in the sidebar
and named with its cause on the status line, the other accounts' rows are there, the keys still
work, R retries the failed account while every loaded row stays, and a drill-down that fails
says why where the call is shown.

Every test also counts the exceptions nobody caught (the reliability harness's `uncaught`
guard, imported below so that it applies here too) and the workers that died of an error: both
must be zero.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from calltui.config import Settings, parse_settings
from calltui.engine import Engine, Recovery
from calltui.model import Call, CallQuery
from calltui.sim.app import SimApp
from calltui.sim.asgi import Faults, parse_faults
from calltui.sim.demo import demo_accounts
from calltui.tui.app import CallTUI
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.footer import KeyFooter
from calltui.tui.widgets.sidebar import Sidebar
from tests.conftest import FIXED_NOW, FakeClock
from tests.reliability.conftest import RETRY, uncaught  # noqa: F401  (autouse guard)
from tests.tui.harness import make_app, settle, view_calls

PROVIDERS = ("tmedia", "plivo", "bandwidth", "restcomm", "jambonz")
ACCOUNTS = tuple(f"demo-{p}" for p in PROVIDERS)
FAULTS = {
    "401": "HTTP 401",
    "429": "HTTP 429",
    "500": "HTTP 500",
    "502": "HTTP 502",
    "malformed": "malformed JSON",
    "timeout": "timed out",
}
"""A representative fault of each family, and what the status line must say of it."""
TIMEOUT_S = 0.5
"""The failing account's timeout (the timeout fault never answers)."""
SIZE = (160, 40)


# --- harness -----------------------------------------------------------------------------------
def settings_for(failing: str | None = None) -> Settings:
    """The five demo accounts; the failing one (if any) with a short timeout."""
    accounts = demo_accounts()
    if failing is not None:
        accounts[f"demo-{failing}"]["timeout_s"] = TIMEOUT_S
    return parse_settings({"accounts": accounts, "display": {"timezone": "UTC"}}, Path("<t>"))


def fault_app(
    sim: SimApp,
    *,
    failing: str | None = None,
    accounts: list[str] | None = None,
    since: timedelta = timedelta(hours=1),
    recovery: Recovery | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CallTUI:
    """The TUI over `sim` on its fixed clock. Without a `recovery`, its automatic retries wait
    on a clock that never moves: only the keys retry."""
    return CallTUI(
        settings_for(failing),
        transport=transport or httpx.ASGITransport(app=sim),
        query=CallQuery(since=FIXED_NOW - since),
        accounts=accounts,
        now=FIXED_NOW,
        retry=RETRY,
        recovery=recovery or FakeClock().recovery(),
    )


@contextlib.asynccontextmanager
async def running(app: CallTUI, size: tuple[int, int] = SIZE) -> AsyncIterator[Pilot[None]]:
    """app.run_test, failing the test if any worker ended with an error (the app catches
    those and shows "internal error": they are exceptions nobody meant)."""
    died: list[str] = []

    def hook(message: object) -> None:
        if isinstance(message, Worker.StateChanged) and message.state == WorkerState.ERROR:
            died.append(f"{message.worker.name}: {message.worker.error!r}")

    async with app.run_test(size=size, message_hook=hook) as pilot:
        yield pilot
        assert app.is_running
    assert died == [], "workers died of an error"


async def until(pilot: Pilot[None], ok: Callable[[], bool], what: str, tries: int = 600) -> None:
    """Pause until `ok()` holds (workers and timers run meanwhile)."""
    for _ in range(tries):
        if ok():
            return
        await pilot.pause(0.02)
    app = pilot.app
    assert isinstance(app, CallTUI)
    pytest.fail(f"never happened: {what}; status line: {status(app)!r}")


def table_of(app: CallTUI) -> CallTable:
    return app.query_one(CallTable)


def keys(app: CallTUI) -> set[tuple[str, str]]:
    return {app.session.store.key(r) for r in table_of(app).view}


def cursor_key(app: CallTUI) -> tuple[str, str]:
    row = table_of(app).current_row
    assert row is not None
    return app.session.store.key(row)


def status(app: CallTUI) -> str:
    return str(app.query_one("#status", Static).render())


def pane(app: CallTUI) -> str:
    return str(app.query_one("#pane-body", Static).render())


def marks(app: CallTUI) -> dict[str, str]:
    """Each account's mark in the sidebar."""
    sidebar = app.query_one(Sidebar)
    return {a: sidebar.label(sidebar.row_of(a)).plain[0] for a in ACCOUNTS}


def failed(app: CallTUI) -> set[str]:
    return {a for a, s in app.session.engine.states.items() if s.status == "error" and s.done}


def requests_to(sim: SimApp, provider: str) -> int:
    return sum(1 for s in sim.seen if s.provider == provider)


def in_time_order(app: CallTUI) -> bool:
    starts = [c.started_at for c in view_calls(app)]
    return all(a is not None for a in starts) and starts == sorted(starts, reverse=True)  # type: ignore[type-var]


def footer_actions(app: CallTUI) -> set[str]:
    return {p.hint.action for p in app.screen.query_one(KeyFooter).placed}


def recover(sim: SimApp) -> None:
    """The provider answers again (the live simulator's faults are replaced)."""
    sim.faults = Faults((), 7)


async def listed(sim: SimApp, account: str, query: CallQuery) -> list[Call]:
    """Every call of `account` in `query`, as a headless engine of its own lists them."""
    engine = Engine(settings_for(), transport=httpx.ASGITransport(app=sim), retry=RETRY)
    try:
        return await engine.collect([account], query, None)
    finally:
        await engine.aclose()


# --- the matrix --------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_failing_provider_shows_on_its_account_alone_and_r_brings_it_back(
    provider: str, fault: str
) -> None:
    bad = f"demo-{provider}"
    others = set(ACCOUNTS) - {bad}
    sim = SimApp(seed=7, now=FIXED_NOW, faults=f"{fault}@{provider}")
    app = fault_app(sim, failing=provider)
    async with running(app) as pilot:
        await until(
            pilot,
            lambda: failed(app) == {bad} and {c.account for c in view_calls(app)} == others,
            f"{bad} failed, the other accounts' rows shown",
        )
        assert failed(app) == {bad}
        assert marks(app)[bad] == "✖"
        assert [a for a, m in marks(app).items() if m == "✖"] == [bad]
        line = status(app)
        assert bad in line and FAULTS[fault] in line
        assert {c.account for c in view_calls(app)} == others
        assert in_time_order(app)

        # Still answering keys: the cursor moves, a call opens and closes.
        table = table_of(app)
        at = table.cursor
        await pilot.press("j")
        assert table.cursor == at + 1
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail screen")
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.detail is not None, "the detail of a healthy call")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DetailScreen), "back")

        # Retrying is one key, offered in the footer while an account has failed.
        await until(pilot, lambda: "retry_failed" in footer_actions(app), "R in the footer")
        sent = requests_to(sim, provider)
        await pilot.press("R")
        assert f"trying again: {bad}" in notes(app)
        await until(
            pilot,
            lambda: requests_to(sim, provider) > sent and failed(app) == {bad},
            "a retry that fails again",
        )
        assert marks(app)[bad] == "✖" and bad in status(app)

        # The provider answers again: R brings its rows in; nothing loaded goes away, the
        # cursor stays on its call, and the rows keep their time order.
        loaded, on = keys(app), cursor_key(app)
        recover(sim)
        await pilot.press("R")
        await until(pilot, lambda: bad in {c.account for c in view_calls(app)}, f"rows of {bad}")
        await until(pilot, lambda: not failed(app), "no account failed any more")
        assert loaded <= keys(app)
        assert cursor_key(app) == on
        assert in_time_order(app)
        assert marks(app)[bad] != "✖"
        assert "✖" not in status(app) and "retrying" not in status(app)
        await until(pilot, lambda: "retry_failed" not in footer_actions(app), "R hidden again")
        # All of its calls down to the others' oldest row, each in its place, without a key.
        floor = min(c.started_at for c in view_calls(app) if c.account != bad)  # type: ignore[type-var]
        theirs = await listed(sim, bad, app.main.query_)
        expected = {(bad, c.id) for c in theirs if c.started_at and c.started_at >= floor}
        assert expected
        await until(pilot, lambda: expected <= keys(app), f"every call of {bad} down to there")
        assert in_time_order(app)


# --- drill-down failures -----------------------------------------------------------------------
async def fail_drill_downs(pilot: Pilot[None], sim: SimApp, provider: str) -> Call:
    """Loaded rows of `provider`; from now on its answers fail. The cursor goes to a call whose
    detail nobody asked for yet."""
    app = pilot.app
    assert isinstance(app, CallTUI)
    await until(pilot, lambda: len(view_calls(app)) > 5 and app.main.idle, "rows loaded")
    sim.faults = Faults(parse_faults(f"500@{provider}"), 7)
    # Past the first rows (the pane may have loaded the first), to one whose drill-down asks
    # the provider (a jambonz call without a trace is all in its listing).
    at = next(i for i, c in enumerate(view_calls(app)) if i >= 3 and asks_for_detail(c))
    await pilot.press(*["j"] * at)
    call = view_calls(app)[table_of(app).cursor]
    assert (call.account, call.id) not in app.session.details
    return call


def asks_for_detail(call: Call) -> bool:
    return call.provider != "jambonz" or bool(str(call.raw.get("trace_id") or "").strip("0"))


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_drill_down_that_fails_says_why_in_the_detail_pane(provider: str) -> None:
    sim = SimApp(seed=7, now=FIXED_NOW)
    app = fault_app(sim, accounts=[f"demo-{provider}"])
    async with running(app) as pilot:
        call = await fail_drill_downs(pilot, sim, provider)
        await until(pilot, lambda: "HTTP 500" in pane(app), "the error in the pane")
        text = pane(app)
        assert call.id in text  # the call's own summary stays, the error below it
        assert "✖" in text and f"demo-{provider}" in text
        # Still browsing: another call, then back to this one once the provider answers.
        at = table_of(app).cursor
        await pilot.press("k")
        assert table_of(app).cursor == at - 1
        recover(sim)
        await pilot.press("j")
        await until(pilot, lambda: (call.account, call.id) in app.session.details, "the detail")
        await until(pilot, lambda: "HTTP 500" not in pane(app), "the error gone")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_drill_down_that_fails_says_why_on_the_detail_screen(provider: str) -> None:
    sim = SimApp(seed=7, now=FIXED_NOW)
    app = fault_app(sim, accounts=[f"demo-{provider}"])
    async with running(app) as pilot:
        await fail_drill_downs(pilot, sim, provider)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail screen")
        screen = app.screen
        assert isinstance(screen, DetailScreen)

        def shown() -> str:
            return " ".join(str(s.render()) for s in screen.query(Static))

        await until(pilot, lambda: "HTTP 500" in shown(), "the failure on the screen")
        assert f"demo-{provider}" in shown()
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DetailScreen), "back")


def notes(app: CallTUI) -> list[str]:
    return [n.message for n in app._notifications]


async def test_r_with_nothing_failed_says_so() -> None:
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await pilot.pause(0.05)
        assert notes(app) == ["no account has failed: nothing to retry"]
