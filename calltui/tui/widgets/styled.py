"""A Line-API view whose styles are looked up once, until they change, whose lines are drawn
again by their place on screen, and whose scrollbar is drawn again only when its thumb moves.

Widget.rich_style and get_component_rich_style walk the DOM each time (0.1 to 0.15 ms), and a
Line-API widget asks for them on every line of every frame: a page of the raw view or of a flow
list spent most of what a key waited for there. Here each is kept until Textual says the
widget's styles changed (a theme, focus and blur), as the call table first did.

Textual's scrollbar repaints on every change of the scroll position, though over a long document
(the raw JSON of a 20,000-span trace is 273,000 lines) its thumb moves a cell's eighth only every
few dozen pages: each page drew the bar again for nothing, 1 to 2 ms of a key's wait."""

from __future__ import annotations

from math import ceil
from typing import Any

from rich.console import RenderableType
from rich.style import Style
from textual.geometry import Region
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender

Thumb = tuple[int, int, int, int, int]


class ThumbBar(ScrollBar):
    """A scrollbar that repaints for a new position only where its thumb is drawn elsewhere."""

    position: Reactive[float] = Reactive(0, repaint=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drawn: Thumb | None = None
        """The thumb as last rendered (None: not yet)."""

    def thumb(self) -> Thumb:
        """Where the thumb is drawn, in eighths of a cell, worked out as ScrollBarRender does."""
        size = self.size.height if self.vertical else self.size.width
        virtual = ceil(self.window_virtual_size)
        window = ceil(self.window_size if self.window_size < self.window_virtual_size else 0)
        if not (window and size and virtual and size != virtual):
            return (size, virtual, window, 0, 0)
        eighths = len(ScrollBarRender.VERTICAL_BARS)
        length = max(1, window / (virtual / size))
        at = (size - length) * (self.position / (virtual - window))
        start = int(at * eighths)
        return (size, virtual, window, start, start + ceil(length * eighths))

    def watch_position(self) -> None:
        if self.thumb() != self.drawn:
            self.refresh()

    def render(self) -> RenderableType:
        self.drawn = self.thumb()
        return super().render()


class StyledView(ScrollView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style: Style | None = None
        self._components: dict[str, Style] = {}

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        # Widget.vertical_scrollbar, with a ThumbBar (textual is pinned: its private names hold).
        if self._vertical_scrollbar is None:
            bar = ThumbBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    def redraw_line(self, y: int) -> None:
        """Draw line `y` on screen again, the y of render_line: ScrollView.refresh_line counts in
        the scrolled document, and given a line on screen it redrew another one once the view
        had scrolled (the cursor stayed drawn where it was)."""
        self.refresh(Region(0, y, self.size.width, 1))

    def base_style(self) -> Style:
        if self._style is None:
            self._style = self.rich_style
        return self._style

    def component_style(self, name: str) -> Style:
        style = self._components.get(name)
        if style is None:
            style = self._components[name] = self.get_component_rich_style(name)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style = None
        self._components.clear()
