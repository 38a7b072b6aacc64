"""The query language in the TUI: `/` opens the filter form on its query box; the terms narrow
the table, show in the filter bar, and a bad term is named inline while the form stays open."""

from __future__ import annotations

from textual.widgets import Input, Static

from calltui.analysis.cause import final_sip
from calltui.tui.screens.filters import FilterScreen
from calltui.tui.widgets.filterbar import FilterBar
from tests.tui.harness import make_app, settle, view_calls


async def test_slash_takes_a_query_that_narrows_the_table():
    app = make_app([])
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        everything = view_calls(app)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, FilterScreen)
        box = app.screen.query_one("#query", Input)
        assert box.has_focus
        box.value = "sip:5xx -provider:tmedia"
        await pilot.press("enter")
        await settle(pilot)
        shown = view_calls(app)
        assert shown and len(shown) < len(everything)
        for c in shown:
            code = c.sip_code if c.sip_code is not None else final_sip(c)
            assert code is not None and 500 <= code < 600 and c.provider != "tmedia"
        bar = str(app.main.query_one(FilterBar).render())
        assert "sip:5xx -provider:tmedia" in bar


async def test_a_bad_term_is_named_and_the_form_stays_open():
    app = make_app([])
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        before = app.main.query_
        await pilot.press("slash")
        await settle(pilot)
        app.screen.query_one("#query", Input).value = "sip:5x trunk:A"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FilterScreen)
        error = str(app.screen.query_one("#error", Static).render())
        assert "sip:5x" in error and "query" in error
        await pilot.press("escape")
        await settle(pilot)
        assert app.main.query_ == before
