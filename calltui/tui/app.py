"""The TUI: a thin Textual layer over the headless engine.

Main screen: accounts (left), the filter bar, the call table, the detail pane, the status line.
Every network call runs in a worker; the UI never waits on I/O, nor on a sort of a big store: past
SYNC_ROWS rows, views are rebuilt in a thread worker while the table says "sorting…". Nor on a
full garbage collection: see IdleGC.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from array import array
from collections.abc import AsyncGenerator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.notifications import SeverityLevel
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from calltui.config import Settings, config_dir
from calltui.engine import Engine, StreamState
from calltui.http import ProviderError, RetryPolicy
from calltui.model import FAILED_OUTCOMES, Call, CallDetail, CallQuery
from calltui.render import display_zone
from calltui.store import GONE, CallStore, Cancelled, NotHeld, Refetch, Sort
from calltui.text import inert
from calltui.tui import views
from calltui.tui.themes import NO_COLOR_THEME, SHIPPED, load_themes
from calltui.tui.widgets.call_table import CallTable

ALL = "__all__"
BATCH = 200
SYNC_ROWS = 20_000
"""Views of up to this many rows are rebuilt on the UI thread (ms); bigger ones in a thread."""
MARKS = {"idle": "·", "loading": "◌", "ok": "●", "error": "✖"}
MARK_STYLE = {"idle": "dim", "loading": "yellow", "ok": "green", "error": "bold red"}


class IdleGC:
    """Full (generation 2) garbage collections only while the user is idle.

    Textual makes reference cycles as it draws (a Strip may cache itself), so the oldest
    generation fills steadily, and Python collects it whenever it is due: in the middle of a key
    press, for tens of milliseconds (15 to 80 ms measured here, more with more loaded). Here the
    automatic full collection is off while the app runs, and a timer runs it once no input has
    come for IDLE_S seconds (young generations are still collected as usual, in well under a
    millisecond). Restored on stop().
    """

    IDLE_S = 0.5
    NEVER = 2**31 - 1

    def __init__(self) -> None:
        self._last_input = 0.0
        self._saved: tuple[int, int, int] | None = None

    def start(self, app: App[Any]) -> None:
        self._saved = gc.get_threshold()
        gc.set_threshold(self._saved[0], self._saved[1], self.NEVER)
        app.set_interval(self.IDLE_S, self._tick)

    def input(self) -> None:
        self._last_input = time.monotonic()

    def _tick(self) -> None:
        # get_count()[2]: young collections since the last full one, i.e. anything to do.
        if time.monotonic() - self._last_input >= self.IDLE_S and gc.get_count()[2]:
            gc.collect()

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None


class Sidebar(OptionList):
    """Accounts with a status mark each, and 'All accounts' on top."""

    DEFAULT_CSS = "Sidebar { width: 22; border-right: vkey $panel; }"

    def set_accounts(self, names: list[str], states: dict[str, StreamState]) -> None:
        highlighted = self.highlighted
        self.clear_options()
        self.add_option(Option(Text("All accounts", "bold"), id=ALL))
        for name in names:
            st = states.get(name)
            status = st.status if st else "idle"
            label = Text()
            label.append(MARKS[status] + " ", MARK_STYLE[status])
            label.append(inert(name, 20))
            self.add_option(Option(label, id=name))
        self.highlighted = min(highlighted or 0, self.option_count - 1)


class CallTUI(App[None]):
    TITLE = "calltui"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("f", "toggle_failed", "Failed only", id="failed_only"),
        Binding("r,f5", "refresh", "Refresh", id="refresh"),
        Binding("slash,f3", "search", "Search", id="search"),
        Binding("f7", "edit_filters", "Filters", id="filters"),
        Binding("t", "cycle_since", "Window", id="window"),
        Binding("y", "copy_id", "Copy id", id="copy_id"),
        Binding("f2,ctrl+s", "save_view", "Save CSV", show=False, id="save_view"),
        Binding("colon", "command_palette", "Commands", show=False, id="palette"),
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
        now: datetime | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.engine = Engine(settings, transport=transport, retry=retry)
        self.zone = display_zone(settings.display.timezone)
        self.store = CallStore(settings.limits.max_records)
        self.idle_gc = IdleGC()
        self._view_pending = False
        """A view rebuild runs in a thread: rows arriving meanwhile wait for its result."""
        self._now = now
        self.query_ = query or CallQuery(since=self.now() - timedelta(hours=1))
        self.selected: list[str] = list(accounts or [])
        self.target = BATCH
        self.more = asyncio.Event()
        self.exhausted = False
        self.idle = False
        """True while the fetch waits for the cursor to want more, or has fetched everything."""
        self.last_error: str | None = None
        self.detail_cache: dict[tuple[str, str], CallDetail] = {}
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
        return self._now or datetime.now(timezone.utc)

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
        yield Footer()

    def on_mount(self) -> None:
        self.idle_gc.start(self)
        self.query_one(Sidebar).set_accounts(self.engine.account_names, self.engine.states)
        self.query_one(CallTable).focus()
        for problem in self._theme_problems:
            self.notify(problem, severity="warning", timeout=8)
        self._show_filters()
        self.start_fetch()

    def on_resize(self) -> None:
        # Small terminals: the sidebar goes first (b brings it back), then the detail pane.
        self.screen.set_class(self.size.width < 100, "narrow")
        self.screen.set_class(self.size.height < 20, "short")

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

    def start_fetch(self, keep: tuple[str, str] | None = None) -> None:
        self.store.clear()
        self.exhausted = False
        self.idle = False
        self.target = BATCH
        self.last_error = None
        self._keep = keep
        self._view_pending = False  # a rebuild still running is for the rows just dropped
        table = self.query_one(CallTable)
        table.set_busy("")
        table.set_view([], "loading…", reset=True)
        self.fetch()

    @work(exclusive=True, group="fetch", exit_on_error=False)
    async def fetch(self) -> None:
        gen: AsyncGenerator[Call, None] = self.engine.merged(
            self.accounts, self.query_, self._on_state
        )
        batch: list[Call] = []
        try:
            async for call in gen:
                batch.append(call)
                if len(batch) >= 50 or len(self.store) + len(batch) >= self.target:
                    self._append(batch)
                    batch = []
                while len(self.store) >= self.target:
                    self.more.clear()
                    self.idle = True
                    await self.more.wait()
                    self.idle = False
            self._append(batch)
            self.exhausted = True
            self.idle = True
        finally:
            await gen.aclose()
        self._update_status()
        self.query_one(CallTable).set_status(self._table_status())

    def _append(self, batch: list[Call]) -> None:
        if not batch:
            return
        table = self.query_one(CallTable)
        new = self.store.extend(batch)
        keep_row = None
        if self._keep is not None:
            for i in new:
                if self.store.key(i) == self._keep:
                    keep_row, self._keep = i, None
        default = table.sort == Sort()
        if default and keep_row is None and not self._view_pending:
            # The merge delivers newest first: new rows go below, nothing above them moves.
            table.append_rows(new, self._table_status())
        else:
            self.rebuild_view(keep_row)
        self._update_status()

    def _on_state(self, state: StreamState) -> None:
        if state.error is not None:
            self.last_error = str(state.error)
        self.query_one(Sidebar).set_accounts(self.engine.account_names, self.engine.states)
        self._update_status()

    def _table_status(self) -> str:
        if self.exhausted:
            return f"end of results · {len(self.store)} calls"
        return "loading…"

    def _update_status(self) -> None:
        loading = [s.account for s in self.engine.states.values() if not s.done]
        text = Text()
        states = list(self.engine.states.values())
        pages = sum(s.pages for s in states)
        text.append(f" {len(self.store)} loaded", "bold")
        text.append(f" · {pages} page{'s' if pages != 1 else ''} fetched", "dim")
        text.append(" · " + ("complete" if self.exhausted else "more on demand"), "dim")
        if loading:
            text.append(" · fetching " + inert(", ".join(loading), 60), "yellow")
        errors = [s for s in states if s.error is not None]
        if errors:
            text.append(f" · {len(errors)} account(s) failed: ", "bold red")
            text.append(inert(str(errors[-1].error), 160), "red")
        self.query_one("#status", Static).update(text)

    @on(CallTable.NeedMore)
    def _need_more(self) -> None:
        if not self.exhausted:
            self.target = len(self.store) + BATCH
            self.more.set()

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
        except ProviderError as e:
            self.store.release(ticket)  # claimed again when next drawn
            self.last_error = str(e)
            self._update_status()
            return
        if not self.store.restore(ticket, calls):
            return
        table = self.query_one(CallTable)
        table.rows_changed()
        row = table.current_row
        if row is not None and self.store.page[row] == ticket.page:
            self._highlighted(CallTable.Highlighted(row))  # the pane said "fetching again"

    # --- detail -----------------------------------------------------------------------------
    @on(CallTable.Highlighted)
    def _highlighted(self, event: CallTable.Highlighted) -> None:
        if event.row is None:
            self.query_one("#pane-body", Static).update(Text("no call selected", "dim"))
            return
        try:
            call = self.store.call(event.row)
        except NotHeld:
            self.query_one("#pane-body", Static).update(self._placeholder_text(event.row))
            return
        cached = self.detail_cache.get((call.account, call.id))
        self.query_one("#pane-body", Static).update(views.summary(call, cached, self.zone))
        if cached is None:
            self.load_pane(call)

    @work(exclusive=True, group="pane", exit_on_error=False)
    async def load_pane(self, call: Call) -> None:
        await asyncio.sleep(0.3)  # debounce: scrolling through rows fetches nothing
        detail = await self.get_detail(call)
        table = self.query_one(CallTable)
        row = table.current_row
        same = row is not None and self.store.key(row) == (call.account, call.id)
        if same and detail is not None:
            self.query_one("#pane-body", Static).update(views.summary(call, detail, self.zone))

    async def get_detail(self, call: Call) -> CallDetail | None:
        key = (call.account, call.id)
        if key in self.detail_cache:
            return self.detail_cache[key]
        try:
            detail = await self.engine.detail(call.account, call.id)
        except ProviderError as e:
            self.last_error = str(e)
            self.notify(inert(str(e), 300), title="detail failed", severity="error")
            return None
        self.detail_cache[key] = detail
        return detail

    @on(CallTable.Opened)
    def _opened(self, event: CallTable.Opened) -> None:
        from calltui.tui.screens.detail import DetailScreen

        try:
            call = self.store.call(event.row)
        except NotHeld:
            self.notify(self._placeholder_text(event.row).plain, severity="warning", timeout=3)
            return
        self.push_screen(DetailScreen(call, self.zone))

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
        from pathlib import Path

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

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.last_error = f"{type(event.worker.error).__name__}: {event.worker.error}"
            self.notify(inert(self.last_error, 300), title="internal error", severity="error")
            self._update_status()

    def get_system_commands(self, screen: Any) -> Any:
        from calltui.tui.commands import system_commands

        yield from super().get_system_commands(screen)
        yield from system_commands(self)
