"""jambonz CDR `termination_reason` values: what each means and who ended the call.

Source: the code that writes the CDRs, as research/providers-jambonz-tmedia.md §1.2 records it:
- `jambonz/sbc-inbound` `lib/middleware.js:61-69` (a failed inbound call: `failed`; the
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

SOURCE = (
    "jambonz sbc-inbound lib/middleware.js and lib/call-session.js (research/providers-jambonz-"
    "tmedia.md §1.2); jambonz sbc-outbound lib/call-session.js @ 00435837"
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
