"""The drill-down of huge calls (`--faults bigdetail`): a jambonz trace of 20,000 spans and a
Tmedia call of 5,000 steps a leg, over real HTTP to the simulator. The flow lists and the raw
view style only the lines on screen, the raw view's search makes lines only as far as its match,
and hostile content stays inert in the virtual raw view as it did in the old one."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from rich.console import RenderableType
from rich.style import Style
from textual.app import App, ComposeResult
from textual.dom import DOMNode
from textual.widgets import Input

from calltui.model import CallQuery, Outcome
from calltui.sim.app import SimApp
from calltui.sim.asgi import BIG_SPANS, BIG_STEPS
from calltui.sim.demo import demo_settings
from calltui.sim.hostile import BY_NAME, CORPUS
from calltui.text import inert_block
from calltui.tui import views
from calltui.tui.app import CallTUI
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.widgets.raw_view import BLOCK, RawLines, RawView, pretty_lines
from calltui.tui.widgets.rows import RowList
from calltui.tui.widgets.styled import ThumbBar
from tests.conftest import FIXED_NOW
from tests.tui.harness import go_to, open_detail, screen_text, settle, shows_what_it_would_draw
from tests.tui.test_hostile_tui import problems

SIZE = (120, 40)
NO_TRACE = "0" * 32


def big_app(account: str) -> CallTUI:
    sim = SimApp(seed=7, now=FIXED_NOW, faults="bigdetail")
    return CallTUI(
        demo_settings(timezone="UTC"),
        transport=httpx.ASGITransport(app=sim),
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        accounts=[account],
        now=FIXED_NOW,
    )


def traced(c: Any) -> bool:
    return c.outcome is Outcome.ANSWERED and c.raw.get("trace_id") not in (None, NO_TRACE)


async def big_detail(
    pilot: Any, app: CallTUI, want: Callable[[Any], bool] = traced, tab: str | None = None
) -> DetailScreen:
    """The detail of the first call `want` takes, once loaded; on tab `tab` if one is given."""
    await settle(pilot)
    await go_to(pilot, app, want)
    screen = await open_detail(pilot, app)
    if tab is not None:
        await pilot.press(tab)
        await settle(pilot)
    return screen


async def test_huge_trace_styles_a_screenful_of_spans_and_of_raw_lines() -> None:
    app = big_app("demo-jambonz")
    async with app.run_test(size=SIZE) as pilot:
        screen = await big_detail(pilot, app)
        assert screen.detail is not None and len(screen.detail.spans or []) == BIG_SPANS
        await pilot.press("2")
        await settle(pilot)
        spans = screen.query_one(RowList)
        assert spans.has_focus and spans.count == BIG_SPANS
        height = spans.size.height
        assert 0 < spans.renders <= height + 2  # the cursor's row is styled twice
        for _ in range(3):
            await pilot.press("pagedown")
        await pilot.pause(0.1)
        assert spans.cursor > 2 * (height - 2)
        assert spans.renders <= 4 * (height + 2)
        await pilot.press("home", "enter")  # collapses the root: one row
        await pilot.pause(0.1)
        assert spans.count == 1
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert spans.count == BIG_SPANS

        await pilot.press("3")
        await settle(pilot)
        raw = screen.query_one(RawView)
        assert raw.has_focus
        rows = raw.size.height
        assert 0 < raw.renders <= rows
        assert '"call": {' in screen_text(app)
        for _ in range(5):
            await pilot.press("pagedown")
        await pilot.pause(0.1)
        assert raw.scroll_y >= 4 * (rows - 1)
        assert raw.renders <= 6 * rows


async def test_a_cursor_move_in_a_scrolled_flow_list_redraws_the_lines_it_left_and_reached() -> (
    None
):
    app = big_app("demo-jambonz")
    async with app.run_test(size=SIZE) as pilot:
        screen = await big_detail(pilot, app, tab="2")
        spans = screen.query_one(RowList)
        for _ in range(3):
            await pilot.press("pagedown")
        await settle(pilot)
        assert spans.scroll_y > 0
        for key in ("up", "up", "down"):
            top = spans.scroll_y
            await pilot.press(key)
            await settle(pilot)
            assert spans.scroll_y == top
            assert await shows_what_it_would_draw(pilot, spans), key


async def test_a_page_looks_the_views_styles_up_once_until_they_change(monkeypatch) -> None:
    # Widget.rich_style walks the DOM (0.1 to 0.15 ms): asked on every line, it was most of
    # what a page key waited for in the raw view and the flow lists.
    app = big_app("demo-jambonz")
    async with app.run_test(size=SIZE) as pilot:
        screen = await big_detail(pilot, app, tab="3")
        raw = screen.query_one(RawView)
        asked: list[object] = []
        real = DOMNode.rich_style

        def counted(node: DOMNode) -> Style:
            asked.append(node)
            return real.fget(node)  # type: ignore[attr-defined,no-any-return]

        monkeypatch.setattr(DOMNode, "rich_style", property(counted))
        for _ in range(3):
            await pilot.press("pagedown")
        await pilot.pause(0.1)
        assert raw.renders > 2 * raw.size.height and raw not in asked
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause(0.2)
        assert raw in asked  # a new theme, new styles


async def test_paging_a_long_document_draws_the_scrollbar_again_only_when_its_thumb_moves(
    monkeypatch,
) -> None:
    app = big_app("demo-jambonz")
    async with app.run_test(size=SIZE) as pilot:
        screen = await big_detail(pilot, app, tab="3")
        raw = screen.query_one(RawView)
        while not raw.source.done:
            await pilot.pause(0.1)
        await pilot.pause(0.1)
        bar = raw.vertical_scrollbar
        assert isinstance(bar, ThumbBar) and bar.drawn is not None
        drawn: list[object] = []
        real = ThumbBar.render

        def counted(self: ThumbBar) -> RenderableType:
            drawn.append(self.thumb())
            return real(self)

        monkeypatch.setattr(ThumbBar, "render", counted)
        for _ in range(4):
            await pilot.press("pagedown")
        await pilot.pause(0.1)
        assert raw.scroll_y >= 3 * (raw.size.height - 1)
        assert drawn == []  # 4 pages of 273,000 lines: the thumb has not moved
        await pilot.press("end")
        await pilot.pause(0.1)
        assert len(drawn) == 1 and drawn[0] == bar.drawn
        assert drawn[0][3] > 0  # the thumb went down


async def test_search_jumps_to_a_match_far_down() -> None:
    app = big_app("demo-jambonz")
    async with app.run_test(size=SIZE) as pilot:
        screen = await big_detail(pilot, app)
        assert screen.detail is not None and screen.detail.spans
        # Never drawn: the raw view has made no line.
        raw = screen.query_one(RawView)
        assert not raw.source.done and raw.source.count == 0
        spans = screen.detail.spans
        parents = {s.parent_id for s in spans}
        middle = next(s for s in spans[len(spans) // 2 :] if s.span_id in parents)
        await pilot.press("slash")
        await pilot.press(*middle.span_id)
        await pilot.pause(0.2)
        found = screen.match
        assert found is not None and found > 50_000
        assert middle.span_id in (raw.source.raw(found) or "")
        assert raw.scroll_y <= found < raw.scroll_y + raw.size.height
        assert middle.span_id in screen_text(app)
        assert raw.renders <= (len(middle.span_id) + 2) * raw.size.height  # a screen a key
        # Enter: the next line naming it (a child's parent_id), below the first.
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert screen.match is not None and screen.match > found
        assert screen.query_one("#raw-search", Input).has_focus


async def test_huge_ladder_styles_a_screenful_of_steps() -> None:
    app = big_app("demo-tmedia")
    async with app.run_test(size=SIZE) as pilot:
        screen = await big_detail(pilot, app, lambda c: c.outcome is Outcome.ANSWERED)
        assert screen.detail is not None and len(screen.detail.events) == 2 * BIG_STEPS
        await pilot.press("2")
        await settle(pilot)
        steps = screen.query_one(RowList)
        assert steps.count == 2 * BIG_STEPS
        assert 0 < steps.renders <= steps.size.height + 2
        await pilot.press("end")
        await pilot.pause(0.1)
        assert steps.cursor == 2 * BIG_STEPS - 1
        assert "Call terminated" in screen_text(app)
        assert steps.renders <= 2 * (steps.size.height + 2)


class RawApp(App[None]):
    def __init__(self, doc: Any) -> None:
        super().__init__()
        self.doc = doc

    def compose(self) -> ComposeResult:
        yield RawView()

    def on_mount(self) -> None:
        self.query_one(RawView).show(lambda: self.doc)


async def test_hostile_strings_show_inert_in_the_raw_view() -> None:
    doc = {h.name: h.value for h in CORPUS} | {BY_NAME["markup_click"].value: "key"}
    app = RawApp(doc)
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.pause(0.2)
        text = screen_text(app)  # type: ignore[arg-type]
        assert not problems(text), problems(text)[:3]
        assert "[@click=app.quit]" in text  # the markup shows as typed, running nothing
        raw = app.query_one(RawView)
        assert raw.search(BY_NAME["ansi_clear"].value) is None  # ESC is \u001b in JSON
        assert raw.search("[@click") is not None
        await pilot.pause(0.1)
        text = screen_text(app)  # type: ignore[arg-type]
        assert not problems(text), problems(text)[:3]
        assert app.is_running


def test_lines_are_json_dumps_indented_with_long_strings_capped() -> None:
    doc: dict[Any, Any] = {
        "empty": {},
        "none": [],
        "nested": [1, [2.5, {"d": None}], {}, (True, False)],
        "long": "x" * (views.RAW_STRING_MAX + 7),
        "escapes": '\x1b[2J\u202e\n\t"\\',
        1: "int key",
        None: float("nan"),
        "deep": [[[[[[]]]]]],
        "wide": "日本語",
    }
    for d in ([], {}, "alone", 3, [doc, doc], doc):
        made = "\n".join(pretty_lines(d))
        assert made == json.dumps(views._capped(d), indent=2, ensure_ascii=False, default=str)
    lines = RawLines(lambda: doc)
    assert lines.count == 0
    assert lines.line(0) == "{" and lines.count <= BLOCK  # made as asked, not all at once
    where = next(i for i, line in enumerate(made.split("\n")) if "int key" in line)
    assert lines.find("INT KEY") == where
    assert lines.text() == inert_block(json.dumps(views._capped(doc), indent=2, ensure_ascii=False))


def test_search_finds_each_line_across_blocks_and_the_lines_read_back() -> None:
    doc = {"items": [f"value {i:05d}" for i in range(3 * BLOCK + 17)]}
    lines = RawLines(lambda: doc)
    made = "\n".join(pretty_lines(doc)).split("\n")
    for i in (0, BLOCK - 1, BLOCK, 2 * BLOCK + 5, len(made) - 1):
        assert lines.raw(i) == made[i]
    assert lines.raw(len(made)) is None and lines.done
    for n in (0, BLOCK - 2, BLOCK - 1, BLOCK, 3 * BLOCK + 16):
        want = made.index(f'    "value {n:05d}"' + ("," if n < 3 * BLOCK + 16 else ""))
        assert lines.find(f"VALUE {n:05d}") == want
        assert lines.find(f"value {n:05d}", want + 1) is None
    assert lines.find("value", BLOCK + 3) == BLOCK + 3
