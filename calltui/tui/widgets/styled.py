"""A Line-API view whose styles are looked up once, until they change.

Widget.rich_style and get_component_rich_style walk the DOM each time (0.1 to 0.15 ms), and a
Line-API widget asks for them on every line of every frame: a page of the raw view or of a flow
list spent most of what a key waited for there. Here each is kept until Textual says the
widget's styles changed (a theme, focus and blur), as the call table first did."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.scroll_view import ScrollView


class StyledView(ScrollView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style: Style | None = None
        self._components: dict[str, Style] = {}

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
