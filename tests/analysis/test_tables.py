"""The cause tables: every entry well-formed, every table with its source, lookups that read
what providers write."""

from __future__ import annotations

import pytest

from calltui.analysis import q850, sip
from calltui.providers import jambonz_reasons, plivo_codes


@pytest.mark.parametrize("module", [sip, q850, plivo_codes, jambonz_reasons])
def test_every_table_names_its_source(module):
    assert isinstance(module.SOURCE, str) and len(module.SOURCE) > 20
    assert callable(module.lookup)


def test_sip_table_entries_are_final_codes_with_a_phrase():
    for code, meaning in sip.SIP_MEANING.items():
        assert 200 <= code < 700
        phrase = meaning.partition(":")[0]
        assert phrase and phrase[0].isupper() and phrase == phrase.strip()
        assert sip.sip_phrase(code) == phrase
    assert sip.lookup(486) == "Busy Here: the callee is busy"
    assert sip.sip_phrase(487) == "Request Terminated"
    assert sip.sip_phrase(499) == "SIP 499" and sip.sip_phrase(None) is None
    assert sip.sip_phrase(42) is None


def test_q850_table_is_the_recommendations_values():
    assert all(0 < c < 128 for c in q850.CAUSES)
    assert all(name and name[0].isupper() for name in q850.CAUSES.values())
    assert q850.meaning(16) == "Normal call clearing"
    assert q850.meaning(34) == "No circuit/channel available"
    assert q850.meaning(45) == "cause 45: resource unavailable"
    assert q850.meaning(0) is None and q850.meaning(128) is None and q850.meaning(None) is None
    assert q850.lookup is q850.meaning


def test_rfc3398_maps_point_at_known_codes_and_agree_where_both_directions_are_given():
    assert set(q850.TO_SIP) <= set(q850.CAUSES)
    assert set(q850.FROM_SIP.values()) <= set(q850.CAUSES)
    assert all(code in sip.SIP_MEANING for code in q850.TO_SIP.values())
    assert all(code in sip.SIP_MEANING for code in q850.FROM_SIP)
    assert q850.to_sip(17) == 486 and q850.from_sip(486) == 17
    assert q850.to_sip(34) == 503 and q850.from_sip(503) == 41
    assert q850.to_sip(16) is None and q850.from_sip(487) is None
    # A round trip through both tables keeps busy and unallocated as they are.
    for cause in (1, 17):
        assert q850.from_sip(q850.to_sip(cause)) == cause


def test_upper_case_cause_names_read_as_q850():
    assert all(v in q850.CAUSES for v in q850.NAMES.values())
    assert all(k == k.upper() and " " not in k for k in q850.NAMES)
    assert q850.by_name("USER_BUSY") == 17 and q850.by_name(" normal_clearing ") == 16
    assert q850.by_name("ORIGINATOR_CANCEL") is None and "ORIGINATOR_CANCEL" in q850.NAMES_NOT_Q850
    assert q850.by_name(None) is None and q850.by_name("NOT_A_CAUSE") is None


def test_reason_header_is_read_from_any_text():
    assert q850.from_reason('SIP/2.0 486 Busy Here\nReason: Q.850;cause=17;text="User busy"') == 17
    assert q850.from_reason("reason: q.850 ; cause = 34") == 34
    assert q850.from_reason("Reason: SIP;cause=200") is None
    assert q850.from_reason("Reason: Q.850;cause=999") is None
    assert q850.from_reason(None) is None


def test_plivo_table_is_well_formed():
    for code, entry in plivo_codes.CODES.items():
        assert entry.code == code and 3000 <= code < 7000
        assert entry.name == entry.name.lower() and " " not in entry.name
        assert entry.meaning and entry.meaning == entry.meaning.strip()
    assert set(plivo_codes.RECORD_NAMES.values()) <= set(plivo_codes.CODES)
    classified = plivo_codes.BUSINESS | plivo_codes.SUCCESS | plivo_codes.MID_CALL
    assert all(code in plivo_codes.CODES for code in classified)
    assert set(plivo_codes.SOURCES) == {"customer", "carrier", "zentrunk"}
    entry = plivo_codes.lookup(4410)
    assert entry is not None and entry.name == "user_busy"
    assert plivo_codes.lookup(4999) is None and plivo_codes.lookup(None) is None


def test_jambonz_reasons_are_what_the_sbcs_write():
    assert set(jambonz_reasons.REASONS) == {
        "caller hungup",
        "called party hungup",
        "failed",
        "caller abandoned",
    }
    for text, r in jambonz_reasons.REASONS.items():
        assert r.text == text and r.meaning and r.hangup_by in ("caller", "callee", None)
    hung = jambonz_reasons.lookup("Called  Party Hungup")
    assert hung is not None and hung.hangup_by == "callee"
    assert jambonz_reasons.lookup("something new") is None
    assert jambonz_reasons.lookup(None) is None
