"""The marks the last session left (calltui.state), put back in the call table as their calls
are listed again; those not listed yet are left for the next session with this one's."""

from __future__ import annotations

from collections.abc import Iterable

from calltui.session import Key
from calltui.store import CallStore, NotHeld
from calltui.tui.widgets.call_table import CallTable


class KeptMarks:
    def __init__(self, marks: Iterable[Key]) -> None:
        self.pending = set(marks)
        """The last session's marks whose calls are not listed yet."""

    def restore(self, store: CallStore, table: CallTable, rows: range) -> None:
        """The pending marks of the calls of store rows `rows` put back in `table`."""
        found = False
        for row in rows:
            key = store.key(row)
            if key in self.pending:
                try:
                    table.marks[key] = store.call(row)
                except NotHeld:
                    continue
                self.pending.discard(key)
                found = True
        if found:
            table.refresh()

    def left(self, marked: Iterable[Key]) -> list[Key]:
        """The marks to leave for the next session: `marked` (this one's), then the pending."""
        marks = list(marked)
        return [*marks, *sorted(self.pending - set(marks))]
