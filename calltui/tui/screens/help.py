"""Every binding, by context, with its id (for [keys] in the config) and its keys. Cells are
Text, never markup strings: a key named `[` or a description with brackets shows as written."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from calltui.text import inert
from calltui.tui.screens.dialog import Dialog


def binding_table() -> Table:
    from calltui.tui.app import MAIN_ONLY, CallTUI
    from calltui.tui.screens.compare import CompareScreen
    from calltui.tui.screens.detail import DetailScreen
    from calltui.tui.screens.export import ExportScreen
    from calltui.tui.widgets.call_table import CallTable

    t = Table(box=None, expand=True, show_edge=False, pad_edge=False)
    t.add_column(Text("context"), style="dim")
    t.add_column(Text("keys"), style="bold")
    t.add_column(Text("action"))
    t.add_column(Text("id ([keys] in config)"), style="dim")

    def where(context: str, b: Binding) -> str:
        if context == "everywhere" and b.action in MAIN_ONLY:
            return "main screen"
        return context

    rows = [
        (where(context, b), b.key.replace(",", "  "), b.description, b.id or "")
        for context, bindings in (
            ("everywhere", CallTUI.BINDINGS),
            ("call table", CallTable.BINDINGS),
            ("call detail", DetailScreen.BINDINGS),
            ("compare", CompareScreen.BINDINGS),
            ("export", ExportScreen.BINDINGS),
        )
        for b in bindings
        if isinstance(b, Binding)
    ]
    order = ["everywhere", "main screen", "call table", "call detail", "compare", "export"]
    rows.sort(key=lambda row: order.index(row[0]))
    rows.append(
        (
            "command palette",
            ":  ctrl+p",
            "accounts, go to call, tail, KPIs, export, bundle, pcap, marks, theme",
            "",
        )
    )
    for row in rows:
        t.add_row(*(Text(inert(cell)) for cell in row))
    return t


class HelpScreen(Dialog[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help_close")]
    DEFAULT_CSS = """
    HelpScreen > VerticalScroll { width: 90%; max-width: 110; height: 90%; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("calltui keys", "bold"))
            yield Static(binding_table())
