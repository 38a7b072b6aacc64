"""Fit for the terminals jump hosts have: in ASCII mode (`[display] glyphs = "ascii"`, or `auto`
on TERM=linux, vt100, vt220 or a locale that is not UTF-8) no character above 127 reaches the
screen, on the main screen, the KPI panel, a drill-down's ladder and help."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calltui.model import CallQuery
from calltui.sim.demo import demo_settings, demo_transport
from calltui.tui.app import CallTUI
from tests.conftest import FIXED_NOW
from tests.tui.harness import screen_text, settle


def ascii_app(glyphs: str = "ascii") -> CallTUI:
    _, transport = demo_transport(seed=1, now=FIXED_NOW)
    return CallTUI(
        demo_settings(timezone="UTC", glyphs=glyphs),
        transport=transport,
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        accounts=["demo-tmedia", "demo-jambonz"],
        now=FIXED_NOW,
    )


def above_127(text: str) -> set[str]:
    return {c for c in text if ord(c) > 127}


@pytest.mark.parametrize("keys", [(), ("i",), ("enter", "2"), ("question_mark",)])
async def test_ascii_mode_draws_nothing_above_127(keys):
    app = ascii_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        text = screen_text(app)
        assert above_127(text) == set(), keys
        assert "demo-" in text or "calltui keys" in text


async def test_unicode_mode_keeps_its_glyphs():
    app = ascii_app("unicode")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert above_127(screen_text(app))  # the sort arrow, marks and borders


async def test_auto_is_ascii_on_a_vt100(monkeypatch):
    monkeypatch.setenv("TERM", "vt100")
    app = ascii_app("auto")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert above_127(screen_text(app)) == set()


async def test_display_columns_set_the_table_and_the_palette_toggles_one():
    _, transport = demo_transport(seed=1, now=FIXED_NOW)
    settings = demo_settings(timezone="UTC", columns=["time", "account", "to", "outcome", "cause"])
    app = CallTUI(
        settings,
        transport=transport,
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        now=FIXED_NOW,
    )
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.main.table
        assert table.shown == ("started", "account", "to", "outcome", "code")
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Columns: show TRUNK" in commands and "Columns: hide TO" in commands
        commands["Columns: show TRUNK"].callback()
        await pilot.pause()
        assert "trunk" in [k for k, _, _ in table.columns]
        assert "Columns: hide TRUNK" in {c.title for c in app.get_system_commands(app.screen)}


async def test_ascii_mode_names_the_keys_textual_draws_as_glyphs():
    app = ascii_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Enter Open" in footer and "< Open" not in footer, footer


async def test_the_sort_direction_shows_in_every_columns_title_however_narrow():
    """Nothing in colour alone: sorted by any column, either way, its title carries the arrow,
    the narrowest (DIR, 3 cells) included."""
    from calltui.tui.widgets.call_table import CallTable

    app = ascii_app("unicode")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(CallTable)
        seen = set()
        for _ in range(len(table.columns)):
            await pilot.press("s")
            await settle(pilot)
            header = table.render_line(0).text
            title = next(t for k, t, _ in table.columns if k == table.sort.key)
            arrow = "▼" if table.sort.descending else "▲"
            assert arrow in header and title[:2] in header, (table.sort, header)
            await pilot.press("S")
            await settle(pilot)
            header = table.render_line(0).text
            assert ("▲" if arrow == "▼" else "▼") in header, (table.sort, header)
            seen.add(table.sort.key)
        assert {"direction", "mos"} <= seen, sorted(seen)
