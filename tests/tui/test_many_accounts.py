"""Many accounts: what one account's change of state costs the screen does not grow with the
number of accounts (its sidebar line alone is drawn again; the status line is drawn once for
the changes that came together)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from calltui.config import parse_settings
from calltui.model import CallQuery
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_accounts
from calltui.tui.app import CallTUI
from calltui.tui.widgets.sidebar import Sidebar
from calltui.tui.widgets.status import StatusLine
from tests.conftest import FIXED_NOW
from tests.tui.harness import settle, shows_what_it_would_draw

COPIES = 4
"""The five demo accounts this many times over: 20 accounts, all on the screen at 120x40."""


def many_accounts_app() -> CallTUI:
    accounts: dict[str, Any] = {}
    for name, account in demo_accounts().items():
        for n in range(COPIES):
            accounts[name if n == 0 else f"{name}-{n + 1}"] = account
    settings = parse_settings(
        {"display": {"timezone": "UTC"}, "accounts": accounts}, Path("<test>")
    )
    # The copies share their demo credentials, which the simulator would limit as one account.
    sim = SimApp(seed=1, now=FIXED_NOW, enforce_rate_limits=False)
    return CallTUI(
        settings,
        transport=httpx.ASGITransport(app=sim),
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        now=FIXED_NOW,
    )


async def at_rest(pilot: Any, app: CallTUI) -> None:
    """Settled, and then nothing loading any more: the listing rests once the table has its
    rows, while the accounts may still fetch the pages they hold ready; it is stopped, so that
    only the changes a test makes are drawn."""
    await settle(pilot)
    app.main.feed.stop()
    for _ in range(400):
        if all(s.status != "loading" for s in app.session.engine.states.values()):
            break
        await pilot.pause(0.02)
    await pilot.pause(0.05)


class Drawn:
    """The lines a widget renders (render_line's y), from now on."""

    def __init__(self, widget: Sidebar, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lines: list[int] = []
        render = widget.render_line

        def recorded(y: int) -> Any:
            self.lines.append(y)
            return render(y)

        monkeypatch.setattr(widget, "render_line", recorded)


async def test_a_state_change_of_one_account_redraws_only_its_sidebar_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = many_accounts_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await at_rest(pilot, app)
        sidebar = app.query_one(Sidebar)
        names = app.session.account_names
        assert sidebar.count == len(names) + 1  # and 'All accounts'
        name = names[7]
        index = sidebar.row_of(name)
        drawn = Drawn(sidebar, monkeypatch)
        state = app.session.engine.states[name]
        state.status = "error"
        app.main.account_changed(state)
        await pilot.pause(0.05)
        assert sidebar.label(index).plain == f"✖ {name}"
        assert set(drawn.lines) == {index}  # one option, one line each, no scrolling
        # The same state again draws nothing.
        drawn.lines.clear()
        app.main.account_changed(state)
        await pilot.pause(0.05)
        assert drawn.lines == []


async def test_marks_that_come_together_redraw_the_lines_on_screen_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = many_accounts_app()
    async with app.run_test(size=(120, 16)) as pilot:  # the sidebar shows a few accounts
        await at_rest(pilot, app)
        sidebar = app.query_one(Sidebar)
        names = app.session.account_names
        shown, hidden = names[2], names[-1]
        assert sidebar.row_of(hidden) >= sidebar.size.height  # below the screen
        drawn = Drawn(sidebar, monkeypatch)
        states = app.session.engine.states
        for name in (shown, hidden):
            states[name].status = "error"
            app.main.account_changed(states[name])
        await pilot.pause(0.05)
        assert drawn.lines == [sidebar.row_of(shown)]  # once, and only what is seen
        sidebar.action_end()  # scrolls down to it
        await pilot.pause(0.05)
        assert sidebar.label(sidebar.cursor).plain == f"✖ {hidden}"
        assert await shows_what_it_would_draw(pilot, sidebar)


async def test_the_changes_that_come_together_draw_the_status_line_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = many_accounts_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await at_rest(pilot, app)
        shown: list[str] = []
        line = app.query_one(StatusLine)
        show = line.show

        def counted(*args: Any) -> None:
            show(*args)
            shown.append(str(line.render()))

        monkeypatch.setattr(line, "show", counted)
        states = app.session.engine.states
        for state in states.values():  # every account loading again, in one go
            state.status = "loading"
            app.main.account_changed(state)
        await pilot.pause(0.05)
        assert len(shown) == 1  # not one per account
        assert f"fetching {len(states)} accounts" in shown[0]  # counted, not named


async def test_a_thousand_accounts_cost_the_sidebar_a_screenful_of_lines() -> None:
    # Each line is made as it is drawn: listing the accounts measures none of them, and a mark
    # changed below the screen makes nothing until it is scrolled to.
    from textual.app import App, ComposeResult

    names = [f"acct-{i:04}" for i in range(1000)]

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Sidebar(id="sidebar")

    app = One()
    async with app.run_test(size=(40, 20)) as pilot:
        sidebar = app.query_one(Sidebar)
        sidebar.set_accounts(names, {})
        await pilot.pause()
        shown = sidebar.scrollable_content_region.height
        assert 0 < sidebar.renders <= shown
        made = sidebar.renders
        sidebar.mark(names[-1], "error")
        await pilot.pause()
        assert sidebar.renders == made
        sidebar.mark(names[2], "ok")
        await pilot.pause()
        assert sidebar.renders == made + 1 and sidebar.label(3).plain == "● acct-0002"
        sidebar.action_end()
        await pilot.pause()
        assert sidebar.label(sidebar.cursor).plain == "✖ acct-0999"
        assert sidebar.renders <= made + 1 + shown
