"""The Feed's reports (calltui.feed), handed to the main screen: rows added, merged or refined, an
account's state, the listing's progress, a notice; and when each account's listing last failed,
which the error log (`E`) tells with each failed account's whole last error."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from calltui.engine import StreamState
from calltui.feed import Feed, FeedEvents
from calltui.session import Session

if TYPE_CHECKING:
    from calltui.tui.screens.errors import Failure
    from calltui.tui.widgets.call_table import CallTable


class ReportsHost(Protocol):
    """What the reports go to: the main screen."""

    session: Session
    feed: Feed

    @property
    def table(self) -> CallTable: ...

    def rows_added(self, rows: range, keep_row: int | None) -> None: ...
    def rebuild_view(self, keep_row: int | None = None) -> None: ...
    def status_soon(self) -> None: ...
    def account_changed(self, state: StreamState) -> None: ...
    def progress_changed(self) -> None: ...
    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...) -> None: ...


class FeedReports(FeedEvents):
    def __init__(self, host: ReportsHost) -> None:
        self.host = host
        self.failed_at: dict[str, datetime] = {}
        """When each account's listing last failed (the error log says)."""

    def rows_added(self, rows: range, keep_row: int | None) -> None:
        self.host.rows_added(rows, keep_row)

    def rows_merged(self, rows: range) -> None:
        self.host.rebuild_view()  # among the rows shown; the cursor stays on its call
        self.host.status_soon()

    def rows_refined(self, rows: list[int]) -> None:
        self.host.table.rows_changed(rows)
        self.host.rebuild_view()  # the sort may place them anew; the KPIs follow the view

    def account_changed(self, state: StreamState) -> None:
        if state.done and state.error is not None:
            self.failed_at[state.account] = self.host.session.now()
        self.host.account_changed(state)

    def changed(self) -> None:
        self.host.progress_changed()

    def notice(self, message: str, severity: str) -> None:
        self.host.notify(
            message, severity="warning" if severity == "warning" else "information", timeout=4
        )

    def failures(self) -> list[Failure]:
        """Every failed account's whole last error, for the error log."""
        from calltui.tui.screens.errors import Failure

        feed, states = self.host.feed, self.host.session.engine.states
        failures = []
        for account in feed.failed_accounts():
            error = states[account].error
            assert error is not None
            failures.append(
                Failure(
                    account,
                    error.message,
                    error.status,
                    error.url,
                    self.failed_at.get(account),
                    feed.retry_in(account),
                )
            )
        return failures
