"""The call table: a Line-API virtual table over the CallStore.

Only visible lines are rendered (render_line per screen row), each row's strip is cached by
(row, cursor, row state, generation), so the cost of a frame depends on the terminal's height, not
on how many calls are loaded. A sticky header (saying "sorting…" while a view is rebuilt), and a
last line saying "loading…" or "end of results".

A row the store evicted is drawn from its skeleton, dimmed, and its page is asked for again
(PageWanted); rows_changed() redraws it once restored. The rows on screen are pinned in the store
so that it never evicts what is shown.

Marks (Space) are kept by (account, id) with the marked Call, so they outlive a refetch or a
filter change and export and compare read exactly what was marked; a marked row shows `●` in its
first cell. Calls a live tail brings in are placed by start time (insert_rows) and shown
highlighted for FRESH_S seconds. Whenever the rows of the view change, ViewChanged is posted
(the KPI panel recomputes on it).
"""

from __future__ import annotations

import bisect
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, MutableSequence, Sequence
from datetime import datetime, tzinfo

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer

from calltui.columns import COLUMNS as SPEC
from calltui.columns import TUI_TABLE, fmt_duration
from calltui.model import Call, Outcome
from calltui.store import EVICTED, GONE, HELD, Brief, CallStore, NotHeld, Refetch, Sort
from calltui.text import fit
from calltui.tui import keys, palette
from calltui.tui.widgets.column_fit import FLEXIBLE, fit_columns
from calltui.tui.widgets.styled import StyledView
from calltui.tui.widgets.trunk_width import TrunkWidth

# The TUI's default columns (calltui.columns.TUI_TABLE) as (key, title, width); SIP/CAUSE (or,
# without it, the last one) takes what the terminal has left (at least its title's width).
COLUMNS: tuple[tuple[str, str, int], ...] = tuple(
    (c.key, c.tui.title, c.tui.width) for c in TUI_TABLE
)
DEFAULT_KEYS = tuple(key for key, _, _ in COLUMNS)
CACHE_ROWS = 256
"""Rows whose strips are kept: a few screens. Each strip is a dozen objects the collector
scans (its segments, styles and caches), so a bigger cache only makes collections longer."""
FRESH_S = 4.0
"""How long rows a live tail inserted stay highlighted."""
MARK = "●"


