"""The TUI: a thin Textual layer over the headless core (calltui.session, calltui.feed).

The app holds what every screen shares: the session, the themes, the keymap (`[keys]`), the
idle garbage collector, and the toast for a worker that died of an error. The main screen
(screens.main) is its default screen; every other screen is pushed over it. Data goes down to
screens through their constructors, results come back through dismiss() and messages: no
screen or widget imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
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
from calltui.tui.idle_gc import IdleGC
from calltui.tui.screens.main import MainScreen
from calltui.tui.themes import NO_COLOR_THEME, SHIPPED, load_themes

NEVER_ENDING = frozenset({"fetch", "tail"})
"""Worker groups that wait for demand, or poll, for as long as the app runs."""

if TYPE_CHECKING:
    from calltui.viewspec import ViewSpec


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
        self.ascii = glyphs.wanted(settings.display.glyphs)
        """ASCII mode: no character above 127 reaches the terminal."""
        if self.ascii:
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

    def get_key_display(self, binding: Binding) -> str:
        """In ASCII mode a key Textual shows as a glyph (⏎, ↑) is named as typed (Enter, Up):
        the glyph's ASCII likeness (`<`, `^`) would read as a key of its own."""
        display = super().get_key_display(binding)
        return keys.typed(binding.key) if self.ascii and not display.isascii() else display

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
