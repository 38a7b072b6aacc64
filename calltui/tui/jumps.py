"""The table's cursor put on a call: a loaded call by its id (the palette's "go to call id"),
or a call the detail screen jumps to (Enter on a related call). One the view does not list
(another account, outside the window or the filters) is fetched: its account joins the
selection, the window widens to hold it, filters it fails are cleared, and the fetch goes on
until it arrives."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol

from calltui.model import Call, CallQuery
from calltui.session import Key, Session
from calltui.text import inert
from calltui.tui.widgets.call_table import CallTable

JUMP_MARGIN = timedelta(minutes=5)
"""A window widened to hold a call starts (or ends) this long beyond it."""


def holding(q: CallQuery, call: Call) -> tuple[CallQuery, bool]:
    """`q` with its window widened to hold `call`, and whether the filters `call` fails were
    cleared for it (all of them: the query without filters)."""
    since, until = q.since, q.until
    start = call.started_at
    if start is not None:
        if start < since:
            since = start - JUMP_MARGIN
        if until is not None and start > until:
            until = start + JUMP_MARGIN
    query = replace(q, since=since, until=until)
    if query.matches(call):
        return query, False
    return CallQuery(since=since, until=until), True


class ListingHost(Protocol):
    """What moving the listing needs of the screen it is on (a jump to a call here, a view
    opened in calltui.tui.view_history): its accounts, query and table, and a new listing."""

    session: Session
    selected: list[str]
    query_: CallQuery

    @property
    def table(self) -> CallTable: ...

    def show_filters(self) -> None: ...
    def start_fetch(self, keep: Key | None = None, seek: bool = False) -> None: ...
    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...) -> None: ...


class Jumps:
    def __init__(self, host: ListingHost) -> None:
        self.host = host

    def to_id(self, needle: str) -> bool:
        """The cursor on the loaded call of id `needle`; False (said in a toast) for none."""
        needle = needle.strip()
        table = self.host.table
        row = self.host.session.store.find(None, needle)
        pos = None if row is None else table.position(row)
        if pos is not None:
            table.cursor = pos
            table.focus()
            return True
        self.host.notify(f"no loaded call with id {inert(needle, 60)}", severity="warning")
        return False

    def to(self, call: Call) -> None:
        """The cursor on `call`, fetched when the view does not list it."""
        host = self.host
        table = host.table
        table.focus()
        row = host.session.store.find(call.account, call.id)
        at = None if row is None else table.position(row)
        if at is not None:
            table.cursor = at
            return
        if host.selected and call.account not in host.selected:
            host.selected = [*host.selected, call.account]
        host.query_, cleared = holding(host.query_, call)
        if cleared:
            host.notify("filters cleared to show that call", timeout=4)
        host.show_filters()
        host.start_fetch((call.account, call.id), seek=True)
