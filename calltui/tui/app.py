"""The TUI: a thin Textual layer over the headless engine.

Main screen: accounts (left), the filter bar, the call table, the detail pane (or the KPI panel,
`i`), the status line. Every network call runs in a worker; the UI never waits on I/O, nor on a
sort of a big store: past SYNC_ROWS rows, views are rebuilt in a thread worker while the table
says "sorting…". Nor on a full garbage collection: see IdleGC.

Triage: the verdict tops the detail pane; KPIs of the view are computed in a thread as it
changes; the live tail (`t`, calltui.tail) polls each account's newest page and puts new calls on
top while the cursor is there, and holds them back ("N new") while it is not; Space marks calls
for export (`x`) and compare (`d`); `c`, `B`, `p` hand the call over (curl, redacted bundle,
pcap). Enter on a related call in the detail screen comes back here to that call, fetching a
window that holds it when it is not listed.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import time
from array import array
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from calltui.config import Settings, config_dir
from calltui.engine import Engine, Recovery, StreamState
from calltui.http import ProviderError, RetryPolicy
from calltui.model import FAILED_OUTCOMES, Call, CallDetail, CallQuery, Outcome
from calltui.render import display_zone
from calltui.store import GONE, CallStore, Cancelled, NotHeld, Refetch, Sort
from calltui.tail import TailBatch, TailPolicy, TailPoller
from calltui.text import inert
from calltui.tui import views
from calltui.tui.themes import NO_COLOR_THEME, SHIPPED, load_themes
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from calltui.tui.widgets.kpi_panel import KpiJob, KpiPanel

ALL = "__all__"
BATCH = 200
FIRST_PAGE = 100
"""What an account's first page need hold: a screenful and more. The first rows do not wait for
a page of 1000 (Provider.pages); later pages grow to the full size."""
SYNC_ROWS = 20_000
"""Views of up to this many rows are rebuilt on the UI thread (ms); bigger ones in a thread."""
ALL_ROWS = 2**62
"""The fetch target while the KPI panel is shown: KPIs are of the whole filtered window."""
SEEK_MAX = 50_000
"""Rows fetched past what the table asked for while looking for a call to jump to."""
TAIL_HOLD = 10_000
"""New calls a paused tail holds back at most (the oldest go past it: `r` lists them)."""
MAIN_ONLY = frozenset(
    {
        "toggle_failed",
        "refresh",
        "search",
        "edit_filters",
        "cycle_since",
        "toggle_tail",
        "toggle_kpi",
        "export",
        "compare",
        "curl",
        "bundle",
        "pcap",
        "copy_id",
        "save_view",
        "toggle_sidebar",
        "retry_failed",
        "stop",
    }
)
"""Actions on the call table: off (and out of the footer) while another screen is on top."""
MARKS = {"idle": "·", "loading": "◌", "ok": "●", "error": "✖"}
MARK_STYLE = {"idle": "dim", "loading": "yellow", "ok": "green", "error": "bold red"}


class IdleGC:
    """Full (generation 2) garbage collections only while the user is idle.

    Textual makes reference cycles as it draws (a Strip may cache itself), so the oldest
    generation fills steadily, and Python collects it whenever it is due: in the middle of a key
    press, for tens of milliseconds (15 to 80 ms measured here, more with more loaded). Here the
    automatic full collection is off while the app runs, and a timer runs it once no input has
    come for IDLE_S seconds (young generations are still collected as usual, in well under a
    millisecond). What exists at start (modules, classes, settings) is frozen out of the
    collector's sight: it lives as long as the app, and scanning it made the first idle
    collection, half a second in, stall the arrival of the first rows by tens of milliseconds.
    The command line turns the collector off before it imports the TUI (a full collection among
    the imports cost 20 ms and found nothing to free); start() turns it on. The thresholds are
    restored on stop().
    """

    IDLE_S = 0.5
    NEVER = 2**31 - 1

    def __init__(self) -> None:
        self._last_input = 0.0
        self._saved: tuple[int, int, int] | None = None

    def start(self, app: App[Any]) -> None:
        self._saved = gc.get_threshold()
        gc.set_threshold(self._saved[0], self._saved[1], self.NEVER)
        gc.freeze()
        gc.enable()
        app.set_interval(self.IDLE_S, self._tick)

    def input(self) -> None:
        self._last_input = time.monotonic()

    def _tick(self) -> None:
        # get_count()[2]: young collections since the last full one, i.e. anything to do.
        if time.monotonic() - self._last_input >= self.IDLE_S and gc.get_count()[2]:
            gc.collect()

    def stop(self) -> None:
        if self._saved is not None:
            gc.unfreeze()
            gc.set_threshold(*self._saved)
            self._saved = None


class Sidebar(OptionList):
    """Accounts with a status mark each, and 'All accounts' on top."""

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
                    self.replace_option_prompt(name, _account_label(name, status))
            return
        highlighted = self.highlighted
        self.clear_options()
        self.add_option(Option(Text("All accounts", "bold"), id=ALL))
        for name, status in shown:
            self.add_option(Option(_account_label(name, status), id=name))
        self.highlighted = min(highlighted or 0, self.option_count - 1)


def _account_label(name: str, status: str) -> Text:
    label = Text()
    label.append(MARKS[status] + " ", MARK_STYLE[status])
    label.append(inert(name, 20))
    return label


class CallTUI(App[None]):
    TITLE = "calltui"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("f", "toggle_failed", "Failed only", id="failed_only"),
        Binding("slash,f3", "search", "Search", id="search"),
        Binding("t", "toggle_tail", "Tail", id="tail"),
        Binding("i", "toggle_kpi", "KPIs", id="kpi"),
        Binding("x", "export", "Export", id="export"),
        Binding("d", "compare", "Compare", id="compare"),
        Binding("r,f5", "refresh", "Refresh", show=False, id="refresh"),
        Binding("R", "retry_failed", "Retry failed", id="retry_failed"),
        Binding("escape", "stop", "Stop loading", show=False, id="stop"),
        Binding("f7", "edit_filters", "Filters", show=False, id="filters"),
        Binding("w", "cycle_since", "Window", show=False, id="window"),
        Binding("c", "curl", "Copy curl", show=False, id="curl"),
        Binding("B", "bundle", "Bundle", show=False, id="bundle"),
        Binding("p", "pcap", "Pcap", show=False, id="pcap"),
        Binding("y", "copy_id", "Copy id", show=False, id="copy_id"),
        Binding("f2,ctrl+s", "save_view", "Save CSV", show=False, id="save_view"),
        Binding("colon,ctrl+p", "command_palette", "Commands", show=False, id="palette"),
        Binding("tab", "focus_next", "Next pane", show=False, id="focus_next"),
        Binding("shift+tab", "focus_previous", "Previous pane", show=False, id="focus_previous"),
        Binding("b", "toggle_sidebar", "Accounts", show=False, id="toggle_sidebar"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        query: CallQuery | None = None,
        accounts: list[str] | None = None,
        now: datetime | Callable[[], datetime] | None = None,
        retry: RetryPolicy | None = None,
        recovery: Recovery | None = None,
    ) -> None:
        """`now`: a fixed clock, or a function of one (tests move it with the simulator's);
        the wall clock by default. `recovery`: how failed accounts are tried again."""
        super().__init__()
        self.settings = settings
        self.engine = Engine(settings, transport=transport, retry=retry)
        self.zone = display_zone(settings.display.timezone)
        self.store = CallStore(settings.limits.max_records)
        self.idle_gc = IdleGC()
        self._view_pending = False
        """A view rebuild runs in a thread: rows arriving meanwhile wait for its result."""
        self._clock: Callable[[], datetime] | None = (
            now if callable(now) else None if now is None else (lambda: now)
        )
        self.query_ = query or CallQuery(since=self.now() - timedelta(hours=1))
        self.selected: list[str] = list(accounts or [])
        self.target = BATCH
        self.more = asyncio.Event()
        self.exhausted = False
        self.idle = False
        """True while the fetch waits for the cursor to want more, or has fetched everything."""
        self.last_error: str | None = None
        self.detail_cache: dict[tuple[str, str], CallDetail] = {}
        self.detail_errors: dict[tuple[str, str], ProviderError] = {}
        """Why the last drill-down of a call failed (shown where the call is shown)."""
        self.recovery = recovery or Recovery()
        self.stopped = False
        """Esc stopped every load; r starts again."""
        self._failures: dict[str, int] = {}
        """Failures in a row of each account (its next wait doubles with each)."""
        self._rejoining: dict[str, Worker[None]] = {}
        """The worker bringing each failed account back (see _rejoin)."""
        self._retry_at: dict[str, float] = {}
        """When (on recovery.clock) an account waiting to be tried again will be."""
        self._frontier = math.inf
        """The start of the oldest row the main fetch added: every account's rows above it are
        in the store, so a recovering account's rows above it go in at once."""
        self._wake = asyncio.Event()
        """Set when the frontier moves, more rows are wanted or the main fetch ends."""
        self._failed_shown: frozenset[str] = frozenset()
        self._keep: tuple[str, str] | None = None
        self._seek = False
        """The fetch goes on past demand until `_keep` arrives (a jump to a related call)."""
        self.tail: TailPoller | None = None
        self.tail_policy = TailPolicy()
        self.tail_pending: list[Call] = []
        """New calls the tail holds back while the cursor is away from the top."""
        self.kpi_shown = False
        self._theme_problems: list[str] = []
        self._register_themes()
        if settings.keys:
            self.set_keymap(settings.keys)

    # --- set-up -----------------------------------------------------------------------------
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Toasts carry provider text (ids, error reasons): never read as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def now(self) -> datetime:
        return self._clock() if self._clock is not None else datetime.now(timezone.utc)

    @property
    def main_screen(self) -> Any:
        return self.screen_stack[0]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry_failed" and not self._failed_accounts():
            return False  # out of the footer until an account fails
        return not (action in MAIN_ONLY and len(self.screen_stack) > 1)

    def _register_themes(self) -> None:
        dirs = [SHIPPED, config_dir() / "themes"]
        themes, problems = load_themes(dirs)
        for theme in themes:
            self.register_theme(theme)
        self._theme_problems = problems
        wanted = self.settings.display.theme
        if os.environ.get("NO_COLOR"):
            wanted = NO_COLOR_THEME
        names = {t.name for t in themes}
        if wanted not in names and wanted not in self.available_themes:
            self._theme_problems.append(f"theme {wanted!r} not found; using calltui-dark")
            wanted = "calltui-dark"
        self.theme = wanted

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield Sidebar(id="sidebar")
            with Vertical(id="main"):
                yield Static(id="filterbar")
                yield CallTable(self.store, self.zone, id="table")
                with VerticalScroll(id="pane"):
                    yield Static(id="pane-body")
        yield Static(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.idle_gc.start(self)
        self.query_one(Sidebar).set_accounts(self.engine.account_names, self.engine.states)
        self.query_one(CallTable).focus()
        for problem in self._theme_problems:
            self.notify(problem, severity="warning", timeout=8)
        self._show_filters()
        self.set_interval(1.0, self._tick_retries)
        self.start_fetch()

    def on_resize(self, event: events.Resize) -> None:
        # Small terminals: the sidebar goes first (b brings it back), then the detail pane.
        # The event's size: this runs before App's own handler sets self.size.
        self.main_screen.set_class(event.size.width < 100, "narrow")
        self.main_screen.set_class(event.size.height < 20, "short")

    async def on_unmount(self) -> None:
        self.idle_gc.stop()
        await self.engine.aclose()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.idle_gc.input()
        await super().on_event(event)

    # --- fetching ---------------------------------------------------------------------------
    @property
    def accounts(self) -> list[str]:
        return self.selected or self.engine.account_names

    def start_fetch(self, keep: tuple[str, str] | None = None, seek: bool = False) -> None:
        """List the query's calls again; the cursor goes back to `keep` when it arrives (`seek`:
        fetch on until it does)."""
        self.store.clear()
        self.exhausted = False
        self.idle = False
        self.target = ALL_ROWS if self.kpi_shown else BATCH
        self.last_error = None
        self.stopped = False
        self._frontier = math.inf
        # Every account is tried afresh: the old rejoins (group "fetch") go with the old fetch.
        self._failures.clear()
        self._rejoining.clear()
        self._retry_at.clear()
        self._keep = keep
        self._seek = seek and keep is not None
        self._view_pending = False  # a rebuild still running is for the rows just dropped
        table = self.query_one(CallTable)
        table.set_busy("")
        table.set_view([], "loading…", reset=True)
        self.fetch()
        if self.tail is not None:
            self._start_tail()  # the new filters and accounts

    def _seeking(self) -> bool:
        return self._seek and self._keep is not None and len(self.store) < self.target + SEEK_MAX

    @work(exclusive=True, group="fetch", exit_on_error=False)
    async def fetch(self) -> None:
        gen: AsyncGenerator[Call, None] = self.engine.merged(
            self.accounts, self.query_, self._on_state, first_page=FIRST_PAGE
        )
        batch: list[Call] = []
        try:
            async for call in gen:
                batch.append(call)
                if len(batch) >= 50 or len(self.store) + len(batch) >= self.target:
                    self._append(batch)
                    batch = []
                while len(self.store) >= self.target and not self._seeking():
                    if self._seek and self._keep is not None:
                        self._seek = False
                        self.notify("that call was not found among the calls listed", timeout=4)
                    self.more.clear()
                    self.idle = True
                    await self.more.wait()
                    self.idle = False
            self._append(batch)
            self.exhausted = True
            self.idle = True
            self._wake.set()
            if self._seek and self._keep is not None:
                self._seek = False
                self.notify("that call is not listed any more", severity="warning", timeout=4)
        finally:
            await gen.aclose()
        self._update_status()
        self.query_one(CallTable).set_status(self._table_status())

    def _append(self, batch: list[Call]) -> None:
        if not batch:
            return
        table = self.query_one(CallTable)
        new = self.store.extend(batch)
        self._frontier = _start_ts(batch[-1])
        self._wake.set()
        keep_row = None
        if self._keep is not None:
            for i in new:
                if self.store.key(i) == self._keep:
                    keep_row, self._keep, self._seek = i, None, False
        default = table.sort == Sort()
        if default and keep_row is None and not self._view_pending:
            # The merge delivers newest first: new rows go below, nothing above them moves.
            table.append_rows(new, self._table_status())
        else:
            self.rebuild_view(keep_row)
        self._update_status()

    def _on_state(self, state: StreamState) -> None:
        self._show_state(state)
        account, error = state.account, state.error
        if state.done and error is not None and self.engine.states.get(account) is state:
            # The others go on; this one is tried again by itself, after a wait.
            failures = self._failures[account] = self._failures.get(account, 0) + 1
            if self.recovery.retries(error):
                self._start_rejoin(account, self.recovery.delay(failures))

    def _show_state(self, state: StreamState) -> None:
        if state.error is not None:
            self.last_error = str(state.error)
        if not self.is_running:
            return  # a stream cancelled as the app quits: its widgets are gone
        self.query_one(Sidebar).set_accounts(self.engine.account_names, self.engine.states)
        self._update_status()
        failed = frozenset(self._failed_accounts())
        if failed != self._failed_shown:
            self._failed_shown = failed
            self.refresh_bindings()  # R (retry failed) is in the footer while one has

    def _table_status(self) -> str:
        if self.stopped:
            return f"stopped · {len(self.store)} calls · r loads again"
        if self.exhausted:
            pending = sorted(set(self._rejoining) | set(self._failed_accounts()))
            more = f" · more may come from {', '.join(pending)}" if pending else ""
            return f"end of results · {len(self.store)} calls{inert(more, 80)}"
        return "loading…"

    def _update_status(self) -> None:
        loading = [s.account for s in self.engine.states.values() if s.status == "loading"]
        text = Text()
        states = list(self.engine.states.values())
        pages = sum(s.pages for s in states)
        text.append(f" {len(self.store)} loaded", "bold")
        self._failures_text(text)
        text.append(f" · {pages} page{'s' if pages != 1 else ''} fetched", "dim")
        progress = "complete" if self.exhausted else "more on demand"
        text.append(" · " + ("stopped (r loads again)" if self.stopped else progress), "dim")
        if loading:
            text.append(" · fetching " + inert(", ".join(loading), 60), "yellow")
        if self.kpi_shown:
            note = "" if self.exhausted else "loading the rest of the window…"
            self._kpi_panel().set_note(note)
        marks = len(self.query_one(CallTable).marks)
        if marks:
            text.append(f" · {marks} marked", "bold")
        if self.tail is not None:
            self._tail_status(text)
        self.query_one("#status", Static).update(text)

    def _tail_status(self, text: Text) -> None:
        assert self.tail is not None
        if self.tail_pending:
            n = len(self.tail_pending)
            text.append(f" · tail paused: {n} new (g: show them)", "bold yellow")
        elif not self._following():
            text.append(" · tail paused (the cursor is away from the top)", "yellow")
        else:
            text.append(f" · tail on, every {self.tail.policy.interval_s:g} s", "green")
        for a in self.tail.backing_off():
            wait = max(0.0, a.due_at - time.monotonic())
            text.append(f" · {inert(a.account, 30)} failing, next try in {wait:.0f} s", "red")

    # --- failed accounts: backoff, retry, rejoin ------------------------------------------------
    def _failures_text(self, text: Text) -> None:
        """Each failed account and why (first: it matters most), and when it is tried again."""
        failed = [self.engine.states[a] for a in self._failed_accounts()]
        for s in failed:
            assert s.error is not None
            text.append(" · ✖ ", "bold red")
            text.append(inert(_cause(s.error), 100 if len(failed) == 1 else 40), "red")
            at = self._retry_at.get(s.account)
            if at is not None:
                left = max(1, math.ceil(at - self.recovery.clock()))
                text.append(f" · retrying {inert(s.account, 30)} in {left} s", "yellow")
            else:
                text.append(" · R retries", "bold")

    def _failed_accounts(self) -> list[str]:
        """The shown accounts whose last fetch failed (and that are not being fetched again)."""
        states = self.engine.states
        return [a for a in self.accounts if (s := states.get(a)) and s.done and s.error]

    def _tick_retries(self) -> None:
        if self._retry_at:
            self._update_status()  # the countdown

    def _start_rejoin(self, account: str, delay: float) -> None:
        old = self._rejoining.pop(account, None)
        if old is not None:
            old.cancel()
        self._retry_at.pop(account, None)
        # Group "fetch": a new fetch (another query, account, refresh) or Esc cancels it.
        self._rejoining[account] = self.run_worker(
            self._rejoin(account, delay),
            name=f"rejoin {account}",
            group="fetch",
            exclusive=False,
            exit_on_error=False,
        )

    async def _rejoin(self, account: str, delay: float) -> None:
        """Bring a failed account back while every loaded row stays: wait `delay`, list its
        calls again and merge them in, in time order; on another failure, wait longer."""
        worker = get_current_worker()
        try:
            while True:
                if delay > 0:
                    self._retry_at[account] = self.recovery.clock() + delay
                    self._update_status()
                    try:
                        await self.recovery.sleep(delay)
                    finally:
                        if self._rejoining.get(account) is worker:
                            self._retry_at.pop(account, None)
                error = await self._refill(account)
                if error is None:
                    self._failures.pop(account, None)
                    return
                failures = self._failures[account] = self._failures.get(account, 0) + 1
                if not self.recovery.retries(error):
                    return
                delay = self.recovery.delay(failures)
        finally:
            if self._rejoining.get(account) is worker:
                del self._rejoining[account]
            if self.is_running:
                self._update_status()
                self.query_one(CallTable).set_status(self._table_status())

    async def _refill(self, account: str) -> ProviderError | None:
        """The account's calls listed again and merged into the table as far as the others'
        rows reach; its error if it failed again."""
        gen = self.engine.merged([account], self.query_, self._show_state)
        batch: list[Call] = []
        try:
            async for call in gen:
                while not self._wanted(call):
                    self._merge_in(batch)
                    batch = []
                    self._wake.clear()
                    await self._wake.wait()
                batch.append(call)
                if len(batch) >= 50:
                    self._merge_in(batch)
                    batch = []
            self._merge_in(batch)
        finally:
            await gen.aclose()
        return self.engine.states[account].error

    def _wanted(self, call: Call) -> bool:
        """Whether a row of a recovering account goes in now: above the frontier it takes its
        place in time order among the others'; below it, it waits until they get there (or,
        once they have all ended, until more rows are wanted)."""
        if _start_ts(call) >= self._frontier:
            return True
        return self.exhausted and len(self.store) < self.target

    def _merge_in(self, batch: list[Call]) -> None:
        if batch and self.store.extend(batch):
            self.rebuild_view()  # among the rows shown; the cursor stays on its call
            self._update_status()

    def action_retry_failed(self) -> None:
        """R: every failed account is tried again now (a backoff under way is cut short)."""
        for account in self._failed_accounts():
            self._start_rejoin(account, 0)

    def action_stop(self) -> None:
        """Esc: every load stops now (the list, retries, the detail pane); loaded rows stay.
        The live tail is not a load: t stops it."""
        for group in ("fetch", "pane", "refetch"):
            self.workers.cancel_group(self, group)
        self._rejoining.clear()
        self._retry_at.clear()
        self.stopped = self.idle = True
        self.query_one(CallTable).set_status(self._table_status())
        self._update_status()

    @on(CallTable.NeedMore)
    def _need_more(self) -> None:
        # Rows still due (the store short of its target) come anyway, and the table may have
        # got enough since it asked: the target moves only if it still wants more once they are
        # in. Else how far it moved would depend on when this message was handled.
        if (
            (not self.exhausted or self._rejoining)
            and len(self.store) >= self.target
            and self.query_one(CallTable).wants_more()
        ):
            self.target = len(self.store) + BATCH
            self.more.set()
            self._wake.set()

    @on(CallTable.SortChanged)
    def _sorted(self, event: CallTable.SortChanged) -> None:
        self.rebuild_view()

    def rebuild_view(self, keep_row: int | None = None) -> None:
        """The table's view again, in its sort; the cursor stays on its call (or `keep_row`)."""
        table = self.query_one(CallTable)
        if len(self.store) <= SYNC_ROWS:
            keep = table.current_row if keep_row is None else keep_row
            self._view_pending = False
            table.set_busy("")
            table.set_view(self.store.view(table.sort), self._table_status(), keep)
            return
        if keep_row is not None:
            self._keep = self.store.key(keep_row)
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
        self.call_from_thread(self._view_built, sort, epoch, rows, view, positions)

    def _view_built(
        self, sort: Sort, epoch: int, rows: int, view: array[int], pos: array[int]
    ) -> None:
        table = self.query_one(CallTable)
        if epoch != self.store.epoch or sort != table.sort:
            return  # the store was refilled, or another sort was asked for meanwhile
        keep = table.current_row
        if self._keep is not None:
            found = self.store.find(*self._keep)
            if found is not None and found < rows:
                keep, self._keep = found, None
        self._view_pending = False
        table.set_busy("")
        table.set_view(view, self._table_status(), keep, positions=pos)
        if len(self.store) > rows:
            self.rebuild_view()  # rows arrived while this one was built

    # --- evicted pages ------------------------------------------------------------------------
    @on(CallTable.PageWanted)
    def _page_wanted(self, event: CallTable.PageWanted) -> None:
        self.refetch_page(event.ticket)

    @work(group="refetch", exit_on_error=False)
    async def refetch_page(self, ticket: Refetch) -> None:
        """An evicted page is on screen again: fetch it and put its rows back."""
        try:
            calls = await self.engine.refetch(ticket.account, ticket.request)
        except asyncio.CancelledError:
            self.store.release(ticket)  # Esc: claimed again when next drawn
            raise
        except ProviderError as e:
            self.store.release(ticket)  # claimed again when next drawn
            self.last_error = str(e)
            self._update_status()
            return
        restored = self.store.restore(ticket, calls)
        if not restored:
            return
        table = self.query_one(CallTable)
        table.rows_changed(restored)
        row = table.current_row
        if row is not None and self.store.page[row] == ticket.page:
            self._show_pane(row)  # it said "fetching again"

    # --- detail -----------------------------------------------------------------------------
    @on(CallTable.Highlighted)
    def _highlighted(self, event: CallTable.Highlighted) -> None:
        if not self.is_running:
            return  # rows arrived as the app quit: the pane is gone
        if self.tail is not None:
            if self.tail_pending and self._following():
                self.call_later(self._tail_flush)
            self._update_status()
        self._show_pane(event.row)

    def _show_pane(self, row: int | None) -> None:
        """The detail pane for store row `row`: its summary now, its drill-down once loaded."""
        if row is None:
            self.query_one("#pane-body", Static).update(Text("no call selected", "dim"))
            return
        try:
            call = self.store.call(row)
        except NotHeld:
            self.query_one("#pane-body", Static).update(self._placeholder_text(row))
            return
        cached = self.detail_cache.get((call.account, call.id))
        self.query_one("#pane-body", Static).update(views.summary(call, cached, self.zone))
        if cached is None:
            self.load_pane(call)

    @work(exclusive=True, group="pane", exit_on_error=False)
    async def load_pane(self, call: Call) -> None:
        await asyncio.sleep(0.3)  # debounce: scrolling through rows fetches nothing
        detail = await self.get_detail(call, toast=False)  # said in the pane
        table = self.query_one(CallTable)
        row = table.current_row
        same = row is not None and self.store.key(row) == (call.account, call.id)
        if same:
            shown = views.summary(call, detail, self.zone)
            if detail is None:
                shown.append_text(self.detail_failure(call))
            self.query_one("#pane-body", Static).update(shown)

    async def get_detail(self, call: Call, *, toast: bool = True) -> CallDetail | None:
        """The call's drill-down, or None when it failed (why: detail_errors, and a toast)."""
        key = (call.account, call.id)
        if key in self.detail_cache:
            return self.detail_cache[key]
        try:
            detail = await self.engine.detail(call.account, call.id)
        except ProviderError as e:
            self.last_error = str(e)
            self.detail_errors[key] = e
            if toast:
                self.notify(inert(str(e), 300), title="detail failed", severity="error")
            return None
        self.detail_errors.pop(key, None)
        self.detail_cache[key] = detail
        return detail

    def detail_failure(self, call: Call) -> Text:
        """Why the drill-down of `call` failed, to show with the call (empty if it did not)."""
        error = self.detail_errors.get((call.account, call.id))
        text = Text()
        if error is not None:
            text.append("\n✖ could not load the detail: ", "bold red")
            text.append(inert(str(error), 400), "red")
            text.append("\n(select the call again, or Enter, to try again)", "dim")
        return text

    @on(CallTable.Opened)
    def _opened(self, event: CallTable.Opened) -> None:
        from calltui.tui.screens.detail import DetailScreen

        try:
            call = self.store.call(event.row)
        except NotHeld:
            self.notify(self._placeholder_text(event.row).plain, severity="warning", timeout=3)
            return
        self.push_screen(DetailScreen(call, self.zone), self._detail_done)

    def _detail_done(self, jump: Call | None) -> None:
        if jump is not None:
            self.jump_to(jump)

    def jump_to(self, call: Call) -> None:
        """Put the table's cursor on `call`. A call the view does not list (another account,
        outside the window or the filters) is fetched: its account joins the selection, the
        window widens to hold it, filters it fails are cleared, and the fetch goes on until it
        arrives."""
        table = self.query_one(CallTable)
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

    # --- accounts and filters ----------------------------------------------------------------
    @on(OptionList.OptionSelected, "#sidebar")
    def _account_picked(self, event: OptionList.OptionSelected) -> None:
        picked = event.option.id
        self.selected = [] if picked in (None, ALL) else [picked]
        self._show_filters()
        self.start_fetch()
        self.query_one(CallTable).focus()

    def set_query(self, query: CallQuery) -> None:
        table = self.query_one(CallTable)
        row = table.current_row
        keep = None if row is None else self.store.key(row)
        self.query_ = query
        self._show_filters()
        self.start_fetch(keep)

    def _show_filters(self) -> None:
        q = self.query_
        text = Text()
        text.append(" ")
        text.append(", ".join(self.selected) if self.selected else "All accounts", "bold")
        since = q.since.astimezone(self.zone).strftime("%m-%d %H:%M")
        until = q.until.astimezone(self.zone).strftime("%m-%d %H:%M") if q.until else "now"
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
        if q.min_duration is not None or q.max_duration is not None:
            text.append(f" · dur {q.min_duration or 0}–{q.max_duration or '∞'}s")
        self.query_one("#filterbar", Static).update(text)

    def action_toggle_failed(self) -> None:
        failed = self.query_.outcomes == FAILED_OUTCOMES
        self.set_query(replace(self.query_, outcomes=frozenset() if failed else FAILED_OUTCOMES))

    def action_cycle_since(self) -> None:
        spans = [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(days=1)]
        spans.append(timedelta(days=7))
        current = self.now() - self.query_.since
        nxt = next((s for s in spans if s > current + timedelta(seconds=30)), spans[0])
        self.set_query(replace(self.query_, since=self.now() - nxt, until=None))

    def action_refresh(self) -> None:
        self.detail_cache.clear()
        window = (self.query_.until or self.now()) - self.query_.since
        query = self.query_
        if query.until is None:
            query = replace(query, since=self.now() - window)
        self.set_query(query)

    def action_search(self) -> None:
        from calltui.tui.screens.filters import FilterScreen

        self.push_screen(
            FilterScreen(self.query_, self.zone, self.now(), focus="text"), self._filters_done
        )

    def action_edit_filters(self) -> None:
        from calltui.tui.screens.filters import FilterScreen

        self.push_screen(FilterScreen(self.query_, self.zone, self.now()), self._filters_done)

    def _filters_done(self, query: CallQuery | None) -> None:
        if query is not None:
            self.set_query(query)

    def action_copy_id(self) -> None:
        row = self.query_one(CallTable).current_row
        if row is None:
            return
        call_id = inert(self.store.key(row)[1])
        self.copy_to_clipboard(call_id)
        self.notify(f"copied {call_id}", timeout=2)

    def action_save_view(self) -> None:
        """The rows of the view, as shown (sorted, filtered), to a CSV file in the working dir."""
        from calltui.export import to_csv

        table = self.query_one(CallTable)
        store = self.store
        path = Path.cwd() / f"calltui-{self.now():%Y%m%d-%H%M%S}.csv"
        held = [i for i in table.view if store.is_held(i)]
        try:
            with path.open("x", encoding="utf-8", newline="") as f:
                to_csv((store.call(i) for i in held), f)
        except OSError as e:
            self.notify(f"could not save: {inert(e.strerror or str(e), 100)}", severity="error")
            return
        left = len(table.view) - len(held)
        note = (
            f" ({left} dropped from memory left out: scroll to them to fetch them)" if left else ""
        )
        self.notify(f"saved {len(held)} calls to {inert(str(path), 200)}{note}", timeout=4)

    def action_help(self) -> None:
        from calltui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one(Sidebar)
        sidebar.display = not sidebar.display

    def action_go_to(self) -> None:
        from calltui.tui.screens.filters import PromptScreen

        def done(value: str | None) -> None:
            if value:
                self.go_to_call(value)

        self.push_screen(PromptScreen("Go to call id"), done)

    def go_to_call(self, needle: str) -> bool:
        needle = needle.strip()
        table = self.query_one(CallTable)
        row = self.store.find(None, needle)
        pos = None if row is None else table.position(row)
        if pos is not None:
            table.cursor = pos
            table.focus()
            return True
        self.notify(f"no loaded call with id {inert(needle, 60)}", severity="warning")
        return False

    def pick_account(self, name: str | None) -> None:
        self.selected = [] if name is None else [name]
        self._show_filters()
        self.start_fetch()

    # --- live tail ----------------------------------------------------------------------------
    def _following(self) -> bool:
        """The user watches the newest calls: the cursor on top, no other screen over the table."""
        return self.query_one(CallTable).cursor == 0 and len(self.screen_stack) == 1

    def action_toggle_tail(self) -> None:
        if self.tail is not None:
            self._stop_tail()
            self.notify("tail stopped", timeout=2)
            return
        if self.query_.until is not None:
            self.notify(
                "the tail follows the present: clear the window's end first (w or F7)",
                severity="warning",
            )
            return
        self._start_tail()
        self.notify(f"tail on: polling every {self.tail_policy.interval_s:g} s", timeout=2)

    def _start_tail(self) -> None:
        if self.query_.until is not None:
            self._stop_tail()
            self.notify("tail stopped: the window now ends in the past", timeout=4)
            return
        self.tail = TailPoller(
            self.engine.provider,
            self.accounts,
            self.query_,
            known=self.store.find,
            in_progress=self._held_in_progress,
            now=self.now,
            newest=self._newest_loaded(),
            policy=self.tail_policy,
        )
        self.tail_pending = []
        self._tail_loop(self.tail)
        self._update_status()

    def _stop_tail(self) -> None:
        self.tail = None
        self.tail_pending = []
        self.workers.cancel_group(self, "tail")
        self._update_status()

    def _newest_loaded(self, scan: int = 10_000) -> dict[str, datetime | None]:
        """The newest start loaded per account, read from the top of the view in its default
        sort (in another sort: none, the tail starts its lookback from now)."""
        table = self.query_one(CallTable)
        store = self.store
        out: dict[str, datetime | None] = {}
        if table.sort != Sort():
            return out
        wanted = set(self.accounts)
        for row in table.view[:scan]:
            account = store.account_of(row)
            if account not in out:
                out[account] = store.brief(row).started_at
                if len(out) == len(wanted):
                    break
        return out

    @work(exclusive=True, group="tail", exit_on_error=False)
    async def _tail_loop(self, poller: TailPoller) -> None:
        while self.tail is poller:
            batch = await poller.poll()
            if self.tail is not poller:
                return
            try:
                self._tail_arrived(batch)
            except NoMatches:
                return  # the app is closing: its widgets are gone
            await asyncio.sleep(max(0.02, poller.wait_s()))

    def _held_in_progress(self, account: str, call_id: str) -> bool:
        row = self.store.find(account, call_id)
        return (
            row is not None
            and self.store.is_held(row)
            and self.store.brief(row).outcome is Outcome.IN_PROGRESS
        )

    def _tail_ended(self, calls: list[Call]) -> None:
        """Calls shown in progress that have ended: their rows, the pane and any view their
        new outcome or duration puts them in or out of show what they are now."""
        now = {(c.account, c.id): c for c in calls}
        # Held back by a paused tail: they go in as they are now.
        self.tail_pending = [now.get((c.account, c.id), c) for c in self.tail_pending]
        rows = self.store.update(calls)
        if not rows:
            return
        for c in calls:
            self.detail_cache.pop((c.account, c.id), None)
        table = self.query_one(CallTable)
        table.rows_changed(rows)
        table.mark_fresh(rows)
        q = self.query_
        refined = q.outcomes or q.min_duration is not None or q.max_duration is not None
        if refined or table.sort != Sort():
            self.rebuild_view()
        if table.current_row in rows:
            self._show_pane(table.current_row)

    def _tail_arrived(self, batch: TailBatch) -> None:
        if batch.ended:
            self._tail_ended(batch.ended)
        if batch.calls:
            held = {(c.account, c.id) for c in self.tail_pending}
            self.tail_pending.extend(c for c in batch.calls if (c.account, c.id) not in held)
            if len(self.tail_pending) > TAIL_HOLD:
                self.tail_pending.sort(key=_start_ts, reverse=True)
                del self.tail_pending[TAIL_HOLD:]
        if self.tail_pending and self._following():
            self._tail_flush()
        else:
            self._update_status()

    def _tail_flush(self) -> None:
        """The held calls into the store and on top of the table."""
        calls, self.tail_pending = self.tail_pending, []
        if not calls:
            return
        following = self._following()
        rows = list(self.store.extend(calls))
        table = self.query_one(CallTable)
        if rows:
            if table.sort == Sort() and not self._view_pending:
                table.insert_rows(rows)  # the cursor stays on its call...
                if following:
                    table.cursor = 0  # ...unless it followed the newest
            else:
                table.mark_fresh(rows)
                self.rebuild_view()
        self._update_status()

    # --- KPIs ------------------------------------------------------------------------------------
    def _kpi_panel(self) -> KpiPanel:
        from calltui.tui.widgets.kpi_panel import KpiPanel

        return self.query_one("#kpi", KpiPanel)

    async def action_toggle_kpi(self) -> None:
        """The KPI panel in place of the detail pane, or back."""
        if not self.query("#kpi"):
            # Made when first asked for: nothing of it is needed before the first rows.
            from calltui.tui.widgets.kpi_panel import KpiPanel

            await self.query_one("#main").mount(KpiPanel(id="kpi"))
        self.kpi_shown = not self.kpi_shown
        self._kpi_panel().display = self.kpi_shown
        self.main_screen.set_class(self.kpi_shown, "kpi")
        if self.kpi_shown:
            if not self.exhausted:  # KPIs are of the filtered window: all of it
                self.target = ALL_ROWS
                self.more.set()
            self._update_status()
            self._kpi_request()

    @on(CallTable.ViewChanged)
    def _kpi_request(self) -> None:
        if self.kpi_shown:
            self._kpi_panel().request(self._kpi_job)

    def _kpi_job(self) -> KpiJob:
        from calltui.tui.widgets.kpi_panel import KpiJob

        q = self.query_
        view = self.query_one(CallTable).view
        return KpiJob(
            store=self.store,
            rows=view[:],
            since=q.since,
            until=q.until or self.now(),
            accounts=tuple(self.accounts),
            epoch=self.store.epoch,
        )

    # --- marks, export, compare, handoff ----------------------------------------------------------
    @on(CallTable.MarksChanged)
    def _marks_changed(self) -> None:
        self._update_status()

    def clear_marks(self) -> None:
        self.query_one(CallTable).clear_marks()

    def current_call(self) -> Call | None:
        """The call under the cursor; None (said in a toast) for a placeholder row."""
        row = self.query_one(CallTable).current_row
        if row is None:
            return None
        try:
            return self.store.call(row)
        except NotHeld:
            self.notify(self._placeholder_text(row).plain, severity="warning", timeout=3)
            return None

    def action_export(self) -> None:
        from calltui.tui.screens.export import ExportScreen

        table = self.query_one(CallTable)
        stamp = f"{self.now():%Y%m%d-%H%M%S}"
        screen = ExportScreen(len(table.view), len(table.marks), Path.cwd(), stamp, self.exhausted)
        self.push_screen(screen, self._export_chosen)

    def _export_chosen(self, choice: Any) -> None:
        if choice is None:
            return
        table = self.query_one(CallTable)
        if choice.scope == "marked":
            self._write_export(choice, list(table.marks.values()), None)
        else:
            self._write_export(choice, None, table.view[:])

    @work(thread=True, group="export", exit_on_error=False)
    def _write_export(self, choice: Any, calls: list[Call] | None, rows: Any) -> None:
        from calltui.tui.screens.export import write_calls

        left = 0
        if calls is None:
            calls = []
            for r in rows:
                try:
                    calls.append(self.store.call(r))
                except NotHeld:
                    left += 1
        try:
            n = write_calls(calls, choice.fmt, choice.path)
        except OSError as e:
            why = inert(e.strerror or str(e), 120)
            self.call_from_thread(self.notify, f"not exported: {why}", severity="error")
            return
        note = f" ({left} not in memory left out: scroll to them to fetch them)" if left else ""
        where = inert(str(choice.path), 200)
        self.call_from_thread(self.notify, f"exported {n} calls to {where}{note}", timeout=5)

    def action_compare(self) -> None:
        from calltui.tui.screens.compare import CompareScreen

        marked = list(self.query_one(CallTable).marks.values())
        if len(marked) == 1:
            current = self.current_call()
            if current is not None and (current.account, current.id) != (
                marked[0].account,
                marked[0].id,
            ):
                marked.append(current)
        if len(marked) != 2:
            self.notify(
                f"compare takes two calls: mark them with Space ({len(marked)} marked)",
                severity="warning",
            )
            return
        a, b = marked
        details = (
            self.detail_cache.get((a.account, a.id)),
            self.detail_cache.get((b.account, b.id)),
        )
        self.push_screen(CompareScreen(a, b, self.zone, details))

    def action_curl(self) -> None:
        from calltui.tui.screens import export

        call = self.current_call()
        if call is not None:
            export.copy_curl(self, call)

    @work(group="handoff", exit_on_error=False)
    async def action_bundle(self) -> None:
        from calltui.analysis.correlate import related
        from calltui.tui.screens import export
        from calltui.tui.screens.detail import loaded_candidates

        call = self.current_call()
        if call is None:
            return
        detail = await self.get_detail(call)
        if detail is None:
            return
        candidates = await asyncio.to_thread(loaded_candidates, self.store, call)
        relations = await asyncio.to_thread(related, call, candidates + detail.legs)
        await export.save_bundle(self, call, detail, relations)

    @work(group="handoff", exit_on_error=False)
    async def action_pcap(self) -> None:
        from calltui.tui.screens import export

        call = self.current_call()
        if call is not None:
            await export.save_pcap(self, call)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "tail":
            self.tail = None  # the loop is gone: say so rather than seem to tail
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.last_error = f"{type(event.worker.error).__name__}: {event.worker.error}"
            self.notify(inert(self.last_error, 300), title="internal error", severity="error")
            self._update_status()

    def get_system_commands(self, screen: Any) -> Any:
        from calltui.tui.commands import system_commands

        yield from super().get_system_commands(screen)
        yield from system_commands(self, screen)


def _start_ts(c: Call) -> float:
    return c.started_at.timestamp() if c.started_at is not None else float("-inf")


def _cause(e: ProviderError) -> str:
    """The account, the HTTP status and the reason: the error without its URL (the status line
    has one line; the request log, CALLTUI_LOG, has the URL)."""
    return f"{e.account}: " + (f"HTTP {e.status}: " if e.status else "") + e.message
