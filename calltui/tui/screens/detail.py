"""One call, full screen: the verdict on top, then tabs: the summary, the provider's own view
(Tmedia ladder, jambonz span waterfall, Bandwidth events, Restcomm recordings and notifications,
Plivo hangup meaning and Insights), the related calls and legs across every account, and the
raw JSON, searchable. Loaded in workers that Esc cancels.

Related calls: analysis.correlate.related over the loaded calls near this one (a scan of the
store's columns in a thread) and the legs the drill-down gives; when the table shows only some
accounts, the others are asked for the calls around this one's start (calltui.tail.around).
Enter on one closes the screen with that call: the app moves the table's cursor to it.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta, tzinfo
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from calltui.analysis.correlate import Relation, related
from calltui.analysis.verdict import verdict
from calltui.model import Call, CallDetail, CallQuery, Event, Span
from calltui.render import fmt_time
from calltui.store import CallStore
from calltui.tail import around
from calltui.text import fit, inert
from calltui.tui import views
from calltui.tui.screens import export
from calltui.tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from calltui.tui.app import CallTUI

NEAR_S = 600.0
"""Loaded calls that started this close to the call are correlation candidates (besides any
that share one of its ids, whenever they started)."""
AROUND_S = 30.0
"""The window asked of accounts the table does not show."""
LEVEL_STYLE = {"high": "bold green", "medium": "yellow", "low": "dim"}


def loaded_candidates(store: CallStore, call: Call, near_s: float = NEAR_S) -> list[Call]:
    """The held calls of `store` that may relate to `call`: started within `near_s` of it, or
    sharing one of its ids. Reads the columns as they are on entry (safe in a thread while the
    UI thread adds rows: a row that goes away meanwhile is skipped)."""
    started = store.started
    n = len(store.state)  # a row's state is added last: every column has this many rows
    rows: set[int] = set()
    if call.started_at is not None:
        t = call.started_at.timestamp()
        rows = {r for r in range(n) if t - near_s <= started[r] <= t + near_s}
    mine = {v for v in (call.id, call.sip_call_id) if v}
    links = {v for v in (call.sip_call_id, call.parent_id) if v}
    # The id columns as plain lists (copied a block at a time): a scan of a million rows.
    for column, wanted in (
        (store.parent_id, mine),
        (store.sip_call_id, links),
        (store.ids, links),
    ):
        if wanted:
            rows.update(r for r, v in enumerate(column.values(n)) if v in wanted)
    out = []
    for r in sorted(rows):
        try:
            out.append(store.call(r))
        except LookupError:  # evicted (NotHeld), or the store was refilled meanwhile
            continue
    return out


def relation_line(r: Relation, origin: Call, zone: tzinfo | None, width: int) -> Text:
    c = r.call
    line = Text()
    line.append(f"{r.level:<6}", LEVEL_STYLE[r.level])
    line.append(f" {r.confidence:.2f}  ", "dim")
    line.append(fit(f"{c.provider}/{c.account}", 22) + " ")
    line.append(fmt_time(c.started_at, zone, with_date=False) + " ")
    if c.started_at is not None and origin.started_at is not None:
        delta = (c.started_at - origin.started_at).total_seconds()
        line.append(f"{delta:+7.1f}s ", "dim")
    line.append(fit(c.outcome.value, 10) + " ", views.OUTCOME_COLOUR[c.outcome])
    line.append(inert(r.reason, max(10, width - line.cell_len)), "italic")
    return line


def verdict_text(subject: Call | CallDetail) -> Text:
    """The verdict as one plain line (provider words included, never read as markup)."""
    v = verdict(subject)
    out = Text(" ")
    out.append(inert(v.line, 600), f"bold {views.OUTCOME_COLOUR[v.outcome]}")
    return out


class Waterfall(Vertical):
    """The span tree: ↑↓ select a span, Enter or Space collapses/expands it; the selected
    span's attributes show below."""

    DEFAULT_CSS = """
    Waterfall OptionList { height: 2fr; }
    Waterfall #attrs { height: 1fr; border-top: hkey $panel; }
    """

    def __init__(self, spans: list[Span]) -> None:
        super().__init__()
        self.spans = spans
        self.collapsed: set[str] = set()
        self.lines: list[Span] = []

    def compose(self) -> ComposeResult:
        yield OptionList(id="spans")
        with VerticalScroll(id="attrs"):
            yield Static(id="attrs-body")

    def on_mount(self) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        width = max(40, self.size.width - 4)
        pairs = views.waterfall_lines(self.spans, width, self.collapsed)
        self.lines = [s for s, _ in pairs]
        ol.clear_options()
        ol.add_options([Option(text) for _, text in pairs])
        if pairs:
            ol.highlighted = min(keep or 0, len(pairs) - 1)

    @on(OptionList.OptionHighlighted)
    def _highlight(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.lines):
            span = self.lines[event.option_index]
            self.query_one("#attrs-body", Static).update(views.attributes(span))

    @on(OptionList.OptionSelected)
    def _toggle(self, event: OptionList.OptionSelected) -> None:
        span = self.lines[event.option_index]
        self.collapsed ^= {span.span_id}
        self.redraw()


