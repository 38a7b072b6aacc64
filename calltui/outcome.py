"""The one outcome rule: every provider's record gets its outcome here, from the
evidence its adapter reads, so the same failure gets the same outcome whichever platform
recorded it. The first step that applies decides:

1. live (the provider says the call is still up) → in_progress;
2. answered (the provider's own evidence of an answer) → answered;
3. the final SIP status, where known: 486, 600 → busy; 487 → cancelled; 408, 480 → no_answer;
   any other 4xx-6xx → failed;
4. the Q.850 cause, where known: 17 → busy; 18, 19 → no_answer; 16 (normal clearing, without
   an answer) → no_answer; any other → failed;
5. the provider's own word or code: busy words → busy, no-answer words → no_answer, cancel words
   → cancelled, a normal release without an answer → no_answer; a code the adapter maps (Plivo's
   hangup codes) → that; anything else that ended → failed;
6. otherwise unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from calltui.model import Outcome

SIP_OUTCOMES = {
    486: Outcome.BUSY,
    600: Outcome.BUSY,
    487: Outcome.CANCELLED,
    408: Outcome.NO_ANSWER,
    480: Outcome.NO_ANSWER,
}
Q850_OUTCOMES = {
    17: Outcome.BUSY,
    18: Outcome.NO_ANSWER,
    19: Outcome.NO_ANSWER,
    16: Outcome.NO_ANSWER,
}
WORDS = {
    **dict.fromkeys(("busy", "user_busy", "busy_everywhere"), Outcome.BUSY),
    **dict.fromkeys(("no_answer", "no_user_response"), Outcome.NO_ANSWER),
    **dict.fromkeys(
        ("canceled", "cancelled", "originator_cancel", "user_cancelled", "carrier_cancelled"),
        Outcome.CANCELLED,
    ),
    "normal": Outcome.NO_ANSWER,
    "normal_clearing": Outcome.NO_ANSWER,
}
"""The providers' own words, lower case with `-` and spaces read as `_` (`no-answer`,
`NO_ANSWER`, `USER_BUSY`, `ORIGINATOR_CANCEL`...). A normal release reaches step 5 only
without an answer."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """What an adapter read of how a call went; None/False where its record says nothing."""

    live: bool = False
    answered: bool = False
    sip: int | None = None
    """The final SIP status (a 2xx or 3xx says nothing of a failure: it is passed over)."""
    q850: int | None = None
    word: str | None = None
    """The provider's own word for the end of the call (a status, a hangup cause name)."""
    code: Outcome | None = None
    """What the provider's own numeric code means, mapped by its adapter (step 5, after the
    words)."""
    ended: bool = False
    """The call is over though nothing above says how: failed rather than unknown."""


def word_key(word: str) -> str:
    return word.strip().lower().replace("-", "_").replace(" ", "_")


def decide(e: Evidence) -> Outcome:
    if e.live:
        return Outcome.IN_PROGRESS
    if e.answered:
        return Outcome.ANSWERED
    if e.sip is not None and 400 <= e.sip < 700:
        return SIP_OUTCOMES.get(e.sip, Outcome.FAILED)
    if e.q850 is not None and 0 < e.q850 < 128:
        return Q850_OUTCOMES.get(e.q850, Outcome.FAILED)
    if e.word:
        by_word = WORDS.get(word_key(e.word))
        if by_word is not None:
            return by_word
    if e.code is not None:
        return e.code
    if e.word or e.ended:
        return Outcome.FAILED
    return Outcome.UNKNOWN
