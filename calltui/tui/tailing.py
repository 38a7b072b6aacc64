"""The live tail of the main screen (`t`): calltui.tail.TailPoller polls each account's newest
page; new calls go on top while the cursor is there, and are held back ("N new", `g` shows
them) while it is not; calls shown in progress that have ended change in place.

After each poll the loaded calls of the last two alert windows (and of the same window a day
earlier, when loaded) are checked for alerts (calltui.alerts) in a thread, a scan of the whole
store that would hold up keys on the UI thread: the newest alert shows as a banner in the
status line, a new one rings the terminal bell (unless `[alerts] bell = false`), and `a` opens
the pivot of that group. Polls that come while a check runs make one more check after it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, Protocol

from textual.css.query import NoMatches

from calltui.alerts import WINDOW_S, Alert, AlertPolicy, check
from calltui.columns import COLUMNS
from calltui.feed import Feed
from calltui.model import Call, CallQuery, Outcome
from calltui.session import Session
from calltui.store import CallStore, Cancelled, NotHeld, Sort
from calltui.tail import TailBatch, TailPolicy, TailPoller
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.status import TailInfo

TAIL_HOLD = 10_000
"""New calls a paused tail holds back at most (the oldest go past it: `r` lists them)."""


class TailHost(Protocol):
    """What the tail needs of the screen it runs on."""

    session: Session
    feed: Feed
    query_: CallQuery

    @property
    def accounts(self) -> list[str]: ...
    @property
    def table(self) -> CallTable: ...
    @property
    def is_current(self) -> bool: ...
    @property
    def view_pending(self) -> bool: ...

    def rebuild_view(self, keep_row: int | None = None) -> None: ...
    def show_pane(self, row: int | None) -> None: ...
    def update_status(self) -> None: ...
    def refresh_bindings(self) -> None: ...
    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...) -> None: ...
    def run_worker(
        self, work: Any, *, name: str, group: str, exclusive: bool, exit_on_error: bool
    ) -> Any: ...
    def call_later(self, callback: Any) -> bool: ...
    @property
    def app(self) -> Any: ...


class Tailing:
    def __init__(
        self, host: TailHost, policy: TailPolicy, alerting: AlertPolicy | None = None
    ) -> None:
        self.host = host
        self.policy = policy
        self.alerting = alerting or AlertPolicy()
        self.alerts: list[Alert] = []
        self._rung: set[tuple[str, str | int, str]] = set()
        """The alerts already rung for (a bell per new alert, not per poll)."""
        self.poller: TailPoller | None = None
        self.pending: list[Call] = []
        """New calls held back while the cursor is away from the top."""
        self._worker: Any = None
        self._checking = False
        """An alert check runs in a thread."""
        self._again = False
        """A poll came while it ran: check once more after it."""

    @property
    def on(self) -> bool:
        return self.poller is not None

    def following(self) -> bool:
        """The user watches the newest calls: the cursor on top, no other screen over it."""
        return self.host.table.cursor == 0 and self.host.is_current

    def info(self) -> TailInfo | None:
        if self.poller is None:
            return None
        sort = self.host.table.sort
        arrow = "descending" if sort.descending else "ascending"
        return TailInfo(
            self.poller.policy.interval_s,
            len(self.pending),
            self.following(),
            self.poller.backing_off(),
            self.alerts[0].line() if self.alerts else None,
            len(self.alerts),
            None if sort == Sort() else f"{COLUMNS[sort.key].tui.title} {arrow}",
        )

    def toggle(self) -> None:
        host = self.host
        if self.poller is not None:
            self.stop()
            host.notify("tail stopped", timeout=2)
            return
        if host.query_.until is not None:
            host.notify(
                "the tail follows the present: clear the window's end first (w or F7)",
                severity="warning",
            )
            return
        self.start()
        host.notify(f"tail on: polling every {self.policy.interval_s:g} s", timeout=2)

    def restart(self) -> None:
        """A new listing: the tail, if on, follows its filters and accounts."""
        if self.poller is not None:
            self.start()

    def start(self) -> None:
        host = self.host
        if host.query_.until is not None:
            self.stop()
            host.notify("tail stopped: the window now ends in the past", timeout=4)
            return
        store = host.session.store
        self.poller = TailPoller(
            host.session.engine.provider,
            host.accounts,
            host.query_,
            known=store.find,
            in_progress=self._held_in_progress,
            now=host.session.now,
            newest=self._newest_loaded(),
            policy=self.policy,
        )
        self.pending = []
        # The alerts compare the last two windows: listed whole, not only the rows shown.
        host.feed.want_since(host.session.now() - timedelta(seconds=2 * WINDOW_S))
        self._worker = host.run_worker(
            self._loop(self.poller), name="tail", group="tail", exclusive=True, exit_on_error=False
        )
        host.table.tick_live(host.session.now)
        host.update_status()

    def stop(self) -> None:
        self.poller = None
        self.pending = []
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self.host.table.tick_live(None)
        self.host.update_status()

    def failed(self) -> None:
        """The loop died of an error: say so rather than seem to tail."""
        self.poller = None
        self.host.table.tick_live(None)

    def cursor_moved(self) -> None:
        if self.poller is not None:
            if self.pending and self.following():
                self.host.call_later(self.flush)
            self.host.update_status()

    def _newest_loaded(self, scan: int = 10_000) -> dict[str, datetime | None]:
        """The newest start loaded per account, read from the top of the view in its default
        sort (in another sort: none, the tail starts its lookback from now)."""
        table = self.host.table
        store = self.host.session.store
        out: dict[str, datetime | None] = {}
        if table.sort != Sort():
            return out
        wanted = set(self.host.accounts)
        for row in table.view[:scan]:
            account = store.account_of(row)
            if account not in out:
                out[account] = store.brief(row).started_at
                if len(out) == len(wanted):
                    break
        return out

    async def _loop(self, poller: TailPoller) -> None:
        while self.poller is poller:
            batch = await poller.poll()
            if self.poller is not poller:
                return
            try:
                self._arrived(batch)
            except NoMatches:
                return  # the app is closing: its widgets are gone
            await asyncio.sleep(max(0.02, poller.wait_s()))

    def _held_in_progress(self, account: str, call_id: str) -> bool:
        store = self.host.session.store
        row = store.find(account, call_id)
        return (
            row is not None
            and store.is_held(row)
            and store.brief(row).outcome is Outcome.IN_PROGRESS
        )

    def _ended(self, calls: list[Call]) -> None:
        """Calls shown in progress that have ended: their rows, the pane and any view their
        new outcome or duration puts them in or out of show what they are now."""
        host = self.host
        now = {(c.account, c.id): c for c in calls}
        # Held back by a paused tail: they go in as they are now.
        self.pending = [now.get((c.account, c.id), c) for c in self.pending]
        rows = host.session.store.update(calls)
        if not rows:
            return
        host.session.forget(calls)
        table = host.table
        table.rows_changed(rows)
        table.mark_fresh(rows)
        q = host.query_
        refined = q.outcomes or q.min_duration is not None or q.max_duration is not None
        if refined or table.sort != Sort():
            host.rebuild_view()
        if table.current_row in rows:
            host.show_pane(table.current_row)

    def _arrived(self, batch: TailBatch) -> None:
        if batch.ended:
            self._ended(batch.ended)
        if batch.calls:
            held = {(c.account, c.id) for c in self.pending}
            self.pending.extend(c for c in batch.calls if (c.account, c.id) not in held)
            if len(self.pending) > TAIL_HOLD:
                self.pending.sort(key=_start_ts, reverse=True)
                del self.pending[TAIL_HOLD:]
        if self.pending and self.following():
            self.flush()
        self.watch()
        self.host.update_status()

    def watch(self) -> None:
        """Check the loaded calls for alerts, in a thread; the result shows when it is done."""
        if self._checking:
            self._again = True
            return
        self._checking = True
        self.host.run_worker(
            self._check(), name="alerts", group="alerts", exclusive=True, exit_on_error=False
        )

    async def _check(self) -> None:
        session = self.host.session
        try:
            again = True
            while again:
                self._again = False
                store, now = session.store, session.now()
                epoch = store.epoch
                alerts = await asyncio.to_thread(alerts_of, store, epoch, now, self.alerting)
                if alerts is not None and self.poller is not None and store.epoch == epoch:
                    self._alerted(alerts)
                again = self._again
        finally:
            self._checking = False

    def _alerted(self, alerts: list[Alert]) -> None:
        """The alerts now (the banner); a bell for each new one."""
        changed = alerts != self.alerts
        self.alerts = alerts
        new = {a.key for a in alerts} - self._rung
        if new and self.alerting.bell:
            self.host.app.bell()
        self._rung |= new
        if changed:
            self.host.update_status()
            self.host.refresh_bindings()  # `a` is in the footer while there is an alert

    def flush(self) -> None:
        """The held calls into the store and on top of the table."""
        calls, self.pending = self.pending, []
        if not calls:
            return
        host = self.host
        following = self.following()
        rows = list(host.session.store.extend(calls))
        table = host.table
        if rows:
            if table.sort == Sort() and not host.view_pending:
                table.insert_rows(rows)  # the cursor stays on its call...
                if following:
                    table.cursor = 0  # ...unless it followed the newest
            else:
                table.mark_fresh(rows)
                host.rebuild_view()
        host.update_status()


def alerts_of(
    store: CallStore, epoch: int, now: datetime, policy: AlertPolicy
) -> list[Alert] | None:
    """The alerts of the calls `store` holds at `now` (run in a thread); None if the store was
    refilled meanwhile (its rows are another listing's)."""
    window = timedelta(seconds=WINDOW_S)
    try:
        recent = _held(store, epoch, now - 2 * window, now)
        day = _held(store, epoch, now - timedelta(days=1) - window, now - timedelta(days=1))
    except Cancelled:
        return None
    return check(recent, now, policy, day_before=day)


def _held(store: CallStore, epoch: int, since: datetime, until: datetime) -> list[Call]:
    """The held calls of `store` that started in [since, until], read while the UI thread adds,
    evicts and clears: a row evicted meanwhile is left out; a clear raises Cancelled."""
    lo, hi = since.timestamp(), until.timestamp()
    started = store.started
    out = []
    for row in range(len(started)):
        if not lo <= started[row] <= hi:
            continue
        try:
            out.append(store.call(row))
        except NotHeld:
            continue
        except IndexError:
            if store.epoch != epoch:
                raise Cancelled from None
            raise
    if store.epoch != epoch:
        raise Cancelled
    return out


def _start_ts(c: Call) -> float:
    return c.started_at.timestamp() if c.started_at is not None else float("-inf")
