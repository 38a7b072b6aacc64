"""The end-to-end call across platforms: one hop per platform leg, caller's side first.

    build(call, relations, details=()) -> Chain

The hops are the call and those of its related calls (calltui.analysis.correlate, the set the
Related tab shows) with a confidence of at least MIN_CONFIDENCE. Their order, from the caller's
side to the callee's:
- a leg spawned from another (its `parent_id` is the other's id or SIP Call-ID: a Tmedia
  outgoing leg, a Restcomm `<Dial>` child, a jambonz B leg) comes after it;
- two records tied by an id of theirs (one SIP dialog seen by two systems, say) sit side by
  side, so a record tied to a leg that has a parent in the chain comes after that leg, and one
  tied to a leg that has a child comes before it (a jambonz call handed to a Tmedia box shares
  the Call-ID of the box's incoming leg, whose outgoing leg follows it);
- everything else by start time. That is what orders calls tied only by their numbers, and it
  is safe where one clock writes whole seconds: those are truncated, so such a record reads
  early, and the records it could be read early against are ordered by the rules above.
Each hop after the first carries its stitch: the strongest tie of the hop before it to this
one, with the reason and confidence correlate gives.

`failed_hop` is the hop where the failure began, the one the others inherit: from the first
hop that did not answer, towards the callee, as long as each next hop failed the same way
(same final SIP status where both are known, else the same Q.850 cause, else the same outcome),
the last of them; a cancel travels the other way (the caller hangs up first), so for it the
first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from calltui.analysis import cause
from calltui.analysis.correlate import Relation, related
from calltui.hints import hints_for
from calltui.model import Call, CallDetail, Event, Outcome, iso

MIN_CONFIDENCE = 0.5
"""A related call belongs to the end-to-end call from here (correlate's `medium`)."""
ID_TIE = 0.8
"""A tie this strong is by an id of the records (correlate's `high`), not by numbers."""

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a hop's own flow: a call-trace entry, an event, a span, or the record's own
    start and end where the hop has none."""

    time: datetime
    text: str


@dataclass(slots=True)
class Hop:
    call: Call
    confidence: float
    """How surely the hop belongs to the call shown: 1 for that call, else its relation's."""
    reason: str | None = None
    """What ties the hop to the call shown (None for that call)."""
    stitch: Relation | None = None
    """The tie to the hop before it (None for the first, or where none is known)."""
    steps: list[Step] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        c = self.call
        return {
            "account": c.account,
            "id": c.id,
            "provider": c.provider,
            "started_at": iso(c.started_at),
            "ended_at": iso(c.ended_at),
            "outcome": c.outcome.value,
            "sip_code": cause.final_sip(c),
            "confidence": round(self.confidence, 3),
        }


@dataclass(slots=True)
class Chain:
    hops: list[Hop]
    failed_hop: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"hops": [h.to_dict() for h in self.hops], "failed_hop": self.failed_hop}

    def failure_line(self) -> str | None:
        """`the 503 came from NAP_PEER_LON; jambonz and plivo passed it on`."""
        if self.failed_hop is None:
            return None
        origin = self.hops[self.failed_hop].call
        what = _failure_name(origin)
        where = origin.trunk or f"{origin.provider} {origin.account}"
        if origin.outcome is Outcome.CANCELLED:
            line = f"the {what} began at {where}"
            after = self.hops[self.failed_hop + 1 :]
        else:
            line = f"the {what} came from {where}"
            after = list(reversed(self.hops[: self.failed_hop]))
        passed = [
            h.call.provider
            for h in after
            if h.call.account != origin.account and _unanswered(h.call)
        ]
        passed = list(dict.fromkeys(passed))
        if passed:
            names = passed[0] if len(passed) == 1 else ", ".join(passed[:-1]) + " and " + passed[-1]
            line += f"; {names} passed it on"
        return line


def build(call: Call, relations: Iterable[Relation], details: Iterable[CallDetail] = ()) -> Chain:
    """The chain of `call` from its related calls; each hop's steps from whichever of
    `details` covers it (its own drill-down, or one whose legs hold it)."""
    hops: dict[Key, Hop] = {(call.account, call.id): Hop(call, 1.0)}
    for r in relations:
        key = (r.call.account, r.call.id)
        if r.confidence >= MIN_CONFIDENCE and key not in hops:
            hops[key] = Hop(r.call, r.confidence, r.reason)
    ordered = _order(list(hops.values()))
    for before, hop in itertools.pairwise(ordered):
        ties = related(before.call, [hop.call])  # read from the caller's side
        hop.stitch = ties[0] if ties else None
    by_key = {(h.call.account, h.call.id): h for h in ordered}
    for d in details:
        _attach(d, by_key)
    for h in ordered:
        if not h.steps:
            h.steps = _record_steps(h.call)
        h.steps.sort(key=lambda s: s.time)
    return Chain(ordered, failed_hop([h.call for h in ordered]))


# --- order -----------------------------------------------------------------------------------


