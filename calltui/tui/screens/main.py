"""The main screen: accounts (left), the filter bar, the call table, the detail pane (or the
KPI panel, `i`), the status line.

The listing is a Feed (calltui.feed): this screen tells it how many rows the table wants and
shows what it reports. Views of up to SYNC_ROWS rows are rebuilt on the UI thread (ms); bigger
ones in a thread worker while the table says "sorting…", so the UI never waits on a sort.

Triage: the verdict tops the detail pane; KPIs of the view are computed in a thread as it
changes; the live tail (`t`, calltui.tui.tailing) puts new calls on top; Space marks calls for
export (`x`) and compare (`d`); `c`, `B`, `p` hand the call over (calltui.tui.handover). Enter on
a related call in the detail screen comes back here to that call, fetching a window that holds
it when it is not listed.
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from calltui.columns import COLUMNS as COLUMN_SPEC
from calltui.columns import DISPLAY_NAMES, tui_columns
from calltui.engine import Recovery, StreamState
from calltui.feed import Feed, FeedEvents
from calltui.http import ProviderError
from calltui.model import FAILED_OUTCOMES, Call, CallQuery
from calltui.session import Key, Session
from calltui.state import State
from calltui.store import GONE, Cancelled, NotHeld, Refetch, Sort
from calltui.tail import TailPolicy
from calltui.text import inert
from calltui.tui import keys, palette, views
from calltui.tui.tailing import Tailing
from calltui.tui.triage import Triage
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.filterbar import FilterBar
from calltui.tui.widgets.footer import KeyFooter
from calltui.tui.widgets.sidebar import ALL, Sidebar
from calltui.tui.widgets.status import StatusLine, table_status

if TYPE_CHECKING:
    from calltui.tui.exporting import Exporting
    from calltui.tui.handover import Handover
    from calltui.tui.widgets.kpi_panel import KpiPanel
    from calltui.viewspec import ViewSpec

SYNC_ROWS = 20_000
"""Views of up to this many rows are rebuilt on the UI thread (ms); bigger ones in a thread."""
PANE_SETTLE_S = 0.1
"""The detail pane follows the cursor once it has rested this long: three repeats of a key held
at 30 keys/s, and still as good as at once for a single press."""


class _Events(FeedEvents):
    """The Feed's reports, handed to the screen."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def rows_added(self, rows: range, keep_row: int | None) -> None:
        self.screen.rows_added(rows, keep_row)

    def rows_merged(self, rows: range) -> None:
        self.screen.rebuild_view()  # among the rows shown; the cursor stays on its call
        self.screen.status_soon()

    def rows_refined(self, rows: list[int]) -> None:
        self.screen.table.rows_changed(rows)
        self.screen.rebuild_view()  # the sort may place them anew; the KPIs follow the view

    def account_changed(self, state: StreamState) -> None:
        if state.done and state.error is not None:
            self.screen.failed_at[state.account] = self.screen.session.now()
        self.screen.account_changed(state)

    def changed(self) -> None:
        self.screen.progress_changed()

    def notice(self, message: str, severity: str) -> None:
        self.screen.notify(
            message, severity="warning" if severity == "warning" else "information", timeout=4
        )


