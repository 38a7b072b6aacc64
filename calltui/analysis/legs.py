"""Calls, not legs: the records a provider lists apart for one call count once.

    calls_not_legs(calls) -> list[Call]

A Tmedia box lists each call as two legs, the incoming and the outgoing; KPIs over an account or
over every account count the call, not its seizures. Which records are legs of one call is the
provider's to say (Hints.call_key); the call is its outbound (outgoing) leg where it has one,
whose outcome is how the call went towards the called party, else its first leg listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from calltui.hints import Hints, hints_for
from calltui.model import Call


def calls_not_legs(calls: Iterable[Call]) -> list[Call]:
    """One record per call, in the order of each call's first leg, in one pass. Records without
    a call key pass unchanged; applied twice it changes nothing."""
    out: list[Call] = []
    at: dict[tuple[str, str, str], int] = {}
    hints: dict[str, Hints] = {}
    for c in calls:
        h = hints.get(c.provider)
        if h is None:
            h = hints[c.provider] = hints_for(c.provider)
        key = h.call_key(c)
        if key is None:
            out.append(c)
            continue
        # Keys are the provider's own ids: two boxes may reuse them.
        k = (c.provider, c.account, key)
        i = at.get(k)
        if i is None:
            at[k] = len(out)
            out.append(c)
        elif c.direction == "outbound" and out[i].direction != "outbound":
            out[i] = c
    return out
