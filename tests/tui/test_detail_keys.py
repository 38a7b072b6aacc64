"""The detail's keys do what its screen and the README say: `2` puts the cursor in the ladder or
the waterfall, F6 is the raw tab and F3 its search; the Tmedia ladder names its three lanes,
draws each leg between its own two, and shows the box's routing (route and NAP) in full; a
span's whole numbers read as numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from rich.cells import cell_len
from textual.widgets import Input, Static, TabbedContent

from calltui.model import Call, CallDetail, Event, Outcome
from calltui.tui import views
from calltui.tui.app import CallTUI
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.widgets.rows import RowList
from tests.tui.harness import go_to, make_app, open_detail, screen_text, settle

WIDE = (120, 40)
SMALL = (80, 24)


def traced(c: Call) -> bool:
    return c.outcome is Outcome.ANSWERED and c.raw.get("trace_id") not in (None, "0" * 32)


async def flow_of(pilot: Any, app: CallTUI, want: Callable[[Call], bool]) -> DetailScreen:
    """The detail of the first call `want` accepts, on its flow tab."""
    await settle(pilot)
    await go_to(pilot, app, want)
    screen = await open_detail(pilot, app)
    await pilot.press("2")
    await settle(pilot)
    return screen


async def test_two_puts_the_cursor_in_the_ladder_and_the_arrows_move_it() -> None:
    app = make_app(["demo-tmedia"])
    async with app.run_test(size=WIDE) as pilot:
        screen = await flow_of(pilot, app, lambda c: c.outcome is Outcome.ANSWERED)
        steps = screen.query_one(RowList)
        assert steps.has_focus
        await pilot.press("down", "down")
        await pilot.pause(0.2)
        assert steps.cursor == 2
        ladder = screen.query_one("#flow").children[0]
        third = ladder.steps[2]  # type: ignore[attr-defined]
        body = str(screen.query_one("#step-body", Static).render())
        assert third.name in body


async def test_two_puts_the_cursor_in_the_waterfall() -> None:
    app = make_app(["demo-jambonz"])
    async with app.run_test(size=WIDE) as pilot:
        screen = await flow_of(pilot, app, traced)
        spans = screen.query_one(RowList)
        assert spans.has_focus and spans.count > 1
        await pilot.press("down")
        await pilot.pause(0.2)
        assert spans.cursor == 1


async def test_f6_is_the_raw_tab_and_f3_searches_it() -> None:
    app = make_app(["demo-plivo"])
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = await open_detail(pilot, app)
        await pilot.press("f6")
        await pilot.pause(0.1)
        assert screen.query_one(TabbedContent).active == "tab-raw"
        await pilot.press("1")
        await pilot.press("f3")
        await pilot.pause(0.1)
        assert screen.query_one(TabbedContent).active == "tab-raw"
        assert screen.query_one("#raw-search", Input).has_focus


async def test_the_ladder_names_caller_sbc_and_callee_and_each_leg_has_its_side() -> None:
    app = make_app(["demo-tmedia"])
    async with app.run_test(size=SMALL) as pilot:
        screen = await flow_of(pilot, app, lambda c: c.outcome is Outcome.FAILED)
        detail = screen.detail
        assert detail is not None and len(detail.legs) == 2
        incoming = next(leg for leg in detail.legs if leg.direction == "inbound")
        outgoing = next(leg for leg in detail.legs if leg is not incoming)
        head = str(screen.query_one("#ladder-head", Static).render())
        roles, names = head.split("\n")
        assert roles.split() == ["caller", "SBC", "callee"]
        assert [incoming.from_, incoming.account, outgoing.to] == names.split()

        _, lanes, events = views.ladder(detail, 76)
        sbc = views.LADDER_TIME + lanes.centre(1)
        arrows = 0
        for e in events:
            if not views.is_message(e.name):
                continue
            line = views.ladder_line(lanes, e).plain
            tip = max(line.find("▶"), line.find("◀"))
            on_outgoing = e.data["leg"] == outgoing.id  # type: ignore[index]
            assert (tip > sbc) == on_outgoing, (e.name, line)
            arrows += 1
        assert arrows >= 4
        # The box's routing decision names the route and both NAPs, in full, at 80 columns.
        routing = next(e.name for e in events if e.name.startswith("Routing"))
        assert "NAP_" in routing and routing in screen_text(app)
        assert outgoing.trunk and outgoing.trunk in routing


def test_the_ladder_draws_each_step_from_its_plain_fields_not_the_provider_s_data() -> None:
    """Leg, way and order are the Event's own fields, whatever the provider's `data` says."""
    t = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
    legs = [
        Call("p", "box", leg, t, Outcome.BUSY, {}, direction=way)
        for leg, way in (("in", "inbound"), ("out", "outbound"))
    ]
    raw = {"direction": "2", "leg": "in", "order": 0}
    events = [
        Event(t, "486 Busy Here", raw, leg="out", received=True, seq=3),
        Event(t, "INVITE", raw, leg="out", received=False, seq=2),
        Event(t, "INVITE", raw, leg="in", received=True, seq=1),
    ]
    _, lanes, steps = views.ladder(CallDetail(legs[0], legs, events=events), 76)
    assert [(e.leg, e.seq) for e in steps] == [("in", 1), ("out", 2), ("out", 3)]
    box, callee = (views.LADDER_TIME + lanes.centre(i) for i in (1, 2))
    lines = [views.ladder_line(lanes, e).plain for e in steps]
    assert lines[0].index("▶") == box - 1 and "◀" not in lines[0]
    assert lines[1].index("▶") == callee - 1
    assert lines[2].index("◀") == box + 1


async def test_the_ladder_fits_the_width_at_80_and_200_columns() -> None:
    app = make_app(["demo-tmedia"])
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = await open_detail(pilot, app)
        assert screen.detail is not None
        for width in (76, 196):
            head, lanes, events = views.ladder(screen.detail, width)
            assert all(cell_len(line) <= width for line in head.plain.split("\n"))
            for e in events:
                assert views.ladder_line(lanes, e).cell_len <= width


async def test_whole_numbers_of_a_span_read_as_numbers() -> None:
    app = make_app(["demo-jambonz"])
    async with app.run_test(size=WIDE) as pilot:
        screen = await flow_of(pilot, app, traced)
        assert screen.detail is not None and screen.detail.spans
        statuses = [s.attributes.get("finalStatus") for s in screen.detail.spans]
        assert 200.0 in statuses  # a float64 tag on the wire
        text = screen_text(app)
        assert "finalStatus: 200" in text and "200.0" not in text
