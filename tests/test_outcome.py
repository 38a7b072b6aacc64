"""One outcome rule for every provider (calltui.outcome): the first step that
applies decides, so the same failure gets the same outcome whichever platform recorded it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from calltui.model import Outcome
from calltui.outcome import Evidence, decide
from calltui.providers import bandwidth, jambonz, plivo, restcomm, tmedia

A, B, N, C, F, L, U = (
    Outcome.ANSWERED,
    Outcome.BUSY,
    Outcome.NO_ANSWER,
    Outcome.CANCELLED,
    Outcome.FAILED,
    Outcome.IN_PROGRESS,
    Outcome.UNKNOWN,
)

RULE = [
    # 1. live
    (Evidence(live=True, sip=503, word="busy"), L),
    # 2. answered
    (Evidence(answered=True, sip=486), A),
    # 3. the final SIP status
    (Evidence(sip=486), B),
    (Evidence(sip=600), B),
    (Evidence(sip=487), C),
    (Evidence(sip=408), N),
    (Evidence(sip=480), N),
    (Evidence(sip=404), F),
    (Evidence(sip=503, q850=17), F),
    (Evidence(sip=603), F),
    (Evidence(sip=200, q850=17), B),  # a 2xx says nothing of a failure: on to the cause
    # 4. the Q.850 cause
    (Evidence(q850=17), B),
    (Evidence(q850=18), N),
    (Evidence(q850=19), N),
    (Evidence(q850=16), N),
    (Evidence(q850=34, word="busy"), F),
    (Evidence(q850=0, word="busy"), B),  # not a cause
    # 5. the provider's own word or code
    *[(Evidence(word=w), B) for w in ("busy", "user_busy", "USER_BUSY", "busy_everywhere")],
    *[(Evidence(word=w), N) for w in ("no-answer", "no_answer", "NO_ANSWER", "NO_USER_RESPONSE")],
    *[
        (Evidence(word=w), C)
        for w in ("canceled", "ORIGINATOR_CANCEL", "user_cancelled", "carrier_cancelled")
    ],
    (Evidence(word="NORMAL"), N),
    (Evidence(word="normal_clearing"), N),
    (Evidence(word="service_unavailable", code=F), F),
    (Evidence(word="some_new_reason", code=B), B),  # the adapter's code mapping after the words
    (Evidence(code=C), C),
    (Evidence(word="rejected"), F),
    (Evidence(word="failed"), F),
    (Evidence(ended=True), F),
    # 6. otherwise
    (Evidence(), U),
]


@pytest.mark.parametrize(("evidence", "outcome"), RULE)
def test_the_first_step_that_applies_decides(evidence: Evidence, outcome: Outcome) -> None:
    assert decide(evidence) is outcome


def flow(*steps: tuple[str, str]) -> dict[str, Any]:
    """A Tmedia leg's `call_traces` of (trace_info, trace_tooltip) steps in order, keyed as the
    box keys them (string order: "10" before "2")."""
    entries = {
        str(n): {"order": n, "trace_info": info, "trace_tooltip": tooltip}
        for n, (info, tooltip) in enumerate(steps, start=1)
    }
    return {"***meta***": {"valid_url": False}, **dict(sorted(entries.items()))}


INVITE = ("INVITE", "INVITE sip:79990001122@10.20.0.5:5060 SIP/2.0")
RINGING = ("180 Ringing", "SIP/2.0 180 Ringing")


def test_the_same_failure_gets_the_same_outcome_on_every_provider():
    """A busy callee, a caller who gave up and a carrier's 503 as each provider writes them
    (a Tmedia leg's call flow as its box writes it)."""
    t = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
    busy = {
        "tmedia 486": tmedia.outcome_of("Terminated", "486", None),
        "jambonz 486": jambonz.outcome_of(False, 486),
        "plivo user_busy": plivo.outcome(4410, "user_busy"),
        "plivo busy_everywhere": plivo.outcome(6000, "busy_everywhere"),
        "plivo user_busy, no code": plivo.outcome(None, "user_busy"),
        "bandwidth USER_BUSY": bandwidth.outcome_of("rejected", None, "USER_BUSY"),
        "restcomm busy": restcomm.outcome_of("busy"),
        "tmedia Q.850 17": tmedia.outcome_of("Terminated", "17", None),
        "tmedia NOT_NORMAL, 486 in its call flow": tmedia.outcome_of(
            "Inactive", "NOT_NORMAL", None, flow(INVITE, RINGING, ("486 Busy Here", "486"))
        ),
        "tmedia NOT_NORMAL, Q.850 17 in its call flow": tmedia.outcome_of(
            "Inactive", "NOT_NORMAL", None, flow(INVITE, ("BYE", "Reason: Q.850;cause=17"))
        ),
    }
    assert {k: v for k, v in busy.items() if v is not B} == {}
    cancelled = {
        "tmedia NORMAL, 487 in its call flow": tmedia.outcome_of(
            "Inactive", "NORMAL", None, flow(INVITE, RINGING, ("487 Request Terminated", ""))
        ),
        "jambonz 487": jambonz.outcome_of(False, 487),
        "plivo user_cancelled": plivo.outcome(4420, "user_cancelled"),
        "bandwidth ORIGINATOR_CANCEL": bandwidth.outcome_of("rejected", None, "ORIGINATOR_CANCEL"),
        "restcomm canceled": restcomm.outcome_of("canceled"),
    }
    assert {k: v for k, v in cancelled.items() if v is not C} == {}
    failed = {
        "tmedia 503": tmedia.outcome_of("Terminated", "503", None),
        "tmedia Q.850 34": tmedia.outcome_of("Terminated", "34", None),
        "tmedia NOT_NORMAL, 503 in its call flow": tmedia.outcome_of(
            "Inactive", "NOT_NORMAL", None, flow(INVITE, ("503 Service Unavailable", ""))
        ),
        "jambonz 503": jambonz.outcome_of(False, 503),
        "plivo 5350": plivo.outcome(5350, "service_unavailable_by_carrier"),
        "bandwidth rejected": bandwidth.outcome_of("rejected", None),
        "restcomm failed": restcomm.outcome_of("failed"),
    }
    assert {k: v for k, v in failed.items() if v is not F} == {}
    answered = {
        "tmedia NORMAL, connected": tmedia.outcome_of("Terminated", "NORMAL", t),
        "jambonz answered": jambonz.outcome_of(True, 200),
        "plivo 3000": plivo.outcome(3000, "normal_hangup"),
        "plivo normal_hangup, no code": plivo.outcome(None, "normal_hangup"),
        "bandwidth completed, activeTime": bandwidth.outcome_of("completed", t),
        "restcomm completed": restcomm.outcome_of("completed"),
    }
    assert {k: v for k, v in answered.items() if v is not A} == {}
    no_answer = {
        "tmedia NORMAL, never connected": tmedia.outcome_of("Terminated", "NORMAL", None),
        "jambonz 480": jambonz.outcome_of(False, 480),
        "bandwidth completed, no activeTime": bandwidth.outcome_of("completed", None),
        "restcomm no-answer": restcomm.outcome_of("no-answer"),
    }
    assert {k: v for k, v in no_answer.items() if v is not N} == {}
    live = {
        "tmedia Active": tmedia.outcome_of("Active", None, t),
        "bandwidth active": bandwidth.outcome_of("active", None),
        "restcomm ringing": restcomm.outcome_of("ringing"),
    }
    assert {k: v for k, v in live.items() if v is not L} == {}
