"""The main screen's triage views: the pivot (`v`, screens.pivot) and the KPI panel (`i`,
widgets.kpi_panel, in place of the detail pane). Both are of the view's calls, and both lead
back to calls: a pivot's group, a KPI panel's cause or account becomes query terms added to the
query (`add_terms`), which `/` shows and edits."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from textual.screen import Screen

from calltui.feed import Feed
from calltui.model import Call, CallQuery
from calltui.query import QueryError
from calltui.query import parse as parse_terms
from calltui.session import Session
from calltui.text import inert
from calltui.tui.widgets.call_table import CallTable

if TYPE_CHECKING:
    from calltui.tui.widgets.kpi_panel import KpiJob, KpiPanel


class TriageHost(Protocol):
    """What the triage views need of the screen they run on."""

    session: Session
    feed: Feed
    query_: CallQuery

    @property
    def accounts(self) -> list[str]: ...
    @property
    def table(self) -> CallTable: ...

    def set_query(self, query: CallQuery) -> None: ...
    def update_status(self) -> None: ...


class Triage:
    def __init__(self, host: TriageHost, screen: Screen[Any]) -> None:
        """`host` and `screen`: the main screen, as the state it holds and as a screen."""
        self.host = host
        self.screen = screen
        self.kpi_shown = False

    # --- pivot --------------------------------------------------------------------------------
    def pivot(self, only: tuple[str, object] | None = None) -> None:
        """The pivot of the view's calls; `only`: of those of one group (field, value), against
        that group's calls of the window before, its term first in what Enter adds."""
        from calltui.tui.screens.pivot import PivotScreen

        host = self.host
        store = host.session.store
        rows = host.table.view[:]

        def gather() -> list[Call]:
            return [store.call(r) for r in rows if store.is_held(r)]

        q = host.query_
        until = q.until or host.session.now()
        before = partial(host.session.window_before, host.accounts, q, until)
        screen = PivotScreen(gather, q.since, until, host.session.zone, before, within=only)
        self.screen.app.push_screen(screen, self.add_terms)

    def add_terms(self, text: str | None) -> None:
        """Query terms added to the query's."""
        if not text:
            return
        q = self.host.query_
        had = "" if q.terms is None else str(q.terms)
        try:
            terms = parse_terms(f"{had} {text}".strip())
        except QueryError as e:
            self.screen.notify(inert(str(e), 200), severity="warning")
            return
        self.host.set_query(replace(q, terms=terms))

    # --- KPI panel ----------------------------------------------------------------------------
    def _panel(self) -> KpiPanel:
        from calltui.tui.widgets.kpi_panel import KpiPanel

        return self.screen.query_one("#kpi", KpiPanel)

    async def toggle_kpi(self) -> None:
        """The KPI panel in place of the detail pane, or back."""
        host, screen = self.host, self.screen
        if not screen.query("#kpi"):
            # Made when first asked for: nothing of it is needed before the first rows.
            from calltui.tui.widgets.kpi_panel import KpiPanel

            panel = KpiPanel(self.host.session.zone, id="kpi")
            await screen.query_one("#main").mount(panel)
        self.kpi_shown = not self.kpi_shown
        self._panel().display = self.kpi_shown
        screen.set_class(self.kpi_shown, "kpi")
        if self.kpi_shown:
            host.feed.want_all()  # KPIs are of the filtered window: all of it
            host.update_status()
            self.kpi_request()

    def kpi_request(self) -> None:
        if self.kpi_shown:
            self._panel().request(self._kpi_job)

    def progress(self) -> None:
        """The panel says whether the window is all loaded yet."""
        if self.kpi_shown:
            note = "" if self.host.feed.exhausted else "loading the rest of the window…"
            self._panel().set_note(note)

    def _kpi_job(self) -> KpiJob:
        from calltui.tui.widgets.kpi_panel import KpiJob

        host = self.host
        q = host.query_
        return KpiJob(
            store=host.session.store,
            rows=host.table.view[:],
            since=q.since,
            until=q.until or host.session.now(),
            accounts=tuple(host.accounts),
            epoch=host.session.store.epoch,
        )
