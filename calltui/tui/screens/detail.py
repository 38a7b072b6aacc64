"""One call, full screen: summary with the verdict line, the provider's own view (Tmedia ladder,
jambonz span waterfall, Bandwidth events, Restcomm recordings and notifications, Plivo hangup
meaning and Insights), and the raw JSON, searchable. Loaded in a worker that Esc cancels."""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from calltui.model import Call, CallDetail, Event, Span
from calltui.text import inert
from calltui.tui import views

if TYPE_CHECKING:
    from calltui.tui.app import CallTUI


class Waterfall(Vertical):
    """The span tree: ↑↓ select a span, Enter or Space collapses/expands it; the selected
    span's attributes show below."""

    DEFAULT_CSS = """
    Waterfall OptionList { height: 2fr; }
    Waterfall #attrs { height: 1fr; border-top: hkey $panel; }
    """

    def __init__(self, spans: list[Span]) -> None:
        super().__init__()
        self.spans = spans
        self.collapsed: set[str] = set()
        self.lines: list[Span] = []

    def compose(self) -> ComposeResult:
        yield OptionList(id="spans")
        with VerticalScroll(id="attrs"):
            yield Static(id="attrs-body")

    def on_mount(self) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        width = max(40, self.size.width - 4)
        pairs = views.waterfall_lines(self.spans, width, self.collapsed)
        self.lines = [s for s, _ in pairs]
        ol.clear_options()
        ol.add_options([Option(text) for _, text in pairs])
        if pairs:
            ol.highlighted = min(keep or 0, len(pairs) - 1)

    @on(OptionList.OptionHighlighted)
    def _highlight(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.lines):
            span = self.lines[event.option_index]
            self.query_one("#attrs-body", Static).update(views.attributes(span))

    @on(OptionList.OptionSelected)
    def _toggle(self, event: OptionList.OptionSelected) -> None:
        span = self.lines[event.option_index]
        self.collapsed ^= {span.span_id}
        self.redraw()


class Ladder(Vertical):
    """Tmedia's call flow: ↑↓ select a step, its tooltip text shows below."""

    DEFAULT_CSS = """
    Ladder #ladder-head { height: 1; }
    Ladder OptionList { height: 2fr; }
    Ladder #step { height: 1fr; border-top: hkey $panel; }
    """

    def __init__(self, detail: CallDetail, zone: tzinfo | None) -> None:
        super().__init__()
        self.detail = detail
        self.zone = zone
        self.steps: list[Event] = []

    def compose(self) -> ComposeResult:
        yield Static(id="ladder-head")
        yield OptionList(id="steps")
        with VerticalScroll(id="step"):
            yield Static(id="step-body")

    def on_resize(self) -> None:
        head, lines = views.ladder_lines(self.detail, max(40, self.size.width - 2))
        self.steps = [e for e, _ in lines]
        self.query_one("#ladder-head", Static).update(head)
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        ol.clear_options()
        ol.add_options([Option(text) for _, text in lines])
        if lines:
            ol.highlighted = min(keep or 0, len(lines) - 1)
        else:
            self.query_one("#step-body", Static).update(Text("no call traces", "dim"))

    @on(OptionList.OptionHighlighted)
    def _highlight(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.steps):
            step = self.steps[event.option_index]
            self.query_one("#step-body", Static).update(views.step_text(step, self.zone))


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="detail_back"),
        Binding("y", "copy_id", "Copy id", id="detail_copy_id"),
        Binding("1", "tab('tab-summary')", "Summary", id="detail_summary"),
        Binding("2", "tab('tab-flow')", "Flow", id="detail_flow"),
        Binding("3,f6", "tab('tab-raw')", "Raw", id="detail_raw"),
        Binding("slash", "search_raw", "Search raw", id="detail_search"),
    ]
    DEFAULT_CSS = """
    DetailScreen #raw-search { dock: top; }
    DetailScreen TabPane { padding: 0 1; }
    """

    def __init__(self, call: Call, zone: tzinfo | None) -> None:
        super().__init__()
        self.call = call
        self.zone = zone
        self.detail: CallDetail | None = None
        self.raw_text = ""

    @property
    def tui(self) -> CallTUI:
        return cast("CallTUI", self.app)

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            with TabPane("Summary", id="tab-summary"), VerticalScroll():
                yield Static(views.summary(self.call, None, self.zone), id="summary")
            with TabPane(self._flow_title(), id="tab-flow"):
                yield VerticalScroll(Static(Text("loading…", "dim")), id="flow")
            with TabPane("Raw", id="tab-raw"):
                yield Input(placeholder="search the raw JSON", id="raw-search")
                with VerticalScroll(id="raw-scroll"):
                    yield Static(id="raw")
        yield Footer()

    def _flow_title(self) -> str:
        return {
            "tmedia": "Legs & ladder",
            "jambonz": "Trace",
            "bandwidth": "Events",
            "restcomm": "Recordings & notifications",
            "plivo": "Hangup & insights",
        }.get(self.call.provider, "Flow")

    def on_mount(self) -> None:
        self.raw_text = views.raw_json(None, self.call)
        self.query_one("#raw", Static).update(Text(self.raw_text))
        self.load()

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def load(self) -> None:
        detail = await self.tui.get_detail(self.call)
        if detail is None:
            flow = self.query_one("#flow", VerticalScroll)
            await flow.remove_children()
            await flow.mount(Static(Text("could not load this call: see the status line", "red")))
            return
        self.detail = detail
        await self._show(detail)

    async def _show(self, d: CallDetail) -> None:
        self.query_one("#summary", Static).update(views.summary(d.call, d, self.zone))
        self.raw_text = views.raw_json(d, d.call)
        self.query_one("#raw", Static).update(Text(self.raw_text))
        flow = self.query_one("#flow", VerticalScroll)
        await flow.remove_children()
        p = d.call.provider
        if p == "jambonz":
            if d.spans:
                await flow.mount(Waterfall(d.spans))
            else:
                await flow.mount(Static(Text("no trace recorded for this call", "dim")))
        elif p == "tmedia":
            await flow.mount(Ladder(d, self.zone))
        elif p == "restcomm":
            await flow.mount(Static(views.items_view("Recordings", d.recordings)))
            await flow.mount(Static(views.items_view("Notifications", d.notifications)))
        elif p == "plivo":
            text = Text()
            text.append("Hangup\n", "bold")
            text.append(inert(d.explanation or "no explanation for this code", 400) + "\n\n")
            insights = d.extra.get("insights")
            if insights:
                text.append_text(views.items_view("Insights", [insights]))
            await flow.mount(Static(text))
        else:
            await flow.mount(Static(views.events_view(d.events, self.zone)))

    def action_back(self) -> None:
        self.workers.cancel_group(self, "detail")
        self.dismiss(None)

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(inert(self.call.id))
        self.notify(f"copied {inert(self.call.id, 60)}", timeout=2)

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_search_raw(self) -> None:
        self.action_tab("tab-raw")
        self.query_one("#raw-search", Input).focus()

    @on(Input.Changed, "#raw-search")
    def _search(self, event: Input.Changed) -> None:
        text = Text(self.raw_text)
        needle = event.value
        if needle:
            text.highlight_regex("(?i)" + re.escape(needle), "reverse")
            first = self.raw_text.lower().find(needle.lower())
            if first >= 0:
                line = self.raw_text.count("\n", 0, first)
                self.query_one("#raw-scroll", VerticalScroll).scroll_to(
                    y=max(0, line - 3), animate=False
                )
        self.query_one("#raw", Static).update(text)
