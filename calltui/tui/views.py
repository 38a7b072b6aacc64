"""Rich Text renderings of one call for the detail pane and screen. Text objects only, never
markup strings: every provider value goes in as plain, inert text."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text

from calltui.analysis.cause import final_sip
from calltui.analysis.sip import sip_meaning
from calltui.model import Call, CallDetail, Event, Outcome, Span
from calltui.render import fmt_duration, fmt_time, ladder_rows, span_tree
from calltui.text import ELLIPSIS, compact, fit, inert, inert_block

if TYPE_CHECKING:
    from calltui.analysis.chain import Chain


def _kv(out: Text, key: str, value: Any, style: str = "") -> None:
    if value in (None, ""):
        return
    out.append(f"{key:<12}", "bold")
    out.append(inert(value, 300) + "\n", style)


def summary(
    call: Call,
    detail: CallDetail | None,
    zone: tzinfo | None,
    colours: Mapping[Outcome, str],
    with_verdict: bool = True,
) -> Text:
    """The call's head (its outcome in its colour, `colours` from calltui.tui.palette), the
    verdict, and its fields."""
    out = Text()
    head = Text()
    head.append(f" {call.outcome.value.upper()} ", f"bold reverse {colours[call.outcome]}")
    head.append("  ")
    head.append(inert(call.from_ or "?", 40))
    head.append(" → ")
    head.append(inert(call.to or "?", 40))
    head.append(f"   {call.provider} / {inert(call.account, 40)}\n", "dim")
    out.append_text(head)
    if with_verdict:
        out.append(verdict_line(call, detail) + "\n", f"bold {colours[call.outcome]}")
    out.append("\n")
    _kv(out, "id", call.id)
    _kv(out, "parent", call.parent_id)
    _kv(out, "sip call-id", call.sip_call_id)
    _kv(out, "direction", call.direction)
    _kv(out, "trunk", call.trunk)
    _kv(out, "started", fmt_time(call.started_at, zone))
    _kv(out, "answered", fmt_time(call.answered_at, zone) if call.answered_at else None)
    _kv(out, "ended", fmt_time(call.ended_at, zone) if call.ended_at else None)
    _kv(out, "duration", fmt_duration(call.duration_s) if call.duration_s is not None else None)
    _kv(out, "billed", f"{call.billed_s} s" if call.billed_s is not None else None)
    if call.sip_code is not None:
        meaning = sip_meaning(call.sip_code)
        _kv(out, "sip code", f"{call.sip_code} {meaning}" if meaning else call.sip_code)
    _kv(out, "cause", call.cause)
    _kv(out, "cause code", call.cause_code)
    _kv(out, "mos", call.mos)
    return out


def verdict_line(call: Call, detail: CallDetail | None) -> str:
    """The verdict (analysis.verdict): why the call ended as it did, in one plain line; the
    drill-down, when loaded, adds what the record lacks (who hung up, post-dial delay...)."""
    # Imported when first wanted: its tables are not needed before the first rows are drawn.
    from calltui.analysis.verdict import verdict

    return verdict(detail if detail is not None else call).line


def events_view(events: list[Event], zone: tzinfo | None) -> Text:
    out = Text()
    if not events:
        return Text("no events", "dim")
    t0 = next((e.time for e in events if e.time is not None), None)
    for e in events:
        delta = ""
        if e.time is not None and t0 is not None:
            delta = f"+{(e.time - t0).total_seconds():8.3f}s"
        out.append(f"{fmt_time(e.time, zone, with_date=False):>8} {delta:>11}  ", "dim")
        out.append(inert(e.name, 60), "bold")
        if e.data not in (None, "", {}):
            out.append("  " + inert(compact(e.data), 200), "")
        out.append("\n")
    return out


SIP_METHODS = frozenset(
    {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "UPDATE", "INFO"}
    | {"REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE"}
)
_MESSAGE = re.compile(r"(?:SIP/2\.0 )?(\d{3}|[A-Z]+)\b")
LADDER_TIME = 10
"""Cells before the lanes: the time since the first step."""
LADDER_MARGIN = 6
"""Cells from the lanes' edge to the first and last lane, room for half of their labels."""


def is_message(name: str) -> bool:
    """A SIP request or response, drawn as an arrow between two lanes; any other step (the
    box's routing decision, its RTP statistics, why it ended the call) is a note on the box."""
    m = _MESSAGE.match(name)
    return m is not None and (m.group(1).isdigit() or m.group(1) in SIP_METHODS)


