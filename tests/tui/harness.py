"""The TUI under test: the demo on the fixed clock and the wait until it has settled (what `make
screenshots`, tests.tui.screenshots, draws too), the calls its table lists, what the screen
shows, and the moves most tests make (the cursor to a call, a call's detail opened), and whether
a widget shows what it would draw from scratch."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from calltui.model import Call, CallQuery
from calltui.sim.demo import demo_settings, demo_transport
from calltui.tui.app import CallTUI
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.widgets.call_table import CallTable
from tests.conftest import FIXED_NOW

__all__ = [
    "go_to",
    "make_app",
    "open_detail",
    "screen_text",
    "settle",
    "shows_what_it_would_draw",
    "view_calls",
]


def make_app(
    accounts: list[str],
    seed: int = 1,
    theme: str = "calltui-dark",
    query: CallQuery | None = None,
    faults: str | None = None,
    glyphs: str = "unicode",
) -> CallTUI:
    """The demo on the fixed clock, listing `accounts` (none: all) with `query` (by default,
    the last hour), the simulator serving `faults` (calltui.sim.app), drawn in `glyphs`
    (`[display] glyphs`)."""
    settings = demo_settings(timezone="UTC", theme=theme, glyphs=glyphs)
    _, transport = demo_transport(seed=seed, now=FIXED_NOW, faults=faults)
    query = query or CallQuery(since=FIXED_NOW - timedelta(hours=1))
    return CallTUI(
        settings,
        transport=transport,
        query=query,
        accounts=accounts,
        now=FIXED_NOW,
        remember=False,
    )


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the app has settled (CallTUI.settled), at most 8 s."""
    app = pilot.app
    assert isinstance(app, CallTUI)
    for _ in range(400):
        await pilot.pause(0.02)
        if app.settled():
            break
    await pilot.pause(0.05)


def view_calls(app: CallTUI) -> list[Call]:
    """The calls of the table's view, in its order."""
    store = app.session.store
    return [store.call(r) for r in app.query_one(CallTable).view]


def screen_text(app: CallTUI) -> str:
    """Every character on screen, toasts included (from the SVG screenshot: one text node per
    styled run, spaces written as no-break spaces)."""
    svg = app.export_screenshot()
    return html.unescape("".join(re.findall(r">([^<]*)</text>", svg))).replace("\xa0", " ")


async def go_to(pilot: Any, app: CallTUI, want: Callable[[Call], bool]) -> Call:
    """Put the cursor on the first row for which `want(call)` holds."""
    at = next(i for i, c in enumerate(view_calls(app)) if want(c))
    app.query_one(CallTable).cursor = at
    await settle(pilot)
    return view_calls(app)[at]


async def open_detail(pilot: Any, app: CallTUI) -> DetailScreen:
    """Enter on the cursor's call, and wait until its drill-down has loaded."""
    await pilot.press("enter")
    for _ in range(600):
        await pilot.pause(0.05)
        screen = app.screen
        if isinstance(screen, DetailScreen) and screen.detail is not None:
            break
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, DetailScreen) and screen.detail is not None
    return screen


async def shows_what_it_would_draw(pilot: Pilot[None], widget: Widget) -> bool:
    """Whether the lines `widget` shows (each as last drawn, where no refresh marked it to draw
    again) are those it draws from scratch: a refresh of the wrong line leaves the right one
    showing what it was."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    shown = [list(strip) for strip in widget.render_lines(region)]
    widget.refresh()
    await pilot.pause()
    return shown == [list(strip) for strip in widget.render_lines(region)]
