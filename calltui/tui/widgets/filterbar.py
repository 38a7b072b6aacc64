"""One line over the table: the accounts listed, the window and every filter in force."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.widgets import Static

from calltui.model import FAILED_OUTCOMES, CallQuery
from calltui.text import inert


class FilterBar(Static):
    def show(self, accounts: list[str], query: CallQuery, zone: tzinfo | None) -> None:
        """`accounts`: the accounts chosen (none: all of them)."""
        q = query
        text = Text()
        text.append(" ")
        text.append(inert(", ".join(accounts), 200) if accounts else "All accounts", "bold")
        since = q.since.astimezone(zone).strftime("%m-%d %H:%M")
        until = q.until.astimezone(zone).strftime("%m-%d %H:%M") if q.until else "now"
        text.append(f" · {since} → {until}")
        if q.outcomes == FAILED_OUTCOMES:
            text.append(" · failed only", "bold red")
        elif q.outcomes:
            text.append(" · " + ",".join(sorted(o.value for o in q.outcomes)))
        for label, value in (
            ("from", q.from_),
            ("to", q.to),
            ("dir", q.direction),
            ("text", q.text),
        ):
            if value:
                text.append(f" · {label} {inert(value, 30)}")
        if q.terms is not None:
            text.append(" · ")
            text.append(inert(str(q.terms), 120), "bold")
        if q.min_duration is not None or q.max_duration is not None:
            text.append(f" · dur {q.min_duration or 0}–{q.max_duration or '∞'}s")
        self.update(text, layout=False)  # one line, always: nothing else moves
