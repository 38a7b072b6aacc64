"""The timeline and its onset mark (`stats --timeline`): buckets over the window, the onset found
on a synthetic step at its bucket with the group that carries it, and quiet on a steady window,
on a spike that ended and on the simulator's normal hours; then the simulator's incident
, checked once the simulator has it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from calltui.analysis import onset
from calltui.analysis.legs import calls_not_legs
from calltui.analysis.onset import Timeline
from calltui.model import Call, Outcome
from calltui.sim import jambonz as simjambonz
from calltui.sim import plivo as simplivo
from calltui.sim import tmedia as simtmedia
from tests.analysis import records
from tests.conftest import FIXED_NOW

T0 = records.T0
WINDOW = timedelta(hours=2)
"""The longest window with 1-minute buckets: 120 of them."""


def call(
    n: int, at: datetime, failed: bool, *, trunk: str = "T1", to: str = "+14155550100", **kw: Any
) -> Call:
    """An answered call, or a failed one: a 503 unless `sip_code` says otherwise."""
    if failed:
        kw.setdefault("sip_code", 503)
    return Call(
        provider="jambonz",
        account="a",
        id=f"c{n}",
        started_at=at,
        outcome=Outcome.FAILED if failed else Outcome.ANSWERED,
        raw={},
        answered_at=None if failed else at + timedelta(seconds=3),
        trunk=trunk,
        to=to,
        **kw,
    )


def step(at_bucket: int, *, before: int = 2, after: int = 12, per_bucket: int = 20) -> list[Call]:
    """`per_bucket` calls a minute over WINDOW from T0; `before` of them fail in each bucket
    before `at_bucket` (404 from trunk T2 to +1 415: the usual wrong numbers), `after` from it
    on (503 from NAP_PEER_LON to +44 20, on numbers whose fifth digit varies)."""
    out = []
    for i in range(120):
        failing = before if i < at_bucket else after
        for j in range(per_bucket):
            t = T0 + timedelta(minutes=i, seconds=j * 60 / per_bucket)
            n = i * per_bucket + j
            if j >= failing:
                out.append(call(n, t, False, trunk=("T1", "T2", "NAP_PEER_LON")[j % 3]))
            elif i < at_bucket:
                out.append(call(n, t, True, trunk="T2", sip_code=404))
            else:
                out.append(call(n, t, True, trunk="NAP_PEER_LON", to=f"+4420{n % 10}7946{j:04d}"))
    return out


def bucket_of(t: Timeline) -> int | None:
    return None if t.onset is None else [b.start for b in t.buckets].index(t.onset.at)


def test_a_step_from_10_to_60_percent_is_marked_at_its_bucket_with_its_group():
    t = onset.timeline(step(70), T0, T0 + WINDOW)
    assert t.bucket_s == 60 and len(t.buckets) == 120
    counts = [(b.attempts, b.failed) for b in t.buckets[68:72]]
    assert counts == [(20, 2), (20, 2), (20, 12), (20, 12)]
    assert bucket_of(t) == 70
    o = t.onset
    assert o is not None and o.at == T0 + timedelta(minutes=70)
    assert o.rate_before == pytest.approx(0.10) and o.rate_after == pytest.approx(0.60)
    # By hand: n0 = 1400, f0 = 140, n1 = 1000, f1 = 600, pooled 740/2400.
    p = 740 / 2400
    z = (600 - 1000 * 0.1) / (1000 * p * (1 - p) * (1 + 1000 / 1400)) ** 0.5
    assert o.z == pytest.approx(z)
    g = o.group
    assert g is not None
    assert (g.trunk, g.sip, g.cause, g.prefix) == (
        "NAP_PEER_LON",
        503,
        "SIP 503 Service Unavailable",
        "4420",  # not 44, that only holds it, nor 44201, one tenth of it
    )
    assert g.excess == pytest.approx(600)  # none of these failed before
    assert onset.onset_line(t, timezone.utc) == (
        "failures up since 11:10 (10% → 60%, z 26.1): 503 from NAP_PEER_LON to +44 20"
    )


@pytest.mark.parametrize("seed", range(12))
def test_a_noisy_step_is_marked_within_one_bucket(seed: int):
    """Poisson-like volume (about 10 calls a minute), failures drawn at 10%, then 60%."""
    rng = random.Random(seed)
    at = rng.randrange(30, 100)
    calls = []
    for i in range(120):
        for _ in range(rng.randint(5, 15)):
            t = T0 + timedelta(minutes=i, seconds=rng.uniform(0, 59.9))
            calls.append(call(len(calls), t, rng.random() < (0.6 if i >= at else 0.1)))
    found = bucket_of(onset.timeline(calls, T0, T0 + WINDOW))
    assert found is not None and abs(found - at) <= 1


@pytest.mark.parametrize("seed", range(12))
def test_a_steady_window_has_no_onset(seed: int):
    """The simulator's mix: 38% of the attempts fail, at 3 to 60 calls a minute."""
    rng = random.Random(1000 + seed)
    rate = (3, 8, 20, 60)[seed % 4]
    calls = []
    for i in range(120):
        for _ in range(max(0, round(rng.gauss(rate, rate**0.5)))):
            t = T0 + timedelta(minutes=i, seconds=rng.uniform(0, 59.9))
            calls.append(call(len(calls), t, rng.random() < 0.38))
    t = onset.timeline(calls, T0, T0 + WINDOW)
    assert sum(b.attempts for b in t.buckets) == len(calls) and t.onset is None
    assert onset.onset_line(t, None).startswith("no onset")