class Ladder(Vertical):
    """Tmedia's call flow: ↑↓ select a step, its tooltip text shows below."""

    DEFAULT_CSS = """
    Ladder #ladder-head { height: 1; }
    Ladder OptionList { height: 2fr; }
    Ladder #step { height: 1fr; border-top: hkey $panel; }
    """

    def __init__(self, detail: CallDetail, zone: tzinfo | None) -> None:
        super().__init__()
        self.detail = detail
        self.zone = zone
        self.steps: list[Event] = []

    def compose(self) -> ComposeResult:
        yield Static(id="ladder-head")
        yield OptionList(id="steps")
        with VerticalScroll(id="step"):
            yield Static(id="step-body")

    def on_resize(self) -> None:
        head, lines = views.ladder_lines(self.detail, max(40, self.size.width - 2))
        self.steps = [e for e, _ in lines]
        self.query_one("#ladder-head", Static).update(head)
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        ol.clear_options()
        ol.add_options([Option(text) for _, text in lines])
        if lines:
            ol.highlighted = min(keep or 0, len(lines) - 1)
        else:
            self.query_one("#step-body", Static).update(Text("no call traces", "dim"))

    @on(OptionList.OptionHighlighted)
    def _highlight(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.steps):
            step = self.steps[event.option_index]
            self.query_one("#step-body", Static).update(views.step_text(step, self.zone))


