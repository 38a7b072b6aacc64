"""Readable outcomes in every theme and with NO_COLOR: each outcome word on the table, and the
cursor row, reach a contrast of 4.5:1 against their background (WCAG 2), computed from the
styles the table really draws, after the app's filters, the table focused or not (calltui-16's
ANSI colours as Textual's own palette draws them, which it does for a theme without `ansi`; the
terminal's own default colours count as readable, being the user's choice)."""

from __future__ import annotations

import pytest
from rich.color import Color as RichColor
from rich.segment import Segment
from textual._ansi_theme import DEFAULT_TERMINAL_THEME
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Static

from calltui.model import Outcome
from calltui.tui.app import CallTUI
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.sidebar import Sidebar
from tests.tui.harness import go_to, make_app, open_detail, settle

WORDS = {o.value for o in Outcome}
AA = 4.5


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: RichColor | None, bg: RichColor | None, reverse: bool) -> float:
    """None: both are the terminal's defaults (NO_COLOR), as readable as the terminal is."""
    if reverse:
        fg, bg = bg, fg
    if (fg is None or fg.is_default) and (bg is None or bg.is_default):
        return float("inf")
    white, black = (255, 255, 255), (0, 0, 0)
    f = white if fg is None or fg.is_default else tuple(fg.get_truecolor(DEFAULT_TERMINAL_THEME))
    b = black if bg is None or bg.is_default else tuple(bg.get_truecolor(DEFAULT_TERMINAL_THEME))
    hi, lo = sorted((luminance(f), luminance(b)), reverse=True)  # type: ignore[arg-type]
    return (hi + 0.05) / (lo + 0.05)


def drawn_words(app: CallTUI) -> dict[tuple[str, bool], float]:
    """The lowest contrast of each outcome word drawn, on the cursor row (True) or not."""
    table = app.query_one(CallTable)
    lowest: dict[tuple[str, bool], float] = {}
    for y in range(1, table.size.height):
        segments: list[Segment] = list(table.render_line(y))
        for f in app.get_line_filters():
            segments = f.apply(segments, app.screen.styles.background)
        for s in segments:
            if s.text.strip() in WORDS and s.style is not None:
                key = (s.text.strip(), y == table.cursor + 1 - int(table.scroll_y))
                ratio = contrast(s.style.color, s.style.bgcolor, bool(s.style.reverse))
                lowest[key] = min(lowest.get(key, ratio), ratio)
    return lowest


@pytest.mark.parametrize("theme", ["calltui-dark", "calltui-light", "calltui-16"])
async def test_every_outcome_word_is_readable_in_every_theme(theme):
    app = make_app([], theme=theme)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        for outcome in ("in_progress", "failed", "answered"):  # each on the cursor row once
            table = app.query_one(CallTable)
            store = app.session.store
            row = next(i for i, r in enumerate(table.view) if store.calls[r].outcome == outcome)
            table.cursor = row
            await pilot.pause(0.05)
            words = drawn_words(app)
            assert {"failed", "answered"} <= {w for w, _ in words}
            poor = {k: round(v, 2) for k, v in words.items() if v < AA}
            assert poor == {}, (theme, outcome)


async def test_no_color_draws_the_terminals_own_colours_and_the_cursor_reversed(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app([])
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        words = drawn_words(app)
        assert words and all(v == float("inf") for v in words.values())
        table = app.query_one(CallTable)
        line = list(table.render_line(table.cursor + 1))
        for f in app.get_line_filters():
            line = f.apply(line, app.screen.styles.background)
        assert all(s.style is not None and s.style.reverse for s in line if s.text.strip())


@pytest.mark.parametrize("theme", ["calltui-dark", "calltui-light", "calltui-16", "NO_COLOR"])
async def test_the_cursor_row_is_readable_while_the_table_is_not_focused(theme, monkeypatch):
    if theme == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_app([]) if theme == "NO_COLOR" else make_app([], theme=theme)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        app.query_one(Sidebar).focus()
        await settle(pilot)
        table = app.query_one(CallTable)
        assert not table.has_focus
        line = list(table.render_line(table.cursor + 1 - int(table.scroll_y)))
        for f in app.get_line_filters():
            line = f.apply(line, app.screen.styles.background)
        runs = [
            (s.text.strip(), contrast(s.style.color, s.style.bgcolor, bool(s.style.reverse)))
            for s in line
            if s.text.strip() and s.style is not None
        ]
        poor = [(text, round(ratio, 2)) for text, ratio in runs if ratio < AA]
        assert runs and poor == [], theme


def drawn_runs(widget: Widget, app: CallTUI) -> list[tuple[str, float]]:
    """Each run of text a widget draws, with its contrast, after the app's filters."""
    runs = []
    for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)):
        segments = list(strip)
        for f in app.get_line_filters():
            segments = f.apply(segments, app.screen.styles.background)
        for s in segments:
            if s.text.strip() and s.style is not None:
                ratio = contrast(s.style.color, s.style.bgcolor, bool(s.style.reverse))
                runs.append((s.text.strip(), ratio))
    return runs


@pytest.mark.parametrize("theme", ["calltui-dark", "calltui-light", "calltui-16"])
async def test_the_details_outcome_and_verdict_are_readable_in_every_theme(theme):
    app = make_app(["demo-plivo", "demo-tmedia"], theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for outcome in (Outcome.FAILED, Outcome.ANSWERED):
            await go_to(pilot, app, lambda c, o=outcome: c.outcome is o)  # type: ignore[misc]
            screen = await open_detail(pilot, app)
            head = drawn_runs(screen.query_one("#summary", Static), app)
            word = next(r for t, r in head if t == outcome.value.upper())
            verdict = [r for _, r in drawn_runs(screen.query_one("#verdict", Static), app)]
            assert verdict and min([word, *verdict]) >= AA, (theme, outcome, word, verdict)
            await pilot.press("escape")
            await settle(pilot)
