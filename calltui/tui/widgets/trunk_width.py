"""The longest trunk name among the rows of a CallStore, kept up as rows come: TRUNK widens to it
where the terminal has room for it (CallTable._fit)."""

from __future__ import annotations

from rich.cells import cell_len

from calltui.columns import COLUMNS
from calltui.store import CallStore


class TrunkWidth:
    """The store holds each row's trunk as a small code (CallStore.trunk), a few distinct names
    in all: each new code is read once, at its first row, and only the rows added are scanned,
    in C (a million rows: some 15 ms over the whole load, each page's share as it comes)."""

    def __init__(self, store: CallStore) -> None:
        self.store = store
        self.width = 0
        """In cells, as the table draws it (no trunk: `-`); 0 before any row."""
        self._epoch = store.epoch
        self._rows = 0
        self._codes: set[int] = set()

    def changed(self) -> bool:
        """Measure the rows the store added since the last call; whether the width changed
        (a longer trunk came, or the store was cleared for a new query and measured afresh)."""
        store = self.store
        was = self.width
        if store.epoch != self._epoch:
            self._epoch, self._rows, self._codes, self.width = store.epoch, 0, set(), 0
        start, rows = self._rows, len(store)
        codes = store.trunk
        new = set(codes[start:rows]) - self._codes
        self._rows = rows
        if new:
            self._codes |= new
            text = COLUMNS["trunk"].text
            found = (store.brief(codes.index(code, start)) for code in new)
            self.width = max(self.width, *(cell_len(text(b, None, True)) for b in found))
        return self.width != was
