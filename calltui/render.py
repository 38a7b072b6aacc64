"""Plain-text renderings for the terminal (CLI `--format table|text`): every value made inert."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.cells import cell_len

from calltui.analysis import cause
from calltui.analysis.verdict import verdict
from calltui.columns import CLI_TABLE, fmt_duration, fmt_time
from calltui.model import Call, CallDetail, Span
from calltui.text import compact, fit, inert, inert_block

if TYPE_CHECKING:
    from calltui.analysis.chain import Chain
    from calltui.analysis.twin import Twin


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


def detail_text(
    d: CallDetail,
    zone: tzinfo | None,
    chain: Chain | None = None,
    twin: Twin | None = None,
    sought_twin: bool = False,
) -> str:
    """`show --format text`: the verdict line first, then the record and its drill-down, then
    the end-to-end call as a ladder (with `chain`) and the good twin (where `sought_twin`)."""
    out = [inert(verdict(d).line, 600), "", "CALL", *_record_lines(d.call, zone, "  ")]
    if d.explanation:
        out += ["", "WHY", "  " + inert(d.explanation, 400)]
    others = [leg for leg in d.legs if leg.id != d.call.id]
    for leg in others:
        out += ["", f"LEG {inert(leg.id, 60)}", *_record_lines(leg, zone, "  ")]
    if d.events:
        out += ["", "EVENTS"]
        for e in d.events:
            data = "" if e.data in (None, "", {}) else " " + inert(compact(e.data), 160)
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
        out += ["", "RECORDINGS", *("  " + inert(compact(r), 200) for r in d.recordings)]
    if d.notifications:
        out += ["", "NOTIFICATIONS", *("  " + inert(compact(n), 200) for n in d.notifications)]
    if d.extra:
        out += ["", "MORE"]
        out += ["  " + line for line in inert_block(json.dumps(d.extra, indent=2)).split("\n")]
    if chain is not None:
        out += ["", *chain_text(chain, zone)]
    if sought_twin:
        out += ["", *twin_text(twin, zone)]
    return "\n".join(out) + "\n"


# --- the end-to-end call and the good twin ------------------------------------------------------

MAX_STEPS = 30
"""Steps shown of one hop in the ladder (a jambonz trace can hold hundreds of spans); the rest
are counted."""
_CELL = 4


def chain_text(chain: Chain, zone: tzinfo | None) -> list[str]:
    """The CHAIN section: the hops caller's side first with each stitch's reason and confidence
    and the hop where the failure began, then the LADDER: a lane per hop, time going down,
    each hop's own steps on its lane and each stitch as an arrow from lane to lane."""
    hops = chain.hops
    n = len(hops)
    head = f"CHAIN  {n} hop{'s' if n != 1 else ''}, caller's side first"
    out = [head]
    line = chain.failure_line()
    if line is not None:
        out.append("  " + inert(line, 300))
    for i, h in enumerate(hops):
        c = h.call
        if h.stitch is not None:
            s = h.stitch
            out.append(f"       {i}->{i + 1}  {inert(s.reason, 160)} ({s.confidence:.2f})")
        elif i:
            out.append(f"       {i}->{i + 1}  (no tie to the hop before: by start time)")
        sip = cause.final_sip(c)
        cells = [
            f"  [{i + 1}]",
            inert(c.provider, 12),
            inert(c.account, 24),
            inert(c.id, 48),
            inert(c.trunk, 40) if c.trunk else "-",
            c.outcome.value + (f" {sip}" if sip is not None else ""),
            "this call" if h.reason is None else f"{h.confidence:.2f}",
        ]
        if chain.failed_hop == i:
            cells.append("<< the failure began here")
        out.append(" ".join(cells))
    out += ["", *_ladder(chain, zone)]
    return out


