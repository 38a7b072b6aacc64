"""The status line: what is loaded, which accounts failed and why, what is fetched, the
marks and the live tail. One line, redrawn from the Feed's state whenever it changes."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from calltui.feed import Feed
from calltui.http import ProviderError
from calltui.tail import AccountTail
from calltui.text import inert


@dataclass(frozen=True, slots=True)
class TailInfo:
    """The live tail as the status line tells it."""

    interval_s: float
    pending: int
    """New calls held back while the cursor is away from the top."""
    following: bool
    backing_off: list[AccountTail]
    alert: str | None = None
    """The newest alert's line (calltui.alerts), if any."""
    alerts: int = 0
    sorted_by: str | None = None
    """The column the table is sorted by, where it is not the newest first: new calls go
    where that sort puts them, not on top."""


def cause(e: ProviderError) -> str:
    """The account, the HTTP status and the reason: the error without its URL (the status line
    has one line; the request log, CALLTUI_LOG, has the URL)."""
    return f"{e.account}: " + (f"HTTP {e.status}: " if e.status else "") + e.message


def table_status(feed: Feed) -> str:
    """The table's last line: stopped, the end of the results, or still loading."""
    n = len(feed.store)
    if feed.stopped:
        return f"stopped · {n} calls · r loads again"
    if feed.exhausted:
        pending = feed.pending()
        more = f" · more may come from {', '.join(pending)}" if pending else ""
        return f"end of results · {n} calls{inert(more, 80)}"
    return "loading…"


FETCHING_NAMED = 3
"""Up to this many accounts being fetched are named; more are counted (a line naming hundreds
would be cut off anyway)."""


class StatusLine(Static):
    _shown: Text | None = None

    def show(self, feed: Feed, marks: int, tail: TailInfo | None) -> None:
        """Say `feed`'s state; the same line as before is not drawn again (it is asked for on
        every poll of a live tail and every move of the cursor)."""
        states = list(feed.engine.states.values())
        loading = [s.account for s in states if s.status == "loading"]
        pages = sum(s.pages for s in states)
        text = Text()
        text.append(f" {len(feed.store)} loaded", "bold")
        _failures(text, feed)
        text.append(f" · {pages} page{'s' if pages != 1 else ''} fetched", "dim")
        progress = "complete" if feed.exhausted else "more on demand"
        text.append(" · " + ("stopped (r loads again)" if feed.stopped else progress), "dim")
        if len(loading) > FETCHING_NAMED:
            text.append(f" · fetching {len(loading)} accounts", "yellow")
        elif loading:
            text.append(" · fetching " + inert(", ".join(loading), 60), "yellow")
        if marks:
            text.append(f" · {marks} marked", "bold")
        if tail is not None:
            _tail(text, tail)
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # one line, always: nothing else moves


def _failures(text: Text, feed: Feed) -> None:
    """Each failed account and why (first: it matters most), and when it is tried again."""
    failed = [feed.engine.states[a] for a in feed.failed_accounts()]
    for s in failed:
        assert s.error is not None
        text.append(" · ✖ ", "bold red")
        text.append(inert(cause(s.error), 100 if len(failed) == 1 else 40), "red")
        left = feed.retry_in(s.account)
        if left is not None:
            text.append(f" · retrying {inert(s.account, 30)} in {left} s", "yellow")
        else:
            text.append(" · R retries", "bold")
    if failed:
        text.append(" · E: the whole error", "bold")


def _tail(text: Text, tail: TailInfo) -> None:
    if tail.alert is not None:
        more = f" (+{tail.alerts - 1} more)" if tail.alerts > 1 else ""
        text.append(" · ⚠ " + inert(tail.alert, 160) + more + " · a: pivot", "bold yellow")
    if tail.pending:
        text.append(f" · tail paused: {tail.pending} new (g: show them)", "bold yellow")
    elif not tail.following:
        text.append(" · tail paused (the cursor is away from the top)", "yellow")
    else:
        text.append(f" · tail on, every {tail.interval_s:g} s", "green")
    if tail.sorted_by is not None:
        text.append(f" · new calls go where the {tail.sorted_by} sort puts them", "yellow")
    for a in tail.backing_off:
        wait = max(0.0, a.due_at - time.monotonic())
        text.append(f" · {inert(a.account, 30)} failing, next try in {wait:.0f} s", "red")
