"""The raw JSON of a drill-down as a virtual view: a Line-API widget over lines made as they are
needed, so a trace of 20,000 spans (some 270,000 lines) shows its first screen at once.

`RawLines` pretty-prints a document one line at a time, exactly as `json.dumps(indent=2,
ensure_ascii=False, default=str)` would with every long string capped (views.RAW_STRING_MAX): a
screenful is made on the first frame, the rest in short slices between frames, and a search or a
jump further down makes what it needs first. Lines are kept as the encoder wrote them (JSON
already escapes the C0 controls, ESC included); each one shown goes through `inert` when it is
drawn (C1 controls, bidi and invisible characters dropped, cut at MAX_LINE cells) and is styled
as plain text, never read as markup. Only the visible lines are styled, each strip cached.

Search (`find`) looks for the next line holding the text, case-insensitively, from a line on,
making lines as it goes; the view scrolls to it and highlights the text in the lines it draws.
"""

from __future__ import annotations

import json
import re
import time
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip

from calltui.text import ELLIPSIS, MAX_LINE, inert
from calltui.tui.views import RAW_STRING_MAX
from calltui.tui.widgets.styled import StyledView

SLICE_S = 0.002
"""Run of line-making between two timer ticks (a block of BLOCK lines at least, ~2.5 ms): a key
waits for the slice under way, so the shorter the better while the share of the loop given to
making stays half (8 ms slices had page keys wait 10-15 ms, the table's 5)."""
GROW_S = 0.25
"""How often the scrollable height follows the lines made in the background: each change of it
lays the whole screen out again (and redraws the scrollbar), which on every slice kept the loop
busy between a key and its frame."""
CACHE_LINES = 1024
BLOCK = 256
_encode = json.encoder.encode_basestring


def _string(s: str) -> str:
    if len(s) > RAW_STRING_MAX:
        s = f"{s[:RAW_STRING_MAX]}{ELLIPSIS} ({len(s) - RAW_STRING_MAX:,} more characters)"
    return str(_encode(s))


def _scalar(v: Any) -> str:
    """One value as json.dumps writes it (an empty container included; anything else that is
    not JSON as its str())."""
    if isinstance(v, str):
        return _string(v)
    if v is None or isinstance(v, (bool, int, float)):
        return json.dumps(v)
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, (list, tuple)):
        return "[]"
    return _string(str(v))


def _key(k: Any) -> str:
    """A dict key as json.dumps writes it: strings as they are, numbers, booleans and null as
    their JSON text, quoted."""
    if isinstance(k, str):
        return _string(k) + ": "
    if k is None or isinstance(k, (bool, int, float)):
        return _string(json.dumps(k)) + ": "
    return _string(str(k)) + ": "


def pretty_lines(doc: Any) -> Iterator[str]:
    """The lines of `doc` pretty-printed with an indent of 2, one at a time (no recursion: a
    document nested deeper than Python's stack is printed too)."""
    if not (isinstance(doc, (dict, list, tuple)) and doc):
        yield _scalar(doc)
        return
    # A frame: [a list's items or a dict's (key, value) pairs, next index, indent, is a dict].
    stack: list[list[Any]] = []

    def opened(v: dict[Any, Any] | list[Any] | tuple[Any, ...], pad: str) -> str:
        if isinstance(v, dict):
            stack.append([list(v.items()), 0, pad, True])
            return "{"
        stack.append([v, 0, pad, False])
        return "["

    yield opened(doc, "  ")
    while stack:
        frame = stack[-1]
        items, i, pad, is_dict = frame
        if i == len(items):
            stack.pop()
            comma = "," if stack and stack[-1][1] < len(stack[-1][0]) else ""
            yield pad[:-2] + ("}" if is_dict else "]") + comma
            continue
        frame[1] = i + 1
        if is_dict:
            k, v = items[i]
            prefix = pad + _key(k)
        else:
            v, prefix = items[i], pad
        if isinstance(v, (dict, list, tuple)) and v:
            yield prefix + opened(v, pad + "  ")
        else:
            yield prefix + _scalar(v) + ("," if i + 1 < len(items) else "")


def _lines_of(make_doc: Callable[[], Any]) -> Iterator[str]:
    yield from pretty_lines(make_doc())


