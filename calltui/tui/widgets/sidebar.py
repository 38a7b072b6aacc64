"""The accounts, each with its status mark, and 'All accounts' on top."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from calltui.engine import StreamState
from calltui.text import inert

ALL = "__all__"
"""The option id of 'All accounts'."""
FIRST_SHOWN = 100
"""More accounts than a terminal has lines."""
MARKS = {"idle": "·", "loading": "◌", "ok": "●", "error": "✖"}
MARK_STYLE = {"idle": "dim", "loading": "yellow", "ok": "green", "error": "bold red"}


class Sidebar(OptionList):
    DEFAULT_CSS = "Sidebar { width: 22; border-right: vkey $panel; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._names: list[str] = []
        self._status: dict[str, str] = {}
        """The mark each account's line shows."""
        self._marked: set[str] = set()
        """The accounts whose marks changed since their lines were last drawn."""
        self._later: dict[str, None] = {}
        """The accounts not listed yet (set_accounts)."""

    def set_accounts(self, names: list[str], states: dict[str, StreamState]) -> None:
        """The accounts and their marks: the list is built again only when the accounts
        change; otherwise only the lines whose mark changed are drawn again. Of hundreds of
        accounts, the first FIRST_SHOWN are listed at once and the others after the next frame:
        OptionList measures every option as it lays them out, and the measuring of 300 made
        the app's first frame 20 ms longer, for lines below the screen."""
        if names == self._names:
            for name in names:
                st = states.get(name)
                self.mark(name, st.status if st else "idle")
            return
        self._names = list(names)
        self._status = {n: st.status if (st := states.get(n)) else "idle" for n in names}
        highlighted = self.highlighted
        options = [Option(Text("All accounts", "bold"), id=ALL)]
        options += [Option(account_label(n, self._status[n]), id=n) for n in names[:FIRST_SHOWN]]
        self.set_options(options)  # one layout for the whole list, not one per account
        self.highlighted = min(highlighted or 0, self.option_count - 1)
        self._later = dict.fromkeys(names[FIRST_SHOWN:])
        if self._later:
            self.call_after_refresh(self._list_later, self._later)

    def _list_later(self, later: dict[str, None]) -> None:
        if later is not self._later:
            return  # the accounts were set again meanwhile
        self._later = {}
        self.add_options([Option(account_label(n, self._status[n]), id=n) for n in later])

    def mark(self, name: str, status: str) -> None:
        """`name`'s mark is now `status`: its line alone is drawn again, and only if it is on
        screen. With hundreds of accounts, each changing state several times while the first
        pages come in, OptionList.replace_option_prompt (which drops every line's rendering and
        measures every option again, then repaints the whole list) took most of the loop's
        time; and even a line's refresh each (its place looked up, its region measured) took
        tens of milliseconds for the hundreds of changes that come together. So the lines are
        drawn again once for all the marks that came in one go."""
        if self._status.get(name, status) == status:
            return  # unchanged, or not an account listed here
        self._status[name] = status
        if name in self._later:
            return  # listed with its mark of then
        option = self.get_option(name)
        option._set_prompt(account_label(name, status))
        # Textual is pinned: its render cache is keyed by (option, style, padding), and only
        # this option's entries are stale. A label keeps its one line, so nothing moves.
        cache = self._option_render_cache
        stale = [k for k in cache.keys() if k[0] is option]  # noqa: SIM118 (no __iter__)
        for key in stale:
            cache.discard(key)
        if not self._marked:
            self.call_later(self._redraw_marked)
        self._marked.add(name)

    def _redraw_marked(self) -> None:
        marked, self._marked = self._marked, set()
        lines = self._index_to_line
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        for name in marked:
            line = lines.get(self.get_option_index(name))
            if line is None:
                self.refresh()  # not laid out yet: nothing drawn to keep
                return
            if top <= line < top + height:
                self.refresh_line(line)


def account_label(name: str, status: str) -> Text:
    label = Text()
    label.append(MARKS[status] + " ", MARK_STYLE[status])
    label.append(inert(name, 20))
    return label
