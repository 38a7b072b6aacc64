"""One call, full screen: the verdict on top, then tabs: the summary, the provider's own view
(Tmedia ladder, jambonz span waterfall, Bandwidth events, Restcomm recordings and notifications,
Plivo hangup meaning and Insights), the related calls and legs across every account, and the
raw JSON, searchable (a virtual view: Enter in its search box goes to the next match). Loaded
in workers that Esc cancels.

Related calls: Session.related (the loaded calls near this one, the legs the drill-down gives,
and the calls around this one's start of the accounts the table does not show). Enter on one
closes the screen with that call: the main screen moves the table's cursor to it.

Which flow view the provider's drill-down gets is the provider's (Provider.FLOW_VIEW).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import tzinfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from calltui.analysis import chain as chains
from calltui.analysis import twin as twins
from calltui.analysis.correlate import Relation
from calltui.analysis.verdict import verdict
from calltui.http import ProviderError
from calltui.model import Call, CallDetail, Outcome
from calltui.providers import registry
from calltui.render import fmt_time
from calltui.session import Session
from calltui.text import fit, inert
from calltui.tui import keys, palette, views
from calltui.tui.handover import Handover
from calltui.tui.screens.compare import CompareScreen
from calltui.tui.widgets.flow import flow_widgets
from calltui.tui.widgets.footer import KeyFooter
from calltui.tui.widgets.raw_view import RawView
from calltui.tui.widgets.rows import RowList

LEVEL_STYLE = {"high": "bold green", "medium": "yellow", "low": "dim"}


def relation_line(
    r: Relation, origin: Call, zone: tzinfo | None, width: int, colours: Mapping[Outcome, str]
) -> Text:
    c = r.call
    line = Text()
    line.append(f"{r.level:<6}", LEVEL_STYLE[r.level])
    line.append(f" {r.confidence:.2f}  ", "dim")
    line.append(fit(f"{c.provider}/{c.account}", 22) + " ")
    line.append(fmt_time(c.started_at, zone, with_date=False) + " ")
    if c.started_at is not None and origin.started_at is not None:
        delta = (c.started_at - origin.started_at).total_seconds()
        line.append(f"{delta:+7.1f}s ", "dim")
    line.append(fit(c.outcome.value, 10) + " ", colours[c.outcome])
    line.append(inert(r.reason, max(10, width - line.cell_len)), "italic")
    return line


def verdict_text(subject: Call | CallDetail, colours: Mapping[Outcome, str]) -> Text:
    """The verdict as one plain line (provider words included, never read as markup)."""
    v = verdict(subject)
    out = Text(" ")
    out.append(inert(v.line, 600), f"bold {colours[v.outcome]}")
    return out


class DetailScreen(Screen["Call | None"]):
    """Dismissed with a related call to jump to, or None."""

    BINDINGS = keys.bindings("detail")
    PALETTE = "detail"
    DEFAULT_CSS = """
    DetailScreen #verdict { height: auto; max-height: 3; background: $surface; }
    DetailScreen #tabs { height: 1fr; }
    DetailScreen #raw-search { dock: top; }
    DetailScreen TabPane { padding: 0 1; }
    DetailScreen #related-note { height: auto; }
    DetailScreen #related { height: 1fr; }
    """

    def __init__(self, call: Call, session: Session, handover: Handover) -> None:
        super().__init__()
        self.call = call
        self.session = session
        self.handover = handover
        self.zone = session.zone
        self.detail: CallDetail | None = None
        self.match: int | None = None
        """The line of the raw view's current search match."""
        self.relations: list[Relation] = []
        self.related_done = False
        self.chain: chains.Chain | None = None
        """The end-to-end call, once drawn (asked for when its tab first opens)."""

    @property
    def colours(self) -> dict[Outcome, str]:
        return palette.outcome_colours(self.app.theme_variables)

    def compose(self) -> ComposeResult:
        yield Static(verdict_text(self.call, self.colours), id="verdict")
        with TabbedContent(id="tabs"):
            with TabPane("Summary", id="tab-summary"), VerticalScroll():
                yield Static(
                    views.summary(self.call, None, self.zone, self.colours, with_verdict=False),
                    id="summary",
                )
            with TabPane(self._flow_title(), id="tab-flow"):
                yield VerticalScroll(Static(Text("loading…", "dim")), id="flow")
            with TabPane("Raw", id="tab-raw"):
                yield Input(placeholder="search the raw JSON (Enter: next)", id="raw-search")
                yield RawView(id="raw")
            with TabPane("Related", id="tab-related"):
                yield Static(Text("looking for related calls…", "dim"), id="related-note")
                yield OptionList(id="related")
            with TabPane("Chain", id="tab-chain"), VerticalScroll(id="chain-scroll"):
                yield Static(
                    Text("the end-to-end call is drawn when this tab opens", "dim"), id="chain"
                )
        yield KeyFooter()

    def _flow_title(self) -> str:
        return str(registry.get(self.call.provider).FLOW_TITLE)

    @property
    def raw_text(self) -> str:
        """The whole raw JSON as the raw view shows it (makes every line)."""
        return self.query_one(RawView).source.text()

    def on_mount(self) -> None:
        call = self.call
        self.query_one(RawView).show(lambda: views.raw_doc(None, call))
        self.load()

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def load(self) -> None:
        detail = await self.handover.detail(self.app, self.call)
        if detail is None:
            flow = self.query_one("#flow", VerticalScroll)
            await flow.remove_children()
            why = views.detail_failure(self.session.detail_error(self.call))
            await flow.mount(Static(why if why.plain else Text("could not load this call", "red")))
            self.query_one("#summary", Static).update(
                views.summary(
                    self.call, None, self.zone, self.colours, with_verdict=False
                ).append_text(why)
            )
        else:
            self.detail = detail
            await self._show(detail)
        self.relate()

    async def _show(self, d: CallDetail) -> None:
        self.query_one("#verdict", Static).update(verdict_text(d, self.colours))
        self.query_one("#summary", Static).update(
            views.summary(d.call, d, self.zone, self.colours, with_verdict=False)
        )
        self.query_one(RawView).show(lambda: views.raw_doc(d, d.call))
        self.match = None
        flow = self.query_one("#flow", VerticalScroll)
        await flow.remove_children()
        kind = registry.get(d.call.provider).FLOW_VIEW
        await flow.mount_all(flow_widgets(kind, d, self.zone))
        if self.query_one(TabbedContent).active == "tab-flow":
            self._focus_flow()

    def _focus_flow(self) -> None:
        # No list in a view of events, items or the hangup, nor while loading.
        with suppress(NoMatches):
            self.query_one("#flow", VerticalScroll).query_one(RowList).focus()

    # --- related calls --------------------------------------------------------------------
    @work(exclusive=True, group="related", exit_on_error=False)
    async def relate(self) -> None:
        def asking(others: list[str]) -> None:
            self._show_related("asking " + ", ".join(others) + " for calls around this one…")

        found = await self.session.related(self.call, self.handover.listed(), asking)
        self.relations = found.relations
        if found.errors:
            names = ", ".join(found.errors)
            self._show_related(f"could not ask {names}: {next(iter(found.errors.values()))}")
        self.related_done = True
        self._show_related()

    def _show_related(self, note: str | None = None) -> None:
        ol = self.query_one("#related", OptionList)
        keep = ol.highlighted
        width = max(60, self.size.width - 6)
        ol.clear_options()
        ol.add_options(
            [
                Option(relation_line(r, self.call, self.zone, width, self.colours))
                for r in self.relations
            ]
        )
        if self.relations:
            ol.highlighted = min(keep or 0, len(self.relations) - 1)
        n = len(self.relations)
        text = Text()
        if note:
            text.append(inert(note, 300), "italic")
        elif n:
            text.append(f"{n} related call{'s' if n != 1 else ''} or leg{'s' if n != 1 else ''}")
            text.append("  (↑↓ choose, Enter goes to it in the table)", "dim")
        else:
            text.append("no related call among the loaded calls and this call's legs", "dim")
        self.query_one("#related-note", Static).update(text)
        self.query_one(TabbedContent).get_tab("tab-related").label = Text(f"Related ({n})")

    @on(OptionList.OptionSelected, "#related")
    def _jump(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.relations):
            self.workers.cancel_group(self, "detail")
            self.workers.cancel_group(self, "related")
            self.dismiss(self.relations[event.option_index].call)

    # --- the end-to-end call and the good twin ---------------------------------------------
    @on(TabbedContent.TabActivated)
    def _tab_opened(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-chain" and self.chain is None:
            self.draw_chain()

    @work(exclusive=True, group="chain", exit_on_error=False)
    async def draw_chain(self) -> None:
        shown = self.query_one("#chain", Static)
        shown.update(Text("following the call across every account…", "dim italic"))
        try:
            chain, found = await self.session.chain(self.call, self.handover.listed(), steps=True)
        except ProviderError as e:
            shown.update(Text("could not draw the end-to-end call: " + inert(str(e), 300), "red"))
            return
        self.chain = chain
        text = views.chain_view(chain, self.zone, self.colours)
        if found.errors:
            names = ", ".join(inert(n, 30) for n in found.errors)
            text.append(f"\n could not ask {names}: the chain may lack their hops", "italic")
        shown.update(text)

    @work(exclusive=True, group="twin", exit_on_error=False)
    async def action_twin(self) -> None:
        if not twins.wanted(self.call):
            self.notify("a good twin is for a failed call", timeout=4)
            return
        self.notify("looking for the nearest answered call to the same prefix…", timeout=3)
        try:
            twin = await self.session.twin(self.call)
        except ProviderError as e:
            self.notify(inert(f"no good twin: {e}", 300), severity="error", timeout=6)
            return
        if twin is None:
            self.notify(
                "no answered call of this account to the same prefix within the hour", timeout=5
            )
            return
        details = (self.session.cached(self.call), self.session.cached(twin.call))
        self.app.push_screen(CompareScreen(self.call, twin.call, self.zone, details, twin=twin))

    # --- actions --------------------------------------------------------------------------
    def action_back(self) -> None:
        self.workers.cancel_group(self, "detail")
        self.workers.cancel_group(self, "related")
        self.dismiss(None)

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(inert(self.call.id))
        self.notify(f"copied {inert(self.call.id, 60)}", timeout=2)

    def action_curl(self) -> None:
        self.handover.curl(self.app, self.call)

    @work(group="handoff", exit_on_error=False)
    async def action_bundle(self) -> None:
        await self.handover.bundle(self.app, self.call)

    @work(group="handoff", exit_on_error=False)
    async def action_pcap(self) -> None:
        await self.handover.pcap(self.app, self.call)

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "tab-chain":
            self.query_one("#chain-scroll", VerticalScroll).focus()
        elif tab == "tab-related":
            self.query_one("#related", OptionList).focus()
        elif tab == "tab-flow":
            self._focus_flow()
        elif tab == "tab-raw":
            self.query_one(RawView).focus()

    def action_search_raw(self) -> None:
        self.action_tab("tab-raw")
        self.query_one("#raw-search", Input).focus()

    @on(Input.Changed, "#raw-search")
    def _search(self, event: Input.Changed) -> None:
        self.match = self.query_one(RawView).search(event.value)

    @on(Input.Submitted, "#raw-search")
    def _search_next(self, event: Input.Submitted) -> None:
        """The next match, from the top again after the last."""
        raw = self.query_one(RawView)
        found = raw.search(event.value, self.match)
        if found is None and self.match is not None:
            found = raw.search(event.value)
        self.match = found
