"""The key footer, rebuilt once per burst of binding changes.

Textual's Footer rebuilds all its keys after every change of the active bindings: every focus
move, screen push and `refresh_bindings`. At start-up that is a dozen rebuilds of a dozen keys,
each restyled, before the first rows can be drawn; the last rebuild is the only one seen.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    _rebuild_pending = False

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
