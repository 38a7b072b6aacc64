"""The key footer: the hints of the screen's bindings that fit, whole, drawn as one line.

Textual's Footer is a row of FooterKey widgets, made anew after every change of the active
bindings: every focus move, screen push and `refresh_bindings`. Made, styled and laid out, a
dozen keys took 20-35 ms of the loop each time, and at start-up that came between the first
frame and the first requests. Here the hints are a line drawn from the bindings as they are;
a change of bindings that leaves the line as it was draws nothing.

It also lets the last hint that does not fit be cut anywhere ("/ Searc"): here the hints are
laid out in the order of the bindings and the first that would not fit whole ends the row, with
the command palette's key kept at the right edge (it leads to every other). A screen may keep
a hint out of the row while its key still works (`footer_hides(action)`: R while no account has
failed, so that pressing it can say so). A hint is clicked as its key is pressed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

KEY_PADDING = 3
"""What a hint adds to its key and description: a cell either side of the key, one after."""
PALETTE_EDGE = "▏"
"""The rule left of the command palette's key (Textual's `vkey` border)."""


@dataclass(frozen=True, slots=True)
class Hint:
    """What one key shows and does."""

    key: str
    display: str
    description: str
    action: str
    enabled: bool
    tooltip: str


@dataclass(frozen=True, slots=True)
class Placed:
    """A hint where the line draws it: its first cell and its width."""

    hint: Hint
    x: int
    width: int
    palette: bool = False


class KeyFooter(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "footer-key--key",
        "footer-key--description",
        "footer-key--item",
        "footer-key--edge",
    }
    # The colours of Textual's Footer and FooterKey, so that screens look as they did.
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .footer-key--item {
            background: $footer-item-background;
        }
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--edge {
            color: $foreground 20%;
        }
    }
    """

    _shown: tuple[tuple[Hint, ...], Hint | None] | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[object]) -> None:
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and self._hints_that_fit() != self._shown:
            self.refresh()

    def hints(self) -> Iterator[tuple[Binding, bool, str]]:
        """(binding, enabled, tooltip) of each hint the screen shows, one per action."""
        hides = getattr(self.screen, "footer_hides", None)
        seen: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING
        for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items():
            if not binding.show or binding.action in seen or key == palette:
                continue
            if hides is not None and hides(binding.action):
                continue
            seen.add(binding.action)
            yield binding, enabled, tooltip

    def _hints_that_fit(self) -> tuple[tuple[Hint, ...], Hint | None]:
        """The row at the footer's width: the hints in order up to the first that does not fit
        whole; and the command palette's key, kept at the right edge (if shown)."""
        width = self.size.width
        palette = self._palette_hint()
        room = width - (_palette_width(palette) + 1 if palette is not None else 0)
        row: list[Hint] = []
        for binding, enabled, tooltip in self.hints():
            hint = self._hint(binding, enabled, tooltip)
            need = _width_of(hint)
            if width and need > room:
                break
            room -= need
            row.append(hint)
        return tuple(row), palette

    @property
    def placed(self) -> list[Placed]:
        """The hints of the line as drawn, left to right."""
        row, palette = self._shown or self._hints_that_fit()
        out: list[Placed] = []
        x = 0
        for hint in row:
            out.append(Placed(hint, x, _width_of(hint)))
            x += _width_of(hint)
        if palette is not None:
            w = _palette_width(palette)
            out.append(Placed(palette, max(x, self.size.width - w), w, palette=True))
        return out

    def render(self) -> Text:
        self._shown = row, palette = self._hints_that_fit()
        key_style = self.get_component_rich_style("footer-key--key")
        desc_style = self.get_component_rich_style("footer-key--description")
        item = self.get_component_rich_style("footer-key--item")
        line = Text(no_wrap=True, overflow="crop", end="")
        for hint in row:
            dim = Style(dim=not hint.enabled)
            line.append(f" {hint.display} ", item + key_style + dim)
            line.append(f"{hint.description} ", item + desc_style + dim)
        if palette is not None:
            gap = self.size.width - line.cell_len - _palette_width(palette)
            under = self.get_component_styles("footer-key--item").background
            line.append(" " * max(gap, 0))
            dim = Style(dim=not palette.enabled)
            edge = self.get_component_styles("footer-key--edge").color
            back = self.background_colors[1] + under
            line.append(PALETTE_EDGE, item + Style(color=(back + edge).rich_color))
            line.append(palette.display, item + key_style + dim)
            line.append(f" {palette.description}", item + desc_style + dim)
            line.append(" ", item)
        return line

    def _at(self, x: int) -> Hint | None:
        return next((p.hint for p in self.placed if p.x <= x < p.x + p.width), None)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        hint = self._at(event.x)
        if hint is None:
            return
        if hint.enabled:
            self.app.simulate_key(hint.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hint = self._at(event.x)
        self.tooltip = hint.tooltip if hint is not None and hint.tooltip else None

    def _hint(self, binding: Binding, enabled: bool, tooltip: str) -> Hint:
        display = self.app.get_key_display(binding)
        return Hint(binding.key, display, binding.description, binding.action, enabled, tooltip)

    def _palette_hint(self) -> Hint | None:
        if not self.app.ENABLE_COMMAND_PALETTE:
            return None
        found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if found is None:
            return None
        _, binding, enabled, _ = found
        return self._hint(binding, enabled, binding.tooltip or binding.description)


def _width_of(hint: Hint) -> int:
    return cell_len(hint.display) + cell_len(hint.description) + KEY_PADDING


def _palette_width(hint: Hint) -> int:
    """The edge, the key, a cell, the description and a cell after."""
    return 1 + cell_len(hint.display) + 1 + cell_len(hint.description) + 1
