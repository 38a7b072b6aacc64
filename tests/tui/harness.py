"""The TUI under test: the demo on the fixed clock and the wait until it has settled (those of
`make screenshots`, calltui.tui.screenshots), the calls its table lists, what the screen shows,
and the moves most tests make (the cursor to a call, a call's detail opened), and whether a
widget shows what it would draw from scratch."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from calltui.model import Call
from calltui.tui.app import CallTUI
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.screenshots import demo_app as make_app
from calltui.tui.screenshots import settle
from calltui.tui.widgets.call_table import CallTable

__all__ = [
    "go_to",
    "make_app",
    "open_detail",
    "screen_text",
    "settle",
    "shows_what_it_would_draw",
    "view_calls",
]


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
