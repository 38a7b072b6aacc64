"""The frame calltui's dialogs share: centred over the screen, a rounded border, an error line
and the buttons on the right. Each dialog adds its width and its own parts."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical, Dialog > VerticalScroll { height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1; }
    Dialog #error { color: $error; height: auto; }
    Dialog #buttons { height: 1; align-horizontal: right; margin-top: 1; }
    Dialog #buttons Button { margin-left: 2; }
    """
