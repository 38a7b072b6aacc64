"""The call table's view built again, in its sort, as rows arrive and the sort changes: views of
up to SYNC_ROWS rows on the UI thread (ms), bigger ones in a thread worker while the table says
"sorting…", so the UI never waits on a sort."""

from __future__ import annotations

from array import array
from functools import partial
from typing import Any, Protocol

from textual.screen import Screen
from textual.worker import get_current_worker

from calltui.feed import Feed
from calltui.session import Key, Session
from calltui.store import Cancelled, Sort
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.status import table_status

SYNC_ROWS = 20_000
"""Views of up to this many rows are rebuilt on the UI thread (ms); bigger ones in a thread."""


class BuildHost(Protocol):
    """What building the view needs of the screen it is on."""

    session: Session
    feed: Feed

    @property
    def table(self) -> CallTable: ...


class ViewBuilder:
    def __init__(self, host: BuildHost, screen: Screen[Any]) -> None:
        """`host` and `screen`: the main screen, as the state it holds and as a screen (its
        workers build big views, in group "view")."""
        self.host = host
        self.screen = screen
        self.pending = False
        """A view rebuild runs in a thread: rows arriving meanwhile wait for its result."""
        self._keep: Key | None = None
        """The call the cursor goes to when the view being built in a thread is ready."""

    def drop(self) -> None:
        """The rows are dropped for a new listing: a rebuild still running is for them."""
        self.pending = False
        self._keep = None

    def rebuild(self, keep_row: int | None = None) -> None:
        """The table's view again, in its sort; the cursor stays on its call (or `keep_row`)."""
        table, store = self.host.table, self.host.session.store
        if len(store) <= SYNC_ROWS:
            keep = table.current_row if keep_row is None else keep_row
            self.pending = False
            table.set_busy("")
            table.set_view(store.view(table.sort), table_status(self.host.feed), keep)
            return
        if keep_row is not None:
            self._keep = store.key(keep_row)
        self.pending = True
        table.set_busy("sorting…")
        self.screen.run_worker(
            partial(self._build, table.sort, store.epoch),
            name="_build_view",
            group="view",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _build(self, sort: Sort, epoch: int) -> None:
        worker = get_current_worker()

        def check() -> None:
            if worker.is_cancelled:
                raise Cancelled

        store = self.host.session.store
        rows = len(store)
        try:
            view = store.view(sort, check=check)
            positions = store.positions(view, check=check)
        except Cancelled:
            return  # a newer rebuild replaced this one
        self.screen.app.call_from_thread(self._built, sort, epoch, rows, view, positions)

    def _built(self, sort: Sort, epoch: int, rows: int, view: array[int], pos: array[int]) -> None:
        table, store = self.host.table, self.host.session.store
        if epoch != store.epoch or sort != table.sort:
            return  # the store was refilled, or another sort was asked for meanwhile
        keep = table.current_row
        if self._keep is not None:
            found = store.find(*self._keep)
            if found is not None and found < rows:
                keep, self._keep = found, None
        self.pending = False
        table.set_busy("")
        table.set_view(view, table_status(self.host.feed), keep, positions=pos)
        if len(store) > rows:
            self.rebuild()  # rows arrived while this one was built
