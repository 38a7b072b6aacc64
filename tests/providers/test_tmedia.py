"""What Tmedia / ProSBC `call_trace` support means, over real HTTP against the simulator.

TelcoBridges' docs are the reference; no real `/call_trace` response has ever been published,
so the hand-built bodies below are synthetic, shaped as an open-source client of live boxes
parses them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from calltui.config import parse_settings
from calltui.http import (
    AuthError,
    BadResponseError,
    HttpClient,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    ReadOnlyViolation,
    RetryPolicy,
    ServerError,
)
from calltui.model import Call, CallQuery, Outcome
from calltui.providers.base import DataError, Page
from calltui.providers.tmedia import MAX_CALL, TmediaAccount, TmediaProvider, parse_legs
from calltui.providers.tmedia_box import box_datetime, leg_events, to_box_time
from calltui.sim import tmedia as sim_tmedia
from calltui.sim.app import SimApp
from calltui.sim.demo import SIM_HOST, demo_accounts
from tests.conftest import FAST_RETRY, FIXED_NOW, shared_fixture, sim_mid_call

MOSCOW = ZoneInfo("Europe/Moscow")
FAST = {"rate_limit": 1000}


async def collect(p: Any, query: CallQuery) -> list[Page]:
    return [page async for page in p.pages(query)]


def records(pages: list[Page]) -> list[Call]:
    return [c for page in pages for c in page.records]


def expected_legs(app: SimApp, since: datetime, until: datetime | None = None) -> set[str]:
    """The oracle: every leg the simulated box holds that started (to the second) in the window."""
    hi = until or app.world.now()
    out = set()
    for call in app.world.calls("tmedia", since - timedelta(seconds=1), hi):
        for leg in sim_tmedia.legs_of(call):
            start = leg.start.replace(microsecond=0)
            if since <= start <= hi and leg.start <= app.world.now():
                out.add(leg.leg_id)
    return out


def tmedia_queries(app: SimApp) -> list[dict[str, str]]:
    return [dict(s.query) for s in app.seen if s.provider == "tmedia"]


def fast_app(**kw: Any) -> SimApp:
    return SimApp(seed=7, now=FIXED_NOW, **kw)


# --- read-only by construction -------------------------------------------------------------------


async def test_drop_call_is_not_allowlisted_and_the_http_layer_refuses_it(
    open_demo: Any, sim: SimApp
) -> None:
    p = await open_demo("demo-tmedia", **FAST)
    assert "drop_call" not in TmediaProvider.PARAMS
    with pytest.raises(ReadOnlyViolation):
        await p.http.get("/call_trace", {"drop_call": "yes", "nb_result": 10})
    assert sim.seen == []


async def test_the_simulator_only_ever_saw_allowlisted_parameters(
    open_demo: Any, sim: SimApp
) -> None:
    p = await open_demo("demo-tmedia", page_size=100, **FAST)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1), to="+4", direction="inbound")
    listed = records(await collect(p, query))
    await p.detail(listed[0].id)
    queries = tmedia_queries(sim)
    assert len(queries) >= 3
    for q in queries:
        assert set(q) <= TmediaProvider.PARAMS
        assert q["recursive"] == "yes"
        assert q["nb_result"] and q["end"]
        assert all(v != "" for v in q.values())


# --- paging --------------------------------------------------------------------------------------


async def test_pages_from_1_newest_first_until_a_short_page(open_demo: Any, sim: SimApp) -> None:
    p = await open_demo("demo-tmedia", page_size=50, **FAST)
    since = FIXED_NOW - timedelta(hours=2)
    pages = await collect(p, CallQuery(since=since))
    got = records(pages)
    ids = [c.id for c in got]
    assert len(ids) == len(set(ids)), "no duplicates"
    assert set(ids) == expected_legs(sim, since)
    starts = [c.started_at.timestamp() for c in got if c.started_at]
    assert len(starts) == len(got) and starts == sorted(starts, reverse=True), "newest first"
    queries = tmedia_queries(sim)
    assert [q["page"] for q in queries] == [str(n) for n in range(1, len(queries) + 1)]
    assert {q["nb_result"] for q in queries} == {"50"}
    assert len(queries) == len(ids) // 50 + 1, "stops at the first short page"
    assert len(pages[-1].records) < 50 and pages[-1].watermark is None
    for page in pages[:-1]:
        assert page.watermark == min(c.started_at for c in page.records if c.started_at)


async def test_paging_stops_once_a_page_reaches_past_since(open_demo: Any, sim: SimApp) -> None:
    """The box filters `start` itself, so the first short page ends the stream; the watermark
    of every page promises that no later page holds a newer call."""
    p = await open_demo("demo-tmedia", page_size=20, **FAST)
    since = FIXED_NOW - timedelta(minutes=30)
    pages = await collect(p, CallQuery(since=since))
    assert all(
        c.started_at and c.started_at >= since - timedelta(seconds=1) for c in records(pages)
    )
    marks = [pg.watermark for pg in pages if pg.watermark is not None]
    assert marks == sorted(marks, reverse=True)
    assert len(tmedia_queries(sim)) == len(pages)


async def test_legs_arriving_while_paging_shift_pages_without_duplicates(
    open_demo: Any, sim: SimApp
) -> None:
    p = await open_demo("demo-tmedia", page_size=20, **FAST)
    since = FIXED_NOW - timedelta(hours=1)
    wanted = expected_legs(sim, since)
    seen: list[str] = []
    async for page in p.pages(CallQuery(since=since)):
        seen.extend(c.id for c in page.records)
        sim.world.fixed_now = FIXED_NOW + timedelta(minutes=2)  # new legs push the buffer down
    assert len(seen) == len(set(seen))
    assert wanted <= set(seen)


async def test_the_page_is_sorted_by_start_though_the_box_keys_it_by_leg_id(
    open_demo: Any, sim: SimApp
) -> None:
    p = await open_demo("demo-tmedia", page_size=100, **FAST)
    body = await p.http.get_json("/call_trace", {"nb_result": 100, "recursive": "yes"})
    keys = [k for k in body if k != "***meta***"]
    assert keys == sorted(keys), "the box answers in leg id order"
    parsed = p.parse_list(body)
    assert [c.started_at for c in parsed] == sorted((c.started_at for c in parsed), reverse=True)


async def test_old_firmware_that_caps_nb_result_at_100(open_demo: Any) -> None:
    app = fast_app()
    p = await open_demo("demo-tmedia", app=app, base_url=SIM_HOST + "/old-box-cap", **FAST)
    assert p.page_size == 500
    since = FIXED_NOW - timedelta(hours=3)
    got = [c.id for c in records(await collect(p, CallQuery(since=since)))]
    assert len(got) == len(set(got)) and set(got) == expected_legs(app, since)
    queries = tmedia_queries(app)
    assert (queries[0]["page"], queries[0]["nb_result"]) == ("1", "500")
    assert [(q["page"], q["nb_result"]) for q in queries[1:]] == [
        (str(n), "100") for n in range(2, len(queries) + 1)
    ]
    assert p.page_size == 500, "a capped page may be a coincidence: the next listing asks 500"


async def test_old_firmware_that_rejects_nb_result_over_100(open_demo: Any) -> None:
    app = fast_app()
    p = await open_demo("demo-tmedia", app=app, base_url=SIM_HOST + "/old-box-reject", **FAST)
    since = FIXED_NOW - timedelta(hours=3)
    got = [c.id for c in records(await collect(p, CallQuery(since=since)))]
    assert set(got) == expected_legs(app, since) and len(got) == len(set(got))
    queries = tmedia_queries(app)
    assert queries[0]["nb_result"] == "500"
    assert {q["nb_result"] for q in queries[1:]} == {"100"}
    assert queries[1]["page"] == "1"
    await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=10)))
    assert tmedia_queries(app)[-1]["nb_result"] == "100", "a refusal is remembered"


@pytest.mark.parametrize("box", ["old-box-cap", "old-box-reject"])
async def test_old_firmware_with_a_small_first_page(open_demo: Any, box: str) -> None:
    """The TUI's first page of 125 legs (page_sizes) meets an old box: capped silently at 100 or
    refused, the listing goes on 100 a page and loses no leg."""
    app = fast_app()
    p = await open_demo("demo-tmedia", app=app, base_url=f"{SIM_HOST}/{box}", **FAST)
    since = FIXED_NOW - timedelta(hours=3)
    got = [c.id for page in [pg async for pg in p.pages(CallQuery(since=since), 100)]
           for c in page.records]  # fmt: skip
    assert len(got) == len(set(got)) and set(got) == expected_legs(app, since)
    queries = tmedia_queries(app)
    assert queries[0]["nb_result"] == "125"
    later = queries[1:] if box == "old-box-cap" else queries[2:]
    assert [(q["page"], q["nb_result"]) for q in later] == [
        (str(n), "100") for n in range(2, len(later) + 2)
    ]


# --- times ---------------------------------------------------------------------------------------


async def test_naive_times_are_sent_in_the_box_zone_and_end_is_widened(
    open_demo: Any, sim: SimApp
) -> None:
    p = await open_demo("demo-tmedia", **FAST)
    since, until = FIXED_NOW - timedelta(hours=1), FIXED_NOW - timedelta(minutes=30)
    await collect(p, CallQuery(since=since, until=until))
    q = tmedia_queries(sim)[0]
    # 13:00 UTC is 16:00 in Moscow; a second earlier in case the box compares strictly.
    assert q["start"] == "2026-11-20 15:59:59"
    # `end` bounds the END time: until (13:30 UTC, 16:30 MSK) plus the longest call allowed.
    assert q["end"] == "2026-11-20 20:30:00"


async def test_without_until_end_covers_now_plus_the_longest_call(
    open_demo: Any, sim: SimApp
) -> None:
    p = await open_demo("demo-tmedia", **FAST)
    before = datetime.now(timezone.utc)
    await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=10)))
    end = datetime.strptime(tmedia_queries(sim)[0]["end"], "%Y-%m-%d %H:%M:%S")
    assert end.replace(tzinfo=MOSCOW) >= (before + MAX_CALL).replace(microsecond=0)


async def test_a_call_that_ended_after_until_is_still_listed(open_demo: Any, sim: SimApp) -> None:
    until = FIXED_NOW - timedelta(hours=2)
    long_calls = [
        c for c in sim.world.calls("tmedia", until - timedelta(minutes=20), until) if c.end > until
    ]
    assert long_calls, "the world has calls that outlast the window"
    p = await open_demo("demo-tmedia", page_size=200, **FAST)
    query = CallQuery(since=until - timedelta(minutes=20), until=until)
    got = records(await collect(p, query))
    ids = {c.id for c in got}
    for call in long_calls:
        assert {leg.leg_id for leg in sim_tmedia.legs_of(call)} <= ids
    assert {c.id for c in got if query.matches(c)} == expected_legs(
        sim, until - timedelta(minutes=20), until
    )


def test_box_times_with_offset_naive_numeric_and_the_1970_placeholder() -> None:
    utc = timezone.utc
    assert box_datetime("2026/03/25 10:29:15 +0400", MOSCOW) == datetime(
        2026, 3, 25, 6, 29, 15, tzinfo=utc
    )
    assert box_datetime("2026-03-25 10:29:15", MOSCOW) == datetime(
        2026, 3, 25, 7, 29, 15, tzinfo=utc
    )
    assert box_datetime(1774420155, MOSCOW) == datetime(2026, 3, 25, 6, 29, 15, tzinfo=utc)
    assert box_datetime(1774420155000, MOSCOW) == datetime(2026, 3, 25, 6, 29, 15, tzinfo=utc)
    assert box_datetime("1970/01/01 04:00:00 +0400", MOSCOW) is None
    assert box_datetime("garbage", MOSCOW) is None
    assert box_datetime(["2026"], MOSCOW) is None


def test_bounds_stay_sound_across_a_dst_fold() -> None:
    """In New York 01:30 happens twice on 2026-11-01; whichever the box reads, the window holds."""
    ny = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)  # 01:30 EST
    assert to_box_time(first, ny, lower=True) == "2026-11-01 00:30:00"
    assert to_box_time(second, ny, lower=True) == "2026-11-01 01:30:00"
    assert to_box_time(first, ny, lower=False) == "2026-11-01 01:30:00"
    assert to_box_time(second, ny, lower=False) == "2026-11-01 02:30:00"


# --- the record ----------------------------------------------------------------------------------


async def test_each_call_is_two_linked_legs(open_demo: Any, sim: SimApp) -> None:
    p = await open_demo("demo-tmedia", page_size=200, **FAST)
    got = records(await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=1))))
    by_id = {c.id: c for c in got}
    pairs = 0
    for c in got:
        if c.direction != "outbound":
            continue
        assert c.raw["direction"] == "2"
        incoming = by_id.get(c.raw["other_leg_id"])
        if incoming is None:
            continue
        pairs += 1
        assert c.parent_id == incoming.id == c.raw["other_leg_id"]
        assert incoming.raw["other_leg_id"] == c.id
        assert incoming.direction == "inbound" and incoming.raw["direction"] == "1"
        assert incoming.parent_id is None
        assert incoming.raw["uct_call_id"] == c.raw["uct_call_id"]
        assert incoming.sip_call_id == incoming.raw["call_id"] != c.sip_call_id
        assert (incoming.from_, incoming.to) == (c.from_, c.to)
    assert pairs > 50


async def test_outcome_cause_and_mos_follow_the_normalized_record(open_demo: Any) -> None:
    # Stopped during a call, so some legs are still up (FIXED_NOW need have none).
    p = await open_demo("demo-tmedia", app=sim_mid_call("tmedia"), page_size=500, **FAST)
    got = records(await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=6))))
    seen_outcomes = {c.outcome for c in got}
    assert {
        Outcome.ANSWERED,
        Outcome.NO_ANSWER,
        Outcome.CANCELLED,
        Outcome.FAILED,
        Outcome.IN_PROGRESS,
    } <= seen_outcomes
    # The final SIP status decides, by the one rule of calltui.outcome.
    by_sip = {486: Outcome.BUSY, 600: Outcome.BUSY, 487: Outcome.CANCELLED}
    by_sip |= {408: Outcome.NO_ANSWER, 480: Outcome.NO_ANSWER}
    for c in got:
        raw = c.raw
        if raw["call_state"] == "Active":
            assert c.outcome is Outcome.IN_PROGRESS and c.ended_at is None
            assert c.sip_code is None
        elif raw["terminate_reason"] == "NORMAL":
            connected = not raw["connect_timestamp"].startswith("1970")
            if connected:
                assert c.outcome is Outcome.ANSWERED and c.sip_code is None
            else:  # given up while ringing: the final response of its call flow says how
                assert c.sip_code in (408, 480, 487) and c.outcome is by_sip[c.sip_code]
            assert c.cause == "NORMAL" and c.cause_code is None
        else:  # a numeric reason is the final SIP status
            code = int(raw["terminate_reason"])
            assert c.outcome is by_sip.get(code, Outcome.FAILED)
            assert c.cause_code == c.sip_code == code
        if c.outcome is Outcome.ANSWERED:
            assert c.answered_at is not None and c.duration_s == raw["call_duration"]
            assert c.ended_at == c.answered_at + timedelta(seconds=raw["call_duration"])
            assert c.mos == float(raw["mos"])
        else:
            assert c.answered_at is None or c.outcome is Outcome.IN_PROGRESS
        if raw["mos"] == "":
            assert c.mos is None
        assert c.started_at is not None and c.started_at.tzinfo is not None
        assert json.dumps(c.to_dict())


def synthetic_leg(**over: Any) -> dict[str, Any]:
    """A leg shaped as an open-source client of live boxes parses it (INFERENCE), not a capture."""
    leg = {
        "***meta***": {"valid_url": False},
        "leg_id": "0x0E47AC10",
        "other_leg_id": "0x0E47AC0F",
        "call_id": "a84b4c76e66710@198.51.100.7",
        "calling": 74951234567,
        "called": "79990001122",
        "direction": 2,
        "timestamp": "2026/03/25 10:29:15 +0400",
        "connect_timestamp": "1970/01/01 04:00:00 +0400",
        "call_duration": "0",
        "call_state": "Inactive",
        "terminate_reason": 486,
        "mos": "",
        "call_traces": {
            "***meta***": {"valid_url": False},
            "10": {
                "order": "10",
                "trace_info": "MOS: 3.1 codec ideal MOS 4.3, quality: 40%",
            },
            "2": {"order": 2, "trace_info": "486 Busy Here", "direction": "1"},
            "1": {"order": 1, "trace_info": "INVITE", "direction": "2", "leg": "0x0E47AC10"},
        },
    }
    return {**leg, **over}


def test_meta_is_skipped_at_every_level_and_numbers_become_strings() -> None:
    body = {"***meta***": {"version": "3.3.x"}, "0x0E47AC10": synthetic_leg()}
    (call,) = parse_legs(body, "box", MOSCOW)
    assert call.id == "0x0E47AC10" and call.parent_id == "0x0E47AC0F"
    assert call.from_ == "74951234567" and call.to == "79990001122"
    assert call.direction == "outbound"
    assert call.answered_at is None and call.ended_at is None
    assert call.outcome is Outcome.BUSY and (call.cause, call.cause_code) == ("486", 486)
    assert call.mos == 3.1, "from the MOS line when the leg has no mos"
    assert call.raw is body["0x0E47AC10"]
    events = leg_events(call, MOSCOW)
    assert [e.name for e in events] == [
        "INVITE",
        "486 Busy Here",
        "MOS: 3.1 codec ideal MOS 4.3, quality: 40%",
    ]
    assert events[0].data == {"direction": "2", "leg": "0x0E47AC10", "tooltip": None, "order": 1}
    assert events[2].data["leg"] == "0x0E47AC10", "an entry without `leg` belongs to its leg"
    # What the ladder draws, in plain terms: the leg, received (1) or sent (2), the order.
    assert [(e.leg, e.received, e.seq) for e in events] == [
        ("0x0E47AC10", False, 1),
        ("0x0E47AC10", True, 2),
        ("0x0E47AC10", None, 10),
    ]


def test_a_numeric_terminate_reason_of_300_to_699_is_the_final_sip_status() -> None:
    for reason, sip_code in ((486, 486), ("503", 503), ("302", 302), ("17", None)):
        leg = synthetic_leg(terminate_reason=reason, call_traces={})
        (call,) = parse_legs({"0x1": leg}, "box", MOSCOW)
        assert call.sip_code == sip_code and call.cause_code == int(reason)
    (answered,) = parse_legs(
        {"0x1": synthetic_leg(terminate_reason="NORMAL", call_traces={})}, "box", MOSCOW
    )
    assert answered.sip_code is None


def flow_of(*steps: tuple[str, str]) -> dict[str, Any]:
    """`call_traces` of (trace_info, trace_tooltip) steps in order, keyed in string order as the
    box keys them ("10" before "2")."""
    entries = {
        str(n): {"order": str(n), "direction": "1", "trace_info": info, "trace_tooltip": tip}
        for n, (info, tip) in enumerate(steps, start=1)
    }
    return {"***meta***": {"valid_url": False}, **dict(sorted(entries.items()))}


INVITE = ("INVITE", "INVITE sip:79990001122@198.51.100.7:5060 SIP/2.0")
TRYING = ("100 Trying", "SIP/2.0 100 Trying")
RINGING = ("180 Ringing", "SIP/2.0 180 Ringing")
ACK = ("ACK", "ACK")


@pytest.mark.parametrize(
    ("reason", "steps", "outcome", "sip_code"),
    [
        # A real box's NOT_NORMAL: the final response of the call flow says how.
        (
            "NOT_NORMAL",
            [INVITE, TRYING, RINGING, ("486 Busy Here", "SIP/2.0 486"), ACK],
            "busy",
            486,
        ),
        # The last final response in `order` (its key "10" comes before "2", the challenge).
        (
            "NOT_NORMAL",
            [
                *(INVITE, ("407 Proxy Authentication Required", ""), ACK, INVITE, TRYING),
                *(RINGING, ("183 Session Progress", ""), RINGING, ("Routing: route_1", "")),
                *(("600 Busy Everywhere", ""), ACK),
            ],
            "busy",
            600,
        ),
        ("NOT_NORMAL", [INVITE, ("503 Service Unavailable", ""), ACK], "failed", 503),
        # No final response, but a Q.850 cause in a Reason header.
        (
            "NOT_NORMAL",
            [INVITE, RINGING, ("BYE", 'BYE\nReason: Q.850;cause=17;text="User busy"')],
            "busy",
            None,
        ),
        ("NOT_NORMAL", [INVITE, ("CANCEL", "Reason: Q.850;cause=19")], "no_answer", None),
        # Given up while ringing: NORMAL, and the 487 of the cancelled INVITE.
        (
            "NORMAL",
            [INVITE, RINGING, ("CANCEL", "CANCEL"), ("487 Request Terminated", ""), ACK],
            "cancelled",
            487,
        ),
        ("NORMAL", [INVITE, RINGING, ("480 Temporarily Unavailable", ""), ACK], "no_answer", 480),
        ("NORMAL", [INVITE, RINGING], "no_answer", None),  # the box's word alone
        ("NOT_NORMAL", [INVITE, ("Call terminated: NOT_NORMAL", "")], "failed", None),
        # A numeric reason stays the strongest evidence for its step.
        ("503", [INVITE, ("486 Busy Here", "Reason: Q.850;cause=17")], "failed", 503),
        ("34", [INVITE, ("BYE", "Reason: Q.850;cause=17")], "failed", None),
        ("34", [INVITE, ("486 Busy Here", "")], "busy", 486),  # step 3 before step 4
    ],
)
def test_the_call_flow_is_outcome_evidence(
    reason: str, steps: list[tuple[str, str]], outcome: str, sip_code: int | None
) -> None:
    leg = synthetic_leg(terminate_reason=reason, call_traces=flow_of(*steps))
    (call,) = parse_legs({"0x1": leg}, "box", MOSCOW)
    assert (call.outcome.value, call.sip_code) == (outcome, sip_code)
    assert call.cause == reason


def test_a_leg_still_up_has_no_final_status_whatever_its_flow_answered() -> None:
    leg = synthetic_leg(
        call_state="Active",
        terminate_reason="",
        call_traces=flow_of(INVITE, ("302 Moved Temporarily", ""), ACK, INVITE, RINGING),
    )
    (call,) = parse_legs({"0x1": leg}, "box", MOSCOW)
    assert (call.outcome, call.sip_code) == (Outcome.IN_PROGRESS, None)


def test_wrong_types_on_optional_fields_give_none() -> None:
    leg = synthetic_leg(
        calling=["x"], timestamp={}, call_duration=True, mos="n/a", call_traces="x", direction=7
    )
    (call,) = parse_legs({"0x1": leg}, "box", MOSCOW)
    assert (call.from_, call.started_at, call.duration_s, call.mos, call.direction) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert leg_events(call, MOSCOW) == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        "ok",
        {"0x1": "not a leg"},
        {"0x1": {}},
        {"0x1": {"leg_id": None}},
    ],
)
def test_unreadable_bodies_are_data_errors(body: Any) -> None:
    with pytest.raises(DataError):
        parse_legs(body, "box", MOSCOW)


def test_every_recorded_tmedia_fixture_parses() -> None:
    folder = shared_fixture("tmedia")
    files = sorted(folder.glob("*.json"))
    assert files
    for path in files:
        for call in parse_legs(json.loads(path.read_text()), "box", MOSCOW):
            assert call.id


# --- filters -------------------------------------------------------------------------------------


async def test_number_and_direction_filters_are_sent_and_refined_locally(
    open_demo: Any, sim: SimApp
) -> None:
    p = await open_demo("demo-tmedia", page_size=500, **FAST)
    since = FIXED_NOW - timedelta(hours=6)
    query = CallQuery(since=since, to="+4", from_="+3", direction="outbound")
    got = records(await collect(p, query))
    q = tmedia_queries(sim)[0]
    assert (q["called"], q["calling"], q["direction"]) == ("4", "3", "2")
    assert all(c.direction == "outbound" for c in got)
    assert all("4" in (c.to or "") and "3" in (c.from_ or "") for c in got)
    kept = {c.id for c in got if query.matches(c)}
    assert len(kept) < len(got), "the box matches substrings; --to/--from are prefixes"
    every = records(await collect(p, CallQuery(since=since)))
    assert kept == {c.id for c in every if query.matches(c)}


async def test_only_in_progress_sends_call_state_active(open_demo: Any) -> None:
    sim = sim_mid_call("tmedia")  # some legs still up (FIXED_NOW need have none)
    p = await open_demo("demo-tmedia", app=sim, **FAST)
    query = CallQuery(
        since=FIXED_NOW - timedelta(hours=3), outcomes=frozenset({Outcome.IN_PROGRESS})
    )
    got = records(await collect(p, query))
    assert got and all(c.outcome is Outcome.IN_PROGRESS for c in got)
    assert tmedia_queries(sim)[0]["call_state"] == "Active"
    await collect(p, CallQuery(since=FIXED_NOW, outcomes=frozenset({Outcome.FAILED})))
    assert "call_state" not in tmedia_queries(sim)[-1]


# --- detail --------------------------------------------------------------------------------------


async def first(p: Any, outcome: Outcome) -> Call:
    async for page in p.pages(CallQuery(since=FIXED_NOW - timedelta(hours=1))):
        for c in page.records:
            if c.outcome is outcome and c.direction == "inbound":
                return c
    raise AssertionError(f"no {outcome} leg")


async def test_detail_is_both_legs_and_their_call_flows(open_demo: Any, sim: SimApp) -> None:
    p = await open_demo("demo-tmedia", **FAST)
    leg = await first(p, Outcome.ANSWERED)
    detail = await p.detail(leg.id)
    assert detail.call.id == leg.id
    incoming, outgoing = detail.legs
    assert (incoming.id, outgoing.id) == (leg.id, leg.raw["other_leg_id"])
    assert outgoing.parent_id == incoming.id
    queries = tmedia_queries(sim)[-2:]
    assert [q["leg_id"] for q in queries] == [leg.id, outgoing.id]
    names = [e.name for e in detail.events]
    in_names = names[: len(incoming.raw["call_traces"]) - 1]
    assert in_names[:2] == ["INVITE", "100 Trying"] and in_names[2].startswith("Routing:")
    for step in ("180 Ringing", "200 OK", "ACK", "BYE", "200 OK (BYE)"):
        assert step in in_names
    assert any(n.startswith("MOS: ") for n in in_names)
    for e in detail.events:
        assert e.data["direction"] in ("1", "2") and e.data["leg"] in (incoming.id, outgoing.id)
        assert e.time is not None and e.time.tzinfo is not None
    orders = [(e.data["leg"], e.data["order"]) for e in detail.events]
    assert orders == sorted(orders, key=lambda o: (o[0] != incoming.id, o[1]))
    assert detail.extra["uct_call_id"] == incoming.raw["uct_call_id"]
    shown = detail.to_dict()
    assert shown["trace"] is None and len(shown["legs"]) == 2
    assert json.dumps(shown)


async def test_detail_of_a_failed_call_shows_the_failure_code(open_demo: Any) -> None:
    p = await open_demo("demo-tmedia", **FAST)
    leg = await first(p, Outcome.FAILED)
    detail = await p.detail(leg.id)
    names = [e.name for e in detail.events]
    assert f"{leg.cause_code} " in " ".join(names)
    assert "200 OK" not in names


async def test_detail_of_the_outgoing_leg_fetches_the_incoming_one(open_demo: Any) -> None:
    p = await open_demo("demo-tmedia", **FAST)
    leg = await first(p, Outcome.ANSWERED)
    out_id = leg.raw["other_leg_id"]
    detail = await p.detail(out_id)
    assert detail.call.id == out_id
    assert [c.id for c in detail.legs] == [leg.id, out_id]


async def test_detail_of_an_unknown_leg_is_not_found(open_demo: Any) -> None:
    p = await open_demo("demo-tmedia", **FAST)
    with pytest.raises(NotFoundError) as e:
        await p.detail("0x00000001")
    assert "demo-tmedia" in str(e.value) and "0x00000001" in str(e.value)


async def test_request_for_fetches_that_leg_again(open_demo: Any) -> None:
    p = await open_demo("demo-tmedia", **FAST)
    leg = await first(p, Outcome.NO_ANSWER)
    (again,) = await p.fetch_page(p.request_for(leg))
    assert again.id == leg.id and again.raw == leg.raw


# --- errors --------------------------------------------------------------------------------------


async def test_wrong_credentials_are_an_auth_error(open_demo: Any) -> None:
    p = await open_demo("demo-tmedia", password="wrong", **FAST)
    with pytest.raises(AuthError) as e:
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=5)))
    assert e.value.status == 401 and "wrong" not in str(e.value)


async def test_a_wrong_base_url_is_not_found(open_demo: Any) -> None:
    p = await open_demo("demo-tmedia", base_url=SIM_HOST + "/nowhere", **FAST)
    with pytest.raises(NotFoundError):
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=5)))


async def test_rate_limited_then_retried_after_the_servers_wait(open_demo: Any) -> None:
    app = fast_app(faults="429@tmedia=0.6")  # seed 7: the first answer is a 429, then fine
    p = await open_demo("demo-tmedia", app=app, page_size=1000, **FAST)
    got = records(await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=20))))
    assert got
    first_two = tmedia_queries(app)[:2]
    assert first_two[0] == first_two[1], "the same page asked again after Retry-After"


async def test_rate_limited_for_good_is_a_typed_error(open_demo: Any) -> None:
    app = fast_app(faults="429@tmedia=1")
    p = await open_demo("demo-tmedia", app=app, **FAST)
    p.http.retry = RetryPolicy(attempts=1)
    with pytest.raises(RateLimitedError):
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=5)))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("500", ServerError),
        ("html", ServerError),
        ("malformed", BadResponseError),
        ("truncated", BadResponseError),
        ("empty", BadResponseError),
    ],
)
async def test_server_faults_are_typed_errors(
    open_demo: Any, fault: str, error: type[ProviderError]
) -> None:
    app = fast_app(faults=f"{fault}@tmedia=1")
    p = await open_demo("demo-tmedia", app=app, **FAST)
    with pytest.raises(error) as e:
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=5)))
    assert e.value.account == "demo-tmedia"


async def test_the_portal_login_page_is_a_bad_response(sim: SimApp) -> None:
    """Without Basic credentials the portal redirects to its form login: the redirect
    is not followed and its HTML body is not read as data."""
    accounts = {"demo-tmedia": demo_accounts()["demo-tmedia"]}
    account = parse_settings({"accounts": accounts}, Path("<test>")).accounts["demo-tmedia"]
    assert isinstance(account, TmediaAccount)
    http = HttpClient(
        account="demo-tmedia",
        base_url=SIM_HOST,
        allowed_params=TmediaProvider.PARAMS,
        transport=httpx.ASGITransport(app=sim),
        retry=FAST_RETRY,
    )
    p = TmediaProvider(account, http)
    try:
        with pytest.raises(BadResponseError) as e:
            await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=5)))
        assert e.value.status == 302
        assert "redirect to http://sim.calltui.invalid not followed" in str(e.value)
    finally:
        await p.aclose()


async def test_a_body_of_the_wrong_shape_names_the_account(open_demo: Any) -> None:
    p = await open_demo("demo-tmedia", **FAST)
    with pytest.raises(BadResponseError) as e:
        await p.fetch_page(("/call_trace", {"nb_result": 10}))
    assert "demo-tmedia" in str(e.value) and "leg_id" in str(e.value)
