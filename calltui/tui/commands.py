"""Command palette entries (`:` or ctrl+p): switch account, go to a call id, failed only,
refresh. Textual's own entries add theme switching and quit."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

if TYPE_CHECKING:
    from calltui.tui.app import CallTUI


def system_commands(app: CallTUI) -> Iterator[SystemCommand]:
    yield SystemCommand(
        "Accounts: all", "List calls of every account", partial(app.pick_account, None)
    )
    for name in app.engine.account_names:
        yield SystemCommand(
            f"Accounts: {name}", f"List calls of {name} only", partial(app.pick_account, name)
        )
    yield SystemCommand(
        "Failed only", "Toggle: only calls that did not connect", app.action_toggle_failed
    )
    yield SystemCommand("Refresh", "Fetch the current window again", app.action_refresh)
    yield SystemCommand("Go to call id…", "Jump to a loaded call by its id", app.action_go_to)
    yield SystemCommand("Filters…", "Edit the filters", app.action_edit_filters)
    yield SystemCommand("Help", "Every key binding", app.action_help)
