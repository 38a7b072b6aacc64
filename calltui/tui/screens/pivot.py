"""The pivot (`v`): the calls of the view grouped by a field, and a second one under it, each
group with attempts, share, ASR and its change, NER, ACD, PDD and failures, most failures
first (calltui.analysis.groups, the numbers of `calltui stats --by`). The change is against the
window of the same length just before, fetched when the pivot opens ("…" until it arrives).
The calls are gathered and grouped in a thread: a million of them take seconds, and the keys
must answer meanwhile.

Keys: `b` the next field for the groups, `n` the next for the sub-groups (or none), `+`/`-` the
digits of a destination prefix; Enter closes the pivot with the query terms of the group under
the cursor (the main screen adds them to its query, where `/` shows and edits them); Esc back.

The pivot of an alert's group (`a`, `within`) is of that group's calls alone, in the window and
in the window before (its changes are the group's own), and its Enter's terms start with the
group's own (`trunk:X`, then the sub-group's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from calltui.analysis.groups import PREFIX, Group, GroupReport, group, reader
from calltui.columns import fmt_duration, fmt_time
from calltui.model import Call
from calltui.query import group_term
from calltui.text import fit, inert
from calltui.tui import keys
from calltui.tui.widgets.footer import KeyFooter

FIELDS = ("cause", "sip", "trunk", "country", "prefix", "account", "provider", "outcome")
"""The order `b` and `n` step through; `prefix` is the destination's first N digits."""
KEY_WIDTH = 36
COLUMNS = (
    ("ATTEMPTS", 9),
    ("SHARE", 7),
    ("FAILED", 7),
    ("ASR", 7),
    ("ΔASR", 7),
    ("NER", 7),
    ("ACD", 7),
    ("PDD", 6),
    ("ΔATT", 7),
)

ASR_DELTA = 4
"""The column of the change of ASR: red when it fell."""
Previous = Callable[[], Awaitable["list[Call] | None"]]


