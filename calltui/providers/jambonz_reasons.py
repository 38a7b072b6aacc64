"""jambonz CDR `termination_reason` values: what each means and who ended the call; and the
hints (calltui.hints) that read them, the trace's `callTerminationBy` and `sip_parent_callid`.

Source: the code that writes the CDRs:
- `jambonz/sbc-inbound` @ `6608286e` `lib/middleware.js:61-69` (a failed inbound call: `failed`; the
  `487 === status ? 'caller abandoned' : 'failed'` there always yields `failed`, so a cancelled
  inbound call shows only by its `sip_status` 487) and `lib/call-session.js:497-518` (an answered
  call: `caller hungup` or `called party hungup`, `sip_status` 200);
- `jambonz/sbc-outbound` `lib/call-session.js` @ `00435837d40b00d9bd018f04d8caa0096d4b4d5e` (a
  failed outbound call: `caller abandoned` for 487, else `failed`; an answered one: `caller
  hungup` when the feature-server side (the UAS dialog) ended it, else `called party hungup`).
The text is a free string in Influx: anything else is shown as the server wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass

from calltui.hints import PARENT, Hints
from calltui.model import Call, CallDetail, Event

NAME = "jambonz"

SOURCE = (
    "jambonz sbc-inbound lib/middleware.js and lib/call-session.js @ 6608286e; "
    "jambonz sbc-outbound lib/call-session.js @ 00435837"
)


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    meaning: str
    hangup_by: str | None
    """`caller`, `callee` or None when the reason does not say."""


REASONS: dict[str, Reason] = {
    r.text: r
    for r in (
        Reason(
            "caller hungup",
            "the call was answered and the calling side hung up",
            "caller",
        ),
        Reason(
            "called party hungup",
            "the call was answered and the called party hung up",
            "callee",
        ),
        Reason(
            "failed",
            "not answered: the final SIP status says why",
            None,
        ),
        Reason(
            "caller abandoned",
            "the caller cancelled before answer (SIP 487)",
            "caller",
        ),
    )
}


def lookup(text: str | None) -> Reason | None:
    """The known reason for a `termination_reason` (case and spaces ignored), else None."""
    if not text:
        return None
    return REASONS.get(" ".join(text.lower().split()))


class JambonzHints(Hints):
    def hangup_party(
        self, call: Call, detail: CallDetail | None, events: list[Event]
    ) -> str | None:
        """The termination reason where it says, else the trace's `callTerminationBy`."""
        known = lookup(call.cause)
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

    def reason(self, call: Call, detail: CallDetail | None) -> str | None:
        known = lookup(call.cause)
        return f"{known.text} ({known.meaning})" if known else call.cause

    def relations(self, call: Call, cand: Call) -> list[tuple[float, str]]:
        """`sip_parent_callid` (the record's parent_id) is the Call-ID of the call this one was
        spawned from (sbc-outbound writes the X-CID header there): any record's SIP Call-ID,
        whichever provider recorded it."""
        if call.provider == NAME and call.parent_id and call.parent_id == cand.sip_call_id:
            return [(PARENT, "its parent call (sip_parent_callid is that Call-ID)")]
        if cand.provider == NAME and cand.parent_id and cand.parent_id == call.sip_call_id:
            return [(PARENT, "a call it spawned (sip_parent_callid is this Call-ID)")]
        return []
