"""The main screen: accounts (left), the filter bar, the call table, the detail pane (or the
KPI panel, `i`), the status line.

The listing is a Feed (calltui.feed): this screen tells it how many rows the table wants and
shows what it reports (calltui.tui.feed_reports); the table's view is built again in its sort
without the UI waiting on a sort (calltui.tui.view_builder); the detail pane follows the cursor
(calltui.tui.pane). The view shown is a spec (calltui.tui.view_history) that `Y` copies,
`calltui --view` opens and `[` `]` step back and forth to.

Triage: the verdict tops the detail pane; KPIs of the view are computed in a thread as it
changes; the live tail (`t`, calltui.tui.tailing) puts new calls on top; Space marks calls for
export (`x`) and compare (`d`); `c`, `B`, `p` hand the call over (calltui.tui.handover). Enter on
a related call in the detail screen comes back here to that call, fetching a window that holds
it when it is not listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from calltui.columns import tui_columns
from calltui.engine import Recovery, StreamState
from calltui.feed import Feed
from calltui.http import ProviderError
from calltui.model import FAILED_OUTCOMES, Call, CallQuery
from calltui.session import Key, Session
from calltui.state import State
from calltui.store import NotHeld, Refetch, Sort
from calltui.tail import TailPolicy
from calltui.text import inert
from calltui.tui import keys
from calltui.tui.feed_reports import FeedReports
from calltui.tui.jumps import Jumps
from calltui.tui.kept_marks import KeptMarks
from calltui.tui.main_commands import main_commands
from calltui.tui.pane import Pane, placeholder_text
from calltui.tui.tailing import Tailing
from calltui.tui.triage import Triage
from calltui.tui.view_builder import ViewBuilder
from calltui.tui.view_history import ViewHistory
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
        """`view`: a view spec to open on, `query` and `accounts` beside it the CLI's (the
        flags given beside `--view` merged over its parts); `state`: what the last session left
        (its marks come back as their calls are listed, its last view is the one `[` goes back
        to, its searches are offered as `/` is typed); `leave`: given what this session leaves
        for the next as the screen goes."""
        super().__init__()
        self.leave = leave
        self._table: CallTable | None = None
        self.state = state or State()
        self.history = ViewHistory(self, self.state.last_view)
        self.opening: Callable[[], bool] | None = None
        """The view the app was opened on, opened once the first frame is drawn."""
        if view is not None:
            self.opening = partial(self.history.open, view, accounts=accounts, query=query)
        self.kept = KeptMarks(self.state.marks)
        self._laid_out_for: Size | None = None
        self.session = session
        self.store = session.store
        self.zone = session.zone
        self.query_ = query or CallQuery(since=session.now() - timedelta(hours=1))
        self.selected: list[str] = list(accounts or [])
        self.reports = FeedReports(self)
        self.feed = Feed(session, self.reports, recovery=recovery, spawn=self._spawn)
        self.tailing = Tailing(self, tail or TailPolicy(), session.settings.alerts.policy())
        self.triage = Triage(self, self)
        self.pane = Pane(self, self)
        self.builder = ViewBuilder(self, self)
        self.jumps = Jumps(self)
        self._failed_shown: frozenset[str] = frozenset()
        self._status_due = False
        """A status line is asked for (status_soon) and not drawn yet."""

    # Handing over and exporting are made when first used: their modules (the dialogs, the
    # clipboard) are not needed for the first frame, and importing them delayed it.
    @cached_property
    def handover(self) -> Handover:
        from calltui.tui.handover import Handover

        view = partial(self.history.spec_of, call=True)
        return Handover(self.session, lambda: self.accounts, view)

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
        self.show_filters()
        self.set_interval(1.0, self._tick_retries)
        # The first frame first: the network stack's imports (Session.open_network), opening the
        # accounts' clients and sending their first requests took longer than drawing it.
        self.call_after_refresh(self._open)

    def _open(self) -> None:
        """The first listing: of the view the app was opened on (`--view`), if any, with the
        flags given beside it: its sort, and the cursor on its call once it is listed."""
        opening, self.opening = self.opening, None
        if opening is None or not opening():
            self.start_fetch()

    def action_copy_view(self) -> None:
        """Y: the view's spec on the clipboard (and in a dialog where OSC 52 is unsure)."""
        from calltui.tui import clipboard

        spec = self.history.spec_of(call=True)
        clipboard.copy(self.app, spec, "the view spec", " (calltui --view opens it)")

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
        self.history.remember()
        self.builder.drop()
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
        return self.builder.pending

    def rows_added(self, new: range, keep_row: int | None) -> None:
        if self.kept.pending:
            self.kept.restore(self.store, self.table, new)
        default = self.table.sort == Sort()
        if default and keep_row is None and not self.builder.pending:
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
        from calltui.tui.screens.errors import ErrorLogScreen

        self.app.push_screen(ErrorLogScreen(self.reports.failures(), self.zone))

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
        self.builder.rebuild(keep_row)

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
            self.pane.show(row)  # it said "fetching again"

    # --- the detail pane --------------------------------------------------------------------
    @on(CallTable.Highlighted)
    def _highlighted(self, event: CallTable.Highlighted) -> None:
        if not self.is_attached:
            return  # rows arrived as the app quit: the pane is gone
        self.tailing.cursor_moved()
        self.pane.follow()

    def show_pane(self, row: int | None) -> None:
        self.pane.show(row)

    @on(CallTable.Opened)
    def _opened(self, event: CallTable.Opened) -> None:
        from calltui.tui.screens.detail import DetailScreen

        try:
            call = self.store.call(event.row)
        except NotHeld:
            shown = placeholder_text(self.store, event.row)
            self.notify(shown.plain, severity="warning", timeout=3)
            return
        self.app.push_screen(DetailScreen(call, self.session, self.handover), self._detail_done)

    def _detail_done(self, jump: Call | None) -> None:
        if jump is not None:
            self.jumps.to(jump)

    def current_call(self) -> Call | None:
        """The call under the cursor; None (said in a toast) for a placeholder row."""
        row = self.table.current_row
        if row is None:
            return None
        try:
            return self.store.call(row)
        except NotHeld:
            self.notify(placeholder_text(self.store, row).plain, severity="warning", timeout=3)
            return None

    # --- accounts and filters ----------------------------------------------------------------
    @on(Sidebar.Picked)
    def _account_picked(self, event: Sidebar.Picked) -> None:
        self.pick_account(None if event.account == ALL else event.account)
        self.table.focus()

    def on_unmount(self) -> None:
        if self.leave is not None:
            self.leave(self.save_state())

    def save_state(self) -> State:
        """What this session leaves for the next: its marks (those not listed yet too), the
        view it ends on, its searches."""
        state = self.state
        state.marks = self.kept.left(self.table.marks)
        state.last_view = self.history.spec_of(call=True)
        return state

    def action_view_step(self, step: int) -> None:
        """`[` back, `]` forth through the views of this session, as k9s does."""
        self.history.step(step)

    def pick_account(self, name: str | None) -> None:
        self.selected = [] if name is None else [name]
        self.show_filters()
        self.start_fetch()

    def set_query(self, query: CallQuery) -> None:
        row = self.table.current_row
        keep = None if row is None else self.store.key(row)
        self.query_ = query
        self.show_filters()
        self.start_fetch(keep)

    def show_filters(self) -> None:
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
                self.jumps.to_id(value)

        self.app.push_screen(PromptScreen("Go to call id"), done)

    def palette_extra(self) -> Iterator[SystemCommand]:
        return main_commands(self)

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
