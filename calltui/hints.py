"""What a provider's own fields say about how a call ended: the hooks analysis reads them by.

    hints_for(provider_name) -> Hints

The normalized record (model.Call) holds what every provider gives; the rest (a SIP status
written as a terminate reason, a hangup source, a call flow held inside the record, a parent id
with a meaning of its own) is known only to its provider. Each provider class carries a Hints
object (Provider.HINTS) that answers these questions for its records; calltui.analysis asks
them here and never branches on a provider's name. Every method of the base class answers
"nothing known", which is what a provider without hints of its own (or an unknown one) gets.

The hooks are read in a fixed place of each rule (see analysis.cause and analysis.verdict), so a
provider answers only what its data holds and the generic reading does the rest.
"""

from __future__ import annotations

from calltui.model import Call, CallDetail, Event
from calltui.providers import registry

PARENT = 0.9
"""Confidence of a relation by the id of the call a record says it was spawned from."""


class Hints:
    def final_sip(self, call: Call) -> int | None:
        """A final SIP status the record gives outside `sip_code` (asked when that is None)."""
        return None

    def q850(self, call: Call) -> int | None:
        """A Q.850 cause the record itself carries (never inferred from the SIP status)."""
        return None

    def effective(self, call: Call) -> bool | None:
        """Whether the provider's own code says the attempt reached the called user (NER),
        asked when no final SIP status is known; None: the code says nothing (the Q.850 cause,
        then the outcome decide)."""
        return None

    def cause_label(self, call: Call) -> str | None:
        """The cause-mix label of the provider's own code, asked when no SIP status is known."""
        return None

    def pdd_s(self, call: Call) -> float | None:
        """Post-dial delay from the record alone, asked after its generic `post_dial_delay` and
        `pdd_ms` fields (a call flow the record holds)."""
        return None

    def detail_pdd_s(self, detail: CallDetail) -> float | None:
        """Post-dial delay the drill-down states outright (read before its events)."""
        return None

    def events_of(self, call: Call) -> list[Event]:
        """The call flow the record itself holds, read where no drill-down gives events."""
        return []

    def hangup_party(
        self, call: Call, detail: CallDetail | None, events: list[Event]
    ) -> str | None:
        """`caller`, `callee` or `provider`: who ended the call, where the data says (a
        cancelled call is the caller's without any hint)."""
        return None

    def failure_side(self, call: Call) -> str | None:
        """The side of a failure (analysis.verdict.SIDES) the provider names outright, asked
        before any code is read."""
        return None

    def reason(self, call: Call, detail: CallDetail | None) -> str | None:
        """The provider's own reason, with its table's meaning where it has one: here the
        drill-down's explanation, else the record's cause."""
        if detail is not None and detail.explanation:
            return detail.explanation
        return call.cause

    def call_key(self, call: Call) -> str | None:
        """What the records this provider lists apart for one call share (the legs of one
        call on a B2BUA), so that KPIs count the call once; None: the record is a call of its
        own. Keys are compared within one account."""
        return None

    def relations(self, call: Call, cand: Call) -> list[tuple[float, str]]:
        """What ties `cand` to `call` by this provider's ids, as (confidence, reason). Asked of
        the provider of `call` and, when it is another, of the provider of `cand`."""
        return []


NO_HINTS = Hints()


def hints_for(provider: str) -> Hints:
    """The hints of the provider called `provider`; NO_HINTS for a name not registered."""
    try:
        return registry.get(provider).HINTS
    except KeyError:
        return NO_HINTS
