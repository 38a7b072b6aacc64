"""The accounts, each with its status mark, and 'All accounts' on top: one line each, made only
as it is drawn (a RowList). As an OptionList it had measured and laid out every account (30 ms
of a turn with 300 of them), and drawn each changed mark at ~0.3 ms a line: with 300 accounts
changing state together while their first pages come, the sidebar was most of every frame."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message

from calltui.engine import StreamState
from calltui.text import inert
from calltui.tui.widgets.rows import RowList

ALL = "__all__"
"""What the 'All accounts' line picks."""
MARKS = {"idle": "·", "loading": "◌", "ok": "●", "error": "✖"}
MARK_STYLE = {"idle": "dim", "loading": "yellow", "ok": "green", "error": "bold red"}


class Sidebar(RowList):
    DEFAULT_CSS = """
    Sidebar {
        width: 22;
        height: auto;
        max-height: 100%;
        border: tall $border-blurred;
        border-right: vkey $panel;
        padding: 0 1;
        background: $surface;
        & > .row-list--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
        }
        &:focus {
            border: tall $border;
            border-right: vkey $panel;
            background-tint: $foreground 5%;
            & > .row-list--cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """

    class Picked(Message):
        """An account was chosen (Enter, Space or a click): `account` is ALL for every one."""

        def __init__(self, account: str) -> None:
            super().__init__()
            self.account = account

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._names: list[str] = []
        self._row: dict[str, int] = {}
        self._status: dict[str, str] = {}
        """The mark each account's line shows."""

    def set_accounts(self, names: list[str], states: dict[str, StreamState]) -> None:
        """The accounts and their marks: listed again only when the accounts change; otherwise
        only the lines whose mark changed are drawn again."""
        if names == self._names:
            for name in names:
                st = states.get(name)
                self.mark(name, st.status if st else "idle")
            return
        self._names = list(names)
        self._row = {n: i for i, n in enumerate(names, 1)}
        self._status = {n: st.status if (st := states.get(n)) else "idle" for n in names}
        self.set_rows(len(names) + 1, self.label, min(self.cursor, len(names)))

    def mark(self, name: str, status: str) -> None:
        """`name`'s mark is now `status`: its line alone is drawn again, if on screen."""
        if self._status.get(name, status) == status:
            return  # unchanged, or not an account listed here
        self._status[name] = status
        self.redraw_row(self._row[name])

    def label(self, row: int) -> Text:
        """What line `row` shows: 'All accounts', then each account with its mark."""
        if row == 0:
            return Text("All accounts", "bold")
        name = self._names[row - 1]
        return account_label(name, self._status[name])

    def row_of(self, name: str) -> int:
        return self._row[name]

    def action_select(self) -> None:
        if self.count:
            self.post_message(
                self.Picked(ALL if self.cursor == 0 else self._names[self.cursor - 1])
            )

    def on_click(self, event: events.Click) -> None:
        if 0 <= int(self.scroll_y) + event.y < self.count:
            super().on_click(event)
            self.action_select()


def account_label(name: str, status: str) -> Text:
    label = Text()
    label.append(MARKS[status] + " ", MARK_STYLE[status])
    label.append(inert(name, 20))
    return label