class DetailScreen(Screen["Call | None"]):
    """Dismissed with a related call to jump to, or None."""

    BINDINGS = [
        Binding("escape,q", "back", "Back", id="detail_back"),
        Binding("y", "copy_id", "Copy id", show=False, id="detail_copy_id"),
        Binding("1", "tab('tab-summary')", "Summary", id="detail_summary"),
        Binding("2", "tab('tab-flow')", "Flow", id="detail_flow"),
        Binding("3,f6", "tab('tab-raw')", "Raw", id="detail_raw"),
        Binding("4", "tab('tab-related')", "Related", id="detail_related"),
        Binding("slash", "search_raw", "Search raw", show=False, id="detail_search"),
        Binding("c", "curl", "Copy curl", id="detail_curl"),
        Binding("B", "bundle", "Bundle", id="detail_bundle"),
        Binding("p", "pcap", "Pcap", id="detail_pcap"),
    ]
    DEFAULT_CSS = """
    DetailScreen #verdict { height: auto; max-height: 3; background: $panel; }
    DetailScreen #tabs { height: 1fr; }
    DetailScreen #raw-search { dock: top; }
    DetailScreen TabPane { padding: 0 1; }
    DetailScreen #related-note { height: auto; }
    DetailScreen #related { height: 1fr; }
    """

    def __init__(self, call: Call, zone: tzinfo | None) -> None:
        super().__init__()
        self.call = call
        self.zone = zone
        self.detail: CallDetail | None = None
        self.raw_text = ""
        self.relations: list[Relation] = []
        self.related_done = False

    @property
    def tui(self) -> CallTUI:
        return cast("CallTUI", self.app)

    def compose(self) -> ComposeResult:
        yield Static(verdict_text(self.call), id="verdict")
        with TabbedContent(id="tabs"):
            with TabPane("Summary", id="tab-summary"), VerticalScroll():
                yield Static(
                    views.summary(self.call, None, self.zone, with_verdict=False), id="summary"
                )
            with TabPane(self._flow_title(), id="tab-flow"):
                yield VerticalScroll(Static(Text("loading…", "dim")), id="flow")
            with TabPane("Raw", id="tab-raw"):
                yield Input(placeholder="search the raw JSON", id="raw-search")
                with VerticalScroll(id="raw-scroll"):
                    yield Static(id="raw")
            with TabPane("Related", id="tab-related"):
                yield Static(Text("looking for related calls…", "dim"), id="related-note")
                yield OptionList(id="related")
        yield KeyFooter()

    def _flow_title(self) -> str:
        return {
            "tmedia": "Legs & ladder",
            "jambonz": "Trace",
            "bandwidth": "Events",
            "restcomm": "Recordings & notifications",
            "plivo": "Hangup & insights",
        }.get(self.call.provider, "Flow")

    def on_mount(self) -> None:
        self.raw_text = views.raw_json(None, self.call)
        self.query_one("#raw", Static).update(Text(self.raw_text))
        self.load()

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def load(self) -> None:
        detail = await self.tui.get_detail(self.call)
        if detail is None:
            flow = self.query_one("#flow", VerticalScroll)
            await flow.remove_children()
            why = self.tui.detail_failure(self.call)
            await flow.mount(Static(why if why.plain else Text("could not load this call", "red")))
            self.query_one("#summary", Static).update(
                views.summary(self.call, None, self.zone, with_verdict=False).append_text(why)
            )
        else:
            self.detail = detail
            await self._show(detail)
        self.relate()

    async def _show(self, d: CallDetail) -> None:
        self.query_one("#verdict", Static).update(verdict_text(d))
        self.query_one("#summary", Static).update(
            views.summary(d.call, d, self.zone, with_verdict=False)
        )
        self.raw_text = views.raw_json(d, d.call)
        self.query_one("#raw", Static).update(Text(self.raw_text))
        flow = self.query_one("#flow", VerticalScroll)
        await flow.remove_children()
        p = d.call.provider
        if p == "jambonz":
            if d.spans:
                await flow.mount(Waterfall(d.spans))
            else:
                await flow.mount(Static(Text("no trace recorded for this call", "dim")))
        elif p == "tmedia":
            await flow.mount(Ladder(d, self.zone))
        elif p == "restcomm":
            await flow.mount(Static(views.items_view("Recordings", d.recordings)))
            await flow.mount(Static(views.items_view("Notifications", d.notifications)))
        elif p == "plivo":
            text = Text()
            text.append("Hangup\n", "bold")
            text.append(inert(d.explanation or "no explanation for this code", 400) + "\n\n")
            insights = d.extra.get("insights")
            if insights:
                text.append_text(views.items_view("Insights", [insights]))
            await flow.mount(Static(text))
        else:
            await flow.mount(Static(views.events_view(d.events, self.zone)))

    # --- related calls --------------------------------------------------------------------
    @work(exclusive=True, group="related", exit_on_error=False)
    async def relate(self) -> None:
        call, app = self.call, self.tui
        candidates = await asyncio.to_thread(loaded_candidates, app.store, call)
        candidates += self.detail.legs if self.detail is not None else []
        self.relations = await asyncio.to_thread(related, call, candidates)
        others = [a for a in app.engine.account_names if a not in app.accounts]
        if others and call.started_at is not None:
            self._show_related("asking " + ", ".join(others) + " for calls around this one…")
            window = timedelta(seconds=AROUND_S)
            span = CallQuery(since=call.started_at - window, until=call.started_at + window)
            more, errors = await around(app.engine.provider, others, span)
            self.relations = await asyncio.to_thread(related, call, candidates + more)
            if errors:
                names = ", ".join(errors)
                self._show_related(f"could not ask {names}: {next(iter(errors.values()))}")
        self.related_done = True
        self._show_related()

    def _show_related(self, note: str | None = None) -> None:
        ol = self.query_one("#related", OptionList)
        keep = ol.highlighted
        width = max(60, self.size.width - 6)
        ol.clear_options()
        ol.add_options(
            [Option(relation_line(r, self.call, self.zone, width)) for r in self.relations]
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

    # --- actions --------------------------------------------------------------------------
    def action_back(self) -> None:
        self.workers.cancel_group(self, "detail")
        self.workers.cancel_group(self, "related")
        self.dismiss(None)

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(inert(self.call.id))
        self.notify(f"copied {inert(self.call.id, 60)}", timeout=2)

    def action_curl(self) -> None:
        export.copy_curl(self.tui, self.call)

    @work(group="handoff", exit_on_error=False)
    async def action_bundle(self) -> None:
        await export.save_bundle(self.tui, self.call, self.detail, self.relations)

    @work(group="handoff", exit_on_error=False)
    async def action_pcap(self) -> None:
        await export.save_pcap(self.tui, self.call)

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "tab-related":
            self.query_one("#related", OptionList).focus()

    def action_search_raw(self) -> None:
        self.action_tab("tab-raw")
        self.query_one("#raw-search", Input).focus()

    @on(Input.Changed, "#raw-search")
    def _search(self, event: Input.Changed) -> None:
        text = Text(self.raw_text)
        needle = event.value
        if needle:
            text.highlight_regex("(?i)" + re.escape(needle), "reverse")
            first = self.raw_text.lower().find(needle.lower())
            if first >= 0:
                line = self.raw_text.count("\n", 0, first)
                self.query_one("#raw-scroll", VerticalScroll).scroll_to(
                    y=max(0, line - 3), animate=False
                )
        self.query_one("#raw", Static).update(text)
