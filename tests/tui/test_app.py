"""The TUI, driven by keys through Textual's pilot, over the simulator on a fixed clock."""

from __future__ import annotations

from datetime import timedelta

import httpx
from textual.widgets import Static, TabbedContent

from calltui.feed import BATCH
from calltui.http import RetryPolicy
from calltui.model import FAILED_OUTCOMES, CallQuery, Outcome
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_settings
from calltui.tui.app import CallTUI
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.screens.help import HelpScreen
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.flow import Waterfall
from calltui.tui.widgets.sidebar import Sidebar
from tests.conftest import FIXED_NOW
from tests.tui.harness import make_app, settle, view_calls


async def test_starts_on_all_accounts_last_hour_newest_first():
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        calls = view_calls(app)
        assert len(calls) >= 100
        assert {c.account for c in calls} == set(app.session.engine.account_names)
        starts = [c.started_at for c in calls]
        assert starts == sorted(starts, reverse=True)
        assert all(s >= FIXED_NOW - timedelta(hours=1) for s in starts)
        status = str(app.query_one("#status", Static).render())
        assert f"{len(app.session.store)} loaded" in status


async def test_pick_an_account_in_the_sidebar():
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.query_one(Sidebar).focus()
        names = ["All accounts", *app.session.engine.account_names]
        await pilot.press(*["down"] * names.index("demo-plivo"), "enter")
        await settle(pilot)
        assert {c.account for c in view_calls(app)} == {"demo-plivo"}
        assert app.focused is app.query_one(CallTable)


async def test_failed_only_toggles_with_f():
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert app.main.query_.outcomes == FAILED_OUTCOMES
        assert view_calls(app) and all(c.outcome in FAILED_OUTCOMES for c in view_calls(app))
        assert "failed only" in str(app.query_one("#filterbar", Static).render())
        await pilot.press("f")
        await settle(pilot)
        assert any(c.outcome is Outcome.ANSWERED for c in view_calls(app))


async def test_open_a_call_see_its_provider_view_and_go_back():
    expected = {
        "demo-tmedia": "Legs & ladder",
        "demo-jambonz": "Trace",
        "demo-bandwidth": "Events",
        "demo-restcomm": "Recordings & notifications",
        "demo-plivo": "Hangup & insights",
    }
    for account, title in expected.items():
        app = make_app([account])
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, DetailScreen)
            assert screen.detail is not None, account
            assert str(screen.query_one(TabbedContent).get_tab("tab-flow").label) == title
            await pilot.press("2")
            await settle(pilot)
            if account == "demo-jambonz" and screen.detail.spans:
                assert screen.query(Waterfall)
            await pilot.press("escape")
            await pilot.pause(0.1)
            assert not isinstance(app.screen, DetailScreen)


async def test_scrolling_near_the_end_loads_the_next_page():
    app = make_app(["demo-plivo"], query=CallQuery(since=FIXED_NOW - timedelta(hours=24)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        loaded = len(app.session.store)
        # A day holds thousands: one batch ahead of the screen, however late the table's first
        # wish for more rows was handled (it came while the first rows were still landing).
        assert loaded == BATCH
        await pilot.press("G")
        await settle(pilot)
        assert len(app.session.store) > loaded
        assert "loading" in app.query_one(CallTable).status_text or app.main.feed.exhausted


async def test_an_account_that_errors_shows_it_while_other_rows_stay():
    settings = demo_settings(timezone="UTC")
    sim = SimApp(seed=1, now=FIXED_NOW, faults="500@restcomm")
    app = CallTUI(
        settings,
        transport=httpx.ASGITransport(app=sim),
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        now=FIXED_NOW,
        retry=RetryPolicy(attempts=2, base_s=0.01, cap_s=0.01),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.session.engine.states["demo-restcomm"].status == "error"
        sidebar = app.query_one(Sidebar)
        labels = [sidebar.label(i).plain for i in range(sidebar.count)]
        assert "✖ demo-restcomm" in labels
        status = str(app.query_one("#status", Static).render())
        assert "demo-restcomm" in status and "HTTP 500" in status
        assert view_calls(app) and "demo-restcomm" not in {c.account for c in view_calls(app)}


async def test_table_renders_only_the_visible_lines():
    app = make_app(["demo-plivo"], query=CallQuery(since=FIXED_NOW - timedelta(hours=24)))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        assert len(table.view) >= BATCH
        table._invalidate()
        table.refresh()
        before = table.renders
        await pilot.pause()
        assert 0 < table.renders - before <= table.size.height
        before = table.renders
        await pilot.press("j")
        await pilot.pause()
        assert table.renders - before <= 2


async def test_help_lists_every_binding_id():
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, HelpScreen)


async def test_usable_at_80x24_and_resizes_down_to_40x12():
    app = make_app([])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.query_one(Sidebar).display or app.query_one(Sidebar).size.width == 0
        assert view_calls(app)
        for size in ((60, 20), (40, 12), (120, 40), (40, 12)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.05)
        await pilot.press("j", "enter")
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.query_one(Sidebar), Sidebar)


async def test_filter_form_names_a_bad_field_then_applies():
    app = make_app([])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await pilot.pause(0.1)
        from textual.widgets import Input

        since = app.screen.query_one("#since", Input)
        since.value = "yesterday"
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert "since" in str(app.screen.query_one("#error", Static).render())
        since.value = "15m"
        app.screen.query_one("#to", Input).value = "+44"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.main.query_.since == FIXED_NOW - timedelta(minutes=15)
        listed = view_calls(app)
        assert listed and all((c.to or "").lstrip("+").startswith("44") for c in listed)


async def test_bindings_are_remapped_from_the_config():
    app = make_app([])
    app.set_keymap({"failed_only": "x"})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert app.main.query_.outcomes == FAILED_OUTCOMES


async def test_refresh_keeps_the_cursor_on_the_same_call():
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j")
        table = app.query_one(CallTable)
        before = app.session.store.calls[table.current_row]
        await pilot.press("r")
        await settle(pilot)
        after = app.session.store.calls[table.current_row]
        assert (after.account, after.id) == (before.account, before.id)


async def test_f2_saves_the_view_as_csv(tmp_path, monkeypatch):
    import csv

    monkeypatch.chdir(tmp_path)
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await pilot.pause(0.1)
        (saved,) = tmp_path.glob("calltui-*.csv")
        table = app.query_one(CallTable)
        with saved.open() as f:
            lines = list(csv.reader(f))
        assert len(lines) == len(table.view) + 1
        assert lines[1][2] == app.session.store.calls[table.view[0]].id


async def test_markup_and_escapes_in_provider_data_stay_inert():
    from calltui.model import Call

    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        hostile = "[@click=app.quit]x[/] \x1b[2J\x1b]52;c;ZXZpbA==\x07[bold]"
        table = app.query_one(CallTable)
        row = app.session.store.calls[table.view[0]]
        evil = Call(**{**{f: getattr(row, f) for f in Call.__slots__}, "id": hostile})  # type: ignore[arg-type]
        evil.from_ = hostile
        (added,) = app.session.store.extend([evil])
        table.set_view([added, *table.view], table.status_text)
        table.cursor = 0
        await pilot.press("y")
        await pilot.pause(0.2)
        assert app.is_running
        lines = [app.query_one(CallTable).render_line(y).text for y in range(3)]
        assert any("[@click=app." in line for line in lines)  # shown as typed, cut to width
        assert not any("\x1b" in line for line in lines)
