"""Two calls side by side (`d` with two calls marked): the normalized fields, the verdict, then
every field of the providers' raw records; the fields whose values differ are marked `≠` and
shown in the warning colour. `o` shows only the differences.

A good call against a bad one of the same route is the quickest way to see what changed
(the code, the cause, the carrier's fields); across providers the raw fields rarely share names,
and the normalized ones above them are what compare.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.color import Color, ColorParseError
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from calltui.analysis.sip import sip_phrase
from calltui.analysis.twin import Twin
from calltui.analysis.verdict import verdict
from calltui.model import Call, CallDetail
from calltui.render import fmt_duration, fmt_time
from calltui.text import compact, inert
from calltui.tui import keys
from calltui.tui.widgets.footer import KeyFooter

VALUE_MAX = 300
"""Cells shown of one value (a raw field can be a whole document)."""
DIFFER = "≠"
Fetch = Callable[[Call], Awaitable["CallDetail | None"]]


@dataclass(frozen=True, slots=True)
class Row:
    field: str
    a: str
    b: str
    section: str

    @property
    def differs(self) -> bool:
        return self.a != self.b


def _sip(c: Call) -> str:
    if c.sip_code is None:
        return ""
    phrase = sip_phrase(c.sip_code)
    return f"{c.sip_code} {phrase}" if phrase else str(c.sip_code)


def _num(v: object) -> str:
    return "" if v is None else str(v)


def _value(v: object) -> str:
    return "" if v is None else compact(v)


def fields(zone: tzinfo | None) -> list[tuple[str, Callable[[Call], str]]]:
    def t(name: str) -> Callable[[Call], str]:
        def get(c: Call) -> str:
            value = getattr(c, name)
            return "" if value is None else fmt_time(value, zone)

        return get

    return [
        ("provider", lambda c: c.provider),
        ("account", lambda c: c.account),
        ("id", lambda c: c.id),
        ("parent", lambda c: c.parent_id or ""),
        ("sip call-id", lambda c: c.sip_call_id or ""),
        ("from", lambda c: c.from_ or ""),
        ("to", lambda c: c.to or ""),
        ("direction", lambda c: c.direction or ""),
        ("started", t("started_at")),
        ("answered", t("answered_at")),
        ("ended", t("ended_at")),
        ("duration", lambda c: "" if c.duration_s is None else fmt_duration(c.duration_s)),
        ("billed", lambda c: _num(c.billed_s)),
        ("outcome", lambda c: c.outcome.value),
        ("sip code", _sip),
        ("cause", lambda c: c.cause or ""),
        ("cause code", lambda c: _num(c.cause_code)),
        ("mos", lambda c: _num(c.mos)),
    ]


def _compact(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


def rows(
    a: Call,
    b: Call,
    zone: tzinfo | None,
    details: tuple[CallDetail | None, CallDetail | None] = (None, None),
    twin: Twin | None = None,
) -> list[Row]:
    """Every compared field, in order: with `b` the good twin of `a`, what differs between
    them (route, trunk, codecs, hosts... calltui.analysis.twin); the record's fields, the
    verdict's, then the raw fields (the union of both records' top-level keys, in the first
    record's order)."""
    out = []
    if twin is not None:
        out += [Row(k, _value(x), _value(y), "twin") for k, (x, y) in twin.differences.items()]
    out += [Row(name, get(a), get(b), "record") for name, get in fields(zone)]
    va, vb = verdict(details[0] or a), verdict(details[1] or b)
    for key, label in (
        ("side", "failed side"),
        ("q850", "Q.850"),
        ("hangup_by", "hung up by"),
        ("pdd_s", "post-dial delay"),
        ("line", "verdict"),
    ):
        x, y = getattr(va, key), getattr(vb, key)
        if key == "pdd_s":
            x, y = (None if v is None else f"{v:.1f} s" for v in (x, y))
        out.append(Row(label, _num(x), _num(y), "verdict"))
    keys = list(dict.fromkeys([*a.raw, *b.raw]))
    for key in keys:
        x = _compact(a.raw[key]) if key in a.raw else ""
        y = _compact(b.raw[key]) if key in b.raw else ""
        out.append(Row(str(key), x, y, "raw"))
    return out


