"""Why a call failed, in plain words: SIP final codes and the summary's one line."""

from __future__ import annotations

from datetime import datetime, timezone

from calltui.analysis.sip import sip_meaning
from calltui.model import Call, Outcome
from calltui.tui.views import verdict_line


def test_sip_codes_have_plain_meanings_and_classes_cover_the_rest():
    assert sip_meaning(486) == "Busy Here: the callee is busy"
    assert sip_meaning(503).startswith("Service Unavailable")
    assert sip_meaning(499) == "SIP 499: refused by the far end"
    assert sip_meaning(None) is None and sip_meaning(99) is None


def test_the_one_line_says_the_code_its_meaning_and_the_providers_reason():
    call = Call(
        provider="jambonz",
        account="jz",
        id="c1",
        started_at=datetime(2026, 11, 20, tzinfo=timezone.utc),
        outcome=Outcome.FAILED,
        raw={},
        sip_code=503,
        cause="no trunk available",
    )
    line = verdict_line(call, None)
    assert line is not None
    assert line.startswith("SIP 503 Service Unavailable") and "jambonz says: no trunk" in line
    call.outcome = Outcome.ANSWERED
    assert verdict_line(call, None) is None
