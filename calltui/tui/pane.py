"""The main screen's detail pane: the call under the table's cursor, its summary (the verdict on
top) at once and its drill-down once loaded. It follows the cursor once it has rested, so a held
key redraws table rows, not the pane; a row no longer held says why instead."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker

from calltui.model import Call, CallDetail
from calltui.session import Session
from calltui.store import GONE, CallStore, NotHeld
from calltui.tui import palette, views
from calltui.tui.widgets.call_table import CallTable

if TYPE_CHECKING:
    from calltui.tui.handover import Handover

PANE_SETTLE_S = 0.1
"""The detail pane follows the cursor once it has rested this long: three repeats of a key held
at 30 keys/s, and still as good as at once for a single press."""


def placeholder_text(store: CallStore, row: int) -> Text:
    """What stands for store row `row` where its call is not held."""
    if store.is_held(row):
        return Text("")
    if store.state[row] == GONE:
        return Text("this call is no longer listed by its provider", "dim italic")
    return Text("this call was dropped to save memory; fetching it again…", "dim italic")


class PaneHost(Protocol):
    """What the pane needs of the screen it is on."""

    session: Session

    @property
    def handover(self) -> Handover: ...
    @property
    def table(self) -> CallTable: ...


class Pane:
    def __init__(self, host: PaneHost, screen: Screen[Any]) -> None:
        """`host` and `screen`: the main screen, as the state it holds and as a screen (its
        `#pane-body` the pane, its workers the pane's loads, in group "pane")."""
        self.host = host
        self.screen = screen

    def follow(self) -> None:
        """The pane follows the cursor once it rests: while a key repeats, each move cancels
        the last one's wait, so a held key redraws two table rows per move, not the pane."""
        self._run(self._follow, "_follow")

    def _run(self, work: Callable[[], Coroutine[None, None, None]], name: str) -> Worker[None]:
        # One load of the pane at a time: each cancels the one before (Esc all of them).
        return self.screen.run_worker(
            work, name=name, group="pane", exclusive=True, exit_on_error=False
        )

    async def _follow(self) -> None:
        await asyncio.sleep(PANE_SETTLE_S)
        self.show(self.host.table.current_row)

    def _body(self) -> Static:
        return self.screen.query_one("#pane-body", Static)

    def _summary(self, call: Call, detail: CallDetail | None) -> Text:
        colours = palette.outcome_colours(self.screen.app.theme_variables)
        return views.summary(call, detail, self.host.session.zone, colours)

    def show(self, row: int | None) -> None:
        """The detail pane for store row `row`: its summary now, its drill-down once loaded."""
        body = self._body()
        if row is None:
            body.update(Text("no call selected", "dim"))
            return
        store = self.host.session.store
        try:
            call = store.call(row)
        except NotHeld:
            body.update(placeholder_text(store, row))
            return
        cached = self.host.session.cached(call)
        body.update(self._summary(call, cached))
        if cached is None:
            self._run(partial(self._load, call), "load_pane")

    async def _load(self, call: Call) -> None:
        # With the pane's own wait (PANE_SETTLE_S), 0.3 s at rest before a row is fetched:
        # stepping through rows fetches nothing.
        await asyncio.sleep(0.2)
        host = self.host
        detail = await host.handover.detail(self.screen.app, call, toast=False)  # in the pane
        row = host.table.current_row
        if row is not None and host.session.store.key(row) == (call.account, call.id):
            shown = self._summary(call, detail)
            if detail is None:
                shown.append_text(views.detail_failure(host.session.detail_error(call)))
            self._body().update(shown)
