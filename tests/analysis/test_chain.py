"""The end-to-end call: hops ordered caller's side first, each stitch's reason and confidence,
the hop where the failure began; by hand, then the simulator's cross-provider chains (a Plivo
trunk call handed to jambonz and on to a Tmedia box) and Restcomm <Dial> legs over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx

from calltui.analysis.chain import Chain, Hop, Step, build, failed_hop
from calltui.analysis.correlate import related
from calltui.config import parse_settings
from calltui.model import Call, CallQuery, Outcome
from calltui.render import chain_text
from calltui.session import Session
from calltui.sim import jambonz as sim_jambonz
from calltui.sim import plivo as sim_plivo
from calltui.sim import tmedia as sim_tmedia
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_accounts
from calltui.sim.world import INCIDENT_LEAD, SimCall
from tests.analysis.records import T0, call
from tests.conftest import FAST_RETRY, FIXED_NOW

FAILED_503 = {"sip_code": 503, "cause": "503"}


def hand_chain(outcome: Outcome = Outcome.FAILED, **fields: object) -> list[Call]:
    """A Plivo call handed to jambonz and on to a Tmedia box, with the box's clock in whole
    seconds: its legs read as starting before the jambonz call that sent them."""
    numbers = {"from_": "+4930123456", "to": "+442071234567"}
    plivo = call(1, outcome, account="pl", provider="plivo", at_s=0.2, **numbers)
    jz = call(2, outcome, account="jz", provider="jambonz", at_s=1.6, sip_call_id="x@10.0.0.9",
              **numbers, **fields)  # fmt: skip
    leg_in = call(3, outcome, account="tm", provider="tmedia", at_s=1.0, sip_call_id="x@10.0.0.9",
                  raw={"other_leg_id": "c4"}, **numbers, **fields)  # fmt: skip
    leg_out = call(4, outcome, account="tm", provider="tmedia", at_s=1.0, parent_id="c3",
                   raw={"other_leg_id": "c3"}, sip_call_id="y@10.20.0.5", trunk="NAP_PEER_LON",
                   **numbers, **fields)  # fmt: skip
    return [plivo, jz, leg_in, leg_out]


def test_hops_run_from_the_caller_to_the_callee_whatever_the_clocks_say():
    calls = hand_chain(**FAILED_503)
    for me in calls:
        chain = build(me, related(me, calls))
        assert [h.call.id for h in chain.hops] == ["c1", "c2", "c3", "c4"], me.id
        (mine,) = [h for h in chain.hops if h.call is me]
        assert mine.confidence == 1.0 and mine.reason is None
    chain = build(calls[0], related(calls[0], calls))
    assert chain.hops[0].stitch is None
    assert chain.hops[1].stitch is not None
    assert chain.hops[1].stitch.reason == "same numbers +1.4 s apart"
    assert chain.hops[2].stitch is not None and chain.hops[2].stitch.confidence == 0.95
    assert chain.hops[2].stitch.reason.startswith("same SIP Call-ID")
    assert chain.hops[3].stitch is not None
    assert chain.hops[3].stitch.reason.startswith("the other leg")


def test_a_call_related_below_half_is_no_hop():
    calls = hand_chain(**FAILED_503)
    far = call(9, Outcome.FAILED, account="bw", provider="bandwidth", at_s=9.0,
               from_="+4930123456", to="+442071234567")  # fmt: skip
    chain = build(calls[0], related(calls[0], [*calls, far]))
    assert "c9" not in {h.call.id for h in chain.hops}


def test_the_failure_began_at_the_callee_most_hop_that_carries_the_code():
    calls = hand_chain(**FAILED_503)
    chain = build(calls[0], related(calls[0], calls))
    assert chain.failed_hop == 3
    line = chain.failure_line()
    assert line == "the 503 came from NAP_PEER_LON; jambonz and plivo passed it on"
    assert chain.to_dict()["failed_hop"] == 3
    # The box's far leg failed another way: the failure began on the leg that sent the 503.
    other = hand_chain(**FAILED_503)
    other[3] = call(4, Outcome.BUSY, account="tm", provider="tmedia", at_s=1.0, sip_code=486)
    assert failed_hop(other) == 2
    answered = hand_chain(Outcome.ANSWERED)
    assert failed_hop(answered) is None
    # A cancel travels from the caller: it began at the caller's side.
    assert failed_hop(hand_chain(Outcome.CANCELLED, sip_code=487)) == 0


def test_a_dialed_leg_that_failed_is_where_the_failure_began():
    parent = call(1, Outcome.ANSWERED, provider="restcomm", talk=30)
    child = call(2, Outcome.BUSY, provider="restcomm", at_s=5.0, parent_id="c1", sip_code=486)
    chain = build(child, related(child, [parent]))
    assert [h.call.id for h in chain.hops] == ["c1", "c2"] and chain.failed_hop == 1


def test_the_text_ladder_keeps_hostile_strings_inert():
    evil = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\u202eevil\x9b31m\r\nnext"
    calls = hand_chain(**FAILED_503)
    chain = build(calls[0], related(calls[0], calls))
    chain.hops[3].steps = [Step(T0 + timedelta(seconds=2), evil)]
    chain.hops[1] = Hop(
        call(2, Outcome.FAILED, account=evil, provider="jambonz", at_s=1.6, trunk=evil),
        0.6,
        evil,
        chain.hops[1].stitch,
    )
    text = "\n".join(chain_text(Chain(chain.hops, 3), None))
    assert "evil" in text and "LADDER" in text
    assert not any(ch in text for ch in "\x1b\x07\x9b\u202e\r")
    assert all(line.isprintable() for line in text.split("\n"))


# --- the simulator, over HTTP ------------------------------------------------------------------


def session_on(sim: SimApp) -> Session:
    settings = parse_settings({"accounts": demo_accounts()}, Path("<t>"))
    return Session(
        settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY, now=FIXED_NOW
    )


def hops_of(sim: SimApp, first: SimCall, since: datetime) -> list[tuple[str, str]]:
    """The (provider, id) of every hop of the Plivo call `first` handed on to jambonz and the
    Tmedia box, from the caller's side: what its chain holds."""
    hop = {c.provider: c for p in ("jambonz", "tmedia") for c in sim.world.calls(p, since)
           if c.link == first.link}  # fmt: skip
    leg_in = sim_tmedia.incoming_leg_id(hop["tmedia"])
    return [
        ("plivo", sim_plivo.call_uuid(first)),
        ("jambonz", sim_jambonz.facts(hop["jambonz"]).call_sid or hop["jambonz"].sip_call_id),
        ("tmedia", leg_in),
        ("tmedia", f"0x{int(leg_in, 16) + 1:08X}"),
    ]


