"""A Line-API list with a cursor, each row's Text made only as it is drawn: a trace of 20,000
spans, a ladder of 10,000 steps or 300 accounts cost a screenful of rows. The drill-down's flow
views (calltui.tui.widgets.flow) and the sidebar are RowLists."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer

from calltui.tui import keys
from calltui.tui.widgets.styled import StyledView

CACHE_ROWS = 512
REST_S = 0.06
"""The cursor has rested this long: the row's text below follows. While a key repeats only the
two rows that change are drawn, as fast as the call table's."""


class RowList(StyledView, can_focus=True):
    """Rows with a cursor, each row's Text made by `line(index)` only when it is drawn:
    ↑↓ PgUp PgDn Home End move the cursor, Enter or Space selects."""

    BINDINGS = keys.bindings("rows")
    COMPONENT_CLASSES = {"row-list--cursor"}
    DEFAULT_CSS = """
    RowList > .row-list--cursor {
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

    def redraw_row(self, index: int) -> None:
        """Row `index` has changed: made again when next drawn, drawn again now if on screen."""
        self._cache.pop((index, False), None)
        self._cache.pop((index, True), None)
        y = index - int(self.scroll_y)
        if 0 <= y < self.scrollable_content_region.height:
            self.redraw_line(y)

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
            cursor = self.component_style("row-list--cursor") if selected else None
            segments = self._line(index).render(self.app.console)
            strip = Strip(Segment.apply_style(segments, base, cursor))
            self._cache[key] = strip
            if len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
        fill = base + self.component_style("row-list--cursor") if selected else base
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