class PivotScreen(Screen["str | None"]):
    BINDINGS = keys.bindings("pivot")
    DEFAULT_CSS = """
    PivotScreen #pivot-head { height: auto; background: $panel; padding: 0 1; }
    PivotScreen #groups { height: 1fr; }
    """

    def __init__(
        self,
        calls: Callable[[], list[Call]],
        since: datetime,
        until: datetime,
        zone: tzinfo | None,
        previous: Previous | None = None,
        within: tuple[str, object] | None = None,
    ) -> None:
        """`calls` gathers the view's calls (run in a thread); `previous` fetches the window
        just before (None: the changes are not shown); `within` (field, value): the pivot of
        that group's calls alone."""
        super().__init__()
        self.gather = calls
        self.calls: list[Call] | None = None
        """Gathered by the first grouping."""
        self.since, self.until = since, until
        self.zone = zone
        self.previous_of = previous
        self.within = within
        self.previous: list[Call] | None = None
        self.loading_previous = previous is not None
        self.first = "cause"
        self.second: str | None = None
        self.digits = 4
        self.report: GroupReport | None = None
        self.rows: list[tuple[Group, list[tuple[str, object]]]] = []
        """Each line's group and the (field, value) chain from the top level down to it."""

    def compose(self) -> ComposeResult:
        yield Static(id="pivot-head")
        yield OptionList(id="groups")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#pivot-head", Static).update(Text("Pivot  gathering the calls…", "bold"))
        self.redraw()
        self.query_one(OptionList).focus()
        if self.previous_of is not None:
            self.load_previous()

    @work(exclusive=True, group="pivot", exit_on_error=False)
    async def load_previous(self) -> None:
        assert self.previous_of is not None
        calls = await self.previous_of()
        # In a thread, as the gathering: the window before can hold a million calls.
        self.previous = None if calls is None else await asyncio.to_thread(self._kept, calls)
        self.loading_previous = False
        self.redraw()

    def _field(self, name: str) -> str:
        return f"{PREFIX}{self.digits}" if name == "prefix" else name

    def by(self) -> list[str]:
        fields = [self._field(self.first)]
        if self.second is not None:
            fields.append(self._field(self.second))
        return fields

    def redraw(self) -> None:
        self.regroup(self.by(), self.previous)

    @work(thread=True, exclusive=True, group="pivot-groups", exit_on_error=False)
    def regroup(self, by: list[str], previous: list[Call] | None) -> None:
        if self.calls is None:
            self.calls = self._kept(self.gather())
        report = group(self.calls, by, since=self.since, until=self.until, previous=previous)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, report)

    def _kept(self, calls: list[Call]) -> list[Call]:
        """The calls of the `within` group."""
        if self.within is None:
            return calls
        field, value = self.within
        read = reader(field)
        return [c for c in calls if read(c) == value]

    def _show(self, report: GroupReport) -> None:
        self.report = report
        self.rows = []
        self._flatten(self.report.groups, [])
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        ol.clear_options()
        ol.add_options([Option(self._line(g, len(chain) - 1)) for g, chain in self.rows])
        if self.rows:
            ol.highlighted = min(keep or 0, len(self.rows) - 1)
        self.query_one("#pivot-head", Static).update(self._head())

    def _flatten(self, groups: list[Group], chain: list[tuple[str, object]]) -> None:
        for g in groups:
            here = chain + list(g.key.items())
            self.rows.append((g, here))
            self._flatten(g.groups, here)

    def _head(self) -> Text:
        assert self.report is not None
        text = Text()
        text.append("Pivot  ", "bold")
        if self.within is not None:
            field, value = self.within
            text.append(f"of {field} {inert(str(value), 60)} › ", "bold")
        text.append(" › ".join(self.report.by), "bold")
        text.append(
            f"  {fmt_time(self.since, self.zone)} → {fmt_time(self.until, self.zone)}"
            f"  {self.report.attempts} attempts"
        )
        if self.loading_previous:
            text.append("  · loading the window before…", "dim italic")
        elif self.previous is None:
            text.append("  · the window before could not be loaded", "dim italic")
        text.append("\n")
        text.append(
            "b groups by · n sub-groups · +/- prefix digits · Enter filters · Esc back\n", "dim"
        )
        text.append(fit("GROUP", KEY_WIDTH), "bold")
        for title, width in COLUMNS:
            text.append(title.rjust(width), "bold")
        return text

    def _line(self, g: Group, depth: int) -> Text:
        value = next(iter(g.key.values()))
        label = "(none)" if value is None else str(value)
        line = Text(fit("  " * depth + inert(label, 200), KEY_WIDTH - 1) + " ")
        cells = (
            str(g.attempts),
            _pct(g.share),
            str(g.failed),
            _pct(g.asr),
            "…" if self.loading_previous else _signed(g.asr_delta),
            _pct(g.ner),
            "-" if g.acd_s is None else fmt_duration(round(g.acd_s)),
            "-" if g.pdd_s is None else f"{g.pdd_s:.1f}",
            "…" if self.loading_previous else _signed_int(g.attempts_delta),
        )
        for i, ((_, width), cell) in enumerate(zip(COLUMNS, cells, strict=True)):
            falling = i == ASR_DELTA and cell.startswith("-") and cell != "-"
            line.append(cell.rjust(width), "bold red" if falling else "")
        return line

    # --- keys -----------------------------------------------------------------------------
    def action_next_field(self) -> None:
        i = FIELDS.index(self.first)
        self.first = next(f for f in FIELDS[i + 1 :] + FIELDS if f != self.second)
        self.redraw()

    def action_next_subfield(self) -> None:
        options: list[str | None] = [None, *(f for f in FIELDS if f != self.first)]
        i = options.index(self.second) if self.second in options else 0
        self.second = options[(i + 1) % len(options)]
        self.redraw()

    def action_digits(self, step: int) -> None:
        self.digits = max(1, min(15, self.digits + step))
        if "prefix" in (self.first, self.second):
            self.redraw()

    @on(OptionList.OptionSelected, "#groups")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if not 0 <= event.option_index < len(self.rows):
            return
        _, chain = self.rows[event.option_index]
        members = self.calls or []
        terms: list[str] = []
        for field, value in [self.within, *chain] if self.within else chain:
            members = [c for c in members if _value(field, c) == value]
            t = group_term(field, value, members)
            if t is None:
                self.notify("an empty value has no query term: pick another group", timeout=3)
                return
            if t not in terms:  # a pivot by the `within` field repeats its term
                terms.append(t)
        self.workers.cancel_group(self, "pivot")
        self.dismiss(" ".join(terms))

    def action_back(self) -> None:
        self.workers.cancel_group(self, "pivot")
        self.dismiss(None)


def _value(field: str, c: Call) -> object:
    return reader(field)(c)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _signed(v: float | None) -> str:
    return "-" if v is None else f"{v:+.1f}"


def _signed_int(v: int | None) -> str:
    return "-" if v is None else f"{v:+d}"
