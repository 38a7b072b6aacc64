"""The whole call and its good twin, from the detail: `5` draws the chain ladder of the
simulator's cross-provider incident (Plivo → jambonz → the Tmedia box's two legs) with the
failed hop highlighted; `w` opens the nearest answered call on the same trunk beside it, what
differs first."""

from __future__ import annotations

from datetime import timedelta

from calltui.model import CallQuery, Outcome
from calltui.sim.demo import handed_on
from calltui.sim.world import INCIDENT_LEAD
from calltui.tui.screens.compare import CompareScreen
from calltui.tui.screens.detail import DetailScreen
from tests.conftest import FIXED_NOW
from tests.tui.harness import go_to, make_app, open_detail, screen_text, settle

SIZE = (160, 50)


def incident_app(accounts: list[str]):  # type: ignore[no-untyped-def]
    return make_app(accounts, seed=7, query=CallQuery(since=FIXED_NOW - INCIDENT_LEAD))


async def test_five_draws_the_chain_with_the_hop_where_the_503_began() -> None:
    ids = handed_on(7, FIXED_NOW, FIXED_NOW - INCIDENT_LEAD)
    app = incident_app(["demo-plivo"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        me = await go_to(pilot, app, lambda c: c.id in ids)
        screen = await open_detail(pilot, app)
        await pilot.press("5")
        for _ in range(200):
            await pilot.pause(0.05)
            if screen.chain is not None:
                break
        await settle(pilot)
        chain = screen.chain
        assert chain is not None
        assert [h.call.provider for h in chain.hops] == ["plivo", "jambonz", "tmedia", "tmedia"]
        assert chain.hops[0].call.id == me.id and chain.failed_hop == 3
        text = screen_text(app)
        assert "the 503 came from NAP_PEER_LON; jambonz and plivo passed it on" in text
        assert "◀ the failure began here" in text
        assert "[1→2] same numbers" in text and "[2→3] same SIP Call-ID" in text
        assert "Routing:" in text  # the box's own steps, on its lane


async def test_w_puts_the_good_twin_beside_the_failed_call() -> None:
    app = incident_app(["demo-tmedia"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        me = await go_to(
            pilot, app, lambda c: c.outcome is Outcome.FAILED and c.trunk == "NAP_PEER_LON"
        )
        await open_detail(pilot, app)
        await pilot.press("w")
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, CompareScreen):
                break
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.twin is not None
        twin = screen.b
        assert screen.a.id == me.id and twin.outcome is Outcome.ANSWERED
        assert twin.trunk == me.trunk and me.started_at and twin.started_at
        assert abs(twin.started_at - me.started_at) <= timedelta(hours=1)
        first = [r for r in screen.rows if r.section == "twin"]
        assert first and all(r.differs for r in first)
        assert {r.field for r in first} >= {"sip_code", "pdd_s"}
        text = screen_text(app)
        assert "Good twin" in text and "GOOD TWIN" in text and "RECORD" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)


async def test_w_on_an_answered_call_says_a_twin_is_for_failures() -> None:
    app = make_app(["demo-plivo"])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await go_to(pilot, app, lambda c: c.outcome is Outcome.ANSWERED)
        await open_detail(pilot, app)
        await pilot.press("w")
        await pilot.pause(0.2)
        assert "a good twin is for a failed call" in screen_text(app)
        assert isinstance(app.screen, DetailScreen)
