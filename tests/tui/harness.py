"""The TUI under test: the demo on the fixed clock and the wait until it has settled (those of
`make screenshots`, calltui.tui.screenshots), and the calls its table lists."""

from __future__ import annotations

from calltui.model import Call
from calltui.tui.app import CallTUI
from calltui.tui.screenshots import demo_app as make_app
from calltui.tui.screenshots import settle
from calltui.tui.widgets.call_table import CallTable

__all__ = ["make_app", "settle", "view_calls"]


def view_calls(app: CallTUI) -> list[Call]:
    """The calls of the table's view, in its order."""
    store = app.session.store
    return [store.call(r) for r in app.query_one(CallTable).view]
