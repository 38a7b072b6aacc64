"""The key footer: the hints of the screen's bindings that fit, whole, rebuilt once per burst of
binding changes, and only when what it shows would change.

Textual's Footer rebuilds all its keys after every change of the active bindings: every focus
move, screen push and `refresh_bindings`. At start-up that is a dozen rebuilds of a dozen keys,
each restyled, before the first rows can be drawn; the last rebuild is the only one seen. Most
of those changes leave the hints as they were (a focus move between widgets that share the
screen's keys): then nothing is rebuilt.

It also lets the last hint that does not fit be cut anywhere ("/ Searc"): here the hints are
laid out in the order of the bindings and the first that would not fit whole ends the row, with
the command palette's key kept at the right edge (it leads to every other). A screen may keep
a hint out of the row while its key still works (`footer_hides(action)`: R while no account has
failed, so that pressing it can say so).
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

KEY_PADDING = 3
"""What a FooterKey adds to its key and description: a cell either side and one between."""


Hint = tuple[str, str, str, str, bool, str]
"""What one key shows and does: key, its display, description, action, enabled, tooltip."""


class KeyFooter(Footer):
    _rebuild_pending = False
    _laid_out_for = -1
    _shown: tuple[tuple[Hint, ...], Hint | None] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._rebuild_pending:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if self.is_attached and self._hints_that_fit() != self._shown:
            await self.recompose()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_for and self._bindings_ready:
            self.call_after_refresh(self._rebuild)

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
        room = width - (_width_of(palette) + 1 if palette is not None else 0)
        row: list[Hint] = []
        for binding, enabled, tooltip in self.hints():
            hint = self._hint(binding, enabled, tooltip)
            need = _width_of(hint)
            if width and need > room:
                break
            room -= need
            row.append(hint)
        return tuple(row), palette

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._laid_out_for = self.size.width
        self._shown = shown = self._hints_that_fit()
        row, palette = shown
        self.styles.grid_size_columns = len(row)
        for key, display, description, action, enabled, tooltip in row:
            yield FooterKey(
                key, display, description, action, disabled=not enabled, tooltip=tooltip
            ).data_bind(compact=Footer.compact)
        if palette is not None:
            key, display, description, action, enabled, tooltip = palette
            yield FooterKey(
                key,
                display,
                description,
                action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=tooltip,
            )

    def _hint(self, binding: Binding, enabled: bool, tooltip: str) -> Hint:
        display = self.app.get_key_display(binding)
        return (binding.key, display, binding.description, binding.action, enabled, tooltip)

    def _palette_hint(self) -> Hint | None:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if found is None:
            return None
        _, binding, enabled, _ = found
        return self._hint(binding, enabled, binding.tooltip or binding.description)


def _width_of(hint: Hint) -> int:
    return cell_len(hint[1]) + cell_len(hint[2]) + KEY_PADDING
