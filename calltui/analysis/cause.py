"""What one record says about how its call ended, read the same way by the verdict and the KPIs.

Everything here is cheap enough to run over 100k records: dict and set lookups, string slicing,
no regular expression per record.

- `final_sip`: the final SIP status: the record's `sip_code`, else what its provider's hints
  read.
- `q850_of`: a Q.850 cause the record itself carries, by its provider's hints: Bandwidth's
  upper-case hangup cause (known after the drill-down, which reads the hangup event) or a small
  numeric Tmedia reason.
- `answered`: answered, or connected before it ended badly (Plivo 3020 rtp_timeout after an
  answer, a Tmedia leg with a connect time and a non-normal reason): ASR counts the answer.
- `effective`: whether the attempt counts for NER (ITU-T E.425):
  answered, or ended by what the called user did. See USER_SIP for the codes.
- `label`: a short failure-cause label for the cause mix.
- `pdd_s`: the post-dial delay where the record alone gives it.
"""

from __future__ import annotations

from calltui.analysis import q850
from calltui.analysis.sip import sip_phrase
from calltui.hints import hints_for
from calltui.model import Call, Outcome

USER_SIP = frozenset({480, 486, 487, 600, 603})
"""Final SIP statuses that report user behaviour, not a network failure: RFC 6076 §4.7 (SEER)
counts 480, 486, 600 and 603 as effective; 487 is the caller abandoning, which E.425 does not
charge to the network either. Every other final status (404, 408, 484, 403, 488, 5xx, ...) is a
network, routing or address failure for NER."""

USER_OUTCOMES = frozenset({Outcome.BUSY, Outcome.NO_ANSWER, Outcome.CANCELLED})
"""When a record has no final code at all (Restcomm, Bandwidth lists), its outcome decides."""

_LABEL_CACHE: dict[tuple[str, int | None, int | None, str | None, str], str] = {}
_LABEL_CACHE_MAX = 4096
_LABEL_LEN = 48


def final_sip(call: Call) -> int | None:
    if call.sip_code is not None:
        return call.sip_code
    return hints_for(call.provider).final_sip(call)


def q850_of(call: Call) -> int | None:
    return hints_for(call.provider).q850(call)


def answered(call: Call) -> bool:
    """Its outcome says so, or it ended with an answer time (answered, then cut or failed)."""
    return call.outcome is Outcome.ANSWERED or (
        call.answered_at is not None and call.outcome is not Outcome.IN_PROGRESS
    )


def unanswered_attempt(call: Call) -> bool:
    """An attempt that ended unanswered: what a failure cause is counted for."""
    return call.outcome is not Outcome.IN_PROGRESS and not answered(call)


def effective(call: Call) -> bool:
    """Answered, or the attempt reached the called user: busy, no answer, rejected by the
    user, abandoned by the caller. A final code decides where the record has one (SIP first,
    then a Plivo hangup code, then a Q.850 cause); the outcome decides only where none is given,
    so a jambonz 408 (mapped to no_answer by the outcome rules) is a timeout here, as in
    RFC 6076."""
    if answered(call):
        return True
    sip = final_sip(call)
    if sip is not None:
        return sip in USER_SIP
    said = hints_for(call.provider).effective(call)
    if said is not None:
        return said
    cause = q850_of(call)
    if cause is not None:
        return cause in q850.USER_BEHAVIOUR
    return call.outcome in USER_OUTCOMES


def label(call: Call) -> str:
    """`SIP 486 Busy Here`, `Plivo 5350 service_unavailable_by_carrier`, `Q.850 34 No
    circuit/channel available`, else the provider's own words or the outcome."""
    sip = final_sip(call)
    key = (call.provider, sip, call.cause_code, call.cause, call.outcome.value)
    out = _LABEL_CACHE.get(key)
    if out is None:
        out = _label(call, sip)[:_LABEL_LEN]
        if len(_LABEL_CACHE) >= _LABEL_CACHE_MAX:
            _LABEL_CACHE.clear()
        _LABEL_CACHE[key] = out
    return out


def _label(call: Call, sip: int | None) -> str:
    if sip is not None:
        return f"SIP {sip} {sip_phrase(sip) or ''}".rstrip()
    own = hints_for(call.provider).cause_label(call)
    if own is not None:
        return own
    cause = q850_of(call)
    if cause is not None:
        return f"Q.850 {cause} {q850.meaning(cause)}"
    head = f"{call.provider}: {call.outcome.value}"
    said = " ".join(call.cause.lower().split()) if call.cause else ""
    if said and _squash(said) not in (_squash(call.outcome.value), "canceled"):
        return f"{head} ({said})"
    return head


def _squash(s: str) -> str:
    return s.replace("_", "").replace("-", "").replace(" ", "")


def pdd_s(call: Call) -> float | None:
    """Post-dial delay (INVITE to the first 180/183) from the record alone: a `post_dial_delay`
    or `pdd_ms` field in milliseconds (Plivo Insights, Twilio-style summaries), else what its
    provider's hints read (the INVITE and first ringing entries of a Tmedia leg's
    `call_traces`, whole seconds: the box's clock)."""
    raw = call.raw
    for field in ("post_dial_delay", "pdd_ms"):
        ms = raw.get(field)
        if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0:
            return ms / 1000
    return hints_for(call.provider).pdd_s(call)
