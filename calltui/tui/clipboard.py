"""Copying to the user's clipboard from a terminal, which only OSC 52 can do: the terminal
(or tmux, with set-clipboard) must allow it, and many do not (xterm by default, the Linux
console, screen) while nothing tells calltui whether it worked. So where the terminal is not one
known to take OSC 52, the text is also shown in a dialog, to be selected and copied by hand."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from textual.app import App

from calltui.text import inert

_PROGRAMS = frozenset({"iTerm.app", "WezTerm", "ghostty", "vscode", "Tabby", "rio"})
_TERMS = ("xterm-kitty", "alacritty", "foot", "wezterm", "xterm-ghostty", "contour", "rio")


def osc52_known(environ: Mapping[str, str] = os.environ) -> bool:
    """The terminal is one that takes OSC 52 as it comes (tmux is not: only with
    set-clipboard, which calltui cannot see)."""
    if environ.get("TMUX") or environ.get("STY"):
        return False
    if environ.get("TERM_PROGRAM", "") in _PROGRAMS or environ.get("WT_SESSION"):
        return True
    if environ.get("KITTY_WINDOW_ID"):
        return True
    return environ.get("TERM", "").startswith(_TERMS)


def copy(app: App[Any], text: str, what: str, note: str = "") -> None:
    """`text` on the clipboard, and in a dialog too where the terminal may not take it; `what`
    names it in the messages ("curl for c-123")."""
    app.copy_to_clipboard(text)
    if osc52_known():
        app.notify(f"copied {inert(what, 60)}{note}", timeout=3)
    else:
        # Imported when first shown: its TextArea takes tens of milliseconds to import, and the
        # pane's first detail (through the handover) came in the middle of the first rows.
        from calltui.tui.screens.copy import CopyScreen

        app.push_screen(CopyScreen(f"Copy {what}", text, note))