def test_failures_are_attempts_the_network_failed():
    """Busy, no answer, rejected by the user, abandoned by the caller: the called user's doing,
    effective attempts for NER (analysis.cause.effective), no failure here. A rise of them from
    bucket 70 is no onset; a rise of 408 timeouts (no_answer by the outcome rules, a network
    failure for NER) is one."""
    user = [
        (Outcome.BUSY, 486),
        (Outcome.NO_ANSWER, 480),
        (Outcome.CANCELLED, 487),
        (Outcome.BUSY, 603),
    ]
    calls = [
        dataclasses.replace(c, outcome=user[i % 4][0], sip_code=user[i % 4][1])
        if c.sip_code == 503
        else c
        for i, c in enumerate(step(70))
    ]
    t = onset.timeline(calls, T0, T0 + WINDOW)
    assert [(b.attempts, b.failed) for b in t.buckets[69:71]] == [(20, 2), (20, 0)]
    assert t.onset is None
    timeouts = [
        dataclasses.replace(c, outcome=Outcome.NO_ANSWER, sip_code=408) if c.sip_code == 503 else c
        for c in step(70)
    ]
    assert bucket_of(onset.timeline(timeouts, T0, T0 + WINDOW)) == 70


def test_a_constant_rate_has_no_onset():
    assert onset.timeline(step(0, after=8), T0, T0 + WINDOW).onset is None
    assert onset.timeline(step(200, before=0), T0, T0 + WINDOW).onset is None


