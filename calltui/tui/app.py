"""The TUI: a thin Textual layer over the headless core (calltui.session, calltui.feed).

The app holds what every screen shares: the session, the themes, the keymap (`[keys]`), the
idle garbage collector, and the toast for a worker that died of an error. The main screen
(screens.main) is its default screen; every other screen is pushed over it. Data goes down to
screens through their constructors, results come back through dismiss() and messages: no
screen or widget imports this module.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

import httpx
from textual import events
from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from calltui import glyphs, state
from calltui.config import Settings, config_dir
from calltui.engine import Recovery
from calltui.http import RetryPolicy
from calltui.model import CallQuery
from calltui.pacing import lag_probe
from calltui.session import Session
from calltui.tail import TailPolicy
from calltui.text import inert
from calltui.tui import keys
from calltui.tui.ascii import AsciiFilter
from calltui.tui.commands import system_commands
from calltui.tui.screens.main import MainScreen
from calltui.tui.themes import NO_COLOR_THEME, SHIPPED, load_themes

NEVER_ENDING = frozenset({"fetch", "tail"})
"""Worker groups that wait for demand, or poll, for as long as the app runs."""

if TYPE_CHECKING:
    from calltui.viewspec import ViewSpec


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

    While calls are loading, what survives each idle collection is frozen too: the store's
    pages, the providers' caches of recent calls and the pages on their way live on (scanning
    them on every idle collection took 0.4 to 0.85 s with 800,000 calls loaded, and even the
    ~20,000 objects of the pages in flight took 20 to 80 ms), so each collection scans only
    what was made since the last one; and they run every LOADING_S rather than IDLE_S, each
    over a fifth as much (the pages of a hundred accounts in flight made ~20,000 objects every
    half second). What is frozen is freed as usual when its last reference
    goes; only a reference cycle that becomes garbage after being frozen is never collected
    (a strip cached by a widget while rows arrived, later dropped): a bounded cost of a load,
    for collections that do not grow with the calls loaded. Loading is told by the accounts
    being fetched as much as by the rows: hundreds of accounts spend seconds on their first
    pages before the merge shows a row, and unfrozen, their clients and the modules their
    requests import made each of those collections 50 to 80 ms. Once no account is being
    fetched and rows stop coming, nothing more is frozen.
    """

    IDLE_S = 0.5
    LOADING_S = 0.1
    NEVER = 2**31 - 1
    LOG_ENV = "CALLTUI_GC_LOG"
    """A file the app appends each full collection's duration to, one line each: wall and CPU
    milliseconds (on a busy machine the first includes waiting for a core). How the benchmarks
    see collector pauses, which no terminal shows. Unset: nothing is timed."""

    def __init__(
        self, progress: Callable[[], int] = lambda: 0, busy: Callable[[], bool] = lambda: False
    ) -> None:
        """`progress`: a count that moves while calls load (the rows held, the pages fetched);
        `busy`: whether accounts are being fetched."""
        self._progress = progress
        self._busy = busy
        self._frozen_at = 0
        self._last_input = 0.0
        self._last_collection = 0.0
        self._saved: tuple[int, int, int] | None = None
        self._log: TextIO | None = None
        self._began = self._began_cpu = 0.0

    def start(self, app: App[Any]) -> None:
        self._saved = gc.get_threshold()
        gc.set_threshold(self._saved[0], self._saved[1], self.NEVER)
        gc.freeze()
        gc.enable()
        log = os.environ.get(self.LOG_ENV)
        if log:
            self._log = open(log, "a", buffering=1)  # noqa: SIM115 (closed by stop())
            gc.callbacks.append(self._timed)
        app.set_interval(self.LOADING_S, self._tick)

    def _timed(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2 or self._log is None:
            return
        if phase == "start":
            self._began, self._began_cpu = time.perf_counter(), time.thread_time()
        else:
            wall = (time.perf_counter() - self._began) * 1000
            cpu = (time.thread_time() - self._began_cpu) * 1000
            self._log.write(f"{wall:.3f} {cpu:.3f}\n")

    def input(self) -> None:
        self._last_input = time.monotonic()

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._last_input < self.IDLE_S:
            return
        progress = self._progress()
        loading = progress != self._frozen_at or self._busy()
        # get_count()[2]: young collections since the last full one, i.e. anything to do.
        if loading or (now - self._last_collection >= self.IDLE_S and gc.get_count()[2]):
            gc.collect()
            self._last_collection = now
        if loading:
            gc.freeze()  # after the collection: only what survived it
            self._frozen_at = progress

    def stop(self) -> None:
        if self._log is not None:
            gc.callbacks.remove(self._timed)
            self._log.close()
            self._log = None
        if self._saved is not None:
            gc.unfreeze()
            gc.set_threshold(*self._saved)
            self._saved = None


class CallTUI(App[None]):
    TITLE = "calltui"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = keys.bindings("app")

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
        tail: TailPolicy | None = None,
        view: ViewSpec | None = None,
        remember: bool = True,
    ) -> None:
        """`remember`: read what the last session left and leave this one's (calltui.state;
        screenshots do neither). `now`: a fixed clock, or a function of one (tests move it
        with the simulator's); the wall clock by default. `recovery`: how failed accounts
        are tried again; `tail`: how often the live tail polls."""
        # NO_COLOR: the terminal's own colours for everything (Textual's NoColor filter, which
        # it picks when ANSI colour is allowed); its other choice turns every colour to grey,
        # and the error red to a grey that is barely there.
        super().__init__(ansi_color=True if os.environ.get("NO_COLOR") else None)
        if glyphs.wanted(settings.display.glyphs):
            self._filters.append(AsciiFilter())
        self.settings = settings
        self.remember = remember
        self.state, problem = state.load() if remember else (state.State(), None)
        self._state_problem = problem
        self.exit_note: str | None = None
        """What to tell on stderr once the app has closed the screen."""
        self.session = Session(settings, transport=transport, retry=retry, now=now)
        self._start = (query, accounts, recovery, tail, view)
        self.idle_gc = IdleGC(self.session.progress, self.session.busy)
        self.keymap: dict[str, str] = {}
        """The live keymap ([keys] of the config): help and the palette name these keys."""
        self._theme_problems: list[str] = []
        self._register_themes()
        if settings.keys:
            self.set_keymap(settings.keys)

    def set_keymap(self, keymap: Mapping[str, str]) -> None:
        super().set_keymap(keymap)
        self.keymap = dict(keymap)

    def update_keymap(self, keymap: Mapping[str, str]) -> None:
        super().update_keymap(keymap)
        self.keymap.update(keymap)

    def get_default_screen(self) -> Screen[Any]:
        query, accounts, recovery, tail, view = self._start
        return MainScreen(
            self.session,
            query=query,
            accounts=accounts,
            recovery=recovery,
            tail=tail,
            view=view,
            state=self.state,
            leave=self._leave if self.remember else None,
        )

    @property
    def main(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def settled(self) -> bool:
        """Nothing under way but what waits for demand or polls for as long as the app runs:
        the listing waits for the table to want more (or has ended), no drill-down, view,
        export or handoff is loading, and a KPI panel shown has its numbers."""
        from calltui.tui.widgets.kpi_panel import KpiPanel

        busy = [w for w in self.workers if w.group not in NEVER_ENDING and not w.is_finished]
        kpis = [p for p in self.main.query(KpiPanel) if p.display and p.computing]
        return self.main.feed.idle and not busy and not kpis

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

    def on_mount(self) -> None:
        self._lag_probe = lag_probe()  # CALLTUI_LAG_LOG: how late the loop runs (benchmarks)
        self.idle_gc.start(self)
        for problem in self._theme_problems:
            self.notify(problem, severity="warning", timeout=8)
        if self._state_problem is not None:
            self.notify(inert(self._state_problem, 300), severity="warning", timeout=8)

    async def on_unmount(self) -> None:
        self.idle_gc.stop()
        await self.session.aclose()

    def _leave(self, left: state.State) -> None:
        """The main screen goes with what this session leaves for the next."""
        try:
            state.save(left)
        except OSError as e:
            # The app is going: a toast would not be seen; the CLI says it once it is gone.
            self.exit_note = f"marks and the last view not saved: {e.strerror or e}"

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.idle_gc.input()
        await super().on_event(event)

    def action_help(self) -> None:
        from calltui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.keymap))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            message = f"{type(error).__name__}: {error}"
            self.notify(inert(message, 300), title="internal error", severity="error")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from system_commands(self, screen, self.keymap)