class MainScreen(Screen[None]):
    # The app's own keys first, as the footer has always shown them (a screen's keys would
    # come before the app's); they run on the app.
    BINDINGS = [*keys.bindings("app", "app."), *keys.bindings("main")]
    PALETTE = "main"

    def __init__(
        self,
        session: Session,
        *,
        query: CallQuery | None = None,
        accounts: list[str] | None = None,
        recovery: Recovery | None = None,
        tail: TailPolicy | None = None,
        view: ViewSpec | None = None,
        state: State | None = None,
        leave: Callable[[State], None] | None = None,
    ) -> None:
        """`view`: a view spec to open on; `state`: what the last session left (its marks
        come back as their calls are listed, its last view is the one `[` goes back to, its
        searches are offered as `/` is typed); `leave`: given what this session leaves for the
        next as the screen goes."""
        super().__init__()
        self.leave = leave
        self._table: CallTable | None = None
        self.opening = view
        self.state = state or State()
        self.views: list[str] = [self.state.last_view] if self.state.last_view else []
        """The views of this session, oldest first (specs without a call): the last
        session's first."""
        self.view_at = len(self.views) - 1
        self.pending_marks = set(self.state.marks)
        """The last session's marks whose calls are not listed yet."""
        self._stepping = False
        self._laid_out_for: Size | None = None
        self.session = session
        self.store = session.store
        self.zone = session.zone
        self.query_ = query or CallQuery(since=session.now() - timedelta(hours=1))
        self.selected: list[str] = list(accounts or [])
        self.failed_at: dict[str, datetime] = {}
        """When each account's listing last failed (the error log says)."""
        self.feed = Feed(session, _Events(self), recovery=recovery, spawn=self._spawn)
        self.tailing = Tailing(self, tail or TailPolicy(), session.settings.alerts.policy())
        self.triage = Triage(self, self)
        self._view_pending = False
        """A view rebuild runs in a thread: rows arriving meanwhile wait for its result."""
        self._keep_view: Key | None = None
        """The call the cursor goes to when the view being built in a thread is ready."""
        self._failed_shown: frozenset[str] = frozenset()
        self._status_due = False
        """A status line is asked for (status_soon) and not drawn yet."""

    # Handing over and exporting are made when first used: their modules (the dialogs, the
    # clipboard) are not needed for the first frame, and importing them delayed it.
    @cached_property
    def handover(self) -> Handover:
        from calltui.tui.handover import Handover

        return Handover(self.session, lambda: self.accounts, self.view_spec)

    @cached_property
    def exporting(self) -> Exporting:
        from calltui.tui.exporting import Exporting

        return Exporting(self)

    def _spawn(self, coro: Any, name: str) -> Worker[None]:
        # Group "fetch": Esc (stop) and a new listing reach the Feed's tasks through it.
        return self.run_worker(coro, name=name, group="fetch", exit_on_error=False)

    @property
    def accounts(self) -> list[str]:
        return self.selected or self.session.account_names

    @property
    def table(self) -> CallTable:
        # Kept once found: the screen's leaving (on_unmount) still reads its marks and sort.
        if self._table is None:
            self._table = self.query_one(CallTable)
        return self._table

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield Sidebar(id="sidebar")
            with Vertical(id="main"):
                yield FilterBar(id="filterbar")
                yield CallTable(
                    self.store,
                    self.zone,
                    columns=[c.key for c in tui_columns(self.session.settings.display.columns)],
                    account_width=max(map(cell_len, self.session.account_names), default=0),
                    id="table",
                )
                with VerticalScroll(id="pane"):
                    yield Static(id="pane-body")
        yield StatusLine(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._fit(self.app.size)
        self.session.open_network()
        self.query_one(Sidebar).set_accounts(self.session.account_names, self.session.engine.states)
        self.table.focus()
        self._show_filters()
        self.set_interval(1.0, self._tick_retries)
        # The first frame first: the network stack's imports (Session.open_network), opening the
        # accounts' clients and sending their first requests took longer than drawing it.
        self.call_after_refresh(self._open)

    def _open(self) -> None:
        """The first listing: of the view the app was opened on (`--view`), if any: its sort,
        and the cursor on its call once it is listed."""
        view, self.opening = self.opening, None
        if view is None or not self.open_view(view):
            self.start_fetch()

    def view_spec(self) -> str:
        """The spec of the view shown: its accounts, filters, window, sort and the call under
        the cursor (calltui.viewspec), for `calltui --view` on another jump host."""
        return self.view_spec_of(call=True)

    def view_spec_of(self, *, call: bool) -> str:
        from calltui.filters import as_terms
        from calltui.viewspec import ViewSpec, iso

        q, sort = self.query_, self.table.sort
        row = self.table.current_row
        name = next((n for n, k in DISPLAY_NAMES.items() if k == sort.key), None)
        return str(
            ViewSpec(
                accounts=tuple(self.selected),
                q=as_terms(q) or None,
                since=iso(q.since),
                until=iso(q.until) if q.until else None,
                sort=name if sort != Sort() else None,
                descending=sort.descending,
                call=None if row is None or not call else self.store.key(row),
            )
        )

    def action_copy_view(self) -> None:
        """Y: the view's spec on the clipboard (and in a dialog where OSC 52 is unsure)."""
        from calltui.tui import clipboard

        clipboard.copy(self.app, self.view_spec(), "the view spec", " (calltui --view opens it)")

    def on_resize(self, event: events.Resize) -> None:
        if event.size == self._laid_out_for:
            # Textual tells the screen the size it was drawn at three times as the app starts,
            # each a layout and a repaint of the whole screen (15 ms with 300 accounts, in the
            # turn that draws the first frame): the same size lays nothing out again.
            event.prevent_default()
            return
        self._fit(event.size)

    def _fit(self, size: Size) -> None:
        self._laid_out_for = size
        # Small terminals: the sidebar goes first (b brings it back), then the detail pane.
        self.set_class(size.width < 100, "narrow")
        self.set_class(size.height < 20, "short")

    def footer_hides(self, action: str) -> bool:
        """R (retry failed) is out of the footer until an account fails, `a` until an alert;
        pressed meanwhile, they say why they have nothing to do."""
        if action == "alert_pivot":
            return not self.tailing.alerts
        return action == "retry_failed" and not self.feed.failed_accounts()

    # --- the listing ------------------------------------------------------------------------
    def start_fetch(self, keep: Key | None = None, seek: bool = False) -> None:
        """List the query's calls again; the cursor goes back to `keep` when it arrives (`seek`:
        fetch on until it does)."""
        if not self._stepping:
            self._remember_view()
        self._view_pending = False  # a rebuild still running is for the rows just dropped
        self._keep_view = None
        self.feed.start(
            self.accounts, self.query_, keep=keep, seek=seek, want_all=self.triage.kpi_shown
        )
        table = self.table
        table.set_busy("")
        table.set_view([], "loading…", reset=True)
        self.tailing.restart()  # the new filters and accounts

    @property
    def idle(self) -> bool:
        return self.feed.idle

    @property
    def view_pending(self) -> bool:
        return self._view_pending

    def rows_added(self, new: range, keep_row: int | None) -> None:
        if self.pending_marks:
            self._restore_marks(new)
        default = self.table.sort == Sort()
        if default and keep_row is None and not self._view_pending:
            # The merge delivers newest first: new rows go below, nothing above them moves.
            self.table.append_rows(new, table_status(self.feed))
        else:
            self.rebuild_view(keep_row)
        self.status_soon()

    def account_changed(self, state: StreamState) -> None:
        """One account's state: its sidebar line now, the status line soon. With hundreds of
        accounts this comes thousands of times while the first pages arrive, so it costs the
        same whatever the number of accounts; what reads them all (the status line, the
        failed accounts) runs once for all the changes that came together."""
        if not self.is_attached:
            return  # a stream cancelled as the app quits: its widgets are gone
        self.query_one(Sidebar).mark(state.account, state.status)
        self.status_soon()

    def progress_changed(self) -> None:
        if not self.is_attached:
            return
        self.update_status()
        self.table.set_status(table_status(self.feed))

    def status_soon(self) -> None:
        """The status line (and the footer's R) drawn once the work under way in this turn
        of the loop is done: the changes that come together are said together."""
        if not self._status_due:
            self._status_due = True
            self.call_later(self._status_now)

    def _status_now(self) -> None:
        if self._status_due and self.is_attached:
            self.update_status()

    def update_status(self) -> None:
        self._status_due = False
        self.triage.progress()
        self.query_one(StatusLine).show(self.feed, len(self.table.marks), self.tailing.info())
        failed = frozenset(self.feed.failed_accounts())
        if failed != self._failed_shown:
            self._failed_shown = failed
            self.refresh_bindings()  # R (retry failed) is in the footer while one has

    def _tick_retries(self) -> None:
        if self.feed.waiting_retries:
            self.update_status()  # the countdown

    def action_retry_failed(self) -> None:
        """R: every failed account is tried again now (a backoff under way is cut short)."""
        tried = self.feed.retry_failed()
        if tried:
            self.notify(f"trying again: {inert(', '.join(tried), 200)}", timeout=3)
        else:
            self.notify("no account has failed: nothing to retry", timeout=3)

    def action_error_log(self) -> None:
        """E: every failed account's whole last error."""
        from calltui.tui.screens.errors import ErrorLogScreen, Failure

        failures = []
        for account in self.feed.failed_accounts():
            error = self.session.engine.states[account].error
            assert error is not None
            failures.append(
                Failure(
                    account,
                    error.message,
                    error.status,
                    error.url,
                    self.failed_at.get(account),
                    self.feed.retry_in(account),
                )
            )
        self.app.push_screen(ErrorLogScreen(failures, self.zone))

    def action_stop(self) -> None:
        """Esc: every load stops now (the list, retries, the detail pane); loaded rows stay.
        The live tail is not a load: t stops it."""
        for group in ("pane", "refetch"):
            self.workers.cancel_group(self, group)
        self.feed.stop()

    @on(CallTable.NeedMore)
    def _need_more(self) -> None:
        # Rows still due come anyway, and the table may have got enough since it asked: the
        # target moves only if it still wants more once they are in.
        if self.table.wants_more():
            self.feed.want_more()

    @on(CallTable.SortChanged)
    def _sorted(self, event: CallTable.SortChanged) -> None:
        self.rebuild_view()

    def rebuild_view(self, keep_row: int | None = None) -> None:
        """The table's view again, in its sort; the cursor stays on its call (or `keep_row`)."""
        table = self.table
        if len(self.store) <= SYNC_ROWS:
            keep = table.current_row if keep_row is None else keep_row
            self._view_pending = False
            table.set_busy("")
            table.set_view(self.store.view(table.sort), table_status(self.feed), keep)
            return
        if keep_row is not None:
            self._keep_view = self.store.key(keep_row)
        self._view_pending = True
        table.set_busy("sorting…")
        self._build_view(table.sort, self.store.epoch)

    @work(thread=True, exclusive=True, group="view", exit_on_error=False)
    def _build_view(self, sort: Sort, epoch: int) -> None:
        worker = get_current_worker()

        def check() -> None:
            if worker.is_cancelled:
                raise Cancelled

        store = self.store
        rows = len(store)
        try:
            view = store.view(sort, check=check)
            positions = store.positions(view, check=check)
        except Cancelled:
            return  # a newer rebuild replaced this one
        self.app.call_from_thread(self._view_built, sort, epoch, rows, view, positions)

    def _view_built(
        self, sort: Sort, epoch: int, rows: int, view: array[int], pos: array[int]
    ) -> None:
        table = self.table
        if epoch != self.store.epoch or sort != table.sort:
            return  # the store was refilled, or another sort was asked for meanwhile
        keep = table.current_row
        if self._keep_view is not None:
            found = self.store.find(*self._keep_view)
            if found is not None and found < rows:
                keep, self._keep_view = found, None
        self._view_pending = False
        table.set_busy("")
        table.set_view(view, table_status(self.feed), keep, positions=pos)
        if len(self.store) > rows:
            self.rebuild_view()  # rows arrived while this one was built

    @on(CallTable.PageWanted)
    def _page_wanted(self, event: CallTable.PageWanted) -> None:
        self.refetch_page(event.ticket)

    @work(group="refetch", exit_on_error=False)
    async def refetch_page(self, ticket: Refetch) -> None:
        """An evicted page is on screen again: fetch it and put its rows back."""
        try:
            restored = await self.feed.refetch(ticket)
        except ProviderError:
            self.update_status()
            return
        if not restored:
            return
        table = self.table
        table.rows_changed(restored)
        row = table.current_row
        if row is not None and self.store.page[row] == ticket.page:
            self.show_pane(row)  # it said "fetching again"

    # --- the detail pane --------------------------------------------------------------------
    @on(CallTable.Highlighted)
    def _highlighted(self, event: CallTable.Highlighted) -> None:
        if not self.is_attached:
            return  # rows arrived as the app quit: the pane is gone
        self.tailing.cursor_moved()
        self._follow()

    @work(exclusive=True, group="pane", exit_on_error=False)
    async def _follow(self) -> None:
        """The pane follows the cursor once it rests: while a key repeats, each move cancels
        the last one's wait, so a held key redraws two table rows per move, not the pane."""
        await asyncio.sleep(PANE_SETTLE_S)
        self.show_pane(self.table.current_row)

    def show_pane(self, row: int | None) -> None:
        """The detail pane for store row `row`: its summary now, its drill-down once loaded."""
        body = self.query_one("#pane-body", Static)
        if row is None:
            body.update(Text("no call selected", "dim"))
            return
        try:
            call = self.store.call(row)
        except NotHeld:
            body.update(self._placeholder_text(row))
            return
        cached = self.session.cached(call)
        colours = palette.outcome_colours(self.app.theme_variables)
        body.update(views.summary(call, cached, self.zone, colours))
        if cached is None:
            self.load_pane(call)

    @work(exclusive=True, group="pane", exit_on_error=False)
    async def load_pane(self, call: Call) -> None:
        # With the pane's own wait (PANE_SETTLE_S), 0.3 s at rest before a row is fetched:
        # stepping through rows fetches nothing.
        await asyncio.sleep(0.2)
        detail = await self.handover.detail(self.app, call, toast=False)  # said in the pane
        row = self.table.current_row
        if row is not None and self.store.key(row) == (call.account, call.id):
            colours = palette.outcome_colours(self.app.theme_variables)
            shown = views.summary(call, detail, self.zone, colours)
            if detail is None:
                shown.append_text(views.detail_failure(self.session.detail_error(call)))
            self.query_one("#pane-body", Static).update(shown)

    @on(CallTable.Opened)
    def _opened(self, event: CallTable.Opened) -> None:
        from calltui.tui.screens.detail import DetailScreen

        try:
            call = self.store.call(event.row)
        except NotHeld:
            self.notify(self._placeholder_text(event.row).plain, severity="warning", timeout=3)
            return
        self.app.push_screen(DetailScreen(call, self.session, self.handover), self._detail_done)

    def _detail_done(self, jump: Call | None) -> None:
        if jump is not None:
            self.jump_to(jump)

    def jump_to(self, call: Call) -> None:
        """Put the table's cursor on `call`. A call the view does not list (another account,
        outside the window or the filters) is fetched: its account joins the selection, the
        window widens to hold it, filters it fails are cleared, and the fetch goes on until it
        arrives."""
        table = self.table
        table.focus()
        row = self.store.find(call.account, call.id)
        at = None if row is None else table.position(row)
        if at is not None:
            table.cursor = at
            return
        if self.selected and call.account not in self.selected:
            self.selected = [*self.selected, call.account]
        q = self.query_
        since, until = q.since, q.until
        start = call.started_at
        if start is not None:
            margin = timedelta(minutes=5)
            if start < since:
                since = start - margin
            if until is not None and start > until:
                until = start + margin
        query = replace(q, since=since, until=until)
        if not query.matches(call):
            query = CallQuery(since=since, until=until)
            self.notify("filters cleared to show that call", timeout=4)
        self.query_ = query
        self._show_filters()
        self.start_fetch((call.account, call.id), seek=True)

    def _placeholder_text(self, row: int) -> Text:
        if self.store.is_held(row):
            return Text("")
        if self.store.state[row] == GONE:
            return Text("this call is no longer listed by its provider", "dim italic")
        return Text("this call was dropped to save memory; fetching it again…", "dim italic")

    def current_call(self) -> Call | None:
        """The call under the cursor; None (said in a toast) for a placeholder row."""
        row = self.table.current_row
        if row is None:
            return None
        try:
            return self.store.call(row)
        except NotHeld:
            self.notify(self._placeholder_text(row).plain, severity="warning", timeout=3)
            return None

    # --- accounts and filters ----------------------------------------------------------------
    @on(Sidebar.Picked)
    def _account_picked(self, event: Sidebar.Picked) -> None:
        self.pick_account(None if event.account == ALL else event.account)
        self.table.focus()

    def _restore_marks(self, rows: range) -> None:
        store, table = self.store, self.table
        found = False
        for row in rows:
            key = store.key(row)
            if key in self.pending_marks:
                try:
                    table.marks[key] = store.call(row)
                except NotHeld:
                    continue
                self.pending_marks.discard(key)
                found = True
        if found:
            table.refresh()
            self.status_soon()

    def on_unmount(self) -> None:
        if self.leave is not None:
            self.leave(self.save_state())

    def save_state(self) -> State:
        """What this session leaves for the next: its marks (those not listed yet too), the
        view it ends on, its searches."""
        state = self.state
        state.marks = [*self.table.marks, *sorted(self.pending_marks - set(self.table.marks))]
        state.last_view = self.view_spec_of(call=True)
        return state

    def open_view(self, spec: ViewSpec) -> bool:
        """Show the view of `spec`: its accounts, filters, window and sort, the cursor on its
        call once it is listed. False (and why, in a toast) when a part does not hold here."""
        from calltui.filters import FilterError, build_query

        unknown = [a for a in spec.accounts if a not in self.session.account_names]
        if unknown:
            self.notify(f"view: no account named {inert(unknown[0], 60)}", severity="warning")
            return False
        try:
            query = build_query(
                {"since": spec.since, "until": spec.until, "query": spec.q},
                default_since=timedelta(hours=1),
                now=self.session.now(),
            )
        except FilterError as e:
            self.notify(f"view: {inert(e, 200)}", severity="warning")
            return False
        self.selected = list(spec.accounts)
        self.query_ = query
        if spec.sort:
            self.table.sort = Sort(DISPLAY_NAMES[spec.sort], spec.descending)
        self._show_filters()
        self.start_fetch(keep=spec.call, seek=spec.call is not None)
        return True

    def _remember_view(self) -> None:
        """The view now, in this session's history (`[` and `]` step through it)."""
        spec = self.view_spec_of(call=False)
        if self.views and self.views[self.view_at] == spec:
            return
        del self.views[self.view_at + 1 :]
        self.views.append(spec)
        self.view_at = len(self.views) - 1

    def action_view_step(self, step: int) -> None:
        """`[` back, `]` forth through the views of this session, as k9s does."""
        from calltui.viewspec import parse

        at = self.view_at + step
        if not 0 <= at < len(self.views):
            self.notify("no view " + ("before" if step < 0 else "after") + " this one", timeout=2)
            return
        self.view_at = at
        self._stepping = True
        try:
            self.open_view(parse(self.views[at]))
        finally:
            self._stepping = False

    def pick_account(self, name: str | None) -> None:
        self.selected = [] if name is None else [name]
        self._show_filters()
        self.start_fetch()

    def set_query(self, query: CallQuery) -> None:
        row = self.table.current_row
        keep = None if row is None else self.store.key(row)
        self.query_ = query
        self._show_filters()
        self.start_fetch(keep)

    def _show_filters(self) -> None:
        self.query_one(FilterBar).show(self.selected, self.query_, self.zone)

    def action_toggle_failed(self) -> None:
        failed = self.query_.outcomes == FAILED_OUTCOMES
        self.set_query(replace(self.query_, outcomes=frozenset() if failed else FAILED_OUTCOMES))

    def action_cycle_since(self) -> None:
        spans = [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(days=1)]
        spans.append(timedelta(days=7))
        now = self.session.now()
        current = now - self.query_.since
        nxt = next((s for s in spans if s > current + timedelta(seconds=30)), spans[0])
        self.set_query(replace(self.query_, since=now - nxt, until=None))

    def action_refresh(self) -> None:
        self.session.forget()
        now = self.session.now()
        window = (self.query_.until or now) - self.query_.since
        query = self.query_
        if query.until is None:
            query = replace(query, since=now - window)
        self.set_query(query)

    def action_search(self) -> None:
        from calltui.tui.screens.filters import FilterScreen

        screen = FilterScreen(
            self.query_, self.zone, self.session.now(), focus="query", history=self.state.searches
        )
        self.app.push_screen(screen, self._filters_done)

    def action_edit_filters(self) -> None:
        from calltui.tui.screens.filters import FilterScreen

        screen = FilterScreen(
            self.query_, self.zone, self.session.now(), history=self.state.searches
        )
        self.app.push_screen(screen, self._filters_done)

    def _filters_done(self, query: CallQuery | None) -> None:
        if query is not None:
            if query.terms is not None:
                self.state.searched(str(query.terms))
            self.set_query(query)

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one(Sidebar)
        sidebar.display = not sidebar.display

    def action_go_to(self) -> None:
        from calltui.tui.screens.filters import PromptScreen

        def done(value: str | None) -> None:
            if value:
                self.go_to_call(value)

        self.app.push_screen(PromptScreen("Go to call id"), done)

    def go_to_call(self, needle: str) -> bool:
        needle = needle.strip()
        table = self.table
        row = self.store.find(None, needle)
        pos = None if row is None else table.position(row)
        if pos is not None:
            table.cursor = pos
            table.focus()
            return True
        self.notify(f"no loaded call with id {inert(needle, 60)}", severity="warning")
        return False

    def palette_extra(self) -> Iterator[SystemCommand]:
        yield SystemCommand(
            "Accounts: all", "List calls of every account", partial(self.pick_account, None)
        )
        for name, saved in self.session.settings.views.items():
            yield SystemCommand(
                f"Views: {inert(name, 60)}",
                inert(saved.spec, 200),
                partial(self._open_saved, saved.spec),
            )
        visible = set(self.table.shown)
        for name, key in DISPLAY_NAMES.items():
            verb = "hide" if key in visible else "show"
            yield SystemCommand(
                f"Columns: {verb} {COLUMN_SPEC[key].tui.title}",
                f"{verb.capitalize()} the {name} column (`[display] columns` sets them)",
                partial(self.toggle_column, key),
            )
        for name in self.session.account_names:
            shown = inert(name, 60)
            yield SystemCommand(
                f"Accounts: {shown}",
                f"List calls of {shown} only",
                partial(self.pick_account, name),
            )

    def _open_saved(self, spec: str) -> None:
        from calltui.viewspec import parse

        self.open_view(parse(spec))  # checked when the config was read

    def toggle_column(self, key: str) -> None:
        if not self.table.toggle_column(key):
            self.notify("the last column stays", timeout=3)

    # --- triage: pivot, KPIs ----------------------------------------------------------------
    def action_pivot(self) -> None:
        self.triage.pivot()

    def action_alert_pivot(self) -> None:
        """`a`: the pivot of the group the newest alert is about."""
        if not self.tailing.alerts:
            self.notify("no alert: the live tail (t) watches ASR and PDD", timeout=3)
            return
        alert = self.tailing.alerts[0]
        self.triage.pivot((alert.field, alert.value))

    def add_terms(self, text: str | None) -> None:
        self.triage.add_terms(text)

    async def action_toggle_kpi(self) -> None:
        await self.triage.toggle_kpi()

    @on(CallTable.ViewChanged)
    def _kpi_request(self) -> None:
        self.triage.kpi_request()

    def on_kpi_panel_picked(self, event: KpiPanel.Picked) -> None:
        """Enter on a cause or an account of the KPI panel: the table lists those calls."""
        self.add_terms(event.terms)

    # --- live tail ----------------------------------------------------------------------------
    def action_toggle_tail(self) -> None:
        self.tailing.toggle()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "tail":
            self.tailing.failed()

    # --- marks, export, compare, handoff ----------------------------------------------------------
    @on(CallTable.MarksChanged)
    def _marks_changed(self) -> None:
        self.update_status()

    def action_clear_marks(self) -> None:
        self.table.clear_marks()

    def action_copy_id(self) -> None:
        row = self.table.current_row
        if row is None:
            return
        call_id = inert(self.store.key(row)[1])
        self.app.copy_to_clipboard(call_id)
        self.notify(f"copied {call_id}", timeout=2)

    def action_save_view(self) -> None:
        self.exporting.save_view()

    def action_export(self) -> None:
        self.exporting.export()

    def action_compare(self) -> None:
        self.exporting.compare()

    def action_curl(self) -> None:
        call = self.current_call()
        if call is not None:
            self.handover.curl(self.app, call)

    @work(group="handoff", exit_on_error=False)
    async def action_bundle(self) -> None:
        call = self.current_call()
        if call is not None:
            await self.handover.bundle(self.app, call)

    @work(group="handoff", exit_on_error=False)
    async def action_pcap(self) -> None:
        call = self.current_call()
        if call is not None:
            await self.handover.pcap(self.app, call)