def test_a_spike_that_ended_is_no_onset():
    """Twenty minutes at 60% in the middle of the window, then back to 10%: the tail holds
    the rate before, so the rise did not stay."""
    calls = [
        c
        for c in step(50)
        if not (c.started_at and c.started_at >= T0 + timedelta(minutes=70) and c.sip_code == 503)
    ]
    calls += [
        call(100_000 + i, T0 + timedelta(minutes=70 + i // 2, seconds=i % 2), i % 10 < 2)
        for i in range(100)
    ]
    assert onset.timeline(calls, T0, T0 + WINDOW).onset is None


def test_a_rise_needs_attempts_before_and_after():
    # Three buckets before it at least: a rise from the third bucket shows from the fourth.
    assert bucket_of(onset.timeline(step(2), T0, T0 + WINDOW)) == 3
    # 20 attempts from it at least: the last minute's 20 calls are enough. With its last call
    # gone, 19 are too few to stand alone, and the mark falls a bucket earlier, on the 39 calls
    # of the last two minutes (14 failed: still a clear rise over 10%).
    assert bucket_of(onset.timeline(step(119), T0, T0 + WINDOW)) == 119
    few = [c for c in step(119) if c.started_at and c.started_at < T0 + timedelta(seconds=7197)]
    t = onset.timeline(few, T0, T0 + WINDOW)
    assert t.buckets[-1].attempts == 19 and bucket_of(t) == 118


@pytest.mark.parametrize(
    ("window", "bucket_s"),
    [
        (timedelta(minutes=10), 60),
        (timedelta(hours=2), 60),
        (timedelta(hours=2, seconds=1), 300),
        (timedelta(hours=12), 300),
        (timedelta(hours=13), 900),
        (timedelta(days=2), 900),
        (timedelta(days=3), 3600),
    ],
)
def test_buckets_grow_with_the_window(window: timedelta, bucket_s: int):
    t = onset.timeline([], T0, T0 + window)
    assert t.bucket_s == bucket_s
    assert t.buckets[0].start == T0 and len(t.buckets) == -(-window // timedelta(seconds=bucket_s))


def test_buckets_are_whole_minutes_and_count_attempts_of_the_window_once():
    since = T0 + timedelta(seconds=25)
    until = since + timedelta(minutes=3)
    legs = [
        Call("tmedia", "t", f"0x{i}", since + timedelta(seconds=10), Outcome.FAILED,
             {"uct_call_id": "0xAB"}, direction=d, cause_code=503)
        for i, d in enumerate(("inbound", "outbound"))
    ]  # fmt: skip
    calls = [
        *legs,
        call(1, since - timedelta(seconds=1), True),  # before the window
        call(2, until, False),  # at its end: the last bucket
        call(3, until + timedelta(seconds=1), True),  # after it
        Call("jambonz", "a", "up", since, Outcome.IN_PROGRESS, {}),  # no attempt yet
    ]
    t = onset.timeline(calls, since, until)
    assert [b.start for b in t.buckets] == [T0 + timedelta(minutes=i) for i in range(4)]
    assert [(b.attempts, b.failed) for b in t.buckets] == [(1, 1), (0, 0), (0, 0), (1, 0)]
    assert calls_not_legs(legs) == [legs[1]]
    with pytest.raises(ValueError):
        onset.timeline([], until, since)


def test_the_json_is_the_documented_contract():
    d = json.loads(json.dumps(onset.timeline(step(70), T0, T0 + WINDOW).to_dict()))
    assert list(d) == ["bucket_s", "buckets", "onset"]
    assert d["buckets"][0] == {"start": "2026-11-20T10:00:00+00:00", "attempts": 20, "failed": 2}
    assert list(d["onset"]) == ["at", "z", "group"]
    assert d["onset"]["at"] == "2026-11-20T11:10:00+00:00"
    assert d["onset"]["group"] == {
        "trunk": "NAP_PEER_LON",
        "sip": 503,
        "cause": "SIP 503 Service Unavailable",
        "prefix": "4420",
        "excess": 600.0,
    }
    steady = onset.timeline(step(0, after=8), T0, T0 + WINDOW).to_dict()
    assert steady["onset"] is None


def test_the_bars_read_at_a_glance_and_ascii_when_asked():
    t = onset.timeline(step(70), T0, T0 + WINDOW)
    text = onset.bars(t, timezone.utc, ascii=True)
    assert text.isascii()
    lines = text.splitlines()
    assert len(lines) == 1 + 120
    row = lines[1 + 70]
    assert row.split()[:4] == ["11:10", "20", "12", "60%"] and row.endswith("<- onset")
    # Bars scale to the busiest bucket: 20 calls are 40 cells, 12 failures 24 of them.
    assert "#" * 24 + "." * 16 in row and "#" * 4 + "." * 36 in lines[1]
    assert sum("onset" in line for line in lines) == 1
    glyphs = onset.bars(t, timezone.utc)
    assert "█" * 24 + "░" * 16 in glyphs and "◀ onset" in glyphs


def test_the_onset_line_names_a_cause_where_no_sip_status_is_known():
    calls = [c for c in step(70) if c.sip_code != 503]
    calls += [
        Call("restcomm", "r", f"r{n}", T0 + timedelta(minutes=70 + n // 12, seconds=n % 12),
             Outcome.FAILED, {}, to="+33142685300")
        for n in range(600)
    ]  # fmt: skip
    line = onset.onset_line(onset.timeline(calls, T0, T0 + WINDOW), timezone.utc)
    assert line.startswith("failures up since 11:10 (")
    # The longest prefix tried (6 digits) holds every one of them.
    assert line.endswith(": restcomm: failed to +33 1426")


# --- over the simulator's records ---------------------------------------------------------------

INCIDENT_AT = FIXED_NOW - timedelta(minutes=20)
"""The simulator's incident starts 20 minutes before its clock."""
LONDON_TRUNKS = {
    "tmedia": simtmedia.LONDON_NAP,
    "plivo": f"{simplivo.LONDON_TRUNK_ID}.zt.plivo.com",
    "jambonz": simjambonz.LONDON_TRUNK,
}
"""The trunks of the calls to +44 20, as the records name them (Plivo's current API gives its
trunk_domain)."""


@pytest.fixture(scope="module")
def sim_day() -> list[Call]:
    """The simulator's calls of the 26 hours before FIXED_NOW."""
    return asyncio.run(records.sim_calls(FIXED_NOW - timedelta(hours=26)))


@pytest.mark.parametrize(
    ("minutes_before", "hours", "bucket_s"),
    [
        (10, 1, 60),
        (10, 2, 60),
        (10, 6, 300),
        (10, 12, 300),
        (10, 24, 900),
        # Long before it: the afternoon and the night of the day before.
        (20 * 60, 1, 60),
        (20 * 60, 2, 60),
        (14 * 60, 6, 300),
    ],
)
def test_the_simulators_normal_hours_have_no_onset(
    sim_day: list[Call], minutes_before: int, hours: int, bucket_s: int
) -> None:
    """Windows that end before the incident's start (INCIDENT_AT), so they stay normal."""
    until = INCIDENT_AT - timedelta(minutes=minutes_before)
    since = until - timedelta(hours=hours)
    t = onset.timeline(sim_day, since, until)
    window = [
        c
        for c in calls_not_legs(sim_day)
        if c.started_at and since <= c.started_at <= until and c.outcome is not Outcome.IN_PROGRESS
    ]
    assert t.bucket_s == bucket_s and sum(b.attempts for b in t.buckets) == len(window) > 0
    assert t.onset is None, onset.onset_line(t, timezone.utc)


@pytest.mark.parametrize("hours", [1, 2])
def test_the_simulators_incident_is_marked_at_its_start(sim_day: list[Call], hours: int) -> None:
    """From INCIDENT_AT, about 60% of the calls to +44 20 on one trunk of each of
    Tmedia (NAP_PEER_LON), Plivo and jambonz fail with 503 / Q.850 34. Over the demo's default
    view (the last hour, every account) and a longer one, the onset is within a bucket of its
    start, and its group is one of those trunks' 503s to +44 20."""
    t = onset.timeline(sim_day, FIXED_NOW - timedelta(hours=hours), FIXED_NOW)
    o = t.onset
    assert o is not None
    assert abs(o.at - INCIDENT_AT) <= timedelta(seconds=t.bucket_s), onset.onset_line(t, None)
    assert o.rate_after > o.rate_before + 0.15
    g = o.group
    assert g is not None and g.trunk in LONDON_TRUNKS.values() and g.prefix == "4420"
    # Plivo records carry its hangup code, not the SIP status: 5350/5360 are its 503s.
    assert g.sip == 503 or g.cause.startswith(("Plivo 5350 ", "Plivo 5360 "))
