"""Related calls: each rule on records built by hand, then the simulator's cross-provider calls
(a Plivo trunk call handed to jambonz and on to a Tmedia box) fetched over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from calltui.analysis.correlate import Relation, related
from calltui.engine import Engine
from calltui.model import Call, CallQuery, Outcome
from calltui.sim import jambonz as sim_jambonz
from calltui.sim import plivo as sim_plivo
from calltui.sim import tmedia as sim_tmedia
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_settings
from tests.conftest import FAST_RETRY, FIXED_NOW

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def rec(account: str, provider: str, cid: str, at_s: float = 0.0, **fields: Any) -> Call:
    raw = fields.pop("raw", {})
    return Call(provider, account, cid, T0 + timedelta(seconds=at_s), Outcome.ANSWERED, raw,
                **fields)  # fmt: skip


def by_id(rels: list[Relation]) -> dict[str, Relation]:
    return {r.call.id: r for r in rels}


def test_same_sip_call_id_is_high_and_the_call_itself_is_left_out():
    me = rec("jz", "jambonz", "j1", sip_call_id="abc@10.0.0.9")
    twin = rec("sbc", "tmedia", "0x10", 0.4, sip_call_id="abc@10.0.0.9")
    other = rec("sbc", "tmedia", "0x12", 0.4, sip_call_id="ABC@10.0.0.9")
    rels = related(me, [me, twin, other])
    assert [r.call.id for r in rels] == ["0x10"]
    assert rels[0].reason == "same SIP Call-ID" and rels[0].level == "high"


def test_tmedia_other_leg_either_way_and_only_on_the_same_box():
    incoming = rec("sbc", "tmedia", "0x0E47AC10", raw={"other_leg_id": "0x0e47ac11"})
    outgoing = rec("sbc", "tmedia", "0x0E47AC11", 0.01, raw={"other_leg_id": "0x0E47AC10"})
    elsewhere = rec("sbc2", "tmedia", "0x0E47AC11", 0.01, raw={"other_leg_id": "0x0E47AC10"})
    assert [r.call for r in related(incoming, [outgoing, elsewhere])] == [outgoing]
    assert [r.call for r in related(outgoing, [incoming])] == [incoming]
    assert "other_leg_id" in related(outgoing, [incoming])[0].reason
    a = rec("sbc", "tmedia", "0x1", raw={"uct_call_id": "0xAB"})
    b = rec("sbc", "tmedia", "0x7", 3, raw={"uct_call_id": "0xab"})
    assert related(a, [b])[0].confidence == 0.9


def test_restcomm_parent_and_children():
    parent = rec("rc", "restcomm", "CA1")
    child = rec("rc", "restcomm", "CA2", 1, parent_id="CA1")
    assert related(child, [parent])[0].reason == "its parent call (parent_call_sid)"
    assert related(parent, [child])[0].reason == "a call it spawned (parent_call_sid)"
    assert related(parent, [rec("rc2", "restcomm", "CA2", parent_id="CA1")]) == []


def test_jambonz_parent_call_id_matches_any_records_call_id():
    inbound = rec("plivo", "plivo", "p1", sip_call_id="x1@1.2.3.4")
    outdial = rec("jz", "jambonz", "j2", 2, sip_call_id="y2@10.0.0.5", parent_id="x1@1.2.3.4")
    assert related(outdial, [inbound])[0].reason.startswith("its parent call")
    assert related(inbound, [outdial])[0].reason.startswith("a call it spawned")
    assert related(inbound, [outdial])[0].level == "high"


def test_same_numbers_on_another_account_lose_confidence_with_time():
    me = rec("plivo", "plivo", "p1", from_="+4930123456", to="+14155550123")
    near = rec("jz", "jambonz", "j1", 0.5, from_="4930123456", to="sip:14155550123@h")
    far = rec("sbc", "tmedia", "t1", -9.0, from_="4930123456", to="14155550123")
    gone = rec("bw", "bandwidth", "b1", 11.0, from_="+4930123456", to="+14155550123")
    same_account = rec("plivo", "plivo", "p2", 1.0, from_="+4930123456", to="+14155550123")
    swapped = rec("jz", "jambonz", "j3", 1.0, from_="+14155550123", to="+4930123456")
    rels = related(me, [far, gone, same_account, swapped, near])
    assert [r.call.id for r in rels] == ["j1", "t1"]
    assert rels[0].level == "medium" and rels[1].level == "low"
    assert rels[0].confidence > rels[1].confidence
    assert rels[0].reason == "same numbers +0.5 s apart"
    assert rels[1].reason == "same numbers -9.0 s apart"
    assert related(me, [gone], window_s=12)[0].call.id == "b1"


def test_anonymous_or_short_numbers_relate_nothing():
    me = rec("plivo", "plivo", "p1", from_="anonymous", to="1001")
    assert related(me, [rec("jz", "jambonz", "j1", 0.1, from_="anonymous", to="1001")]) == []


def test_several_rules_keep_the_strongest_and_every_reason():
    me = rec("jz", "jambonz", "j1", sip_call_id="abc@h", from_="4930123456", to="14155550123")
    twin = rec("sbc", "tmedia", "t1", 0.2, sip_call_id="abc@h", from_="4930123456",
               to="14155550123")  # fmt: skip
    (r,) = related(me, [twin])
    assert r.confidence == 0.95 and r.reason == "same SIP Call-ID; same numbers +0.2 s apart"
    assert r.to_dict()["level"] == "high" and r.to_dict()["account"] == "sbc"


async def test_the_simulators_cross_provider_call_is_found_over_http():
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    settings = demo_settings()
    engine = Engine(settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    since = FIXED_NOW - timedelta(hours=1)
    try:
        calls = await engine.collect(engine.account_names, CallQuery(since=since), None)
    finally:
        await engine.aclose()
    assert engine.errors() == []
    linked = [
        c
        for c in sim.world.calls("plivo", since)
        if c.link and c.end < FIXED_NOW - timedelta(minutes=1)
    ]
    assert linked, "the simulator hands some Plivo calls on to jambonz and Tmedia"
    first = linked[0]
    hop = {c.provider: c for p in ("jambonz", "tmedia") for c in sim.world.calls(p, since)
           if c.link == first.link}  # fmt: skip
    index = {(c.provider, c.id): c for c in calls}
    plivo_call = index["plivo", sim_plivo.call_uuid(first)]
    jz_id = sim_jambonz.facts(hop["jambonz"]).call_sid or hop["jambonz"].sip_call_id
    jz_call = index["jambonz", jz_id]
    leg_in = index["tmedia", sim_tmedia.incoming_leg_id(hop["tmedia"])]
    leg_out = index["tmedia", f"0x{int(leg_in.id, 16) + 1:08X}"]

    from_plivo = by_id(related(plivo_call, calls))
    assert {jz_call.id, leg_in.id, leg_out.id} <= set(from_plivo)
    for cid in (jz_call.id, leg_in.id, leg_out.id):
        assert from_plivo[cid].reason.startswith("same numbers +")
        assert from_plivo[cid].level in ("medium", "low")
    # jambonz sent the call to the box: the incoming leg carries the same SIP Call-ID.
    from_jambonz = related(jz_call, calls)
    assert from_jambonz[0].call is leg_in and from_jambonz[0].reason.startswith("same SIP Call-ID")
    assert plivo_call.id in by_id(from_jambonz)
    from_leg = by_id(related(leg_in, calls))
    assert from_leg[leg_out.id].reason.startswith("the other leg")
    assert from_leg[leg_out.id].level == from_leg[jz_call.id].level == "high"
    assert from_leg[jz_call.id].reason.startswith("same SIP Call-ID")
    # Nothing unrelated: every relation of the Plivo call is one of the three hops.
    assert set(from_plivo) == {jz_call.id, leg_in.id, leg_out.id}


async def test_the_simulators_dialed_legs_and_their_parents_find_each_other_over_http():
    """A Restcomm <Dial> leg names its parent in parent_call_sid, a jambonz B leg its A leg's
    Call-ID in sip_parent_callid: each finds the other among the calls listed."""
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    engine = Engine(demo_settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    accounts = ["demo-restcomm", "demo-jambonz"]
    since = FIXED_NOW - timedelta(hours=2)
    try:
        calls = await engine.collect(accounts, CallQuery(since=since), None)
    finally:
        await engine.aclose()
    assert engine.errors() == []
    children = [c for c in calls if c.parent_id]
    assert {c.provider for c in children} == {"restcomm", "jambonz"}
    for child in children:
        assert child.direction == "outbound"
        up = [r for r in related(child, calls) if r.reason.startswith("its parent call")]
        assert len(up) == 1 and up[0].level == "high", child.id
        parent = up[0].call
        assert parent.provider == child.provider and parent.direction == "inbound"
        # Dialed once the parent was answered (Restcomm records no answer time); bridged to
        # it until it ended.
        assert parent.started_at and child.started_at and parent.started_at < child.started_at
        if parent.answered_at:
            assert parent.answered_at <= child.started_at
        if child.ended_at and parent.ended_at:
            assert child.ended_at <= parent.ended_at + timedelta(seconds=1)
        down = by_id(related(parent, calls))
        assert down[child.id].reason.startswith("a call it spawned")
