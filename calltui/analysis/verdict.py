"""The verdict: one line that says why a call ended the way it did.

    verdict(call_or_detail) -> Verdict

Give the CallDetail when the drill-down is loaded: it adds what the record lacks (Bandwidth's
hangup cause from its events, Plivo's post-dial delay from Insights, Tmedia's ladder across both
legs, jambonz's trace, Restcomm's notifications). A Call alone gives what its record holds.

What each field comes from:
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
from zoneinfo import ZoneInfo

from calltui.analysis import cause, jambonz_reasons, plivo_codes, q850
from calltui.analysis.sip import sip_meaning
from calltui.model import Call, CallDetail, Event, Outcome
from calltui.providers.tmedia import leg_events
from calltui.render import fmt_duration
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
_UTC = ZoneInfo("UTC")
"""Box times carry their offset; a naive one is read as UTC, which a duration does not mind."""


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
    events = _events(call, detail)
    sip = cause.final_sip(call)
    q = cause.q850_of(call) or _reason_header(events)
    hangup_by = _hangup_by(call, detail, events)
    pdd = _pdd(call, detail, events)
    side = _side(call, sip, q)
    reason = _provider_reason(call, detail)
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


def _events(call: Call, detail: CallDetail | None) -> list[Event]:
    """The drill-down's events, else a Tmedia leg's own `call_traces` (its record holds them)."""
    if detail is not None and detail.events:
        return detail.events
    if call.provider == "tmedia":
        return leg_events(call, _UTC)
    return []


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


# --- who hung up -----------------------------------------------------------------------------


def _hangup_by(call: Call, detail: CallDetail | None, events: list[Event]) -> str | None:
    by = None
    if call.provider == "plivo":
        source = call.raw.get("hangup_source", call.raw.get("hangup_initiator"))
        by = _plivo_party(source, call.direction)
    elif call.provider == "jambonz":
        by = _jambonz_party(call, detail)
    elif call.provider == "tmedia":
        by = _tmedia_party(call, detail, events)
    elif call.provider == "bandwidth" and (call.cause or "").upper() == "ORIGINATOR_CANCEL":
        by = "caller"
    if by is None and call.outcome is Outcome.CANCELLED:
        by = "caller"
    return by


def _plivo_party(source: Any, direction: str | None) -> str | None:
    """Zentrunk sits between your infrastructure (`customer`) and the `carrier`: inbound calls
    come from the carrier to you, outbound ones go from you to the carrier."""
    if not isinstance(source, str):
        return None
    s = source.strip().lower()
    if s == "zentrunk":
        return "provider"
    if s not in ("customer", "carrier") or direction not in ("inbound", "outbound"):
        return None
    caller_side = "carrier" if direction == "inbound" else "customer"
    return "caller" if s == caller_side else "callee"


def _jambonz_party(call: Call, detail: CallDetail | None) -> str | None:
    known = jambonz_reasons.lookup(call.cause)
    if known is not None and known.hangup_by is not None:
        return known.hangup_by
    for span in (detail.spans or []) if detail is not None else []:
        by = span.attributes.get("callTerminationBy")
        if isinstance(by, str):
            b = by.lower()
            if "caller" in b:
                return "caller"
            if "callee" in b or "called" in b:
                return "callee"
    return None


def _tmedia_party(call: Call, detail: CallDetail | None, events: list[Event]) -> str | None:
    """Who sent the first BYE or CANCEL. In `call_traces`, direction 1 is a message the box
    received on that leg and 2 one it sent; the incoming leg faces the caller and the outgoing
    leg the callee, so a BYE received on the incoming leg (or sent on the outgoing one) came
    from the caller."""
    legs = detail.legs if detail is not None and detail.legs else [call]
    incoming = {leg.id for leg in legs if leg.direction == "inbound"}
    for e in events:
        words = e.name.split()
        word = words[0].upper() if words else ""
        if word == "CANCEL":
            return "caller"
        data = e.data if isinstance(e.data, dict) else {}
        direction = data.get("direction")
        if word == "BYE" and direction in ("1", "2"):
            on_incoming = (data.get("leg") or call.id) in incoming
            return "caller" if (direction == "1") == on_incoming else "callee"
    return None


# --- post-dial delay -------------------------------------------------------------------------


def _pdd(call: Call, detail: CallDetail | None, events: list[Event]) -> float | None:
    insights = detail.extra.get("insights") if detail is not None else None
    if isinstance(insights, dict):
        ms = insights.get("post_dial_delay")
        if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0:
            return ms / 1000
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


def _side(call: Call, sip: int | None, q: int | None) -> str | None:
    if cause.answered(call) or call.outcome is Outcome.IN_PROGRESS:
        return None
    if call.outcome is Outcome.CANCELLED or sip == 487:
        return "caller"
    if call.provider == "plivo":
        by_source = _plivo_side(call)
        if by_source is not None:
            return by_source
    if sip is not None:
        return _sip_side(sip)
    if q is not None:
        return _q850_side(q)
    if call.outcome in (Outcome.BUSY, Outcome.NO_ANSWER):
        return "callee"
    return None


def _plivo_side(call: Call) -> str | None:
    code = call.cause_code
    if code is not None and code in plivo_codes.BUSINESS:
        return "caller" if code in (4420, 4550) else "callee"
    source = call.raw.get("hangup_source", call.raw.get("hangup_initiator"))
    party = _plivo_party(source, call.direction)
    if party == "provider":
        return "provider"
    if isinstance(source, str) and source.strip().lower() == "carrier":
        return "carrier"
    return party


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


# --- the provider's own words ----------------------------------------------------------------


def _provider_reason(call: Call, detail: CallDetail | None) -> str | None:
    out = None
    if call.provider == "plivo":
        out = _plivo_reason(call)
    elif call.provider == "jambonz":
        known = jambonz_reasons.lookup(call.cause)
        out = f"{known.text} ({known.meaning})" if known else call.cause
    elif call.provider == "tmedia":
        reason = call.raw.get("terminate_reason")
        out = f"terminate_reason {reason}" if isinstance(reason, (str, int)) and reason else None
    elif detail is not None and detail.explanation:
        # Bandwidth (its cause table) and Restcomm (the notification the interpreter logged).
        head = call.cause if call.provider == "bandwidth" and call.cause else None
        out = f"{head}: {detail.explanation}" if head else detail.explanation
    else:
        out = call.cause
    return inert(out, _REASON_LEN) if out else None


def _plivo_reason(call: Call) -> str | None:
    code = call.cause_code
    entry = plivo_codes.lookup(code)
    if entry is not None:
        alias = f" (recorded as {call.cause})" if call.cause and call.cause != entry.name else ""
        return f"hangup {entry.code} {entry.name}{alias}: {entry.meaning}"
    if code is not None:
        return f"hangup {code} {call.cause or ''} (not in the public table)".replace("  ", " ")
    return call.cause


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
