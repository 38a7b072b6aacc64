"""What the main screen writes of its view and compares: F2's quick CSV, the export dialog
(`x`: the view or the marked calls, as CSV, JSON or NDJSON) and the comparison of two calls
(`d`). Rows dropped from memory are left out of a file, and the toast says how many."""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from textual.app import App

from calltui.export import to_csv
from calltui.feed import Feed
from calltui.files import create_private
from calltui.model import Call
from calltui.session import Session
from calltui.store import NotHeld
from calltui.text import inert
from calltui.tui.handover import Handover
from calltui.tui.screens.export import ExportChoice
from calltui.tui.widgets.call_table import CallTable


class ExportHost(Protocol):
    """What exporting needs of the screen it runs on."""

    session: Session
    feed: Feed

    @property
    def handover(self) -> Handover: ...
    @property
    def app(self) -> App[Any]: ...
    @property
    def table(self) -> CallTable: ...

    def current_call(self) -> Call | None: ...
    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...) -> None: ...
    def run_worker(self, work: Any, *, thread: bool, group: str, exit_on_error: bool) -> Any: ...


class Exporting:
    def __init__(self, host: ExportHost) -> None:
        self.host = host

    def _stamp(self) -> str:
        return f"{self.host.session.now():%Y%m%d-%H%M%S}"

    def save_view(self) -> None:
        """The rows of the view, as shown (sorted, filtered), to a CSV file in the working dir."""
        host = self.host
        store = host.session.store
        view = host.table.view
        held = [i for i in view if store.is_held(i)]
        try:
            # Private as `x`'s files are (phone numbers); a second save within the same second
            # gets the next free name rather than overwriting the first.
            path, raw = create_private(Path.cwd() / f"calltui-{self._stamp()}.csv", free_name=True)
            with io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
                to_csv((store.call(i) for i in held), f)
        except OSError as e:
            host.notify(f"could not save: {inert(e.strerror or str(e), 100)}", severity="error")
            return
        left = len(view) - len(held)
        note = (
            f" ({left} dropped from memory left out: scroll to them to fetch them)" if left else ""
        )
        host.notify(f"saved {len(held)} calls to {inert(str(path), 200)}{note}", timeout=4)

    def export(self) -> None:
        from calltui.tui.screens.export import ExportScreen

        host = self.host
        table = host.table
        screen = ExportScreen(
            len(table.view), len(table.marks), Path.cwd(), self._stamp(), host.feed.exhausted
        )
        host.app.push_screen(screen, self._chosen)

    def _chosen(self, choice: ExportChoice | None) -> None:
        if choice is None:
            return
        table = self.host.table
        if choice.scope == "marked":
            calls, rows = list(table.marks.values()), None
        else:
            calls, rows = None, table.view[:]
        self.host.run_worker(
            partial(self._write, choice, calls, rows),
            thread=True,
            group="export",
            exit_on_error=False,
        )

    def _write(self, choice: ExportChoice, calls: list[Call] | None, rows: Any) -> None:
        from calltui.tui.screens.export import write_calls

        app, store = self.host.app, self.host.session.store
        left = 0
        if calls is None:
            calls = []
            for r in rows:
                try:
                    calls.append(store.call(r))
                except NotHeld:
                    left += 1
        try:
            n = write_calls(calls, choice.fmt, choice.path)
        except OSError as e:
            why = inert(e.strerror or str(e), 120)
            app.call_from_thread(app.notify, f"not exported: {why}", severity="error")
            return
        note = f" ({left} not in memory left out: scroll to them to fetch them)" if left else ""
        where = inert(str(choice.path), 200)
        app.call_from_thread(app.notify, f"exported {n} calls to {where}{note}", timeout=5)

    def compare(self) -> None:
        """The two marked calls side by side (or the one marked and the one under the cursor)."""
        from calltui.tui.screens.compare import CompareScreen

        host = self.host
        marked = list(host.table.marks.values())
        if len(marked) == 1:
            current = host.current_call()
            if current is not None and (current.account, current.id) != (
                marked[0].account,
                marked[0].id,
            ):
                marked.append(current)
        if len(marked) != 2:
            host.notify(
                f"compare takes two calls: mark them with Space ({len(marked)} marked)",
                severity="warning",
            )
            return
        a, b = marked
        session = host.session
        details = (session.cached(a), session.cached(b))
        fetch = partial(host.handover.detail, host.app)
        host.app.push_screen(CompareScreen(a, b, session.zone, details, fetch))