class CallTable(StyledView, can_focus=True):
    """Rows of the current view; the cursor is an index into the view."""

    BINDINGS = keys.bindings("table")
    COMPONENT_CLASSES = {
        "call-table--header",
        "call-table--cursor",
        "call-table--status",
        "call-table--placeholder",
        "call-table--mark",
        "call-table--fresh",
    }
    DEFAULT_CSS = """
    CallTable { background: $surface; }
    CallTable > .call-table--header { background: $panel; color: $text; text-style: bold; }
    CallTable > .call-table--cursor { background: $block-cursor-background;
        color: $block-cursor-foreground; text-style: bold; }
    CallTable:blur > .call-table--cursor { background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground; text-style: none; }
    CallTable > .call-table--status { color: $foreground-muted; text-style: italic; }
    CallTable > .call-table--placeholder { color: $foreground-muted; text-style: italic; }
    CallTable > .call-table--mark { color: $accent; text-style: bold; }
    CallTable > .call-table--fresh { background: $success 25%; }
    """

    # No repaint of its own: watch_cursor redraws the two rows it moved between (a whole
    # table per key is ~30 KB to the terminal at 200x60).
    cursor: reactive[int] = reactive(0, always_update=True, init=False, repaint=False)

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

    class PageWanted(Message):
        """An evicted row is on screen: its page should be fetched again."""

        def __init__(self, ticket: Refetch) -> None:
            super().__init__()
            self.ticket = ticket

    class ViewChanged(Message):
        """The rows of the view changed (replaced, appended, inserted)."""

    class MarksChanged(Message):
        """A row was marked or unmarked."""

    def __init__(
        self,
        store: CallStore,
        zone: tzinfo | None,
        columns: Sequence[str] = DEFAULT_KEYS,
        account_width: int = 0,
        **kw: object,
    ) -> None:
        """`columns`: the keys of the columns shown, in order (`[display] columns`);
        `account_width`: the longest account name, which ACCOUNT widens to while there is
        room."""
        super().__init__(**kw)
        self.store = store
        self.zone = zone
        self.shown: tuple[str, ...] = tuple(columns)
        self.account_width = account_width
        self.trunks = TrunkWidth(store)
        """The longest trunk name loaded, which TRUNK widens to where there is room for it."""
        self.live: Callable[[], datetime] | None = None
        """While set (a live tail is on): the clock by which calls in progress show how long
        they have been up, redrawn each second."""
        self._live_timer: Timer | None = None
        self.view: MutableSequence[int] = array("l")
        self.sort = Sort()
        self.status_text = ""
        self.busy = ""
        self._pos: array[int] | None = None
        """Each store row's index in the view (-1: absent), built when first needed."""
        self._cache: OrderedDict[tuple[int, bool, int, int, bool, bool], Strip] = OrderedDict()
        self._gen = 0
        self._outcome_styles: dict[Outcome, Style] = {}
        self._head: tuple[tuple[Sort, str, int], Strip] | None = None
        self._why_column = FLEXIBLE
        """The column where a placeholder row says why it has no data (the widest lacking)."""
        self.columns: list[tuple[str, str, int]] = self._fit(200)
        """What is drawn: (key, title, width) of each column shown that fits."""
        self.width_total = 200
        self.renders = 0
        self.marks: dict[tuple[str, str], Call] = {}
        """Marked calls by (account, id), in the order they were marked."""
        self.fresh: set[int] = set()
        """Store rows a live tail just inserted (highlighted)."""

    # --- data -----------------------------------------------------------------------------
    def set_view(
        self,
        view: MutableSequence[int],
        status: str,
        keep_row: int | None = None,
        reset: bool = False,
        positions: array[int] | None = None,
    ) -> None:
        """Show `view`; the cursor stays on the same call (`keep_row`) where it still is.
        `positions` (CallStore.positions of `view`) saves building it here, O(rows), for a big
        view. Cached rows stay valid (they are keyed by store row) unless the store was `reset`."""
        # An array, not a list, even for a view given as one: rows appended to it stay 8 bytes
        # each, where a list holds an int object per row (36 bytes, and a full collection
        # visits every item).
        self.view = view if isinstance(view, array) else array("l", view)
        self._pos = positions
        self.status_text = status
        if reset:
            self._invalidate()
        self._fit_trunks()
        self.virtual_size = Size(self.width_total, len(view) + 2)
        at = None if keep_row is None else self.position(keep_row)
        if at is not None:
            self.cursor = at
        else:
            self.cursor = min(self.cursor, max(0, len(view) - 1))
        self.refresh()
        self.post_message(self.ViewChanged())

    def append_rows(self, rows: range, status: str) -> None:
        """Rows that sort after every row shown: the cursor and the cached strips stay."""
        start = len(self.view)
        self.view.extend(rows)
        pos = self._pos
        if pos is not None and rows:
            if len(pos) < rows[-1] + 1:
                pos.extend(array("l", [-1]) * (rows[-1] + 1 - len(pos)))
            for offset, row in enumerate(rows):
                pos[row] = start + offset
        self.status_text = status
        self._fit_trunks()
        self.virtual_size = Size(self.width_total, len(self.view) + 2)
        if len(self.view) == len(rows):
            self.cursor = 0
        self.refresh()
        self.post_message(self.ViewChanged())

    def insert_rows(self, rows: Iterable[int]) -> None:
        """Rows of a live tail, each placed by start time (the view is in the default sort:
        newest first), highlighted for FRESH_S seconds. The cursor stays on its call."""
        started = self.store.started
        current = self.current_row
        added = []
        for row in sorted(rows, key=started.__getitem__):
            # Descending by start: bisect on the negated key; a new row goes before its equals.
            at = bisect.bisect_left(self.view, -started[row], key=lambda r: -started[r])
            self.view.insert(at, row)
            added.append(row)
        if not added:
            return
        self._pos = None
        self._fit_trunks()
        self.virtual_size = Size(self.width_total, len(self.view) + 2)
        if current is not None:
            now_at = self.position(current)
            if now_at is not None and now_at != self.cursor:
                self.cursor = now_at
        self.mark_fresh(added)
        self.refresh()
        self.post_message(self.ViewChanged())

    def mark_fresh(self, rows: Iterable[int]) -> None:
        """Highlight `rows` (a live tail's) for FRESH_S seconds."""
        added = list(rows)
        self.fresh.update(added)
        self.set_timer(FRESH_S, lambda: self._fade(added))

    def _fade(self, rows: list[int]) -> None:
        """Those rows lose their highlight: the lines showing them are redrawn, no others."""
        self.fresh.difference_update(rows)
        faded = set(rows)
        top = int(self.scroll_y)
        for y, row in enumerate(self.view[top : top + self.size.height]):
            if row in faded:
                self.redraw_line(y + 1)

    def position(self, row: int) -> int | None:
        """Where store row `row` is in the view, in O(1)."""
        if self._pos is None:
            self._pos = self.store.positions(self.view)
        at = self._pos[row] if 0 <= row < len(self._pos) else -1
        return at if 0 <= at < len(self.view) and self.view[at] == row else None

    def set_busy(self, text: str) -> None:
        """A note in the header while the view is being rebuilt ("sorting…"), or none."""
        if text != self.busy:
            self.busy = text
            self.redraw_line(0)

    def rows_changed(self, rows: Iterable[int]) -> None:
        """Rows whose record changed (restored by a refetch, or a call in progress that a live
        tail saw end): their cached strips are stale, the others' are not."""
        changed = set(rows)
        for key in [k for k in self._cache if k[0] in changed]:
            del self._cache[key]
        self.refresh()

    def set_status(self, status: str) -> None:
        if status != self.status_text:
            self.status_text = status
            self.redraw_line(len(self.view) + 1 - int(self.scroll_y))

    @property
    def current_row(self) -> int | None:
        return self.view[self.cursor] if 0 <= self.cursor < len(self.view) else None

    def _fit(self, width: int) -> list[tuple[str, str, int]]:
        return fit_columns(self.shown, width, self.account_width, self.trunks.width)

    def _fit_trunks(self) -> None:
        """Fit the columns again when the rows loaded bring a longer trunk name."""
        if self.trunks.changed() and self.size.width:
            self.on_resize()

    def tick_live(self, clock: Callable[[], datetime] | None) -> None:
        """Calls in progress count their time up by `clock` each second (None: stop)."""
        self.live = clock
        if self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None
        if clock is not None:
            self._live_timer = self.set_interval(1.0, self._tick_live)
        self._cache.clear()
        self.refresh()

    def _tick_live(self) -> None:
        cell = self._cell("duration")
        if cell is None:
            return  # no column counts the time up
        x, w = cell
        top = int(self.scroll_y)
        store = self.store
        # Line 0 is the header: the rows shown are lines 1 to height - 1. Only the duration's
        # cells are drawn again: a whole line for a clock's second was most of what a tail
        # with nothing new wrote to the terminal.
        shown = range(top, min(top + self.size.height - 1, len(self.view)))
        for y, index in enumerate(shown, 1):
            row = self.view[index]
            if store.state[row] == HELD and store.brief(row).outcome is Outcome.IN_PROGRESS:
                for key in [k for k in self._cache if k[0] == row]:
                    del self._cache[key]
                self.refresh(Region(x - int(self.scroll_x), y, w, 1))

    def _cell(self, key: str) -> tuple[int, int] | None:
        """Where the column `key` is drawn in a row (its x and width), if it is shown."""
        x = 1  # the mark
        for k, _, w in self.columns:
            if k == key:
                return x, w
            x += w + 1
        return None

    def toggle_column(self, key: str) -> bool:
        """Show the column `key` (in its place in the default order) or hide it; False if it
        is the last one shown."""
        if key in self.shown:
            if len(self.shown) == 1:
                return False
            self.shown = tuple(k for k in self.shown if k != key)
        else:
            order = [*DEFAULT_KEYS, *(k for k in SPEC if k not in DEFAULT_KEYS)]
            wanted = {*self.shown, key}
            self.shown = tuple(k for k in order if k in wanted)
        self.columns = []
        self.on_resize()
        return True

    def on_resize(self) -> None:
        # Room for the vertical scrollbar, shown or not yet: fitted to the width without it, the
        # columns would overflow by its width once rows fill the table, and a horizontal
        # scrollbar would take a line (redrawn, a few KB, on every scroll).
        columns = self._fit(self.content_region.width - self.styles.scrollbar_size_vertical)
        width = sum(w + 1 for _, _, w in columns) + 1
        if columns != self.columns or width != self.width_total:
            self.columns, self.width_total = columns, width
            lacking = [(w, k) for k, _, w in columns if not SPEC[k].skeleton]
            self._why_column = max(lacking)[1] if lacking else ""
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
    def render_lines(self, crop: Region) -> list[Strip]:
        top = int(self.scroll_y)
        self.store.pin(self.view[top : top + self.size.height])
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            return _window(self._header(), scroll_x, width, None)
        index = y - 1 + scroll_y
        if index == len(self.view):
            style = self.get_component_rich_style("call-table--status")
            return Strip([Segment(" " + self.status_text, style)]).extend_cell_length(width, style)
        if index > len(self.view):
            return Strip.blank(width, self.base_style())
        row = self.view[index]
        store = self.store
        store.touch(row)  # on screen: the last page to evict once it scrolls away
        state = store.state[row]
        if state == EVICTED:
            ticket = store.claim(row)
            if ticket is not None:
                # Not posted from here: a message made while the screen renders has the screen
                # as its sender, and Textual stops it from bubbling past the screen.
                self.call_later(self._want, ticket)
        selected = index == self.cursor
        marked = bool(self.marks) and (store.account_of(row), store.ids[row]) in self.marks
        fresh = row in self.fresh
        key = (row, selected, state, self._gen, marked, fresh)
        strip = self._cache.get(key)
        if strip is None:
            self.renders += 1
            strip = self._row(store.brief(row), selected, marked, fresh)
            self._cache[key] = strip
            if len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
        return _window(strip, scroll_x, width, self.base_style())

    def _want(self, ticket: Refetch) -> None:
        self.post_message(self.PageWanted(ticket))

    def _header(self) -> Strip:
        state = (self.sort, self.busy, self._gen)
        if self._head is not None and self._head[0] == state:
            return self._head[1]
        style = self.component_style("call-table--header")
        cells = []
        for key, title, w in self.columns:
            if key == self.sort.key:
                # The direction is never cut: a narrow column's title gives cells to it.
                mark = "▼" if self.sort.descending else "▲"
                cells.append((title[: max(0, w - 1)] + mark).ljust(w))
            else:
                cells.append(title.ljust(w)[:w])
        text = (" " + " ".join(cells)).ljust(self.width_total)
        if self.busy:
            note = f" {self.busy} "
            text = text[: max(0, self.width_total - len(note))] + note
        strip = Strip([Segment(text, style)])
        self._head = (state, strip)
        return strip

    def _row(self, b: Brief, selected: bool, marked: bool = False, fresh: bool = False) -> Strip:
        held = b.state == HELD
        if selected:
            base = self.component_style("call-table--cursor")
        elif held:
            base = self.base_style()
        else:
            base = self.base_style() + self.component_style("call-table--placeholder")
        if fresh and not selected:
            base = base + self.component_style("call-table--fresh")
        # On the cursor row the outcome takes the cursor's colours: a red or cyan word on the
        # cursor's own background can fall far below a readable contrast.
        outcome_style = base if selected else base + self._outcome_style(b.outcome)
        # A placeholder's cells that its skeleton lacks say so; the widest of them says why.
        lost, why = (
            ("gone", "gone from the provider") if b.state == GONE else ("…", "fetching again…")
        )
        live_since = None
        if self.live is not None and b.outcome is Outcome.IN_PROGRESS and b.started_at:
            live_since = max(0.0, (self.live() - b.started_at).total_seconds())
        last = self._why_column
        # Four segments: the mark, the cells before the outcome, the outcome (its own colour),
        # the rest.
        mark_style = base + self.component_style("call-table--mark")
        segments = [Segment(MARK if marked else " ", mark_style if marked else base)]
        parts = [""]
        for key, _, w in self.columns:
            column = SPEC[key]
            if key == "duration" and live_since is not None:
                text = fmt_duration(int(live_since))
            elif held or column.skeleton:
                text = column.text(b, self.zone, True)
            else:
                text = why if key == last else lost
            cell = fit(text, w)
            if key == "outcome":
                segments.append(Segment("".join(parts), base))
                segments.append(Segment(cell, outcome_style))
                parts = [" "]
            else:
                parts += (cell, " ")
        segments.append(Segment("".join(parts), base))
        return Strip(segments)

    def _outcome_style(self, outcome: Outcome) -> Style:
        if not self._outcome_styles:
            colours = palette.outcome_colours(self.app.theme_variables)
            self._outcome_styles = {
                o: Style() if c == "default" else Style(color=c) for o, c in colours.items()
            }
        return self._outcome_styles[outcome]

    # --- cursor and keys --------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        scroll_y = int(self.scroll_y)
        self.redraw_line(old + 1 - scroll_y)
        self.redraw_line(new + 1 - scroll_y)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self.current_row))
        if self.view and self.wants_more():
            self.post_message(self.NeedMore())

    def wants_more(self) -> bool:
        """Whether the cursor is near enough the last row for more rows to be fetched."""
        return not self.view or self.cursor >= len(self.view) - max(50, 2 * self.size.height)

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

    def action_mark(self) -> None:
        """Mark the call under the cursor, or unmark it."""
        row = self.current_row
        if row is None:
            return
        key = self.store.key(row)
        if key in self.marks:
            del self.marks[key]
        else:
            try:
                self.marks[key] = self.store.call(row)
            except NotHeld:
                self.app.notify("this call is not in memory yet: mark it once it shows")
                return
        self.redraw_line(self.cursor + 1 - int(self.scroll_y))
        self.post_message(self.MarksChanged())

    def clear_marks(self) -> None:
        if self.marks:
            self.marks.clear()
            self.refresh()
            self.post_message(self.MarksChanged())

    def action_sort_next(self) -> None:
        keys = [k for k, _, _ in self.columns if SPEC[k].sort is not None]
        at = keys.index(self.sort.key) if self.sort.key in keys else -1
        nxt = keys[(at + 1) % len(keys)]
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


def _window(strip: Strip, x: int, width: int, style: Style | None) -> Strip:
    """The visible part of a row. When that is all of it, the strip itself: crop_extend would
    cache the strip in itself (a reference cycle per row, freed only by a full GC collection,
    which then takes tens of milliseconds, in the middle of a key press)."""
    if x == 0 and strip.cell_length == width:
        return strip
    return strip.crop_extend(x, x + width, style)
