"""Every binding, by context, with its id (for [keys] in the config) and its keys as the live
keymap has them (calltui.tui.keys). Cells are Text, never markup strings: a key named `[` or a
description with brackets shows as written."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from calltui.text import inert
from calltui.tui import keys
from calltui.tui.screens.dialog import Dialog


def binding_table(keymap: Mapping[str, str]) -> Table:
    t = Table(box=None, expand=True, show_edge=False, pad_edge=False)
    t.add_column(Text("context"), style="dim")
    t.add_column(Text("keys"), style="bold")
    t.add_column(Text("action"))
    t.add_column(Text("id ([keys] in config)"), style="dim")
    rows = list(keys.rows(keymap))
    rows.append(
        (
            "command palette",
            "  ".join(keys.typed(k) for k in keys.keys_of(keys.find("palette"), keymap).split(",")),
            "accounts, go to call, tail, KPIs, export, bundle, pcap, marks, theme",
            "",
        )
    )
    for row in rows:
        t.add_row(*(Text(inert(cell)) for cell in row))
    return t


class HelpScreen(Dialog[None]):
    BINDINGS = keys.bindings("help")
    DEFAULT_CSS = """
    HelpScreen > VerticalScroll { width: 90%; max-width: 110; height: 90%; }
    """

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("calltui keys", "bold"))
            yield Static(binding_table(self.keymap))
