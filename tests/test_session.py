"""The session the TUI's screens share, headless: a call's drill-down fetched once and its
failure remembered, and one set of related calls for a call wherever it is asked for."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from calltui.analysis.correlate import related
from calltui.config import parse_settings
from calltui.http import ProviderError
from calltui.model import Call, CallQuery, Outcome
from calltui.session import Session
from calltui.sim import bandwidth as bwsim
from calltui.sim.app import SimApp
from calltui.sim.asgi import Faults, parse_faults
from calltui.sim.demo import demo_accounts
from tests.conftest import FAST_RETRY, FIXED_NOW

HOUR = CallQuery(since=FIXED_NOW - timedelta(hours=1))


def session_on(sim: SimApp) -> Session:
    settings = parse_settings({"accounts": demo_accounts()}, Path("<t>"))
    return Session(
        settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY, now=FIXED_NOW
    )


async def linked_plivo_call(session: Session) -> Call:
    """A Plivo call of the hour that was handed on to jambonz and to the Tmedia box."""
    everything = await session.engine.collect(session.account_names, HOUR, None)
    for c in everything:
        if c.provider == "plivo" and {r.call.provider for r in related(c, everything)} >= {
            "jambonz",
            "tmedia",
        }:
            return c
    pytest.fail("no Plivo call of the hour was handed on to jambonz and Tmedia")


async def test_one_related_set_whoever_asks() -> None:
    session = session_on(SimApp(seed=7, now=FIXED_NOW))
    call = await linked_plivo_call(session)
    session.store.extend([call])  # the table lists this Plivo call only
    asked: list[list[str]] = []
    first = await session.related(call, ["demo-plivo"], asked.append)
    assert asked == [[a for a in session.account_names if a != "demo-plivo"]]
    assert {r.call.provider for r in first.relations} >= {"jambonz", "tmedia"}
    again = await session.related(call, ["demo-plivo"], asked.append)
    assert len(asked) == 1  # the other accounts' answer is kept for this call
    assert [r.to_dict() for r in again.relations] == [r.to_dict() for r in first.relations]
    await session.aclose()


async def test_a_wider_scope_asks_only_the_accounts_not_yet_asked() -> None:
    session = session_on(SimApp(seed=7, now=FIXED_NOW))
    call = await linked_plivo_call(session)
    session.store.extend([call])
    asked: list[list[str]] = []
    narrow = await session.related(call, ["demo-plivo"], asked.append, scope=["demo-jambonz"])
    assert asked == [["demo-jambonz"]]
    assert {r.call.provider for r in narrow.relations} == {"jambonz"}
    wide = await session.related(call, ["demo-plivo"], asked.append)
    rest = [a for a in session.account_names if a not in ("demo-plivo", "demo-jambonz")]
    assert asked == [["demo-jambonz"], rest]
    assert {r.call.provider for r in wide.relations} >= {"jambonz", "tmedia"}
    again = await session.related(call, ["demo-plivo"], asked.append, scope=["demo-jambonz"])
    assert len(asked) == 2
    assert {r.call.provider for r in again.relations} == {"jambonz"}  # the scope still holds
    await session.aclose()


async def test_related_calls_include_the_drill_downs_legs() -> None:
    session = session_on(SimApp(seed=7, now=FIXED_NOW))
    legs = await session.engine.collect(["demo-tmedia"], HOUR, 50)
    leg = next(c for c in legs if c.parent_id)
    before = await session.related(leg, session.account_names)
    await session.detail(leg)
    after = await session.related(leg, session.account_names)
    assert session.cached(leg) is not None
    assert {r.call.id for r in after.relations} >= {r.call.id for r in before.relations}
    assert any(r.call.id == leg.parent_id for r in after.relations)
    await session.aclose()


async def test_a_failed_drill_down_is_remembered_until_one_succeeds() -> None:
    sim = SimApp(seed=7, now=FIXED_NOW)
    session = session_on(sim)
    (call,) = await session.engine.collect(["demo-plivo"], HOUR, 1)
    sim.faults = Faults(parse_faults("500@plivo"), 7)
    with pytest.raises(ProviderError):
        await session.detail(call)
    assert session.detail_error(call) is not None and session.cached(call) is None
    sim.faults = Faults((), 7)
    detail = await session.detail(call)
    assert session.detail_error(call) is None and session.cached(call) is detail
    assert await session.detail(call) is detail  # fetched once
    session.forget([call])
    assert session.cached(call) is None
    await session.aclose()


async def test_a_drill_down_that_names_the_cause_refines_the_held_record() -> None:
    """A Bandwidth list record has no cause: a USER_BUSY call is listed failed, and the store
    holds it busy once its drill-down has read the hangup event."""
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    session = session_on(sim)
    told: list[list[int]] = []
    session.on_refined = told.append
    busy = next(
        c
        for c in sim.world.calls("bandwidth", HOUR.since)
        if c.outcome == "busy" and c.end < FIXED_NOW
    )
    listed = await session.engine.collect(["demo-bandwidth"], HOUR, None)
    session.store.extend(listed)
    row = session.store.find("demo-bandwidth", bwsim.call_id(busy))
    assert row is not None
    call = session.store.call(row)
    assert (call.outcome, call.cause) == (Outcome.FAILED, None)
    detail = await session.detail(call)
    assert (detail.call.outcome, detail.call.cause) == (Outcome.BUSY, "USER_BUSY")
    held = session.store.call(row)
    assert (held.outcome, held.cause, held.raw) == (Outcome.BUSY, "USER_BUSY", detail.call.raw)
    assert told == [[row]]
    await session.detail(held)
    assert told == [[row]]  # nothing more to say
    # The page listed again brings the list record back: the drill-down held refines it again.
    session.store.update([call])
    assert session.store.brief(row).outcome is Outcome.FAILED
    await session.detail(call)
    assert session.store.brief(row).outcome is Outcome.BUSY and told == [[row], [row]]
    await session.aclose()


async def test_a_drill_down_that_says_what_the_listing_said_leaves_the_store_alone() -> None:
    session = session_on(SimApp(seed=7, now=FIXED_NOW))
    told: list[list[int]] = []
    session.on_refined = told.append
    listed = await session.engine.collect(["demo-plivo"], HOUR, 20)
    session.store.extend(listed)
    for call in listed[:5]:
        detail = await session.detail(call)
        assert (detail.call.outcome, detail.call.cause) == (call.outcome, call.cause)
    assert told == []
    await session.aclose()


async def test_the_progress_of_a_load_moves_with_pages_before_any_row_is_held() -> None:
    session = session_on(SimApp(seed=7, now=FIXED_NOW))
    assert session.progress() == 0
    calls = session.engine.merged(session.account_names, HOUR)
    await anext(calls)  # every account's first page is in; the store holds none of it
    assert len(session.store) == 0 and session.progress() >= len(session.account_names)
    await calls.aclose()
    await session.aclose()
