"""The call table: a Line-API virtual table over the CallStore.

Only visible lines are rendered (render_line per screen row), each row's strip is cached by
(row, cursor, width, generation), so the cost of a frame depends on the terminal's height, not on
how many calls are loaded. A sticky header, and a last line saying "loading…" or "end of results".
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import tzinfo

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.color import Color, ColorParseError
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from calltui.model import Outcome
from calltui.render import fmt_duration, fmt_time
from calltui.store import CallStore, Sort
from calltui.text import inert

# The last column takes what the terminal has left (at least CAUSE_MIN cells).
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("started", "TIME", 14),
    ("account", "ACCOUNT", 12),
    ("from", "FROM", 13),
    ("to", "TO", 13),
    ("direction", "DIR", 3),
    ("duration", "DUR", 6),
    ("outcome", "OUTCOME", 11),
    ("mos", "MOS", 3),
    ("code", "SIP/CAUSE", 0),
)
CAUSE_MIN = 8
# Dropped in this order while the terminal is too narrow for every column.
DROP_ORDER = ("mos", "direction", "duration")
OUTCOME_STYLE = {
    Outcome.ANSWERED: "$success",
    Outcome.IN_PROGRESS: "$accent",
    Outcome.BUSY: "$warning",
    Outcome.NO_ANSWER: "$warning",
    Outcome.CANCELLED: "$foreground-muted",
    Outcome.FAILED: "$error",
    Outcome.UNKNOWN: "$foreground-muted",
}
CACHE_ROWS = 1024


class CallTable(ScrollView, can_focus=True):
    """Rows of the current view; the cursor is an index into the view."""

    BINDINGS = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="cursor_down"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="cursor_up"),
        Binding("pagedown,ctrl+f", "page(1)", "Page down", show=False, id="page_down"),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False, id="page_up"),
        Binding("home,g", "home", "Top", show=False, id="top"),
        Binding("end,G", "end", "Bottom", show=False, id="bottom"),
        Binding("s", "sort_next", "Sort", id="sort"),
        Binding("S", "sort_reverse", "Reverse", show=False, id="sort_reverse"),
        Binding("enter", "open", "Open", id="open"),
    ]
    COMPONENT_CLASSES = {
        "call-table--header",
        "call-table--cursor",
        "call-table--status",
    }
    DEFAULT_CSS = """
    CallTable { background: $surface; }
    CallTable > .call-table--header { background: $panel; color: $text; text-style: bold; }
    CallTable > .call-table--cursor { background: $block-cursor-background;
        color: $block-cursor-foreground; text-style: bold; }
    CallTable:blur > .call-table--cursor { background: $block-cursor-blurred-background;
        text-style: none; }
    CallTable > .call-table--status { color: $foreground-muted; text-style: italic; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(Message):
        def __init__(self, row: int | None) -> None:
            super().__init__()
            self.row = row

    class Opened(Message):
        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    class NeedMore(Message):
        """The cursor came near the end of what is loaded."""

    def __init__(self, store: CallStore, zone: tzinfo | None, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.store = store
        self.zone = zone
        self.view: list[int] = []
        self.sort = Sort()
        self.status_text = ""
        self._cache: OrderedDict[tuple[int, bool, int], Strip] = OrderedDict()
        self._gen = 0
        self._outcome_styles: dict[Outcome, Style] = {}
        self.columns: list[tuple[str, str, int]] = self._fit(200)
        self.width_total = 200
        self.renders = 0

    # --- data -----------------------------------------------------------------------------
    def set_view(
        self, view: list[int], status: str, keep_row: int | None = None, reset: bool = False
    ) -> None:
        """Show `view`; the cursor stays on the same call (`keep_row`) where it still is.
        Cached rows stay valid (they are keyed by store row) unless the store was `reset`."""
        self.view = view
        self.status_text = status
        if reset:
            self._invalidate()
        self.virtual_size = Size(self.width_total, len(view) + 2)
        if keep_row is not None and view:
            try:
                self.cursor = view.index(keep_row)
            except ValueError:
                self.cursor = min(self.cursor, len(view) - 1)
        else:
            self.cursor = min(self.cursor, max(0, len(view) - 1))
        self.refresh()

    def append_rows(self, rows: range, status: str) -> None:
        """Rows that sort after every row shown: the cursor and the cached strips stay."""
        self.view.extend(rows)
        self.status_text = status
        self.virtual_size = Size(self.width_total, len(self.view) + 2)
        if len(self.view) == len(rows):
            self.cursor = 0
        self.refresh()

    def set_status(self, status: str) -> None:
        if status != self.status_text:
            self.status_text = status
            self.refresh_line(len(self.view) + 1 - int(self.scroll_y))

    @property
    def current_row(self) -> int | None:
        return self.view[self.cursor] if 0 <= self.cursor < len(self.view) else None

    @staticmethod
    def _fit(width: int) -> list[tuple[str, str, int]]:
        """The columns that fit `width`, the last one stretched to fill it."""
        cols = list(COLUMNS)
        for key in DROP_ORDER:
            if sum(w + 1 for _, _, w in cols) + 1 + CAUSE_MIN <= width:
                break
            cols = [c for c in cols if c[0] != key]
        used = sum(w + 1 for _, _, w in cols) + 1
        return [(k, t, w or max(CAUSE_MIN, width - used)) for k, t, w in cols]

    def on_resize(self) -> None:
        columns = self._fit(self.scrollable_content_region.width)
        width = sum(w + 1 for _, _, w in columns) + 1
        if columns != self.columns or width != self.width_total:
            self.columns, self.width_total = columns, width
            self.virtual_size = Size(width, len(self.view) + 2)
            self._invalidate()

    def _invalidate(self) -> None:
        self._gen += 1
        self._cache.clear()
        self._outcome_styles.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._invalidate()

    # --- rendering --------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            return self._header().crop_extend(scroll_x, scroll_x + width, None)
        index = y - 1 + scroll_y
        if index == len(self.view):
            style = self.get_component_rich_style("call-table--status")
            return Strip([Segment(" " + self.status_text, style)]).extend_cell_length(width, style)
        if index > len(self.view):
            return Strip.blank(width, self.rich_style)
        selected = index == self.cursor
        key = (self.view[index], selected, self._gen)
        strip = self._cache.get(key)
        if strip is None:
            self.renders += 1
            strip = self._row(self.view[index], selected)
            self._cache[key] = strip
            if len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _header(self) -> Strip:
        style = self.get_component_rich_style("call-table--header")
        cells = []
        for key, title, w in self.columns:
            mark = ""
            if key == self.sort.key:
                mark = "▼" if self.sort.descending else "▲"
            cells.append((title + mark).ljust(w)[:w])
        text = " " + " ".join(cells)
        return Strip([Segment(text.ljust(self.width_total), style)])

    def _row(self, row: int, selected: bool) -> Strip:
        s = self.store
        c = s.calls[row]
        base = self.rich_style
        if selected:
            base = self.get_component_rich_style("call-table--cursor")
        outcome_style = base + self._outcome_style(c.outcome)
        code = ""
        if c.sip_code is not None:
            code = str(c.sip_code) + (" " + c.cause if c.cause else "")
        elif c.cause or c.cause_code is not None:
            code = c.cause or str(c.cause_code)
        values = {
            "started": fmt_time(c.started_at, self.zone, short=True),
            "account": c.account,
            "from": c.from_ or "-",
            "to": c.to or "-",
            "direction": {"inbound": "in", "outbound": "out"}.get(c.direction or "", "-"),
            "duration": fmt_duration(c.duration_s),
            "outcome": c.outcome.value,
            "mos": "-" if c.mos is None else f"{c.mos:.1f}",
            "code": code or "-",
        }
        segments = [Segment(" ", base)]
        for key, _, w in self.columns:
            cell = inert(values[key], w).ljust(w)
            segments.append(Segment(cell, outcome_style if key == "outcome" else base))
            segments.append(Segment(" ", base))
        return Strip(segments).simplify()

    def _outcome_style(self, outcome: Outcome) -> Style:
        style = self._outcome_styles.get(outcome)
        if style is None:
            value = self.app.theme_variables.get(OUTCOME_STYLE[outcome].lstrip("$"), "")
            try:
                style = Style(color=Color.parse(value).rich_color) if value else Style()
            except ColorParseError:
                style = Style()
            self._outcome_styles[outcome] = style
        return style

    # --- cursor and keys --------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        scroll_y = int(self.scroll_y)
        self.refresh_line(old + 1 - scroll_y)
        self.refresh_line(new + 1 - scroll_y)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self.current_row))
        if self.view and new >= len(self.view) - max(50, 2 * self.size.height):
            self.post_message(self.NeedMore())

    def _scroll_cursor_into_view(self) -> None:
        body_height = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + body_height:
            self.scroll_to(y=self.cursor - body_height + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        if self.view:
            self.cursor = max(0, min(len(self.view) - 1, self.cursor + delta))
        else:
            self.post_message(self.NeedMore())

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_home(self) -> None:
        self.action_cursor(-len(self.view))

    def action_end(self) -> None:
        self.action_cursor(len(self.view))

    def action_open(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Opened(row))

    def action_sort_next(self) -> None:
        keys = [k for k, _, _ in self.columns]
        nxt = keys[(keys.index(self.sort.key) + 1) % len(keys)]
        self.sort = Sort(nxt, descending=True)
        self.post_message(self.SortChanged(self.sort))

    def action_sort_reverse(self) -> None:
        self.sort = Sort(self.sort.key, not self.sort.descending)
        self.post_message(self.SortChanged(self.sort))

    class SortChanged(Message):
        def __init__(self, sort: Sort) -> None:
            super().__init__()
            self.sort = sort

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", 0)
        if y >= 1:
            index = int(self.scroll_y) + y - 1
            if 0 <= index < len(self.view):
                self.cursor = index