def _order(hops: list[Hop]) -> list[Hop]:
    n = len(hops)
    calls = [h.call for h in hops]
    after: set[tuple[int, int]] = set()  # (i, j): hop i comes before hop j
    for i, a in enumerate(calls):
        for j, b in enumerate(calls):
            if i != j and b.parent_id and b.parent_id in (a.id, a.sip_call_id):
                after.add((i, j))
    tied = {
        (i, j)
        for i in range(n)
        for j in range(n)
        if i < j and any(r.confidence >= ID_TIE for r in related(calls[i], [calls[j]]))
    }
    tied = {(i, j) for i, j in tied if (i, j) not in after and (j, i) not in after}
    # A record tied to a leg with a parent in the chain follows that leg; one tied to a leg
    # with a child precedes it. Each placed pair may place another: run to a fixed point.
    changed = True
    while changed:
        changed = False
        for i, j in sorted(tied):
            for x, y in ((i, j), (j, i)):
                has_parent = any(b == x for _, b in after)
                has_child = any(a == x for a, _ in after)
                edge = (x, y) if has_parent else (y, x) if has_child else None
                if edge is not None and (edge[1], edge[0]) not in after:
                    after.add(edge)
                    tied.discard((i, j))
                    changed = True
                    break
            if changed:
                break
    waiting = {j: {i for i, k in after if k == j} for j in range(n)}
    out: list[Hop] = []
    left = set(range(n))
    while left:
        ready = [j for j in left if not (waiting[j] & left)] or list(left)  # a cycle: by time
        pick = min(ready, key=lambda j: (_ts(calls[j].started_at), j))
        out.append(hops[pick])
        left.discard(pick)
    return out


def _ts(t: datetime | None) -> float:
    return t.timestamp() if t is not None else float("inf")


# --- where the failure began -----------------------------------------------------------------


def _unanswered(c: Call) -> bool:
    return not cause.answered(c) and c.outcome not in (Outcome.IN_PROGRESS, Outcome.UNKNOWN)


def _same_failure(a: Call, b: Call) -> bool:
    sa, sb = cause.final_sip(a), cause.final_sip(b)
    if sa is not None and sb is not None:
        return sa == sb
    qa, qb = cause.q850_of(a), cause.q850_of(b)
    if qa is not None and qb is not None:
        return qa == qb
    return a.outcome is b.outcome


def failed_hop(calls: list[Call]) -> int | None:
    """The index of the hop where the failure began (module docstring), or None."""
    first = next((i for i, c in enumerate(calls) if _unanswered(c)), None)
    if first is None or calls[first].outcome is Outcome.CANCELLED:
        return first
    last = first
    while last + 1 < len(calls):
        nxt = calls[last + 1]
        if not (_unanswered(nxt) and _same_failure(calls[last], nxt)):
            break
        last += 1
    return last


def _failure_name(c: Call) -> str:
    sip = cause.final_sip(c)
    if sip is not None:
        return str(sip)
    q = cause.q850_of(c)
    return f"Q.850 {q}" if q is not None else "failure"


# --- each hop's own steps --------------------------------------------------------------------


def _attach(d: CallDetail, hops: Mapping[Key, Hop]) -> None:
    """Give the hops that `d` covers their steps: its events go to the leg they name (a
    Tmedia call trace names its leg), else to the drill-down's own call; its spans to the
    call."""
    own = hops.get((d.call.account, d.call.id))
    legs = {leg.id: hops[leg.account, leg.id] for leg in d.legs if (leg.account, leg.id) in hops}
    taken: dict[Key, list[Step]] = {}
    for e in d.events or hints_for(d.call.provider).events_of(d.call):
        if e.time is None:
            continue
        hop = _named_leg(e, legs) or own
        if hop is not None:
            key = (hop.call.account, hop.call.id)
            taken.setdefault(key, []).append(Step(e.time, e.name))
    if own is not None and d.spans:
        key = (own.call.account, own.call.id)
        for s in d.spans:
            start = datetime.fromtimestamp(s.start_ns / 1e9, timezone.utc)
            ms = (s.end_ns - s.start_ns) / 1e6
            taken.setdefault(key, []).append(Step(start, f"{s.name} ({ms:.0f} ms)"))
    for key, steps in taken.items():
        hop = hops[key]
        if not hop.steps:  # one drill-down's account of a hop is enough
            hop.steps = steps


def _named_leg(e: Event, legs: Mapping[str, Hop]) -> Hop | None:
    if isinstance(e.data, dict):
        for v in e.data.values():
            if isinstance(v, str) and v in legs:
                return legs[v]
    return None


def _record_steps(c: Call) -> list[Step]:
    """The record's own milestones, for a hop with no steps of its own."""
    out = []
    if c.started_at is not None:
        out.append(Step(c.started_at, "started"))
    if c.answered_at is not None:
        out.append(Step(c.answered_at, "answered"))
    end = c.ended_at
    if end is None and c.started_at is not None and c.duration_s and c.answered_at is None:
        end = c.started_at + timedelta(seconds=c.duration_s)
    if end is not None:
        sip = cause.final_sip(c)
        out.append(Step(end, f"ended {c.outcome.value}" + (f" {sip}" if sip else "")))
    return out
