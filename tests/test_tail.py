"""The headless live tail over the simulator: new calls appear as the simulator's clock moves,
nothing is returned twice, filters apply, and a failing account backs off alone."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from calltui.analysis.correlate import related
from calltui.engine import Engine
from calltui.model import FAILED_OUTCOMES, Call, CallQuery, Outcome
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_settings
from calltui.tail import LEAD_PAGES, TailPolicy, TailPoller, around
from tests.conftest import FAST_RETRY, FIXED_NOW

FAST = ["demo-tmedia", "demo-plivo", "demo-restcomm", "demo-jambonz"]
"""Bandwidth allows one request a second: tests that poll often leave it out."""


class Clock:
    """The simulator's and the poller's wall clock, moved by hand; and a monotonic one."""

    def __init__(self, sim: SimApp) -> None:
        self.sim = sim
        self.mono = 0.0

    def now(self) -> datetime:
        now = self.sim.world.fixed_now
        assert now is not None
        return now

    def advance(self, seconds: float) -> None:
        self.sim.world.fixed_now = self.now() + timedelta(seconds=seconds)
        self.mono += seconds

    def monotonic(self) -> float:
        return self.mono


def engine_for(sim: SimApp) -> Engine:
    return Engine(demo_settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)


def key(c: Call) -> tuple[str, str]:
    return (c.account, c.id)


async def loaded(engine: Engine, accounts: list[str], query: CallQuery) -> list[Call]:
    return await engine.collect(accounts, query, None)


def poller_over(
    engine: Engine,
    accounts: list[str],
    query: CallQuery,
    held: list[Call],
    clock: Clock,
    **policy: float,
) -> TailPoller:
    keys = {key(c) for c in held}
    newest: dict[str, datetime | None] = {}
    for c in held:
        if c.started_at is not None and (newest.get(c.account) or c.started_at) <= c.started_at:
            newest[c.account] = c.started_at
    return TailPoller(
        engine.provider,
        accounts,
        query,
        known=lambda account, call_id: True if (account, call_id) in keys else None,
        now=clock.now,
        newest=newest,
        policy=TailPolicy(**policy),  # type: ignore[arg-type]
        clock=clock.monotonic,
    )


async def test_new_calls_appear_as_the_clock_moves_newest_first_and_only_once():
    sim = SimApp(seed=3, now=FIXED_NOW, enforce_rate_limits=False)
    clock = Clock(sim)
    engine = engine_for(sim)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1))
    held = await loaded(engine, FAST, query)
    poller = poller_over(engine, FAST, query, held, clock, max_pages=20)
    try:
        first = await poller.poll()
        assert first.calls == [] and first.errors == {}
        assert sorted(first.polled) == sorted(FAST)

        clock.advance(300)
        batch = await poller.poll()
        assert batch.errors == {}
        assert batch.calls, "five minutes of traffic brought no call"
        starts = [c.started_at for c in batch.calls]
        assert starts == sorted(starts, reverse=True)
        # Exactly the calls listed now that were not held: nothing missed, nothing twice.
        now_listed = await loaded(engine, FAST, query)
        expected = {key(c) for c in now_listed} - {key(c) for c in held}
        assert {key(c) for c in batch.calls} == expected
        assert all(c.page is not None and c.page.request for c in batch.calls)

        again = await poller.poll()
        assert again.calls == []
    finally:
        await engine.aclose()


async def test_calls_in_progress_come_back_once_when_they_end():
    """Calls held in progress, and new ones a poll returned in progress, are returned once
    more (in `ended`) by the poll that lists them over."""
    sim = SimApp(seed=3, now=FIXED_NOW, enforce_rate_limits=False)
    clock = Clock(sim)
    engine = engine_for(sim)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1))
    held = await loaded(engine, FAST, query)
    running = {key(c) for c in held if c.outcome is Outcome.IN_PROGRESS}
    assert running, "no call in progress at the start"
    poller = poller_over(engine, FAST, query, held, clock, max_pages=20)
    poller.in_progress = lambda a, i: (a, i) in running
    starts = {key(c): c.started_at for c in held}
    watched = set(running)
    ended: list[Call] = []
    try:
        for _ in range(4):
            clock.advance(60)
            batch = await poller.poll()
            assert batch.errors == {}
            assert {key(c) for c in batch.ended} <= watched
            ended.extend(batch.ended)
            watched |= {key(c) for c in batch.calls if c.outcome is Outcome.IN_PROGRESS}
        got = [key(c) for c in ended]
        assert len(got) == len(set(got))  # each once
        assert all(c.outcome is not Outcome.IN_PROGRESS and c.ended_at for c in ended)
        # Those held that started in the last five minutes and are over now are among them:
        # each poll's window (back to ten minutes before the newest call) still held them.
        listed_now = {key(c): c for c in await loaded(engine, FAST, query)}
        recent = {k for k in running if starts[k] >= FIXED_NOW - timedelta(minutes=5)}
        over = {k for k in recent if listed_now[k].outcome is not Outcome.IN_PROGRESS}
        assert over and over <= set(got)
    finally:
        await engine.aclose()


async def test_the_query_refines_what_the_tail_returns():
    sim = SimApp(seed=3, now=FIXED_NOW, enforce_rate_limits=False)
    clock = Clock(sim)
    engine = engine_for(sim)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1), outcomes=FAILED_OUTCOMES)
    try:
        held = await loaded(engine, FAST, query)
        poller = poller_over(engine, FAST, query, held, clock, max_pages=20)
        clock.advance(1200)
        batch = await poller.poll()
        assert batch.calls and all(c.outcome in FAILED_OUTCOMES for c in batch.calls)
    finally:
        await engine.aclose()


async def test_a_failing_account_backs_off_exponentially_while_the_others_go_on():
    sick = SimApp(seed=3, now=FIXED_NOW, faults="500@plivo", enforce_rate_limits=False)
    well = SimApp(seed=3, now=FIXED_NOW, enforce_rate_limits=False)
    clock = Clock(sick)
    bad, good = engine_for(sick), engine_for(well)
    failing = [True]

    def provider_of(name: str):  # the plivo account heals when `failing` is cleared
        return (bad if failing[0] else good).provider(name)

    query = CallQuery(since=FIXED_NOW - timedelta(hours=1))
    accounts = ["demo-plivo", "demo-jambonz"]
    poller = TailPoller(
        provider_of,
        accounts,
        query,
        known=lambda account, call_id: None,
        now=clock.now,
        policy=TailPolicy(interval_s=5, max_backoff_s=40),
        clock=clock.monotonic,
    )
    try:
        delays = []
        for _ in range(5):
            assert "demo-plivo" in poller.due()
            batch = await poller.poll(["demo-plivo"])
            assert "demo-plivo" in batch.errors and "HTTP 500" in str(batch.errors["demo-plivo"])
            delays.append(poller.accounts["demo-plivo"].due_at - clock.monotonic())
            clock.mono = poller.accounts["demo-plivo"].due_at
        assert delays == [10, 20, 40, 40, 40]
        assert [a.account for a in poller.backing_off()] == ["demo-plivo"]

        # The other account is not held back by it.
        batch = await poller.poll(["demo-jambonz"])
        assert batch.errors == {} and poller.accounts["demo-jambonz"].failures == 0

        failing[0] = False
        batch = await poller.poll(["demo-plivo"])
        assert batch.errors == {}
        state = poller.accounts["demo-plivo"]
        assert state.failures == 0 and state.error is None
        assert state.due_at - clock.monotonic() == 5
    finally:
        await bad.aclose()
        await good.aclose()


async def test_wait_says_when_the_next_account_is_due():
    sim = SimApp(seed=3, now=FIXED_NOW, enforce_rate_limits=False)
    clock = Clock(sim)
    engine = engine_for(sim)
    poller = poller_over(
        engine, ["demo-jambonz"], CallQuery(since=FIXED_NOW), [], clock, interval_s=7
    )
    try:
        assert poller.wait_s() == 0 and poller.due() == ["demo-jambonz"]
        await poller.poll()
        assert poller.wait_s() == 7 and poller.due() == []
        clock.mono += 7
        assert poller.due() == ["demo-jambonz"]
    finally:
        await engine.aclose()


def test_backoff_policy_doubles_from_the_interval_up_to_its_cap():
    p = TailPolicy(interval_s=2, max_backoff_s=30)
    assert [p.delay(n) for n in range(6)] == [2, 4, 8, 16, 30, 30]
    assert p.delay(10_000) == 30


@pytest.mark.parametrize("window_s", [30])
async def test_around_a_plivo_call_finds_its_relatives_on_other_accounts(window_s: int):
    sim = SimApp(seed=1, now=FIXED_NOW, enforce_rate_limits=False)
    engine = engine_for(sim)
    try:
        plivo = await loaded(
            engine, ["demo-plivo"], CallQuery(since=FIXED_NOW - timedelta(hours=1))
        )
        others = [a for a in engine.account_names if a != "demo-plivo"]
        for call in plivo:
            assert call.started_at is not None
            t = call.started_at
            span = CallQuery(
                since=t - timedelta(seconds=window_s), until=t + timedelta(seconds=window_s)
            )
            near, errors = await around(engine.provider, others, span)
            assert errors == {}
            rel = related(call, near)
            if rel:
                break
        else:
            pytest.fail("no Plivo call of the hour was handed on to another provider")
        assert {r.call.provider for r in rel} >= {"jambonz", "tmedia"}
        assert all("same numbers" in r.reason or "Call-ID" in r.reason for r in rel)
    finally:
        await engine.aclose()


def plivo_call_near(calls: list[Call], t: datetime) -> Call:
    return min(calls, key=lambda c: abs(c.started_at - t) if c.started_at else timedelta.max)


async def test_around_a_plivo_call_hours_back_reads_past_the_calls_that_ended_since():
    # Plivo sorts and filters on end time: the five hours of calls that ended since the window
    # come first, and do not use up the look-up's three pages.
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    engine = engine_for(sim)
    try:
        t = FIXED_NOW - timedelta(hours=5)
        hour = CallQuery(since=t - timedelta(minutes=30), until=t + timedelta(minutes=30))
        me = plivo_call_near(await loaded(engine, ["demo-plivo"], hour), t)
        assert me.started_at is not None
        window = timedelta(seconds=30)
        span = CallQuery(since=me.started_at - window, until=me.started_at + window)
        near, errors = await around(engine.provider, ["demo-plivo"], span)
        assert errors == {}
        assert me.id in {c.id for c in near}
        assert all(span.matches(c) for c in near)
    finally:
        await engine.aclose()


async def test_the_pages_before_a_look_ups_window_are_bounded():
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    engine = engine_for(sim)
    try:
        t = FIXED_NOW - timedelta(hours=20)  # the calls that ended since fill 90 pages
        span = CallQuery(since=t, until=t + timedelta(seconds=60))
        near, errors = await around(engine.provider, ["demo-plivo"], span, max_pages=3)
        assert errors == {} and all(span.matches(c) for c in near)
        lists = [s for s in sim.seen if s.path.endswith("/Zentrunk/Call/")]
        in_flight = engine.provider("demo-plivo").http.max_concurrency
        assert LEAD_PAGES <= len(lists) <= LEAD_PAGES + 3 + in_flight
    finally:
        await engine.aclose()
