"""The accounts, each with its status mark, and 'All accounts' on top."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from calltui.engine import StreamState
from calltui.text import inert

ALL = "__all__"
"""The option id of 'All accounts'."""
MARKS = {"idle": "·", "loading": "◌", "ok": "●", "error": "✖"}
MARK_STYLE = {"idle": "dim", "loading": "yellow", "ok": "green", "error": "bold red"}


class Sidebar(OptionList):
    DEFAULT_CSS = "Sidebar { width: 22; border-right: vkey $panel; }"
    _shown: tuple[tuple[str, str], ...] | None = None

    def set_accounts(self, names: list[str], states: dict[str, StreamState]) -> None:
        # Called on every page of every account: only a changed mark is redrawn, and the list is
        # rebuilt only when the accounts change.
        shown = tuple((name, st.status if (st := states.get(name)) else "idle") for name in names)
        before, self._shown = self._shown, shown
        if before is not None and [n for n, _ in before] == names:
            for (name, status), (_, was) in zip(shown, before, strict=True):
                if status != was:
                    self.replace_option_prompt(name, account_label(name, status))
            return
        highlighted = self.highlighted
        self.clear_options()
        self.add_option(Option(Text("All accounts", "bold"), id=ALL))
        for name, status in shown:
            self.add_option(Option(account_label(name, status), id=name))
        self.highlighted = min(highlighted or 0, self.option_count - 1)


def account_label(name: str, status: str) -> Text:
    label = Text()
    label.append(MARKS[status] + " ", MARK_STYLE[status])
    label.append(inert(name, 20))
    return label
