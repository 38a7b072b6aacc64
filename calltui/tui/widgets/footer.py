"""The key footer: the hints of the screen's bindings that fit, whole, rebuilt once per burst of
binding changes.

Textual's Footer rebuilds all its keys after every change of the active bindings: every focus
move, screen push and `refresh_bindings`. At start-up that is a dozen rebuilds of a dozen keys,
each restyled, before the first rows can be drawn; the last rebuild is the only one seen.

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
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

KEY_PADDING = 3
"""What a FooterKey adds to its key and description: a cell either side and one between."""


class KeyFooter(Footer):
    _rebuild_pending = False
    _laid_out_for = -1

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._rebuild_pending:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
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

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.size.width
        self._laid_out_for = width
        palette = self._palette_key()
        room = width - (self._width_of(palette) + 1 if palette is not None else 0)
        keys: list[Widget] = []
        for binding, enabled, tooltip in self.hints():
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
            need = self._width_of(key)
            if width and need > room:
                break
            room -= need
            keys.append(key)
        self.styles.grid_size_columns = len(keys)
        yield from keys
        if palette is not None:
            yield palette

    def _palette_key(self) -> FooterKey | None:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if found is None:
            return None
        _, binding, enabled, _ = found
        return FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            binding.description,
            binding.action,
            classes="-command-palette",
            disabled=not enabled,
            tooltip=binding.tooltip or binding.description,
        )

    @staticmethod
    def _width_of(key: FooterKey) -> int:
        return cell_len(key.key_display) + cell_len(key.description) + KEY_PADDING
