"""A text to copy by hand: shown whole, wrapped, in a read-only box that the mouse (or the
terminal's own selection) can select; Esc or Enter closes it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TextArea

from calltui.text import inert
from calltui.tui import keys
from calltui.tui.screens.dialog import Dialog


class CopyScreen(Dialog[None]):
    BINDINGS = keys.bindings("copy")
    DEFAULT_CSS = """
    CopyScreen > Vertical { width: 90%; max-width: 120; }
    CopyScreen TextArea { height: auto; max-height: 12; }
    """

    def __init__(self, title: str, text: str, note: str = "") -> None:
        super().__init__()
        self.title_ = title
        self.text = inert(text)
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(inert(self.title_, 80), "bold"))
            yield Static(
                Text(
                    "Sent to the clipboard (OSC 52), which this terminal may not allow: "
                    f"select it here to copy it by hand{self.note}. Esc or Enter closes.",
                    "dim",
                )
            )
            yield TextArea(self.text, read_only=True, soft_wrap=True, id="copy-text")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.select_all()
