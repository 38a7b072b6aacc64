"""The main screen's own entries of the command palette, after those of its keys
(calltui.tui.commands): all accounts or one, each `[views.NAME]`, and each column of the table
to show or hide (`[display] columns` sets the ones it starts with)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any, Protocol

from textual.app import SystemCommand

from calltui.columns import COLUMNS, DISPLAY_NAMES
from calltui.session import Session
from calltui.text import inert
from calltui.tui.view_history import ViewHistory
from calltui.tui.widgets.call_table import CallTable


class CommandsHost(Protocol):
    """What the entries need of the screen they run on."""

    session: Session
    history: ViewHistory

    @property
    def table(self) -> CallTable: ...

    def pick_account(self, name: str | None) -> None: ...
    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...) -> None: ...


def main_commands(host: CommandsHost) -> Iterator[SystemCommand]:
    yield SystemCommand(
        "Accounts: all", "List calls of every account", partial(host.pick_account, None)
    )
    for name, saved in host.session.settings.views.items():
        yield SystemCommand(
            f"Views: {inert(name, 60)}",
            inert(saved.spec, 200),
            partial(_open_saved, host, saved.spec),
        )
    visible = set(host.table.shown)
    for name, key in DISPLAY_NAMES.items():
        verb = "hide" if key in visible else "show"
        yield SystemCommand(
            f"Columns: {verb} {COLUMNS[key].tui.title}",
            f"{verb.capitalize()} the {name} column (`[display] columns` sets them)",
            partial(_toggle_column, host, key),
        )
    for name in host.session.account_names:
        shown = inert(name, 60)
        yield SystemCommand(
            f"Accounts: {shown}",
            f"List calls of {shown} only",
            partial(host.pick_account, name),
        )


def _open_saved(host: CommandsHost, spec: str) -> None:
    from calltui.viewspec import parse

    host.history.open(parse(spec))  # checked when the config was read


def _toggle_column(host: CommandsHost, key: str) -> None:
    if not host.table.toggle_column(key):
        host.notify("the last column stays", timeout=3)
