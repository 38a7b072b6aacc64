"""The good twin: the answered call most like one that did not answer, and what differs; by
hand, then on the simulator's incident at the fixed clock over HTTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from calltui.analysis.twin import WINDOW, compare, pick, settled
from calltui.config import parse_settings
from calltui.model import CallDetail, CallQuery, Event, Outcome
from calltui.render import twin_text
from calltui.session import Session
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_accounts
from calltui.sim.world import HOME_ROUTE, INCIDENT_LEAD
from tests.analysis.records import T0, call
from tests.conftest import FAST_RETRY, FIXED_NOW

BAD = call(0, Outcome.FAILED, account="sbc", provider="tmedia", to="+442071234567",
           trunk="NAP_PEER_LON", sip_code=503)  # fmt: skip


def good(n: int, at_s: float, to: str = "+442071230000", trunk: str = "NAP_PEER_LON", **kw):
    return call(n, Outcome.ANSWERED, account="sbc", provider="tmedia", at_s=at_s, talk=30,
                to=to, trunk=trunk, **kw)  # fmt: skip


def test_the_same_trunk_first_then_the_nearest_window_the_longest_prefix_the_nearest():
    near_other_trunk = good(1, 5, trunk="NAP_PEER_AMS")
    far_same_trunk = good(2, 1800)
    nearer_same_trunk = good(3, -600)
    longer_prefix = good(4, 3000, to="+44207123456")
    longer_prefix_as_near = good(5, 500, to="+44207123456")
    assert pick(BAD, [near_other_trunk, far_same_trunk]) is far_same_trunk
    assert pick(BAD, [far_same_trunk, nearer_same_trunk]) is nearer_same_trunk
    # The 10 minutes either side hold one: a longer prefix further away does not count.
    assert pick(BAD, [nearer_same_trunk, longer_prefix]) is nearer_same_trunk
    assert pick(BAD, [far_same_trunk, longer_prefix]) is longer_prefix  # both in the hour
    assert pick(BAD, [nearer_same_trunk, longer_prefix_as_near]) is longer_prefix_as_near
    assert pick(BAD, [near_other_trunk]) is near_other_trunk  # failing that, the account
    assert compare(BAD, far_same_trunk).basis == "on the same trunk"
    assert compare(BAD, near_other_trunk).basis == "of the same account (none on its trunk)"


def test_a_twin_is_settled_on_the_calls_trunk_within_the_windows_read():
    ten = timedelta(minutes=10)
    assert settled(BAD, good(1, -600), ten)
    assert not settled(BAD, good(2, 900), ten)  # a nearer one may be in the next window
    assert not settled(BAD, good(3, 5, trunk="NAP_PEER_AMS"), ten)  # one on its trunk may be
    assert not settled(BAD, None, ten)
    no_trunk = call(4, Outcome.FAILED, account="sbc", to="+442071234567")
    assert settled(no_trunk, good(5, 60, trunk="NAP_PEER_AMS"), ten)


def test_no_twin_outside_the_hour_the_account_or_the_prefix():
    assert pick(BAD, [good(1, 3700)]) is None
    assert pick(BAD, [good(2, 5, to="+4430000000")]) is None  # "44" shared: under 4 digits
    other = call(3, Outcome.ANSWERED, account="elsewhere", provider="tmedia", talk=9,
                 to="+442071234567", trunk="NAP_PEER_LON")  # fmt: skip
    assert pick(BAD, [other]) is None
    assert pick(BAD, [call(4, Outcome.BUSY, account="sbc", to="+442071234567")]) is None
    assert pick(good(5, 0), [good(6, 9)]) is None  # an answered call needs no twin


def test_the_differences_name_route_trunks_hosts_and_codecs():
    def detail(c, route, peer, codecs):
        out_leg = call(90 + c.cause_code if c.cause_code else 99, c.outcome, account="sbc",
                       provider="tmedia", trunk="NAP_PEER_LON")  # fmt: skip
        invite = f"INVITE sip:442071234567@{peer}:5060 SIP/2.0\nSDP: {codecs}"
        events = [Event(T0, "INVITE", {"tooltip": invite})]
        return CallDetail(c, legs=[c, out_leg], events=events)

    bad = call(0, Outcome.FAILED, account="sbc", provider="tmedia", to="+442071234567",
               trunk="NAP_PBX_SPB", sip_code=503, cause_code=1,
               raw={"route": "route_4", "leg_id": "0x1"})  # fmt: skip
    ok = good(1, 60, trunk="NAP_PBX_HQ", cause_code=2, raw={"route": "route_6", "leg_id": "0x2"})
    twin = compare(detail(bad, "route_4", "198.51.1.1", "PCMA/8000"),
                   detail(ok, "route_6", "198.51.2.2", "G729/8000 PCMA/8000"))  # fmt: skip
    d = twin.differences
    assert d["route"] == ["route_4", "route_6"]
    assert d["trunk"] == ["NAP_PBX_SPB", "NAP_PBX_HQ"]
    assert d["trunks"] == ["NAP_PBX_SPB > NAP_PEER_LON", "NAP_PBX_HQ > NAP_PEER_LON"]
    assert d["hosts"] == ["198.51.1.1", "198.51.2.2"]
    assert d["codecs"] == ["PCMA/8000", "G729/8000 PCMA/8000"]
    assert d["sip_code"] == [503, None]
    assert "leg_id" not in d and "direction" not in d  # per-call ids, and what is the same
    assert twin.to_dict() == {"account": "sbc", "id": "c1", "differences": d}
    text = "\n".join(twin_text(twin, None))
    assert "route_4" in text and "G729/8000" in text


def test_what_the_choice_implies_or_a_field_repeats_is_not_a_difference():
    bad = call(0, Outcome.FAILED, account="pbx", provider="jambonz", to="+442071234567",
               sip_code=503, raw={"answered": False, "sip_status": 503, "from_country": "RU",
                                  "transport": "udp"})  # fmt: skip
    ok = call(1, Outcome.ANSWERED, account="pbx", provider="jambonz", to="+442071230000",
              talk=30, sip_code=200, raw={"answered": True, "sip_status": 200,
                                          "from_country": "FR", "transport": "tls"})  # fmt: skip
    d = compare(bad, ok).differences
    assert d["sip_code"] == [503, 200] and d["transport"] == ["udp", "tls"]
    assert "sip_status" not in d  # the SIP status, told once
    assert "answered" not in d  # the twin answered: that is why it was chosen
    assert "from_country" not in d  # the caller's number, as the number itself


async def test_the_incidents_failed_leg_gets_an_answered_twin_on_its_trunk():
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    settings = parse_settings({"accounts": demo_accounts()}, Path("<t>"))
    session = Session(settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    since = FIXED_NOW - INCIDENT_LEAD
    legs = await session.engine.collect(["demo-tmedia"], CallQuery(since=since), None)
    failed = [c for c in legs if c.trunk == "NAP_PEER_LON" and c.outcome is Outcome.FAILED
              and c.cause == "503"]  # fmt: skip
    assert failed
    me = failed[0]
    await session.detail(me)
    twin = await session.twin(me)
    assert twin is not None
    t = twin.call
    assert t.account == me.account and t.outcome is Outcome.ANSWERED and t.trunk == me.trunk
    assert me.started_at and t.started_at
    assert abs(t.started_at - me.started_at) <= timedelta(hours=1)
    assert (t.to or "").lstrip("+")[:4] == (me.to or "").lstrip("+")[:4]
    d = twin.differences
    assert d["sip_code"] == [503, None] and d["cause"] == ["503", "NORMAL"]
    assert "terminate_reason" not in d  # the cause, told once
    assert d["pdd_s"][0] is None and isinstance(d["pdd_s"][1], float)
    assert "hosts" in d and "trunk" not in d
    assert twin.basis == "on the same trunk"
    await session.aclose()


async def test_a_failed_call_without_a_trunk_gets_a_twin_of_its_account():
    sim = SimApp(seed=1, now=FIXED_NOW, enforce_rate_limits=False)
    settings = parse_settings({"accounts": demo_accounts()}, Path("<t>"))
    session = Session(settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    hour = CallQuery(since=FIXED_NOW - timedelta(hours=1))
    for account in ("demo-bandwidth", "demo-restcomm"):
        calls = await session.engine.collect([account], hour, None)
        home = HOME_ROUTE[account.removeprefix("demo-")][0]
        me = next(c for c in calls if c.outcome is Outcome.FAILED and (c.to or "").startswith(home))
        twin = await session.twin(me)
        assert twin is not None, account
        assert twin.call.account == account and twin.call.trunk is None
        assert twin.call.outcome is Outcome.ANSWERED and twin.differences
        assert twin.basis == "of the same account (the call names no trunk)"
    await session.aclose()


async def test_a_plivo_failure_hours_back_gets_its_twin():
    # Plivo lists by end time: the minutes around a call five hours back come after five hours
    # of calls that ended since.
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    settings = parse_settings({"accounts": demo_accounts()}, Path("<t>"))
    session = Session(settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    t = FIXED_NOW - timedelta(hours=5)
    hours = CallQuery(since=t - 2 * WINDOW, until=t + 2 * WINDOW)
    listed = await session.engine.collect(["demo-plivo"], hours, None)
    failed = [c for c in listed if c.outcome is Outcome.FAILED and c.trunk
              and (c.to or "").startswith("+4420")]  # fmt: skip
    me = min(failed, key=lambda c: abs(c.started_at - t) if c.started_at else WINDOW)
    assert me.started_at and abs(me.started_at - t) < timedelta(minutes=10)
    twin = await session.twin(me)
    assert twin is not None
    best = pick(me, listed)  # the rule over every call of the hour around it
    assert best is not None and twin.call.id == best.id
    assert twin.basis == "on the same trunk"
    await session.aclose()
