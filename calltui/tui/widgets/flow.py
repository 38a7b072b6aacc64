"""The drill-down's flow views, one per kind a provider names (Provider.FLOW_VIEW):
- `ladder`: a call's legs as a ladder between caller, box and callee, a step's text below;
- `waterfall`: a trace's span tree, collapsible, a span's attributes below;
- `events`: the call's events in time order;
- `items`: the recordings and notifications of the call;
- `hangup`: what the hangup code means, and the provider's extras (Insights).

The ladder and the waterfall are FlowLists: Line-API lists whose rows are made only as they are
drawn, so a trace of 20,000 spans or a ladder of 10,000 steps costs a screenful of rows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import tzinfo

from rich.segment import Segment
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from calltui.model import CallDetail, Event, Span
from calltui.render import span_tree
from calltui.text import inert
from calltui.tui import views
from calltui.tui.widgets.styled import StyledView

CACHE_ROWS = 512
REST_S = 0.06
"""The cursor has rested this long: the row's text below follows. While a key repeats only the
two rows that change are drawn, as fast as the call table's."""


class FlowList(StyledView, can_focus=True):
    """Rows with a cursor, each row's Text made by `line(index)` only when it is drawn (a trace
    can have 20,000 spans): ↑↓ PgUp PgDn Home End move the cursor, Enter or Space selects."""

    BINDINGS = [
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home", "home", "Top", show=False),
        Binding("end", "end", "Bottom", show=False),
        Binding("enter,space", "select", "Select", show=False),
    ]
    COMPONENT_CLASSES = {"flow-list--cursor"}
    DEFAULT_CSS = """
    FlowList > .flow-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """

    class Highlighted(Message):
        """The cursor rests on row `index` (posted once the keys stop: REST_S)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Selected(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.count = 0
        self.cursor = 0
        self.renders = 0
        """Rows styled (cache misses), for tests: it grows with what is shown, not the size."""
        self._line: Callable[[int], Text] = lambda _: Text()
        self._cache: OrderedDict[tuple[int, bool], Strip] = OrderedDict()
        self._resting: Timer | None = None

    def set_rows(self, count: int, line: Callable[[int], Text], cursor: int = 0) -> None:
        """Show `count` rows, row i drawn as `line(i)`, the cursor on row `cursor`."""
        self.count = count
        self._line = line
        self._cache.clear()
        self.virtual_size = Size(1, count)
        self._move(max(0, min(count - 1, cursor)), force=True)
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.base_style()
        index = int(self.scroll_y) + y
        if index >= self.count:
            return Strip.blank(width, base)
        selected = index == self.cursor
        key = (index, selected)
        strip = self._cache.get(key)
        if strip is None:
            self.renders += 1
            cursor = self.component_style("flow-list--cursor") if selected else None
            segments = self._line(index).render(self.app.console)
            strip = Strip(Segment.apply_style(segments, base, cursor))
            self._cache[key] = strip
            if len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
        fill = base + self.component_style("flow-list--cursor") if selected else base
        return strip.crop_extend(0, width, fill)

    def _move(self, to: int, force: bool = False) -> None:
        old, self.cursor = self.cursor, to
        if old == to and not force:
            return
        top = int(self.scroll_y)
        self.redraw_line(old - top)
        self.redraw_line(to - top)
        height = max(1, self.scrollable_content_region.height)
        if to < top:
            self.scroll_to(y=to, animate=False)
        elif to >= top + height:
            self.scroll_to(y=to - height + 1, animate=False)
        if self._resting is not None:
            self._resting.stop()
            self._resting = None
        if force:
            self._rested()
        elif self.count:
            self._resting = self.set_timer(REST_S, self._rested)

    def _rested(self) -> None:
        self._resting = None
        if self.count:
            self.post_message(self.Highlighted(self.cursor))

    def action_cursor(self, delta: int) -> None:
        if self.count:
            self._move(max(0, min(self.count - 1, self.cursor + delta)))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 1))

    def action_home(self) -> None:
        if self.count:
            self._move(0)

    def action_end(self) -> None:
        if self.count:
            self._move(self.count - 1)

    def action_select(self) -> None:
        if self.count:
            self.post_message(self.Selected(self.cursor))

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_y) + event.y
        if 0 <= index < self.count:
            self._move(index)


class Waterfall(Vertical):
    """The span tree: ↑↓ select a span, Enter or Space collapses/expands it; the selected
    span's attributes show below."""

    DEFAULT_CSS = """
    Waterfall FlowList { height: 2fr; }
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
        yield FlowList(id="spans")
        with VerticalScroll(id="attrs"):
            yield Static(id="attrs-body")

    def on_resize(self) -> None:
        width = max(40, self.size.width - 4)
        if width != self._width:
            self._width = width
            self._scale = views.WaterfallScale.of(self.spans, width)
            self.redraw()

    def redraw(self, keep: Span | None = None) -> None:
        fl = self.query_one(FlowList)
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

    @on(FlowList.Highlighted)
    def _highlight(self, event: FlowList.Highlighted) -> None:
        if 0 <= event.index < len(self.rows):
            span = self.rows[event.index][1]
            self.query_one("#attrs-body", Static).update(views.attributes(span))

    @on(FlowList.Selected)
    def _toggle(self, event: FlowList.Selected) -> None:
        span = self.rows[event.index][1]
        self.collapsed ^= {span.span_id}
        self.redraw(keep=span)


class Ladder(Vertical):
    """A call flow between three lanes: ↑↓ select a step, its tooltip text shows below."""

    DEFAULT_CSS = """
    Ladder #ladder-head { height: 2; }
    Ladder FlowList { height: 2fr; }
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
        yield FlowList(id="steps")
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

        fl = self.query_one(FlowList)
        fl.set_rows(len(steps), line, fl.cursor)
        if not steps:
            self.query_one("#step-body", Static).update(Text("no call traces", "dim"))

    @on(FlowList.Highlighted)
    def _highlight(self, event: FlowList.Highlighted) -> None:
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