@dataclass(frozen=True, slots=True)
class LadderLanes:
    """What every line of a ladder shares: the lanes' centres, the outgoing leg, the first
    time."""

    col: int
    """Cells from one lane to the next."""
    outgoing: Call | None
    t0: datetime | None

    def centre(self, lane: int) -> int:
        return LADDER_MARGIN + lane * self.col

    @property
    def width(self) -> int:
        return 2 * (LADDER_MARGIN + self.col) + 1


def ladder_lines(detail: CallDetail, width: int) -> tuple[Text, list[tuple[Event, Text]]]:
    """Tmedia's two legs as a ladder between three lanes: the caller, the box, the callee.
    Each step says its leg and whether the box received or sent it (Event.leg, .received);
    the incoming leg runs caller↔box, the outgoing leg box↔callee. Steps of both legs are
    merged in time; each line has the time since the first step. The header names the lanes."""
    head, lanes, events = ladder(detail, width)
    return head, [(e, ladder_line(lanes, e)) for e in events]


def ladder(detail: CallDetail, width: int) -> tuple[Text, LadderLanes, list[Event]]:
    """The ladder's header (two lines: each lane's role, then its number or box), its lanes
    and its steps in order, each line made by `ladder_line` when it is shown (a call can have
    thousands of steps)."""
    legs = detail.legs or [detail.call]
    incoming = next((leg for leg in legs if leg.direction == "inbound"), legs[0])
    outgoing = next((leg for leg in legs if leg is not incoming), None)
    lanes = LadderLanes(max(14, (width - LADDER_TIME - 2 * LADDER_MARGIN - 1) // 2), outgoing, None)
    names = (
        ("caller", incoming.from_ or "?"),
        ("SBC", incoming.account),
        ("callee", (outgoing or incoming).to or "?"),
    )
    head = Text()
    for row, style in ((0, "bold"), (1, "")):
        pos = 0
        for i, pair in enumerate(names):
            label = inert(pair[row], lanes.col - 1)
            at = max(pos, LADDER_TIME + lanes.centre(i) - cell_len(label) // 2)
            head.append(" " * (at - pos) + label, style)
            pos = at + cell_len(label)
        if row == 0:
            head.append("\n")
    events = sorted(
        (e for e in detail.events),
        key=lambda e: (e.time.timestamp() if e.time else 0.0, e.seq),
    )
    t0 = next((e.time for e in events if e.time is not None), None)
    return head, LadderLanes(lanes.col, outgoing, t0), events


def ladder_line(lanes: LadderLanes, e: Event) -> Text:
    """One step: a message as an arrow between the leg's two lanes, the other lanes' lines
    drawn through; any other step as a note across the box's lane, in full where it fits."""
    on_outgoing = lanes.outgoing is not None and e.leg == lanes.outgoing.id
    received = e.received is True
    style = "cyan" if on_outgoing else "green"
    cells = [" "] * lanes.width
    for i in range(3):
        cells[lanes.centre(i)] = "│"
    line = Text(_delta(lanes, e) + " ", "dim")
    if is_message(e.name):
        a, b = (
            (lanes.centre(1), lanes.centre(2))
            if on_outgoing
            else (lanes.centre(0), lanes.centre(1))
        )
        # Received on the incoming leg: the caller sent it; on the outgoing leg: the callee.
        rightwards = received != on_outgoing
        room = b - a - 2
        label = inert(e.name, room)
        if cell_len(label) + 2 <= room:
            label = f" {label} "
        body = _centre(label, room, "─")
        arrow = (body + "▶") if rightwards else ("◀" + body)
        line.append("".join(cells[: a + 1]))
        line.append(arrow, style)
        line.append("".join(cells[b:]))
        return line
    note = inert(e.name, lanes.width - 4)
    at = max(0, min(lanes.centre(1) - (cell_len(note) + 2) // 2, lanes.width - cell_len(note) - 2))
    end = at + cell_len(note) + 2
    line.append("".join(cells[:at]))
    line.append(f"[{note}]", f"italic {style}")
    line.append("".join(cells[end:]))
    return line


def _delta(lanes: LadderLanes, e: Event) -> str:
    if e.time is None or lanes.t0 is None:
        return " " * 9
    return f"+{(e.time - lanes.t0).total_seconds():7.3f}s"


def _centre(s: str, width: int, fill: str) -> str:
    """`str.center` by terminal cells (a CJK label is twice as wide as it is long)."""
    pad = max(0, width - cell_len(s))
    return fill * (pad // 2) + s + fill * (pad - pad // 2)


CHAIN_CELL = 4
"""Cells of one lane of the chain's ladder."""


def chain_view(chain: Chain, zone: tzinfo | None, colours: Mapping[Outcome, str]) -> Text:
    """The whole end-to-end call: where the failure began, the hops from the caller's side
    with each stitch's reason and confidence, then one ladder of every hop's own steps on a
    single time axis (the rows `render.ladder_rows` gives the text ladder too)."""
    out = Text()
    failure = chain.failure_line()
    error = colours[Outcome.FAILED]
    if failure is not None:
        out.append(" " + inert(failure, 300) + "\n", f"bold {error}")
    n = len(chain.hops)
    out.append(f" {n} hop{'s' if n != 1 else ''}, the caller's side first\n\n", "dim")
    for i, h in enumerate(chain.hops):
        if h.stitch is not None:
            reason = f"{inert(h.stitch.reason, 160)} ({h.stitch.confidence:.2f})"
            out.append(f"      {i}→{i + 1}  {reason}\n", "dim")
        elif i:
            out.append(f"      {i}→{i + 1}  no tie to the hop before: by start time\n", "dim")
        c = h.call
        sip = final_sip(c)
        line = Text(f" [{i + 1}] ", "bold")
        line.append(fit(f"{c.provider}/{c.account}", 24) + " ")
        line.append(fit(c.id, 20) + " ", "dim")
        line.append(fit(c.trunk or "-", 20) + " ")
        line.append(c.outcome.value + (f" {sip}" if sip is not None else ""), colours[c.outcome])
        line.append("  this call" if h.reason is None else f"  {h.confidence:.2f}", "dim")
        if chain.failed_hop == i:
            line.append("  ◀ the failure began here", f"bold reverse {error}")
        out.append_text(line)
        out.append("\n")
    rows, left_out = ladder_rows(chain)
    if not rows:
        return out.append("\n no steps to draw", "dim")
    lanes = "".join(
        f"{i + 1}{'!' if chain.failed_hop == i else ''}".ljust(CHAIN_CELL) for i in range(n)
    )
    first = rows[0].time.astimezone(zone)
    out.append(f"\n {'':<12}  {lanes}", "bold")
    out.append(f"   {first:%Y-%m-%d}, times in {first.tzname()}\n", "dim")
    for r in rows:
        cells = ["│".ljust(CHAIN_CELL)] * n
        if r.stitch:
            cells[r.lane - 1] = "○" + "─" * (CHAIN_CELL - 1)
            cells[r.lane] = "▶".ljust(CHAIN_CELL)
            label, style = f"[{r.lane}→{r.lane + 1}] {inert(r.text, 140)}", "dim"
        else:
            cells[r.lane] = ("✖" if r.failure else "●").ljust(CHAIN_CELL)
            label = f"[{r.lane + 1}] {inert(r.text, 100)}"
            style = f"bold {error}" if r.failure else ""
        stamp = r.time.astimezone(zone).strftime("%H:%M:%S.%f")[:-3]
        out.append(f" {stamp:<12}  ", "dim")
        out.append("".join(cells))
        out.append(label + "\n", style)
    for lane, more in left_out.items():
        out.append(f" [{lane + 1}] {more} more steps not shown\n", "dim")
    return out


def step_text(e: Event, zone: tzinfo | None) -> Text:
    data = e.data if isinstance(e.data, dict) else {}
    out = Text()
    out.append(inert(e.name, 200) + "\n", "bold")
    out.append(f"{fmt_time(e.time, zone)}  leg {inert(e.leg or '', 20)}\n", "dim")
    out.append(inert_block(data.get("tooltip") or "no tooltip for this step"))
    return out


def waterfall_lines(
    spans: list[Span], width: int, collapsed: set[str] | None = None
) -> list[tuple[Span, Text]]:
    """The span tree as lines: indented names, a bar placed and scaled on the call's timeline,
    and the duration. Children of a collapsed span are hidden."""
    if not spans:
        return []
    scale = WaterfallScale.of(spans, width)
    rows = waterfall_rows(span_tree(spans), collapsed or set())
    return [(s, waterfall_line(scale, depth, s, collapsed or set())) for depth, s in rows]


@dataclass(frozen=True, slots=True)
class WaterfallScale:
    """What every line of a waterfall shares: the call's timeline and the column widths."""

    t0: int
    total: int
    name_w: int
    bar_w: int
    parents: frozenset[str]
    """Spans with children (they show ▾ or ▸)."""

    @classmethod
    def of(cls, spans: list[Span], width: int) -> WaterfallScale:
        t0 = min(s.start_ns for s in spans)
        t1 = max(s.end_ns for s in spans)
        name_w = max(16, min(40, width // 3))
        return cls(
            t0,
            max(1, t1 - t0),
            name_w,
            max(10, width - name_w - 14),
            frozenset(s.parent_id for s in spans if s.parent_id),
        )


def waterfall_rows(tree: list[tuple[int, Span]], collapsed: set[str]) -> list[tuple[int, Span]]:
    """The rows of `span_tree`'s tree that show: none below a collapsed span."""
    if not collapsed:
        return tree
    rows: list[tuple[int, Span]] = []
    hidden_below: int | None = None
    for depth, s in tree:
        if hidden_below is not None and depth > hidden_below:
            continue
        hidden_below = depth if s.span_id in collapsed else None
        rows.append((depth, s))
    return rows


def waterfall_line(scale: WaterfallScale, depth: int, s: Span, collapsed: set[str]) -> Text:
    marker = " "
    if s.span_id in scale.parents:
        marker = "▸" if s.span_id in collapsed else "▾"
    name = fit("  " * depth + marker + inert(s.name, scale.name_w), scale.name_w)
    bar_w, total = scale.bar_w, scale.total
    a = int((s.start_ns - scale.t0) / total * bar_w)
    b = max(a + 1, int((s.end_ns - scale.t0) / total * bar_w))
    line = Text(name + " ")
    line.append(" " * a)
    line.append("█" * (b - a), "red" if _span_failed(s) else "blue")
    line.append(" " * (bar_w - b))
    line.append(f" {fmt_ms(s.end_ns - s.start_ns):>9}", "dim")
    return line


def _span_failed(s: Span) -> bool:
    status = str(s.attributes.get("otel.status_code", s.attributes.get("status", ""))).lower()
    return status in ("error", "2") or bool(s.attributes.get("error"))


def fmt_ms(ns: int) -> str:
    ms = ns / 1e6
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"


def attributes(span: Span) -> Text:
    out = Text()
    out.append(inert(span.name, 100) + "\n", "bold")
    out.append(f"span {inert(span.span_id, 40)}  {fmt_ms(span.end_ns - span.start_ns)}\n", "dim")
    for k, v in sorted(span.attributes.items()):
        out.append(f"{inert(k, 40)}: ", "bold")
        out.append(inert(compact(v), 300) + "\n")
    return out


def items_view(title: str, items: list[Any]) -> Text:
    out = Text()
    out.append(f"{title} ({len(items)})\n", "bold")
    if not items:
        out.append("none\n", "dim")
    for item in items:
        if isinstance(item, dict):
            for k, v in item.items():
                if v in (None, "", "null"):
                    continue
                out.append(f"  {inert(k, 30)}: ", "bold")
                out.append(inert(compact(v), 200) + "\n")
            out.append("\n")
        else:
            out.append("  " + inert(compact(item), 200) + "\n")
    return out


RAW_STRING_MAX = 1000
"""Characters of one string shown in the raw view: the rest is counted, not shown (a
100,000-character field would otherwise be a screenful of one value)."""


def raw_doc(detail: CallDetail | None, call: Call) -> dict[str, Any]:
    """The document the raw view shows: the drill-down (or the record alone) and its extras."""
    doc = detail.to_dict() if detail is not None else {"call": call.to_dict()}
    if detail is not None and detail.extra:
        doc["extra"] = detail.extra
    return doc


def raw_json(detail: CallDetail | None, call: Call) -> str:
    text = json.dumps(_capped(raw_doc(detail, call)), indent=2, ensure_ascii=False, default=str)
    return inert_block(text)


def _capped(v: Any) -> Any:
    """A JSON document with every long string cut, saying how much was left out."""
    if isinstance(v, str):
        if len(v) <= RAW_STRING_MAX:
            return v
        return f"{v[:RAW_STRING_MAX]}{ELLIPSIS} ({len(v) - RAW_STRING_MAX:,} more characters)"
    if isinstance(v, dict):
        return {k: _capped(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_capped(x) for x in v]
    return v


def detail_failure(error: Exception | None) -> Text:
    """Why a call's drill-down failed, to show with the call (empty if it did not)."""
    text = Text()
    if error is not None:
        text.append("\n✖ could not load the detail: ", "bold red")
        text.append(inert(str(error), 400), "red")
        text.append("\n(select the call again, or Enter, to try again)", "dim")
    return text
