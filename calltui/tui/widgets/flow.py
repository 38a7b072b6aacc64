"""The drill-down's flow views, one per kind a provider names (Provider.FLOW_VIEW):
- `ladder`: a call's legs as a ladder between caller, box and callee, a step's text below;
- `waterfall`: a trace's span tree, collapsible, a span's attributes below;
- `events`: the call's events in time order;
- `items`: the recordings and notifications of the call;
- `hangup`: what the hangup code means, and the provider's extras (Insights).

The ladder and the waterfall are RowLists (calltui.tui.widgets.rows): their rows are made only
as they are drawn, so a trace of 20,000 spans or a ladder of 10,000 steps costs a screenful.
"""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from calltui.model import CallDetail, Event, Span
from calltui.render import span_tree
from calltui.text import inert
from calltui.tui import views
from calltui.tui.widgets.rows import RowList


class Waterfall(Vertical):
    """The span tree: ↑↓ select a span, Enter or Space collapses/expands it; the selected
    span's attributes show below."""

    DEFAULT_CSS = """
    Waterfall RowList { height: 2fr; }
    Waterfall #attrs { height: 1fr; border-top: hkey $panel; }
    """

    def __init__(self, spans: list[Span]) -> None:
        super().__init__()
        self.spans = spans
        self.collapsed: set[str] = set()
        self.span_tree = span_tree(spans)
        self.rows: list[tuple[int, Span]] = self.span_tree
        self._scale: views.WaterfallScale | None = None
        self._width = 0

    def compose(self) -> ComposeResult:
        yield RowList(id="spans")
        with VerticalScroll(id="attrs"):
            yield Static(id="attrs-body")

    def on_resize(self) -> None:
        width = max(40, self.size.width - 4)
        if width != self._width:
            self._width = width
            self._scale = views.WaterfallScale.of(self.spans, width)
            self.redraw()

    def redraw(self, keep: Span | None = None) -> None:
        fl = self.query_one(RowList)
        self.rows = views.waterfall_rows(self.span_tree, self.collapsed)
        cursor = fl.cursor
        if keep is not None:
            cursor = next((i for i, (_, s) in enumerate(self.rows) if s is keep), 0)
        scale, rows, collapsed = self._scale, self.rows, self.collapsed
        if scale is None:
            return

        def line(i: int) -> Text:
            depth, span = rows[i]
            return views.waterfall_line(scale, depth, span, collapsed)

        fl.set_rows(len(rows), line, cursor)

    @on(RowList.Highlighted)
    def _highlight(self, event: RowList.Highlighted) -> None:
        if 0 <= event.index < len(self.rows):
            span = self.rows[event.index][1]
            self.query_one("#attrs-body", Static).update(views.attributes(span))

    @on(RowList.Selected)
    def _toggle(self, event: RowList.Selected) -> None:
        span = self.rows[event.index][1]
        self.collapsed ^= {span.span_id}
        self.redraw(keep=span)


class Ladder(Vertical):
    """A call flow between three lanes: ↑↓ select a step, its tooltip text shows below."""

    DEFAULT_CSS = """
    Ladder #ladder-head { height: 2; }
    Ladder RowList { height: 2fr; }
    Ladder #step { height: 1fr; border-top: hkey $panel; }
    """

    def __init__(self, detail: CallDetail, zone: tzinfo | None) -> None:
        super().__init__()
        self.detail = detail
        self.zone = zone
        self.steps: list[Event] = []
        self._width = 0

    def compose(self) -> ComposeResult:
        yield Static(id="ladder-head")
        yield RowList(id="steps")
        with VerticalScroll(id="step"):
            yield Static(id="step-body")

    def on_resize(self) -> None:
        width = max(40, self.size.width - 2)
        if width == self._width:
            return
        self._width = width
        head, lanes, self.steps = views.ladder(self.detail, width)
        self.query_one("#ladder-head", Static).update(head)
        steps = self.steps

        def line(i: int) -> Text:
            return views.ladder_line(lanes, steps[i])

        fl = self.query_one(RowList)
        fl.set_rows(len(steps), line, fl.cursor)
        if not steps:
            self.query_one("#step-body", Static).update(Text("no call traces", "dim"))

    @on(RowList.Highlighted)
    def _highlight(self, event: RowList.Highlighted) -> None:
        if 0 <= event.index < len(self.steps):
            step = self.steps[event.index]
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