class RawLines:
    """The lines of a document, made in order as they are asked for. The document itself is
    made (`make_doc`) when the first line is, and let go once the last one is.

    Lines are kept BLOCK to a string, with their offsets in an array: the collector would
    otherwise visit every one of 270,000 strings on each full collection (50 ms and more here),
    and each would cost its own object header."""

    def __init__(self, make_doc: Callable[[], Any]) -> None:
        self.width = 0
        """Characters of the longest line made so far."""
        self._blocks: list[str] = []
        self._starts = array("I")
        """Where each line of the blocks starts in its block."""
        self._pending: list[str] = []
        """Lines made since the last block."""
        self._source: Iterator[str] | None = _lines_of(make_doc)

    @property
    def done(self) -> bool:
        return self._source is None

    @property
    def count(self) -> int:
        """Lines made so far."""
        return len(self._blocks) * BLOCK + len(self._pending)

    def make(self, upto: int | None = None, budget_s: float | None = None) -> bool:
        """Make lines until there are more than `upto` (all: None), the document ends, or
        `budget_s` has passed; whether any line was made."""
        source = self._source
        if source is None:
            return False
        before = self.count
        deadline = None if budget_s is None else time.perf_counter() + budget_s
        pending, width = self._pending, self.width
        while upto is None or self.count <= upto:
            for line in source:
                pending.append(line)
                if len(line) > width:
                    width = len(line)
                if len(pending) == BLOCK:
                    break
            else:
                self._source = None
            if len(pending) == BLOCK:
                self._flush()
                pending = self._pending
            if self._source is None or (deadline is not None and time.perf_counter() >= deadline):
                break
        self.width = width
        return self.count > before

    def _flush(self) -> None:
        at, starts = 0, self._starts
        for line in self._pending:
            starts.append(at)
            at += len(line) + 1
        self._blocks.append("\n".join(self._pending))
        self._pending = []

    def raw(self, index: int) -> str | None:
        """Line `index` as the encoder wrote it (made if need be), or None past the end."""
        if index >= self.count:
            self.make(upto=index)
            if index >= self.count:
                return None
        b, k = divmod(index, BLOCK)
        if b == len(self._blocks):
            return self._pending[k]
        block = self._blocks[b]
        end = self._starts[index + 1] - 1 if k + 1 < BLOCK else len(block)
        return block[self._starts[index] : end]

    def line(self, index: int) -> str | None:
        """Line `index` as it shows (inert, at most MAX_LINE cells), or None past the end."""
        raw = self.raw(index)
        return None if raw is None else inert(raw, MAX_LINE)

    def find(self, needle: str, start: int = 0) -> int | None:
        """The first line from `start` on that holds `needle` (any case), or None."""
        if not needle or "\n" in needle:
            return None
        rx = re.compile(re.escape(needle), re.IGNORECASE)
        i = max(0, start)
        while True:
            b = i // BLOCK
            while b < len(self._blocks):
                lo = b * BLOCK
                m = rx.search(self._blocks[b], self._starts[i] if i > lo else 0)
                if m is not None:
                    return bisect_right(self._starts, m.start(), lo, lo + BLOCK) - 1
                b += 1
                i = b * BLOCK
            for n in range(i - len(self._blocks) * BLOCK, len(self._pending)):
                if rx.search(self._pending[n]):
                    return len(self._blocks) * BLOCK + n
            i = max(i, self.count)
            if not self.make(upto=self.count + 16 * BLOCK):
                return None

    def text(self) -> str:
        """Every line as it shows, joined (makes the whole document)."""
        self.make()
        return "\n".join(inert(self.raw(i), MAX_LINE) for i in range(self.count))


class RawView(StyledView, can_focus=True):
    """The lines of a RawLines, drawn as they scroll into view."""

    DEFAULT_CSS = """
    RawView { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = RawLines(dict)
        self.needle = ""
        self.renders = 0
        """Lines styled (cache misses), for tests: it grows with what is shown, not the size."""
        self._cache: OrderedDict[tuple[int, str], Strip] = OrderedDict()
        self._wide = 0
        """Cells of the widest line drawn (wider than its characters where they are CJK)."""
        self._making = False
        self._drawn = False
        self._grown_at = 0.0

    def show(self, make_doc: Callable[[], Any]) -> None:
        """Show the document `make_doc` makes, from its first line. It is made, and its lines
        between frames, once the view has been drawn: a tab never opened costs nothing."""
        self.source = RawLines(make_doc)
        self._cache.clear()
        self._wide = 0
        self.scroll_to(0, 0, animate=False)
        self._resize()
        self.refresh()
        if self._drawn:
            self._start()

    def _start(self) -> None:
        if not self._making and not self.source.done:
            self._making = True
            self.set_timer(SLICE_S, self._make_more)

    def _make_more(self) -> None:
        if self.source.make(budget_s=SLICE_S) and time.monotonic() - self._grown_at >= GROW_S:
            self._resize()
        if self.source.done:
            self._making = False
            self._resize()
        else:
            self.set_timer(SLICE_S, self._make_more)

    def _resize(self) -> None:
        src = self.source
        width = max(self._wide, min(src.width, MAX_LINE))
        self.virtual_size = Size(width, src.count + (not src.done))
        self._grown_at = time.monotonic()

    def render_lines(self, crop: Region) -> list[Strip]:
        if not self._drawn:
            self._drawn = True
            self.call_after_refresh(self._start)
        return super().render_lines(crop)

    def search(self, needle: str, after: int | None = None) -> int | None:
        """Highlight `needle` and scroll to its first line after line `after` (from the top:
        None); that line, or None where it is not found."""
        self.needle = needle
        self._cache.clear()
        found = self.source.find(needle, 0 if after is None else after + 1)
        self._resize()
        if found is not None:
            self.scroll_to(y=max(0, found - 3), animate=False)
        self.refresh()
        return found

    # Keys scroll at once: an animated page would draw (and make) every line it passes.
    def action_scroll_up(self) -> None:
        self.scroll_up(animate=False)

    def action_scroll_down(self) -> None:
        self.scroll_down(animate=False)

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_scroll_home(self) -> None:
        self.scroll_home(animate=False)

    def action_scroll_end(self) -> None:
        self.scroll_end(animate=False)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.base_style()
        index = scroll_y + y
        key = (index, self.needle)
        strip = self._cache.get(key)
        if strip is None:
            line = self.source.line(index)
            if line is None:
                return Strip.blank(width, base)
            self.renders += 1
            strip = self._strip(line, base)
            if strip.cell_length > self.virtual_size.width:
                self._wide = strip.cell_length
                self.call_later(self._resize)
            self._cache[key] = strip
            if len(self._cache) > CACHE_LINES:
                self._cache.popitem(last=False)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _strip(self, line: str, base: Style) -> Strip:
        if not self.needle:
            return Strip([Segment(line, base)], cell_len(line))
        marked = base + Style(reverse=True)
        segments: list[Segment] = []
        at = 0
        for m in re.finditer(re.escape(self.needle), line, re.IGNORECASE):
            if m.start() > at:
                segments.append(Segment(line[at : m.start()], base))
            segments.append(Segment(m.group(), marked))
            at = m.end()
        if at < len(line):
            segments.append(Segment(line[at:], base))
        return Strip(segments, cell_len(line))