@dataclass(frozen=True, slots=True)
class LadderRow:
    """One row of the chain's ladder: a hop's own step on its lane (`failure`: the last step
    of the hop where the failure began), or the stitch from the lane before to this one."""

    time: datetime
    lane: int
    text: str
    stitch: bool = False
    failure: bool = False


def ladder_rows(chain: Chain) -> tuple[list[LadderRow], dict[int, int]]:
    """The ladder's rows in time order (a stitch before the steps of its moment), and per lane
    the steps left out (MAX_STEPS a hop: its first ones and its last)."""
    rows: list[tuple[float, int, LadderRow]] = []
    left_out: dict[int, int] = {}
    for lane, h in enumerate(chain.hops):
        steps = h.steps
        if len(steps) > MAX_STEPS:
            left_out[lane] = len(steps) - MAX_STEPS
            steps = [*steps[: MAX_STEPS - 1], steps[-1]]
        last = len(steps) - 1
        for k, st in enumerate(steps):
            failure = chain.failed_hop == lane and k == last
            rows.append((st.time.timestamp(), 1, LadderRow(st.time, lane, st.text, False, failure)))
        if lane and h.stitch is not None and h.call.started_at is not None:
            text = f"{h.stitch.reason} ({h.stitch.confidence:.2f})"
            rows.append(
                (h.call.started_at.timestamp(), 0, LadderRow(h.call.started_at, lane, text, True))
            )
    rows.sort(key=lambda r: (r[0], r[1], r[2].lane))
    return [r for _, _, r in rows], left_out


def _ladder(chain: Chain, zone: tzinfo | None) -> list[str]:
    hops = chain.hops
    rows, left_out = ladder_rows(chain)
    first = rows[0].time.astimezone(zone) if rows else None
    when = f"{first:%Y-%m-%d}, times in {first.tzname()}" if first is not None else "no steps"
    lanes = "".join(
        f"{i + 1}{'!' if chain.failed_hop == i else ''}".ljust(_CELL) for i in range(len(hops))
    )
    out = [f"LADDER  {when}", f"  {'time':<12}  {lanes}"]
    for r in rows:
        cells = ["|".ljust(_CELL)] * len(hops)
        if r.stitch:
            cells[r.lane - 1] = "o" + "-" * (_CELL - 1)
            cells[r.lane] = ">".ljust(_CELL)
            label = f"[{r.lane}->{r.lane + 1}] {inert(r.text, 140)}"
        else:
            cells[r.lane] = ("!" if r.failure else "*").ljust(_CELL)
            label = f"[{r.lane + 1}] {inert(r.text, 100)}"
        stamp = r.time.astimezone(zone).strftime("%H:%M:%S.%f")[:-3]
        out.append(f"  {stamp}  {''.join(cells)}{label}")
    more = [f"  [{lane + 1}] {n} more steps not shown" for lane, n in left_out.items()]
    return out + more


def twin_text(twin: Twin | None, zone: tzinfo | None) -> list[str]:
    """The TWIN section: the answered call most like this one and the fields that differ."""
    if twin is None:
        return ["TWIN", "  none: no answered call of the account to the same prefix in the hour"]
    c = twin.call
    out = [
        "TWIN",
        f"  {inert(c.account, 24)} {inert(c.id, 60)}  started {fmt_time(c.started_at, zone)}",
        f"  the nearest answered call {twin.basis} to the same prefix",
    ]
    if not twin.differences:
        return [*out, "  no field differs"]
    shown = [
        (inert(k, 24), "-" if a is None else inert(a, 40), "-" if b is None else inert(b, 80))
        for k, (a, b) in twin.differences.items()
    ]
    width = max(cell_len(k) for k, _, _ in shown)
    this_w = max(9, *(cell_len(a) for _, a, _ in shown))
    out.append(f"  {fit('field', width)}  {fit('this call', this_w)}  twin")
    out += [f"  {fit(k, width)}  {fit(a, this_w)}  {b}" for k, a, b in shown]
    return out
