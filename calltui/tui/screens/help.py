"""Every binding, by context, with its id (for [keys] in the config) and its keys."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def binding_table() -> Table:
    from calltui.tui.app import CallTUI
    from calltui.tui.screens.detail import DetailScreen
    from calltui.tui.widgets.call_table import CallTable

    t = Table(box=None, expand=True, show_edge=False, pad_edge=False)
    t.add_column("context", style="dim")
    t.add_column("keys", style="bold")
    t.add_column("action")
    t.add_column("id ([keys] in config)", style="dim")
    for context, bindings in (
        ("everywhere", CallTUI.BINDINGS),
        ("call table", CallTable.BINDINGS),
        ("call detail", DetailScreen.BINDINGS),
    ):
        for b in bindings:
            if isinstance(b, Binding):
                t.add_row(context, b.key.replace(",", "  "), b.description, b.id or "")
    t.add_row("command palette", ":  ctrl+p", "switch account, go to call, failed only, theme", "")
    return t


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help_close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 110; height: 90%;
        border: round $primary; background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("calltui keys", "bold"))
            yield Static(binding_table())
