"""The verdict: why a call ended, from a record alone (parsed by the real adapters' parsers) and
from a drill-down fetched over HTTP from the simulator."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from calltui.analysis.verdict import SIDES, Verdict, verdict
from calltui.model import Call, CallDetail, Outcome, Span
from calltui.providers import bandwidth as pb
from calltui.providers import jambonz as pj
from calltui.providers import plivo as pp
from calltui.providers import tmedia as pt
from calltui.sim import bandwidth as sim_bandwidth
from calltui.sim import plivo as sim_plivo
from calltui.sim import tmedia as sim_tmedia
from calltui.sim.app import SimApp
from tests.conftest import FIXED_NOW, OpenDemo

UTC = timezone.utc
MSK = ZoneInfo("Europe/Moscow")


def plivo(**fields: Any) -> Call:
    base = {
        "call_uuid": "f3f74402-59af-40b3-909c-80c50a4b063f",
        "call_id": "459580122_124515270@206.146.101.14",
        "from_number": "+919902443540",
        "to_number": "+17322179088",
        "initiation_time": "2026-09-18 08:51:53",
        "end_time": "2026-09-18 08:52:26",
    }
    return pp.parse_call({**base, **fields}, "plivo-prod", UTC)


def jambonz(**fields: Any) -> Call:
    base = {
        "attempted_at": "2026-11-20T10:00:00.000Z",
        "sip_callid": "ee7a0927c4fda9f246a47cf117bd92f3@0.0.0.0",
        "from": "15083084809",
        "to": "18882349999",
        "direction": "inbound",
        "answered": False,
        "answered_at": "1970-01-01T00:00:00.000Z",
        "terminated_at": "2026-11-20T10:00:03.000Z",
        "termination_reason": "failed",
        "duration": 0,
    }
    return pj.parse_call({**base, **fields}, "jz")


def trace(order: int, at: str, direction: str, info: str, tooltip: str = "") -> dict[str, Any]:
    return {
        "order": order,
        "timestamp": f"2026/11/20 {at} +0300",
        "direction": direction,
        "trace_info": info,
        "trace_tooltip": tooltip or info,
    }


def tmedia_leg(direction: str, reason: str, traces: list[dict[str, Any]], **fields: Any) -> Call:
    raw = {
        "leg_id": "0x0E47AC10" if direction == "1" else "0x0E47AC11",
        "other_leg_id": "0x0E47AC11" if direction == "1" else "0x0E47AC10",
        "call_id": "a84b4c76e66710@198.51.100.7",
        "calling": "74951234567",
        "called": "79990001122",
        "direction": direction,
        "timestamp": "2026/11/20 10:00:00 +0300",
        "connect_timestamp": "1970/01/01 03:00:00 +0300",
        "call_duration": 0,
        "call_state": "Inactive",
        "terminate_reason": reason,
        "call_traces": {str(t["order"]): t for t in traces} | {"***meta***": {}},
        **fields,
    }
    return pt.parse_leg(raw, "sbc", MSK)


def check_well_formed(v: Verdict) -> None:
    assert v.side is None or v.side in SIDES
    assert v.hangup_by in (None, "caller", "callee", "provider")
    assert "\n" not in v.line and "\x1b" not in v.line
    assert set(v.to_dict()) == {
        "outcome", "side", "sip_code", "sip_meaning", "q850", "q850_meaning",
        "provider_reason", "hangup_by", "pdd_s", "line",
    }  # fmt: skip


# --- from the record alone -------------------------------------------------------------------


def test_plivo_busy_on_an_outbound_call_is_the_callees_side():
    v = verdict(
        plivo(
            hangup_cause_code=4410,
            hangup_cause_name="user_busy",
            hangup_source="carrier",
            call_direction="outbound",
        )
    )
    check_well_formed(v)
    assert v.outcome is Outcome.BUSY and v.side == "callee" and v.hangup_by == "callee"
    assert v.provider_reason is not None and "4410 user_busy" in v.provider_reason
    assert v.line.startswith("Busy (callee side): plivo: hangup 4410 user_busy")
    assert "hung up by the callee" in v.line


def test_plivo_limit_hit_by_zentrunk_is_the_providers_side():
    v = verdict(
        plivo(
            hangup_cause_code=5180,
            hangup_cause_name="cps_limit_reached",
            hangup_source="zentrunk",
            call_direction="outbound",
        )
    )
    assert v.side == "provider" and v.hangup_by == "provider"
    assert "calls-per-second" in v.line


def test_plivo_answered_call_says_who_hung_up_and_how_long_it_talked():
    v = verdict(
        plivo(
            hangup_cause_code=3010,
            hangup_cause_name="normal_hangup",
            hangup_source="customer",
            call_direction="inbound",
            answer_time="2026-09-18 08:51:54",
            call_duration=32,
        )
    )
    assert v.outcome is Outcome.ANSWERED and v.side is None
    # Inbound: the carrier calls your side (the customer), so the customer is the callee.
    assert v.hangup_by == "callee"
    assert v.line.startswith("Answered: talked 0:32 · ") and "hung up by the callee" in v.line


def test_plivo_renamed_code_shows_the_recorded_name():
    v = verdict(plivo(hangup_cause_code=4550, hangup_cause_name="customer_cancelled"))
    assert v.outcome is Outcome.CANCELLED and v.side == "caller" and v.hangup_by == "caller"
    assert "4550 user_cancelled (recorded as customer_cancelled)" in (v.provider_reason or "")


def test_jambonz_failure_gives_the_sip_code_meaning_and_the_network_side():
    v = verdict(jambonz(sip_status=503))
    check_well_formed(v)
    assert (v.sip_code, v.side, v.q850) == (503, "network", None)
    assert v.sip_meaning is not None and v.sip_meaning.startswith("Service Unavailable")
    assert v.line.startswith("Failed (network side): SIP 503 Service Unavailable")
    assert "jambonz: failed (not answered" in v.line


def test_jambonz_sides_follow_the_code():
    assert verdict(jambonz(sip_status=486)).side == "callee"
    assert verdict(jambonz(sip_status=484)).side == "caller"
    assert verdict(jambonz(sip_status=403)).side == "carrier"
    cancelled = verdict(jambonz(sip_status=487))
    assert cancelled.outcome is Outcome.CANCELLED
    assert (cancelled.side, cancelled.hangup_by) == ("caller", "caller")


def test_jambonz_answered_call_reads_who_hung_up_from_the_termination_reason():
    v = verdict(
        jambonz(
            answered=True,
            answered_at="2026-11-20T10:00:02.000Z",
            terminated_at="2026-11-20T10:01:30.000Z",
            duration=88,
            sip_status=200,
            termination_reason="called party hungup",
        )
    )
    assert v.outcome is Outcome.ANSWERED and v.side is None and v.hangup_by == "callee"
    assert v.line.startswith("Answered: talked 1:28 · jambonz: called party hungup")
    assert "SIP 200" not in v.line


def test_tmedia_leg_gives_sip_q850_and_post_dial_delay_from_its_call_flow():
    flow = [
        trace(1, "10:00:00", "1", "INVITE"),
        trace(2, "10:00:00", "2", "100 Trying"),
        trace(3, "10:00:03", "2", "183 Session Progress"),
        trace(4, "10:00:09", "2", "486 Busy Here",
              'SIP/2.0 486 Busy Here\nReason: Q.850;cause=17;text="User busy"'),
        trace(5, "10:00:09", "1", "ACK"),
    ]  # fmt: skip
    v = verdict(tmedia_leg("1", "486", flow))
    check_well_formed(v)
    assert (v.sip_code, v.q850, v.pdd_s, v.side) == (486, 17, 3.0, "callee")
    assert v.q850_meaning == "User busy"
    assert "terminate_reason 486" in (v.provider_reason or "")
    assert "PDD 3.0 s" in v.line and "Q.850 17 User busy" in v.line


def test_tmedia_bye_direction_tells_who_hung_up_on_each_leg():
    connected = {"connect_timestamp": "2026/11/20 10:00:05 +0300", "call_duration": 60}
    flow_in = [
        trace(1, "10:00:00", "1", "INVITE"),
        trace(2, "10:00:02", "2", "180 Ringing"),
        trace(3, "10:00:05", "2", "200 OK"),
        trace(4, "10:01:05", "1", "BYE"),
    ]
    incoming = verdict(tmedia_leg("1", "NORMAL", flow_in, **connected))
    assert incoming.outcome is Outcome.ANSWERED and incoming.hangup_by == "caller"
    assert incoming.pdd_s == 2.0
    # The same BYE received on the outgoing leg came from the callee.
    flow_out = [trace(1, "10:00:00", "2", "INVITE"), trace(2, "10:01:05", "1", "BYE")]
    outgoing = verdict(tmedia_leg("2", "NORMAL", flow_out, **connected))
    assert outgoing.hangup_by == "callee"
    cancel = [trace(1, "10:00:00", "1", "INVITE"), trace(2, "10:00:04", "1", "CANCEL")]
    assert verdict(tmedia_leg("1", "NORMAL", cancel)).hangup_by == "caller"


def test_bandwidth_cause_name_reads_as_q850_after_the_drill_down():
    raw = {"id": "c-1", "state": "rejected", "startTime": "2026-11-20T10:00:00Z",
           "endTime": "2026-11-20T10:00:02Z", "direction": "out",
           "from": "+14155550100", "to": "+14155550123"}  # fmt: skip
    call = pb.parse_call(raw, "bw")
    assert verdict(call).q850 is None and verdict(call).line == "Failed"
    call.cause = "USER_BUSY"
    detail = CallDetail(call=call, explanation=pb.explain("USER_BUSY"))
    v = verdict(detail)
    assert (v.q850, v.side) == (17, "callee")
    assert v.line.startswith("Failed (callee side): Q.850 17 User busy · bandwidth: USER_BUSY: ")


def test_restcomm_notification_is_the_providers_reason():
    call = Call("restcomm", "rc", "CA1", datetime(2026, 11, 20, tzinfo=UTC), Outcome.FAILED, {},
                cause="FAILED")  # fmt: skip
    detail = CallDetail(call=call, explanation="Restcomm error 13224: Dial: Invalid phone number")
    v = verdict(detail)
    assert v.provider_reason == "Restcomm error 13224: Dial: Invalid phone number"
    assert v.side is None and v.line.startswith("Failed: restcomm: Restcomm error 13224")


def test_jambonz_trace_attribute_says_who_hung_up_when_the_cdr_does_not():
    call = jambonz(answered=True, answered_at="2026-11-20T10:00:02.000Z", sip_status=200,
                   termination_reason="normal release")  # fmt: skip
    assert verdict(call).hangup_by is None
    span = Span("aa" * 8, None, "incoming-call", 0, 1, {"callTerminationBy": "caller"})
    assert verdict(CallDetail(call=call, spans=[span])).hangup_by == "caller"


def test_hostile_provider_text_stays_one_inert_line():
    v = verdict(jambonz(sip_status=500, termination_reason="\x1b[31mred\x1b]0;x\x07\nline2"))
    check_well_formed(v)
    assert "\x07" not in v.line and "line2" in v.line


def test_in_progress_and_unknown_calls_have_no_side():
    live = Call("tmedia", "sbc", "0x1", datetime(2026, 11, 20, tzinfo=UTC), Outcome.IN_PROGRESS, {})
    assert verdict(live).side is None and verdict(live).line == "In progress"
    odd = Call("restcomm", "rc", "CA1", None, Outcome.UNKNOWN, {}, cause="weird")
    assert verdict(odd).line == "Outcome unknown: restcomm: weird"


# --- from a drill-down over HTTP -------------------------------------------------------------


async def test_plivo_detail_adds_the_post_dial_delay_from_insights(
    open_demo: OpenDemo, sim: SimApp
):
    p = await open_demo("demo-plivo")
    sc = next(c for c in sim.world.calls("plivo") if c.outcome == "answered" and c.end < FIXED_NOW)
    detail = await p.detail(sim_plivo.call_uuid(sc))
    assert verdict(detail.call).pdd_s is None
    v = verdict(detail)
    assert v.pdd_s == sc.pdd_ms / 1000 and f"PDD {sc.pdd_ms / 1000:.1f} s" in v.line


async def test_tmedia_detail_reads_the_final_reason_and_ringing_across_both_legs(
    open_demo: OpenDemo, sim: SimApp
):
    p = await open_demo("demo-tmedia")
    failed = next(
        c for c in sim.world.calls("tmedia") if c.outcome == "failed" and c.end < FIXED_NOW
    )
    v = verdict(await p.detail(sim_tmedia.incoming_leg_id(failed)))
    assert (v.sip_code, v.q850) == (failed.sip_code, failed.q850)
    assert v.side in SIDES and v.hangup_by is None
    rang = next(
        c
        for c in sim.world.calls("tmedia")
        if c.outcome == "no_answer" and c.end < FIXED_NOW and c.pdd_ms >= 2500
    )
    v = verdict(await p.detail(sim_tmedia.incoming_leg_id(rang)))
    # Box times are whole seconds: the delay is the difference of the truncated times.
    invite = rang.start.replace(microsecond=0)
    ring = sim_tmedia._ringing_at(rang)
    assert ring is not None
    assert v.pdd_s == (ring.replace(microsecond=0) - invite).total_seconds()
    assert v.outcome is Outcome.NO_ANSWER and v.sip_code == rang.sip_code
    # The final response of its call flow places it: 480 the callee, a 408 timeout the network.
    assert v.side == {480: "callee", 408: "network"}[rang.sip_code]


async def test_bandwidth_detail_hangup_event_gives_the_cause(open_demo: OpenDemo):
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    p = await open_demo("demo-bandwidth", app=sim, rate_limit=1000)
    busy = next(
        c for c in sim.world.calls("bandwidth") if c.outcome == "busy" and c.end < FIXED_NOW
    )
    v = verdict(await p.detail(sim_bandwidth.call_id(busy)))
    assert (v.q850, v.q850_meaning, v.side) == (17, "User busy", "callee")
    assert (v.provider_reason or "").startswith("USER_BUSY: The called party was busy")