async def test_every_hop_of_the_incidents_chains_is_found_in_order():
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    since = FIXED_NOW - INCIDENT_LEAD
    world = sim.world
    firsts = [c for c in world.calls("plivo", since) if c.link and c.outcome == "failed"
              and c.sip_code == 503 and c.end < FIXED_NOW]  # fmt: skip
    assert len(firsts) >= 2, "the incident fails some of the calls handed on"
    session = session_on(sim)
    index = {
        (c.provider, c.id): c
        for c in await session.engine.collect(session.account_names, CallQuery(since=since), None)
    }
    for first in firsts:
        expected = hops_of(sim, first, since)
        for provider, cid in expected:
            me = index[provider, cid]
            chain, _ = await session.chain(me, [])
            assert [(h.call.provider, h.call.id) for h in chain.hops] == expected, me.id
            assert chain.failed_hop == 3
            assert chain.hops[3].call.trunk == "NAP_PEER_LON"
            assert all(h.confidence >= 0.5 for h in chain.hops)
            assert chain.failure_line() == (
                "the 503 came from NAP_PEER_LON; jambonz and plivo passed it on"
            )
            stitches = [h.stitch.reason if h.stitch else None for h in chain.hops]
            assert stitches[0] is None and stitches[1].startswith("same numbers +")
            assert stitches[2].startswith("same SIP Call-ID")
            assert stitches[3].startswith("the other leg")
    await session.aclose()


async def test_each_hop_gets_its_own_steps_from_the_drill_downs():
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    since = FIXED_NOW - INCIDENT_LEAD
    first = next(c for c in sim.world.calls("plivo", since) if c.link and c.outcome == "failed"
                 and c.end < FIXED_NOW)  # fmt: skip
    session = session_on(sim)
    (me,) = [
        c
        for c in await session.engine.collect(["demo-plivo"], CallQuery(since=since), None)
        if c.id == sim_plivo.call_uuid(first)
    ]
    chain, _ = await session.chain(me, [], steps=True)
    leg_in, leg_out = chain.hops[2], chain.hops[3]
    assert any(s.text.startswith("Routing:") for s in leg_in.steps)
    assert not any(s.text.startswith("Routing:") for s in leg_out.steps)
    assert leg_out.steps[0].text == "INVITE" and leg_out.steps[-1].text.startswith("Call term")
    assert chain.hops[0].steps[0].text == "started"
    await session.aclose()


async def test_a_restcomm_parent_and_its_dial_leg_are_one_chain():
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    session = session_on(sim)
    since = FIXED_NOW - timedelta(hours=2)
    calls = await session.engine.collect(["demo-restcomm"], CallQuery(since=since), None)
    session.store.extend(calls)
    child = next(c for c in calls if c.parent_id)
    chain, _ = await session.chain(child, ["demo-restcomm"], scope=["demo-restcomm"])
    assert [h.call.id for h in chain.hops] == [child.parent_id, child.id]
    assert chain.hops[1].stitch is not None
    assert chain.hops[1].stitch.reason.startswith("a call it spawned")
    await session.aclose()


async def test_a_chain_opened_from_its_tmedia_leg_45_minutes_back_has_its_plivo_hop():
    # Plivo lists by end time: the calls that ended since fill its first pages (some 20
    # minutes of the demo's traffic a page), and the Plivo hop comes only after them.
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    since = FIXED_NOW - timedelta(minutes=50)
    firsts = [c for c in sim.world.calls("plivo", since) if c.link
              and c.start < FIXED_NOW - timedelta(minutes=40)]  # fmt: skip
    assert firsts, "calls handed on 40-50 minutes before the clock"
    session = session_on(sim)
    legs = await session.engine.collect(["demo-tmedia"], CallQuery(since=since), None)
    index = {c.id: c for c in legs}
    for first in firsts:
        expected = hops_of(sim, first, since)
        leg_in = index[expected[2][1]]
        chain, _ = await session.chain(leg_in, [])
        assert [(h.call.provider, h.call.id) for h in chain.hops] == expected, first.start
    await session.aclose()
