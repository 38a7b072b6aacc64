"""The TUI over the hostile simulator (`--faults hostile`: the corpus of calltui.sim.hostile in
every call): markup runs no action, no escape sequence or control character reaches the screen,
the table's columns stay aligned whatever the script, and the clipboard gets the plain value.

What reaches the screen is read from the screenshot Textual exports (every glyph of every cell,
as the terminal would get it), and from the call table's own lines.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import httpx
from rich.cells import cell_len, split_text
from textual.widgets import TabbedContent

from calltui.feed import BATCH
from calltui.model import CallQuery, Outcome
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_settings
from calltui.sim.hostile import BY_NAME
from calltui.text import MAX_LINE, inert
from calltui.tui.app import CallTUI
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.screens.help import HelpScreen
from calltui.tui.widgets.call_table import CallTable
from tests.conftest import FIXED_NOW
from tests.tui.harness import go_to, screen_text, settle, view_calls

SIZE = (160, 48)
UNSAFE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def hostile_app(accounts: list[str]) -> CallTUI:
    sim = SimApp(seed=1, now=FIXED_NOW, faults="hostile")
    return CallTUI(
        demo_settings(timezone="UTC"),
        transport=httpx.ASGITransport(app=sim),
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        accounts=accounts,
        now=FIXED_NOW,
    )


def problems(text: str, newlines: bool = True) -> list[str]:
    return [
        f"U+{ord(ch):04X} at {i}: {text[max(0, i - 20) : i + 20]!r}"
        for i, ch in enumerate(text)
        if not (ch == "\n" and newlines) and unicodedata.category(ch) in UNSAFE
    ]


async def test_table_of_hostile_rows_is_inert_and_exactly_as_wide_as_the_table() -> None:
    app = hostile_app([])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        assert len(table.view) >= BATCH
        # Every page of the view, not just the first screenful.
        shown: list[str] = []
        for top in range(0, len(table.view), table.size.height - 1):
            table.scroll_to(y=top, animate=False)
            await pilot.pause()
            for y in range(table.size.height):
                strip = table.render_line(y)
                assert not problems(strip.text, newlines=False), problems(strip.text)
                assert strip.cell_length == table.size.width
                shown.append(strip.text)
        # The markup shows as its own text.
        assert any(m in line for line in shown for m in ("[@click=app", "[bold red]", "[link="))
        table.scroll_to(y=0, animate=False)
        await pilot.pause()
        await pilot.click(CallTable, offset=(20, 3))  # a row of markup: no action runs
        await pilot.pause(0.1)
        assert app.is_running


async def test_table_columns_stay_aligned_with_wide_characters() -> None:
    """Each row's cells at the header's offsets: the outcome column reads the outcome."""
    app = hostile_app([])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        offsets: dict[str, tuple[int, int]] = {}
        at = 1  # a space leads each row
        for key, _, w in table.columns:
            offsets[key] = (at, w)
            at += w + 1
        wide = [
            i
            for i, c in enumerate(view_calls(app))
            if cell_len(inert(c.from_ or "")) > len(inert(c.from_ or ""))
        ]
        assert wide, "the hostile data holds rows with double-width numbers"
        for i in wide[:20]:
            table.scroll_to(y=i, animate=False)
            await pilot.pause()
            line = table.render_line(1).text
            call = view_calls(app)[int(table.scroll_y)]
            start, w = offsets["outcome"]
            _, rest = split_text(line, start)
            cell, _ = split_text(rest, w)
            assert cell.strip() == call.outcome.value, f"misaligned row: {line!r}"


async def test_detail_tabs_and_raw_view_stay_inert() -> None:
    """A call of each provider whose drill-down quotes hostile text: every tab on screen, the
    raw JSON whole (long strings capped, no line past MAX_LINE cells)."""
    picks = {
        "demo-tmedia": lambda c: c.outcome is Outcome.FAILED,  # call flow quotes the reason
        "demo-restcomm": lambda c: c.outcome is Outcome.FAILED,  # notifications quote numbers
        "demo-jambonz": lambda c: c.id == c.sip_call_id,  # its id is a hostile Call-ID
        "demo-plivo": lambda c: True,
        "demo-bandwidth": lambda c: len(c.from_ or "") > 1000,  # the 100,000-character number
    }
    for account, want in picks.items():
        app = hostile_app([account])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await go_to(pilot, app, want)
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, DetailScreen)
            assert screen.detail is not None, account
            for tab in ("1", "2", "3"):
                await pilot.press(tab)
                await settle(pilot)
                text = screen_text(app)
                assert not problems(text), (account, tab, problems(text)[:3])
            assert screen.query_one(TabbedContent).active == "tab-raw"
            assert not problems(screen.raw_text)
            assert all(cell_len(line) <= MAX_LINE for line in screen.raw_text.split("\n"))
            assert app.is_running


async def test_tmedia_ladder_steps_and_tooltips_stay_inert() -> None:
    app = hostile_app(["demo-tmedia"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to(pilot, app, lambda c: c.outcome is Outcome.FAILED)
        await pilot.press("enter", "2")
        await settle(pilot)
        for _ in range(8):  # down the ladder: each step's tooltip shows below
            await pilot.press("down")
            await pilot.pause(0.05)
            assert not problems(screen_text(app))
        assert app.is_running


async def test_y_copies_only_the_plain_value() -> None:
    app = hostile_app(["demo-jambonz"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        call = await go_to(pilot, app, lambda c: c.id == c.sip_call_id and c.id != inert(c.id))
        await pilot.press("y")
        await pilot.pause(0.1)
        assert app.clipboard == inert(call.id)
        assert not problems(app.clipboard, newlines=False)
        app.clipboard.encode("utf-8")  # what the terminal's OSC 52 would carry
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await pilot.pause(0.1)
        assert app.clipboard == inert(call.id)
        assert app.is_running


async def test_notifications_carrying_hostile_text_stay_inert() -> None:
    app = hostile_app(["demo-jambonz"])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        hostile = "".join(BY_NAME[n].value for n in ("markup_click", "ansi_clear", "bidi_rlo"))
        assert not app.main.jumps.to_id(hostile)  # warns: no loaded call with that id
        await go_to(pilot, app, lambda c: c.id == c.sip_call_id and c.id != inert(c.id))
        await pilot.press("y")  # says which (hostile) id it copied
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "no loaded call with id" in text and "copied" in text
        assert "[@click=app.quit]" in text  # the markup shows as typed
        assert not problems(text), problems(text)[:3]
        assert app.is_running


async def test_help_screen_shows_its_text_literally() -> None:
    app = hostile_app([])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "[keys]" in text  # a header with brackets is not read as markup
        assert not problems(text)
