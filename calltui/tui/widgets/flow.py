"""The drill-down's flow views, one per kind a provider names (Provider.FLOW_VIEW):
- `ladder`: a call's legs as a ladder between caller, box and callee, a step's text below;
- `waterfall`: a trace's span tree, collapsible, a span's attributes below;
- `events`: the call's events in time order;
- `items`: the recordings and notifications of the call;
- `hangup`: what the hangup code means, and the provider's extras (Insights).
"""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from calltui.model import CallDetail, Event, Span
from calltui.text import inert
from calltui.tui import views


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
    """A call flow between three lanes: ↑↓ select a step, its tooltip text shows below."""

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


def flow_widgets(kind: str, d: CallDetail, zone: tzinfo | None) -> list[Widget]:
    """The widgets of the flow view `kind` for the drill-down `d`."""
    if kind == "waterfall":
        if d.spans:
            return [Waterfall(d.spans)]
        return [Static(Text("no trace recorded for this call", "dim"))]
    if kind == "ladder":
        return [Ladder(d, zone)]
    if kind == "items":
        return [
            Static(views.items_view("Recordings", d.recordings)),
            Static(views.items_view("Notifications", d.notifications)),
        ]
    if kind == "hangup":
        text = Text()
        text.append("Hangup\n", "bold")
        text.append(inert(d.explanation or "no explanation for this code", 400) + "\n\n")
        insights = d.extra.get("insights")
        if insights:
            text.append_text(views.items_view("Insights", [insights]))
        return [Static(text)]
    return [Static(views.events_view(d.events, zone))]
