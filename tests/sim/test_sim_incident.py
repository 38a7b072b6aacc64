"""The simulator's incident, in the world's calls: from 20 minutes before the clock,
about 60% of the calls to +44 20 of Tmedia, Plivo and jambonz fail with SIP 503 / Q.850 34;
everything else is as drawn. What each provider serves of it is in its own test file."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from calltui.analysis import cause
from calltui.analysis.correlate import related
from calltui.engine import Engine
from calltui.model import CallQuery, Outcome
from calltui.sim import plivo as simplivo
from calltui.sim import world
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_settings
from calltui.sim.world import SimCall, World, hostile_hour_calls, hour_calls, to_london
from tests.conftest import FAST_RETRY, FIXED_NOW

LONDON_PROVIDERS = ("tmedia", "plivo", "jambonz")
CLOCKS = [FIXED_NOW + timedelta(hours=k) for k in range(8)]
"""Eight worlds of the afternoon, each with its own incident: enough calls to count shares."""


def failed_by_it(c: SimCall) -> bool:
    return (c.outcome, c.sip_code, c.q850, c.reason) == (
        "failed",
        503,
        34,
        "No circuit/channel available",
    )


def key_of(c: SimCall) -> str:
    return c.key


def drawn(c: SimCall) -> SimCall | None:
    """The call as its hour was generated, before any incident."""
    hour = int(c.start.timestamp()) // world.HOUR
    # A call handed on late in an hour is generated with that hour.
    for h in (hour, hour - 1):
        for d in hour_calls(7, h, c.provider):
            if d.key == c.key:
                return d
    return None


def test_it_runs_from_20_minutes_before_the_clock() -> None:
    assert World(7, FIXED_NOW).incident_start == FIXED_NOW - timedelta(minutes=20)
    # On the wall clock, 20 minutes before the world was made, and there it stays.
    before = datetime.now(timezone.utc).replace(microsecond=0)
    live = World(7)
    start = live.incident_start
    assert before - timedelta(minutes=20) <= start <= live.now() - timedelta(minutes=20)
    assert live.incident_start == start


@pytest.mark.parametrize("provider", LONDON_PROVIDERS)
def test_london_is_a_big_route_of_each_answering_as_usual_before(provider: str) -> None:
    """A sizeable share of the calls go to +44 20 xxxx xxxx at any hour, and before the
    incident they end as the others do."""
    w = World(7, FIXED_NOW)
    calls = w.calls(provider, FIXED_NOW - timedelta(hours=30), w.incident_start)
    london = [c for c in calls if to_london(c)]
    assert 0.6 <= len(london) / len(calls) <= 0.9
    # +44 20 xxxx xxxx; a few others of the world's +44 numbers start with 20 too.
    assert sum(len(c.to_num) == 13 and c.to_num[1:].isdigit() for c in london) > 0.95 * len(london)
    for group in (london, [c for c in calls if not to_london(c)]):
        mix = Counter(c.outcome for c in group)
        assert 0.55 <= mix["answered"] / len(group) <= 0.75  # jambonz B legs: all answered
        assert sum(failed_by_it(c) for c in group) / len(group) < 0.05


@pytest.mark.parametrize("provider", LONDON_PROVIDERS)
def test_about_60_percent_of_its_london_calls_fail_with_503_34(provider: str) -> None:
    hit = london = 0
    for now in CLOCKS:
        w = World(7, now)
        for c in w.calls(provider, w.incident_start):
            if to_london(c):
                london += 1
                if failed_by_it(c):
                    hit += 1
                    # Refused at once: no answer, no media, a few seconds at most.
                    assert c.answer is None and c.mos is None
                    assert c.end - c.start < timedelta(seconds=5)
    assert london > 100 and 0.5 <= hit / london <= 0.7


@pytest.mark.parametrize("provider", world.PROVIDERS)
def test_everything_else_is_as_drawn(provider: str) -> None:
    """Calls before the start, to other numbers, of other providers, and the London calls the
    incident spared: the very calls of their hour."""
    w = World(7, FIXED_NOW)
    changed = 0
    for c in w.calls(provider, FIXED_NOW - timedelta(hours=3)):
        d = drawn(c)
        assert d is not None
        if c != d:
            changed += 1
            assert provider in LONDON_PROVIDERS and to_london(c) and failed_by_it(c)
            assert c.start >= w.incident_start
            assert (c.key, c.start, c.from_num, c.to_num, c.sip_call_id, c.link) == (
                d.key,
                d.start,
                d.from_num,
                d.to_num,
                d.sip_call_id,
                d.link,
            )
    assert (changed > 0) == (provider in LONDON_PROVIDERS)


def test_its_start_is_exact() -> None:
    """A call that starts at the incident's start is in it; a microsecond earlier, it is not."""
    w = World(7, FIXED_NOW)
    c = next(c for c in w.calls("tmedia", w.incident_start) if failed_by_it(c) and not c.link)
    assert not failed_by_it(drawn(c) or c)
    at_start = World(7, c.start + timedelta(minutes=20))
    assert at_start.incident_start == c.start
    assert at_start.lookup("tmedia", key_of, c.key) == c
    after = World(7, c.start + timedelta(minutes=20, microseconds=1))
    assert after.lookup("tmedia", key_of, c.key) == drawn(c)


