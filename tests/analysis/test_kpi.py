"""KPIs over a set of records: each number against a set built by hand, the per-account split,
the bucket series, and the text helpers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from calltui.analysis import kpi
from calltui.model import Call, Outcome
from tests.analysis.records import T0, call

A, B, C, F, N, P = (
    Outcome.ANSWERED,
    Outcome.BUSY,
    Outcome.CANCELLED,
    Outcome.FAILED,
    Outcome.NO_ANSWER,
    Outcome.IN_PROGRESS,
)


def sample() -> list[Call]:
    """12 records: 1 in progress; of 11 attempts 5 answered (one with a 4 s talk, one Plivo
    call answered then dropped), 3 user-behaviour failures, 3 network failures."""
    return [
        call(1, A, at_s=0, talk=100, sip_code=200),
        call(2, A, at_s=30, talk=4, sip_code=200),
        call(3, A, at_s=61, talk=60, sip_code=200),
        call(4, A, at_s=62, talk=20, account="b", provider="restcomm"),
        # Plivo 3020: answered, then the media timed out: answered for ASR.
        call(5, F, at_s=65, talk=36, account="b", provider="plivo", cause_code=3020),
        call(6, B, at_s=70, sip_code=486),
        call(7, C, at_s=75, sip_code=487),
        # A Tmedia leg: its numeric terminate_reason is the SIP status.
        call(
            8, F, at_s=80, account="b", provider="tmedia", sip_code=603, cause_code=603, cause="603"
        ),
        call(9, F, at_s=130, sip_code=503),
        call(10, N, at_s=135, sip_code=408),  # a timeout by code, whatever the outcome says
        call(11, F, at_s=140, account="b", provider="plivo", cause_code=5180),
        call(12, P, at_s=150),
    ]


def test_each_number_against_the_hand_count():
    k = kpi.summarize(sample(), since=T0, until=T0 + timedelta(seconds=179))[0]
    assert (k.attempts, k.answered, k.failed, k.in_progress) == (11, 5, 6, 1)
    assert k.asr == pytest.approx(100 * 5 / 11)
    # Effective: 5 answered + 486 + 487 + Tmedia 603.
    assert k.effective == 8 and k.ner == pytest.approx(100 * 8 / 11)
    assert k.acd_s == pytest.approx((100 + 4 + 60 + 20 + 36) / 5)
    assert (k.short_calls, k.short_share) == (1, pytest.approx(20.0))
    assert k.pdd_s is None and k.pdd_calls == 0
    assert k.per_minute == [2, 6, 4]
    assert k.causes == [
        ("Plivo 5180 cps_limit_reached", 1),
        ("SIP 408 Request Timeout", 1),
        ("SIP 486 Busy Here", 1),
        ("SIP 487 Request Terminated", 1),
        ("SIP 503 Service Unavailable", 1),
    ]
    assert kpi.summarize(sample(), top=2)[0].causes == k.causes[:2]


def test_per_account_in_one_pass_adds_up_to_the_merged_numbers():
    merged, per = kpi.summarize(sample(), since=T0, until=T0 + timedelta(seconds=179))
    assert list(per) == ["a", "b"]
    assert (per["a"].attempts, per["a"].answered, per["a"].effective) == (7, 3, 5)
    assert (per["b"].attempts, per["b"].answered, per["b"].effective) == (4, 2, 3)
    assert per["b"].causes == [("Plivo 5180 cps_limit_reached", 1), ("SIP 603 Decline", 1)]
    for field in ("attempts", "answered", "effective", "failed", "in_progress", "short_calls"):
        assert getattr(merged, field) == sum(getattr(k, field) for k in per.values())
    assert merged.per_minute == [
        a + b for a, b in zip(per["a"].per_minute, per["b"].per_minute, strict=True)
    ]


def test_accounts_asked_for_appear_even_without_calls():
    merged, per = kpi.summarize([], accounts=["x", "y"], since=T0, until=T0 + timedelta(minutes=2))
    assert list(per) == ["x", "y"]
    for k in (merged, *per.values()):
        assert k.attempts == 0 and k.asr is None and k.ner is None and k.acd_s is None
        assert k.short_share is None and k.causes == [] and k.per_minute == [0, 0]


def test_without_a_window_the_calls_bound_it_and_a_generator_is_fine():
    k = kpi.summarize(c for c in sample())[0]
    assert k.since == T0 and sum(k.per_minute) == 12 and len(k.per_minute) == 3


def test_calls_outside_the_window_count_but_leave_the_series_alone():
    k = kpi.summarize(
        sample(), since=T0 + timedelta(seconds=60), until=T0 + timedelta(seconds=119)
    )[0]
    assert k.attempts == 11 and k.per_minute == [6]


def test_codes_decide_effective_before_outcomes():
    calls = [
        call(1, F, provider="plivo", cause_code=6000),  # busy_everywhere: the user
        call(2, F, provider="plivo", cause_code=4090),  # destination_not_found: routing
        call(3, F, provider="bandwidth", cause="NO_ANSWER"),  # Q.850 19
        call(4, F, provider="bandwidth", cause="NETWORK_OUT_OF_ORDER"),  # Q.850 38
        call(5, B, provider="restcomm"),  # no code at all: the outcome decides
        call(6, F, provider="restcomm"),
        call(7, F, provider="tmedia", cause_code=404, cause="404"),
    ]
    k = kpi.summarize(calls)[0]
    assert k.effective == 3 and k.answered == 0


def test_tmedia_post_dial_delay_comes_from_the_call_flow():
    def traces(ring: str | None) -> dict[str, Any]:
        t = {"1": {"order": 1, "timestamp": "2026/11/20 13:00:00 +0300", "trace_info": "INVITE"}}
        if ring:
            t["2"] = {
                "order": 2,
                "timestamp": f"2026/11/20 {ring} +0300",
                "trace_info": "180 Ringing",
            }
        return {"call_traces": t}

    calls = [
        call(1, N, provider="tmedia", raw=traces("13:00:02")),
        call(2, N, provider="tmedia", raw=traces("13:00:05")),
        call(3, F, provider="tmedia", raw=traces(None)),
        call(4, A, talk=10, provider="plivo", raw={"post_dial_delay": 1500}),
    ]
    k = kpi.summarize(calls)[0]
    assert k.pdd_calls == 3 and k.pdd_s == pytest.approx((2 + 5 + 1.5) / 3)


def test_kpis_to_dict_has_the_documented_keys():
    d = kpi.summarize(sample())[0].to_dict()
    assert tuple(d) == kpi.KPI_KEYS
    assert d["causes"][0] == {"label": "Plivo 5180 cps_limit_reached", "count": 1}
    assert d["since"] == "2026-11-20T10:00:00+00:00"


def test_sparkline_scales_to_the_peak_and_bins_long_series():
    assert kpi.sparkline([0, 1, 2, 4, 8], 10) == " ▂▃▅█"
    assert kpi.sparkline([3, 3, 3], 10) == "███"
    assert kpi.sparkline([0, 0], 5) == "  " and kpi.sparkline([], 5) == ""
    long = [1] * 60 + [0] * 60
    line = kpi.sparkline(long, 12)
    assert len(line) == 12 and line == "█" * 6 + " " * 6
    assert kpi.sparkline([5], 0) == ""


def test_bar_is_proportional_padded_and_never_empty_for_a_count():
    assert kpi.bar(10, 10, 8) == "█" * 8
    assert kpi.bar(5, 10, 8) == "████    "
    assert kpi.bar(1, 1000, 8) == "▏       "
    assert kpi.bar(0, 10, 4) == "    " and kpi.bar(3, 0, 4) == "    "
    assert kpi.bar(15, 10, 4) == "████" and kpi.bar(1, 1, 0) == ""
    assert kpi.bar(3, 16, 8) == "█▌      "
