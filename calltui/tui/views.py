"""Rich Text renderings of one call for the detail pane and screen. Text objects only, never
markup strings: every provider value goes in as plain, inert text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from rich.cells import cell_len
from rich.text import Text

from calltui.analysis.sip import sip_meaning
from calltui.model import Call, CallDetail, Event, Outcome, Span
from calltui.render import fmt_duration, fmt_time, span_tree
from calltui.text import ELLIPSIS, fit, inert, inert_block

OUTCOME_COLOUR = {
    Outcome.ANSWERED: "green",
    Outcome.IN_PROGRESS: "cyan",
    Outcome.BUSY: "yellow",
    Outcome.NO_ANSWER: "yellow",
    Outcome.CANCELLED: "bright_black",
    Outcome.FAILED: "red",
    Outcome.UNKNOWN: "bright_black",
}


def _kv(out: Text, key: str, value: Any, style: str = "") -> None:
    if value in (None, ""):
        return
    out.append(f"{key:<12}", "bold")
    out.append(inert(value, 300) + "\n", style)


def summary(
    call: Call, detail: CallDetail | None, zone: tzinfo | None, with_verdict: bool = True
) -> Text:
    out = Text()
    head = Text()
    head.append(f" {call.outcome.value.upper()} ", f"bold reverse {OUTCOME_COLOUR[call.outcome]}")
    head.append("  ")
    head.append(inert(call.from_ or "?", 40))
    head.append(" → ")
    head.append(inert(call.to or "?", 40))
    head.append(f"   {call.provider} / {inert(call.account, 40)}\n", "dim")
    out.append_text(head)
    if with_verdict:
        out.append(verdict_line(call, detail) + "\n", f"bold {OUTCOME_COLOUR[call.outcome]}")
    out.append("\n")
    _kv(out, "id", call.id)
    _kv(out, "parent", call.parent_id)
    _kv(out, "sip call-id", call.sip_call_id)
    _kv(out, "direction", call.direction)
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
            out.append("  " + inert(_compact(e.data), 200), "")
        out.append("\n")
    return out


@dataclass(frozen=True, slots=True)
class LadderLanes:
    """What every line of a ladder shares: the lane width, the outgoing leg, the first time."""

    lane: int
    outgoing: Call | None
    t0: datetime | None


def ladder_lines(detail: CallDetail, width: int) -> tuple[Text, list[tuple[Event, Text]]]:
    """Tmedia's two legs as a ladder between three lanes: the caller, the box, the callee.
    `call_traces` direction 1 is a message the box received on that leg, 2 one it sent; the
    incoming leg runs caller↔box, the outgoing leg box↔callee. Steps of both legs are merged
    in time; each line has the time since the first step. The header names the lanes."""
    head, lanes, events = ladder(detail, width)
    return head, [(e, ladder_line(lanes, e)) for e in events]


def ladder(detail: CallDetail, width: int) -> tuple[Text, LadderLanes, list[Event]]:
    """The ladder's header, its lanes and its steps in order, each line made by `ladder_line`
    when it is shown (a call can have thousands of steps)."""
    legs = detail.legs or [detail.call]
    incoming = next((leg for leg in legs if leg.direction == "inbound"), legs[0])
    outgoing = next((leg for leg in legs if leg is not incoming), None)
    lane = max(16, (width - 20) // 2)
    head = Text(" " * 12)
    head.append(fit(inert(incoming.from_ or "caller", lane - 2), lane), "bold")
    head.append(fit(inert(f"SBC {incoming.account}", lane - 2), lane), "bold")
    head.append(inert((outgoing or incoming).to or "callee", 20), "bold")
    events = sorted(
        (e for e in detail.events),
        key=lambda e: (e.time.timestamp() if e.time else 0.0, _order(e)),
    )
    t0 = next((e.time for e in events if e.time is not None), None)
    return head, LadderLanes(lane, outgoing, t0), events


def ladder_line(lanes: LadderLanes, e: Event) -> Text:
    lane, outgoing = lanes.lane, lanes.outgoing
    data = e.data if isinstance(e.data, dict) else {}
    on_outgoing = outgoing is not None and data.get("leg") == outgoing.id
    received = str(data.get("direction", "")) == "1"
    body = _centre(" " + inert(e.name, lane - 6) + " ", lane - 3, "─")
    if on_outgoing:
        arrow = ("◀─" + body + "─") if received else ("─" + body + "─▶")
        cells, style = " " * lane + arrow, "cyan"
    else:
        arrow = ("─" + body + "─▶") if received else ("◀─" + body + "─")
        cells, style = arrow, "green"
    delta = "         "
    if e.time is not None and lanes.t0 is not None:
        delta = f"+{(e.time - lanes.t0).total_seconds():7.3f}s"
    line = Text(f"{delta}   ", "dim")
    line.append(cells, style)
    return line


def _centre(s: str, width: int, fill: str) -> str:
    """`str.center` by terminal cells (a CJK label is twice as wide as it is long)."""
    pad = max(0, width - cell_len(s))
    return fill * (pad // 2) + s + fill * (pad - pad // 2)


def _order(e: Event) -> int:
    data = e.data if isinstance(e.data, dict) else {}
    order = data.get("order")
    return order if isinstance(order, int) else 0


def step_text(e: Event, zone: tzinfo | None) -> Text:
    data = e.data if isinstance(e.data, dict) else {}
    out = Text()
    out.append(inert(e.name, 200) + "\n", "bold")
    out.append(f"{fmt_time(e.time, zone)}  leg {inert(data.get('leg', ''), 20)}\n", "dim")
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
        out.append(inert(_compact(v), 300) + "\n")
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
                out.append(inert(_compact(v), 200) + "\n")
            out.append("\n")
        else:
            out.append("  " + inert(_compact(item), 200) + "\n")
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


def _compact(v: object) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "), default=str)


def detail_failure(error: Exception | None) -> Text:
    """Why a call's drill-down failed, to show with the call (empty if it did not)."""
    text = Text()
    if error is not None:
        text.append("\n✖ could not load the detail: ", "bold red")
        text.append(inert(str(error), 400), "red")
        text.append("\n(select the call again, or Enter, to try again)", "dim")
    return text