def test_a_chain_carries_one_failure() -> None:
    """A London call Plivo hands to jambonz and on to a Tmedia box fails on all three or on
    none: the 503 comes back from Tmedia's London peer, then jambonz, then Plivo end."""
    failed = spared = 0
    for now in CLOCKS:
        w = World(7, now)
        by_link: dict[str, dict[str, SimCall]] = {}
        for p in LONDON_PROVIDERS:
            for c in w.calls(p, w.incident_start - timedelta(minutes=5)):
                if c.link:
                    by_link.setdefault(c.link, {})[p] = c
        for chain in by_link.values():
            first = chain.get("plivo")
            if first is None or first.start < w.incident_start or not to_london(first):
                continue
            assert set(chain) == set(LONDON_PROVIDERS)
            outcomes = {failed_by_it(c) for c in chain.values()}
            assert len(outcomes) == 1
            if failed_by_it(first):
                failed += 1
                assert chain["tmedia"].end < chain["jambonz"].end < first.end
            else:
                spared += 1
    assert failed > 5 and spared > 2


def test_a_b_leg_of_a_call_it_failed_is_gone() -> None:
    """A jambonz call that dialed a B leg as drawn, and failed in the incident, dialed none."""
    gone = 0
    for now in CLOCKS:
        w = World(7, now)
        calls = w.calls("jambonz", w.incident_start)
        keys = {c.key for c in calls}
        for c in calls:
            hour = hour_calls(7, int(c.start.timestamp()) // world.HOUR, "jambonz")
            if failed_by_it(c) and any(d.key == f"{c.key}/dial" for d in hour):
                gone += 1
                assert f"{c.key}/dial" not in keys
    assert gone > 0


async def test_its_records_carry_one_failure_down_a_chain() -> None:
    """Over the wire, as the adapters read it: a London Plivo call of the window that failed
    and was handed on has its jambonz call and both Tmedia legs failed with 503 too, the
    related calls the correlation finds."""
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    engine = Engine(demo_settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    start = sim.world.incident_start
    try:
        records = await engine.collect(engine.account_names, CallQuery(since=start), None)
    finally:
        await engine.aclose()
    assert engine.errors() == []
    chains = [
        c for c in sim.world.calls("plivo", start) if c.link and to_london(c) and failed_by_it(c)
    ]
    assert chains
    index = {(r.provider, r.id): r for r in records}
    for first in chains:
        plivo_call = index["plivo", simplivo.call_uuid(first)]
        assert (plivo_call.outcome, plivo_call.cause_code) == (Outcome.FAILED, 5360)
        hops = [r.call for r in related(plivo_call, records) if r.call.provider != "plivo"]
        assert {r.provider for r in hops} == {"jambonz", "tmedia"} and len(hops) == 3
        for r in hops:
            assert r.outcome is Outcome.FAILED and cause.final_sip(r) == 503


def test_hostile_mode_has_none() -> None:
    w = World(7, FIXED_NOW, hostile=True)
    hour = int(FIXED_NOW.timestamp()) // world.HOUR - 1
    calls = w.calls("tmedia", w.incident_start)
    assert calls and all(c in hostile_hour_calls(7, hour, "tmedia") for c in calls)


def test_the_same_clock_gives_the_same_incident() -> None:
    a, b = World(7, FIXED_NOW), World(7, FIXED_NOW)
    for p in LONDON_PROVIDERS:
        assert a.calls(p, a.incident_start) == b.calls(p, b.incident_start)
