"""Calls and legs related to one call, across every loaded account.

    related(call, candidates, *, window_s=10.0) -> list[Relation]

Rules, strongest first (confidence in 0..1; `Relation.level` reads it as high/medium/low); the
rules by a provider's own ids are its hints' (calltui.hints.Hints.relations):
- same SIP Call-ID (0.95): the same SIP dialog seen by two systems, e.g. a jambonz CDR and the
  incoming leg of the Tmedia box it sent the call to. Call-IDs compare exactly (RFC 3261 §8.1.1.4
  makes them case-sensitive).
- Tmedia `other_leg_id` (0.95): the other leg of the same call on the same box (the field is
  on both legs); the same `uct_call_id` (0.9).
- Restcomm `parent_call_sid` (0.9): the parent call of a `outbound-dial` leg, or its children.
- jambonz `sip_parent_callid` (0.9): the Call-ID of the call this one was spawned from
  (sbc-outbound writes the X-CID header there), matched to any record's SIP Call-ID, and back.
- same numbers on another account within `window_s` (0.6 at the same instant, down to 0.3 at
  the window's edge): a call handed from one provider to the next (a Plivo trunk call sent to
  jambonz and on to a Tmedia box keeps its numbers, seconds apart). Numbers compare without a
  leading `+`, a `sip:` scheme or an `@host`, and need at least five digits (so `anonymous`
  or a short extension relates nothing).
A candidate matched by several rules gets the highest confidence and every reason. Results are
sorted by confidence (highest first), then by start time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calltui.hints import hints_for
from calltui.model import Call, iso, number_key

SAME_CALL_ID = 0.95
NUMBERS_NEAR = 0.6
NUMBERS_FAR = 0.3
MIN_DIGITS = 5


@dataclass(frozen=True, slots=True)
class Relation:
    call: Call
    reason: str
    confidence: float

    @property
    def level(self) -> str:
        """`high` (≥ 0.8: an id links them), `medium` (≥ 0.5), else `low`."""
        if self.confidence >= 0.8:
            return "high"
        return "medium" if self.confidence >= 0.5 else "low"

    def to_dict(self) -> dict[str, Any]:
        c = self.call
        return {
            "provider": c.provider,
            "account": c.account,
            "id": c.id,
            "started_at": iso(c.started_at),
            "reason": self.reason,
            "confidence": round(self.confidence, 3),
            "level": self.level,
        }


def _number(n: str | None) -> str | None:
    """A number as compared here: number_key, without any `@host` or `;params`."""
    key = number_key(n).split("@", 1)[0].split(";", 1)[0].lower()
    return key if sum(ch.isdigit() for ch in key) >= MIN_DIGITS else None


def _pairs(call: Call, cand: Call) -> list[tuple[float, str]]:
    """What ties `cand` to `call` by id, as (confidence, reason)."""
    out: list[tuple[float, str]] = []
    if call.sip_call_id and call.sip_call_id == cand.sip_call_id:
        out.append((SAME_CALL_ID, "same SIP Call-ID"))
    out += hints_for(call.provider).relations(call, cand)
    if cand.provider != call.provider:
        out += hints_for(cand.provider).relations(call, cand)
    return out


def related(call: Call, candidates: Iterable[Call], *, window_s: float = 10.0) -> list[Relation]:
    """The records of `candidates` related to `call` (itself excluded), strongest first."""
    me = (call.account, call.id)
    start = call.started_at.timestamp() if call.started_at is not None else None
    numbers = (_number(call.from_), _number(call.to))
    by_numbers = start is not None and None not in numbers
    found: dict[tuple[str, str], tuple[Call, list[tuple[float, str]]]] = {}
    for cand in candidates:
        key = (cand.account, cand.id)
        if key == me:
            continue
        ties = _pairs(call, cand)
        if by_numbers and cand.account != call.account and cand.started_at is not None:
            assert start is not None
            delta = cand.started_at.timestamp() - start
            if abs(delta) <= window_s and (_number(cand.from_), _number(cand.to)) == numbers:
                near = 1 - abs(delta) / window_s if window_s > 0 else 1.0
                conf = NUMBERS_FAR + (NUMBERS_NEAR - NUMBERS_FAR) * near
                ties.append((conf, f"same numbers {delta:+.1f} s apart"))
        if ties:
            held = found.get(key)
            if held is None:
                found[key] = (cand, ties)
            else:
                held[1].extend(ties)
    out = []
    for cand, ties in found.values():
        ties.sort(key=lambda t: -t[0])
        reasons = list(dict.fromkeys(reason for _, reason in ties))
        out.append(Relation(cand, "; ".join(reasons), ties[0][0]))
    out.sort(key=lambda r: (-r.confidence, _ts(r.call.started_at)))
    return out


def _ts(t: datetime | None) -> float:
    return t.timestamp() if t is not None else float("inf")
