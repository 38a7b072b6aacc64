"""Why a call failed, in plain words: SIP final codes and the summary's verdict line."""

from __future__ import annotations

from datetime import datetime, timezone

from calltui.analysis.sip import sip_meaning
from calltui.analysis.verdict import verdict
from calltui.model import Call, Outcome
from calltui.tui.views import verdict_line


def test_sip_codes_have_plain_meanings_and_classes_cover_the_rest():
    assert sip_meaning(486) == "Busy Here: the callee is busy"
    assert sip_meaning(503).startswith("Service Unavailable")
    assert sip_meaning(499) == "SIP 499: refused by the far end"
    assert sip_meaning(None) is None and sip_meaning(99) is None


def test_the_one_line_is_the_verdict_with_code_meaning_and_the_providers_reason():
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
    assert line == verdict(call).line
    assert line.startswith("Failed (network side): SIP 503 Service Unavailable")
    assert "jambonz: no trunk available" in line
    call.outcome = Outcome.ANSWERED
    call.sip_code, call.cause, call.duration_s = 200, "caller hungup", 75
    line = verdict_line(call, None)
    assert line.startswith("Answered: talked 1:15") and "hung up by the caller" in line
