"""Plain-text renderings for the terminal (CLI `--format table|text`): every value made inert."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import tzinfo
from zoneinfo import ZoneInfo

from calltui.analysis.verdict import verdict
from calltui.columns import CLI_TABLE, fmt_duration, fmt_time
from calltui.model import Call, CallDetail, Span
from calltui.text import fit, inert, inert_block


def display_zone(name: str) -> tzinfo | None:
    """The zone times are shown in: None means the machine's local zone."""
    return None if name == "local" else ZoneInfo(name)


TABLE_COLUMNS = tuple((c.cli.title, c.cli.width) for c in CLI_TABLE)
"""(title, width) of each column of `calls --format table`."""


def table(records: Iterable[Call], zone: tzinfo | None) -> str:
    lines = ["  ".join(title.ljust(w) for title, w in TABLE_COLUMNS).rstrip()]
    for c in records:
        cells = (fit(col.text(c, zone, False), col.cli.width) for col in CLI_TABLE)
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def span_tree(spans: list[Span]) -> list[tuple[int, Span]]:
    """Spans depth-first from the roots, children by start time: (depth, span)."""
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[Span]] = {}
    for s in spans:
        parent = s.parent_id if s.parent_id in ids else None
        children.setdefault(parent, []).append(s)
    for v in children.values():
        v.sort(key=lambda s: (s.start_ns, s.name))
    out: list[tuple[int, Span]] = []
    stack = [(0, s) for s in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        depth, s = stack.pop()
        if s.span_id in seen:
            continue
        seen.add(s.span_id)
        out.append((depth, s))
        stack.extend((depth + 1, c) for c in reversed(children.get(s.span_id, [])))
    return out


def _record_lines(c: Call, zone: tzinfo | None, indent: str = "") -> list[str]:
    fields = [
        ("provider", c.provider),
        ("account", c.account),
        ("id", c.id),
        ("parent", c.parent_id),
        ("sip call-id", c.sip_call_id),
        ("from", c.from_),
        ("to", c.to),
        ("direction", c.direction),
        ("started", fmt_time(c.started_at, zone)),
        ("answered", fmt_time(c.answered_at, zone)),
        ("ended", fmt_time(c.ended_at, zone)),
        ("duration", fmt_duration(c.duration_s)),
        ("billed", None if c.billed_s is None else f"{c.billed_s} s"),
        ("outcome", c.outcome.value),
        ("sip code", c.sip_code),
        ("cause", c.cause),
        ("cause code", c.cause_code),
        ("mos", c.mos),
    ]
    return [f"{indent}{k:<12} {inert(v, 200)}" for k, v in fields if v not in (None, "")]


def detail_text(d: CallDetail, zone: tzinfo | None) -> str:
    """`show --format text`: the verdict line first, then the record and its drill-down."""
    out = [inert(verdict(d).line, 600), "", "CALL", *_record_lines(d.call, zone, "  ")]
    if d.explanation:
        out += ["", "WHY", "  " + inert(d.explanation, 400)]
    others = [leg for leg in d.legs if leg.id != d.call.id]
    for leg in others:
        out += ["", f"LEG {inert(leg.id, 60)}", *_record_lines(leg, zone, "  ")]
    if d.events:
        out += ["", "EVENTS"]
        for e in d.events:
            data = "" if e.data in (None, "", {}) else " " + inert(_compact(e.data), 160)
            out.append(f"  {fmt_time(e.time, zone)}  {inert(e.name, 60)}{data}")
    if d.spans is not None:
        out += ["", "TRACE" if d.spans else "TRACE (no spans)"]
        t0 = min((s.start_ns for s in d.spans), default=0)
        for depth, s in span_tree(d.spans):
            start_ms = (s.start_ns - t0) / 1e6
            dur_ms = (s.end_ns - s.start_ns) / 1e6
            name = inert(s.name, 60)
            out.append(f"  {start_ms:9.1f} ms {dur_ms:9.1f} ms  {'  ' * depth}{name}")
    if d.recordings:
        out += ["", "RECORDINGS", *("  " + inert(_compact(r), 200) for r in d.recordings)]
    if d.notifications:
        out += ["", "NOTIFICATIONS", *("  " + inert(_compact(n), 200) for n in d.notifications)]
    if d.extra:
        out += ["", "MORE"]
        out += ["  " + line for line in inert_block(json.dumps(d.extra, indent=2)).split("\n")]
    return "\n".join(out) + "\n"


def _compact(v: object) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "), default=str)
