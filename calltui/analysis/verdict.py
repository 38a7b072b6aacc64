"""The verdict: one line that says why a call ended the way it did.

    verdict(call_or_detail) -> Verdict

Give the CallDetail when the drill-down is loaded: it adds what the record lacks (Bandwidth's
hangup cause from its events, Plivo's post-dial delay from Insights, Tmedia's ladder across both
legs, jambonz's trace, Restcomm's notifications). A Call alone gives what its record holds.

What each field comes from (a provider's own fields are read by its hints, calltui.hints,
at the step named here):
- `sip_code`: the final SIP status (analysis.cause.final_sip), `sip_meaning` from analysis.sip.
- `q850`: a Q.850 cause where the provider gives one: Bandwidth's hangup cause name, a Tmedia
  numeric reason below 128, or an RFC 3326 `Reason: Q.850;cause=N` header in Tmedia's call flow;
  never inferred from the SIP code. `q850_meaning` from analysis.q850.
- `provider_reason`: the provider's own reason, with its table's meaning where there is one
  (Plivo hangup codes, jambonz termination reasons, Bandwidth causes, Restcomm notifications).
- `hangup_by`: `caller`, `callee` or `provider`, where the data says: Plivo `hangup_source`
  (customer/carrier mapped through the call's direction), jambonz `termination_reason` or the
  trace's `callTerminationBy`, which side sent Tmedia's BYE or CANCEL, Bandwidth's
  ORIGINATOR_CANCEL, any cancelled call (the caller gave up).
- `pdd_s`: post-dial delay (INVITE to first 180/183): Plivo Insights `post_dial_delay`, a
  Tmedia ladder (whole seconds: the box's clock), or a `post_dial_delay`/`pdd_ms` raw field.
- `side`: where the failure sits, one of SIDES or None (answered, in progress, or nothing to
  go on). This is our reading of the codes (an inference, not a provider's statement): busy, no
  answer and user rejections are the callee; a cancel, or an address the caller sent
  malformed (484, 485, Q.850 28), is the caller; authorization, policy and media refusals (401,
  402, 403, 407, 488, 606, other 4xx) are the carrier; timeouts, loops and 5xx are the network;
  a Plivo call Zentrunk itself ended is the provider, and Plivo's `hangup_source` names the
  carrier or your own side before any code is read.
- `line`: the one line, plain text with control characters removed; it can still hold `[`
  from provider text, so show it as plain text (a rich Text), never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calltui.analysis import cause, q850
from calltui.analysis.sip import sip_meaning
from calltui.columns import fmt_duration
from calltui.hints import Hints, hints_for
from calltui.model import Call, CallDetail, Event, Outcome
from calltui.text import inert

SIDES = ("caller", "callee", "carrier", "network", "provider")

_OUTCOME_WORDS = {
    Outcome.ANSWERED: "Answered",
    Outcome.BUSY: "Busy",
    Outcome.NO_ANSWER: "No answer",
    Outcome.CANCELLED: "Cancelled",
    Outcome.FAILED: "Failed",
    Outcome.IN_PROGRESS: "In progress",
    Outcome.UNKNOWN: "Outcome unknown",
}
_ADDRESS_CALLEE = frozenset({404, 410, 604})
_ADDRESS_CALLER = frozenset({484, 485})
_NETWORK_SIP = frozenset({408, 482, 483})
_Q850_NETWORK = frozenset({2, 3, 27, 34, 38, 41, 42, 44, 47, 102})
_REASON_LEN = 160


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    side: str | None
    sip_code: int | None
    sip_meaning: str | None
    q850: int | None
    q850_meaning: str | None
    provider_reason: str | None
    hangup_by: str | None
    pdd_s: float | None
    line: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "side": self.side,
            "sip_code": self.sip_code,
            "sip_meaning": self.sip_meaning,
            "q850": self.q850,
            "q850_meaning": self.q850_meaning,
            "provider_reason": self.provider_reason,
            "hangup_by": self.hangup_by,
            "pdd_s": self.pdd_s,
            "line": self.line,
        }


def verdict(subject: Call | CallDetail) -> Verdict:
    detail = subject if isinstance(subject, CallDetail) else None
    call = detail.call if detail is not None else subject
    assert isinstance(call, Call)
    hints = hints_for(call.provider)
    events = detail.events if detail is not None and detail.events else hints.events_of(call)
    sip = cause.final_sip(call)
    q = cause.q850_of(call) or _reason_header(events)
    hangup_by = hints.hangup_party(call, detail, events)
    if hangup_by is None and call.outcome is Outcome.CANCELLED:
        hangup_by = "caller"
    pdd = _pdd(call, detail, events, hints)
    side = _side(call, sip, q, hints)
    reason = hints.reason(call, detail)
    reason = inert(reason, _REASON_LEN) if reason else None
    line = _line(call, side, sip, q, reason, hangup_by, pdd)
    return Verdict(
        outcome=call.outcome,
        side=side,
        sip_code=sip,
        sip_meaning=sip_meaning(sip),
        q850=q,
        q850_meaning=q850.meaning(q),
        provider_reason=reason,
        hangup_by=hangup_by,
        pdd_s=pdd,
        line=line,
    )


# --- the call flow ---------------------------------------------------------------------------


def _reason_header(events: list[Event]) -> int | None:
    """The last `Reason: Q.850;cause=N` in the call flow: the final response comes last."""
    found = None
    for e in events:
        texts = [e.name]
        if isinstance(e.data, dict):
            texts += [v for v in e.data.values() if isinstance(v, str)]
        elif isinstance(e.data, str):
            texts.append(e.data)
        for text in texts:
            c = q850.from_reason(text)
            if c is not None:
                found = c
    return found


# --- post-dial delay -------------------------------------------------------------------------


def _pdd(call: Call, detail: CallDetail | None, events: list[Event], hints: Hints) -> float | None:
    stated = hints.detail_pdd_s(detail) if detail is not None else None
    if stated is not None:
        return stated
    from_events = _events_pdd(events)
    return from_events if from_events is not None else cause.pdd_s(call)


def _events_pdd(events: list[Event]) -> float | None:
    """The first INVITE to the first 180/183 of a ladder (Tmedia's two legs merged)."""
    invite: datetime | None = None
    ring: datetime | None = None
    for e in events:
        if e.time is None:
            continue
        name = e.name.strip()
        if name.startswith("INVITE") and (invite is None or e.time < invite):
            invite = e.time
        elif name[:3] in ("180", "183") and (ring is None or e.time < ring):
            ring = e.time
    if invite is None or ring is None or ring < invite:
        return None
    return (ring - invite).total_seconds()


# --- side ------------------------------------------------------------------------------------


def _side(call: Call, sip: int | None, q: int | None, hints: Hints) -> str | None:
    if cause.answered(call) or call.outcome is Outcome.IN_PROGRESS:
        return None
    if call.outcome is Outcome.CANCELLED or sip == 487:
        return "caller"
    named = hints.failure_side(call)
    if named is not None:
        return named
    if sip is not None:
        return _sip_side(sip)
    if q is not None:
        return _q850_side(q)
    if call.outcome in (Outcome.BUSY, Outcome.NO_ANSWER):
        return "callee"
    return None


def _sip_side(sip: int) -> str:
    if sip in cause.USER_SIP or sip in _ADDRESS_CALLEE:
        return "callee"
    if sip in _ADDRESS_CALLER:
        return "caller"
    if sip in _NETWORK_SIP or 500 <= sip < 600:
        return "network"
    if 600 <= sip < 700:
        return "callee"
    return "carrier"


def _q850_side(q: int) -> str:
    if q in q850.USER_BEHAVIOUR or q in (1, 22):
        return "callee"
    if q == 28:
        return "caller"
    if q in _Q850_NETWORK:
        return "network"
    return "carrier"


# --- the line --------------------------------------------------------------------------------


def _line(
    call: Call,
    side: str | None,
    sip: int | None,
    q: int | None,
    reason: str | None,
    hangup_by: str | None,
    pdd: float | None,
) -> str:
    head = _OUTCOME_WORDS[call.outcome]
    if call.outcome is not Outcome.ANSWERED and cause.answered(call):
        head = f"{head} after answer"
    if side:
        head += f" ({side} side)"
    parts = []
    talk = call.duration_s
    if cause.answered(call) and talk is not None:
        parts.append(f"talked {fmt_duration(talk)}")
    if sip is not None and not (sip == 200 and call.outcome is Outcome.ANSWERED):
        parts.append(f"SIP {sip} {sip_meaning(sip) or ''}".rstrip())
    if q is not None and not (q == 16 and cause.answered(call)):
        parts.append(f"Q.850 {q} {q850.meaning(q)}")
    if reason:
        parts.append(f"{call.provider}: {reason}")
    if hangup_by:
        parts.append(f"hung up by the {hangup_by}")
    if pdd is not None:
        parts.append(f"PDD {pdd:.1f} s")
    return inert(head + (": " + " · ".join(parts) if parts else ""))