def table(
    a: Call, b: Call, all_rows: list[Row], only_differences: bool, differ: Style | str
) -> Table:
    """The rows as a three-column table; differing rows in the `differ` style."""
    t = Table(expand=True, show_edge=False, pad_edge=False, box=None, show_lines=False)
    t.add_column(Text(""), width=1, no_wrap=True)
    t.add_column(Text("field"), style="dim", width=15, no_wrap=True, overflow="ellipsis")
    t.add_column(Text(inert(f"A  {a.provider} / {a.account}", 60)), ratio=3, overflow="fold")
    t.add_column(Text(inert(f"B  {b.provider} / {b.account}", 60)), ratio=3, overflow="fold")
    section = None
    for r in all_rows:
        if only_differences and not r.differs:
            continue
        if r.section != section:
            section = r.section
            heading = {
                "twin": "GOOD TWIN",
                "record": "RECORD",
                "verdict": "VERDICT",
                "raw": "PROVIDER FIELDS",
            }
            t.add_row(Text(""), Text(heading[section], "bold"), Text(""), Text(""))
        style = differ if r.differs else ""
        t.add_row(
            Text(DIFFER if r.differs else " ", style),
            Text(inert(r.field, 40), style if r.differs else "dim"),
            *(Text(inert(v, VALUE_MAX), style) for v in (r.a, r.b)),
        )
    return t


class CompareScreen(Screen[None]):
    BINDINGS = keys.bindings("compare")
    DEFAULT_CSS = """
    CompareScreen #compare-head { height: auto; background: $panel; padding: 0 1; }
    CompareScreen VerticalScroll { padding: 0 1; }
    """

    def __init__(
        self,
        a: Call,
        b: Call,
        zone: tzinfo | None,
        details: tuple[CallDetail | None, CallDetail | None] = (None, None),
        fetch: Fetch | None = None,
        twin: Twin | None = None,
    ) -> None:
        """`details`: the drill-downs already at hand; `fetch` gets the missing ones (the
        verdict reads who hung up and the post-dial delay from them), or None when it fails.
        `twin`: `b` is the good twin of `a`, and what differs between them comes first."""
        super().__init__()
        self.fetch = fetch
        self.a, self.b = a, b
        self.zone = zone
        self.details = details
        self.twin = twin
        self.rows = rows(a, b, zone, details, twin)
        self.only_differences = False
        self.fetching = fetch is not None and any(d is None for d in details)

    @property
    def differing(self) -> list[Row]:
        return [r for r in self.rows if r.differs]

    def compose(self) -> ComposeResult:
        yield Static(id="compare-head")
        with VerticalScroll(id="compare-scroll"):
            yield Static(id="compare-table")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.redraw()
        self.query_one("#compare-scroll").focus()
        if self.fetching:
            self.load()

    @work(exclusive=True, group="compare", exit_on_error=False)
    async def load(self) -> None:
        da, db = self.details
        if self.fetch is not None:
            da = da or await self.fetch(self.a)
            db = db or await self.fetch(self.b)
        self.details = (da, db)
        self.rows = rows(self.a, self.b, self.zone, self.details, self.twin)
        self.fetching = False
        self.redraw()

    def redraw(self) -> None:
        head = Text()
        if self.twin is not None:
            head.append("Good twin  ", "bold")
            head.append(f"B is the nearest answered call {self.twin.basis} to the same prefix; ")
        else:
            head.append("Compare  ", "bold")
        head.append(f"{len(self.differing)} of {len(self.rows)} fields differ", "")
        head.append(f"  ({DIFFER} marks them)", "dim")
        if self.only_differences:
            head.append("  · only differences (o: all)", "italic")
        if self.fetching:
            head.append("  · loading the drill-downs…", "dim italic")
        self.query_one("#compare-head", Static).update(head)
        body = table(self.a, self.b, self.rows, self.only_differences, self._differ_style())
        self.query_one("#compare-table", Static).update(body)

    def _differ_style(self) -> Style:
        """The theme's warning colour, bold (yellow where the theme gives none)."""
        value = self.app.theme_variables.get("warning", "")
        try:
            return Style(color=Color.parse(value).rich_color, bold=True)
        except ColorParseError:
            return Style(color="yellow", bold=True)

    def action_only_differences(self) -> None:
        self.only_differences = not self.only_differences
        self.redraw()

    def action_back(self) -> None:
        self.workers.cancel_group(self, "compare")
        self.dismiss(None)
