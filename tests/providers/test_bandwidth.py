"""What Bandwidth (Catapult v1) support means, over real HTTP against the simulator.

Every quirk shown here is what Bandwidth's v1 API docs and its SDKs' tests show.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from calltui.config import parse_settings
from calltui.http import (
    AuthError,
    BadResponseError,
    NotFoundError,
    RateLimit,
    RateLimitedError,
    RetryPolicy,
    ServerError,
)
from calltui.http_reasons import error_text
from calltui.model import Call, CallQuery, Outcome
from calltui.providers import registry
from calltui.providers.bandwidth import (
    OTHER_CAUSE,
    Bandwidth,
    parse_call,
    parse_calls,
    parse_events,
    parse_time,
)
from calltui.providers.base import DataError, Page, Provider, open_provider
from calltui.sim import bandwidth as bwsim
from calltui.sim.app import SimApp
from calltui.sim.demo import SIM_HOST, demo_accounts
from calltui.sim.world import SimCall
from tests.conftest import FIXED_NOW, OpenDemo, shared_fixture

ACCOUNT = "demo-bandwidth"
CALLS_PATH = "/v1/users/u-demo0000000000000000/calls"


def fast_sim() -> SimApp:
    return SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)


async def open_fast(open_demo: OpenDemo, app: SimApp, **overrides: Any) -> Provider[Any]:
    """The demo account with neither side's 1 request/s limit: tests stay fast."""
    return await open_demo(ACCOUNT, app=app, rate_limit=1000, **overrides)


async def listing(p: Provider[Any], query: CallQuery) -> list[Page]:
    return [page async for page in p.pages(query)]


def list_queries(app: SimApp) -> list[dict[str, str]]:
    return [dict(s.query) for s in app.seen if s.path == CALLS_PATH]


def sim_calls(app: SimApp, since: datetime) -> list[SimCall]:
    return app.world.calls("bandwidth", since)


def find(app: SimApp, pred: Any) -> SimCall:
    return next(c for c in app.world.calls("bandwidth") if pred(c))


# --- the adapter's shape --------------------------------------------------------------------


def test_registered_with_documented_defaults() -> None:
    cls = registry.get("bandwidth")
    assert cls is Bandwidth
    assert cls.DEFAULT_BASE_URL == "https://api.catapult.inetwork.com"
    assert RateLimit(1, 1.0) == cls.DEFAULT_RATE
    assert (cls.DEFAULT_PAGE_SIZE, cls.MAX_PAGE_SIZE) == (1000, 1000)
    assert frozenset({"page", "size", "sortOrder"}) == cls.PARAMS


async def test_first_request_is_page_0_of_1000_sorted_desc(open_demo: OpenDemo) -> None:
    app = fast_sim()
    p = await open_fast(open_demo, app)
    await listing(p, CallQuery(since=FIXED_NOW - timedelta(minutes=30)))
    assert list_queries(app) == [{"page": "0", "size": "1000", "sortOrder": "desc"}]


async def test_page_size_is_capped_at_1000(open_demo: OpenDemo) -> None:
    app = fast_sim()
    p = await open_fast(open_demo, app, page_size=5000)
    await listing(p, CallQuery(since=FIXED_NOW - timedelta(minutes=30)))
    assert list_queries(app)[0]["size"] == "1000"


# --- paging ---------------------------------------------------------------------------------


async def test_paging_follows_relative_and_absolute_links_and_page_numbers(
    open_demo: OpenDemo,
) -> None:
    """The simulator sends a relative Link, an absolute Link and none by turns: every
    page is fetched once, in order, and the records come newest first without duplicates."""
    app = fast_sim()
    p = await open_fast(open_demo, app, page_size=25)
    since = FIXED_NOW - timedelta(hours=6)
    pages = await listing(p, CallQuery(since=since))
    assert len(pages) >= 7
    assert [q["page"] for q in list_queries(app)] == [str(i) for i in range(len(pages))]
    records = [c for page in pages for c in page.records]
    ids = [c.id for c in records]
    assert len(ids) == len(set(ids))
    starts = [c.started_at for c in records]
    assert all(s is not None for s in starts)
    assert starts == sorted(starts, reverse=True)  # type: ignore[type-var]
    expected = [bwsim.call_id(c) for c in sim_calls(app, since)]
    assert [c.id for c in records if c.started_at and c.started_at >= since] == expected


async def test_watermark_is_the_oldest_start_so_far_and_none_at_the_end(
    open_demo: OpenDemo,
) -> None:
    app = fast_sim()
    p = await open_fast(open_demo, app, page_size=20)
    pages = await listing(p, CallQuery(since=FIXED_NOW - timedelta(hours=2)))
    for page, following in pairwise(pages):
        assert page.watermark == min(c.started_at for c in page.records if c.started_at)
        assert all(c.started_at and c.started_at <= page.watermark for c in following.records)
    assert pages[-1].watermark is None


async def test_no_page_is_requested_past_the_one_that_crosses_since(open_demo: OpenDemo) -> None:
    app = fast_sim()
    p = await open_fast(open_demo, app, page_size=10)
    since = FIXED_NOW - timedelta(hours=1)
    pages = await listing(p, CallQuery(since=since))
    assert len(list_queries(app)) == len(pages) > 1
    *before, last = pages
    assert all(c.started_at and c.started_at >= since for pg in before for c in pg.records)
    assert min(c.started_at for c in last.records if c.started_at) < since


async def test_stops_on_a_short_page_without_a_link(open_demo: OpenDemo) -> None:
    app = fast_sim()
    total = len(app.world.calls("bandwidth"))
    assert total % 1000 != 0
    p = await open_fast(open_demo, app)
    pages = await listing(p, CallQuery(since=FIXED_NOW - timedelta(days=8)))
    assert [len(pg.records) for pg in pages] == [1000] * (total // 1000) + [total % 1000]
    assert len(list_queries(app)) == len(pages)
    assert pages[-1].watermark is None


async def test_a_full_last_page_without_a_link_ends_on_the_empty_next_page(
    open_demo: OpenDemo,
) -> None:
    app = fast_sim()
    total = len(app.world.calls("bandwidth"))
    size = next(d for d in range(1000, 1, -1) if total % d == 0)
    p = await open_fast(open_demo, app, page_size=size)
    pages = await listing(p, CallQuery(since=FIXED_NOW - timedelta(days=8)))
    assert [len(pg.records) for pg in pages] == [size] * (total // size) + [0]
    assert pages[-1].watermark is None


async def test_a_page_can_be_fetched_again_from_its_request(open_demo: OpenDemo) -> None:
    p = await open_fast(open_demo, fast_sim(), page_size=15)
    pages = await listing(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    for page in pages[:3]:
        assert page.request is not None
        again = await p.fetch_page(page.request)
        assert [c.id for c in again] == [c.id for c in page.records]


# --- filters ----------------------------------------------------------------------------------


async def test_from_and_to_prefixes_are_refined_locally_not_sent(open_demo: OpenDemo) -> None:
    """Bandwidth's docs do not say whether the server matches a prefix; the simulator matches
    exactly: a --from/--to prefix is never sent, and the local refinement finds every call."""
    app = fast_sim()
    since = FIXED_NOW - timedelta(hours=4)
    target = sim_calls(app, since)[5]
    query = CallQuery(since=since, from_=target.from_num[:4], to=target.to_num[:3])
    p = await open_fast(open_demo, app, page_size=50)
    found = [c for page in await listing(p, query) for c in page.records if query.matches(c)]
    assert all(set(q) == {"page", "size", "sortOrder"} for q in list_queries(app))
    expected = [
        bwsim.call_id(c)
        for c in sim_calls(app, since)
        if c.from_num.startswith(target.from_num[:4]) and c.to_num.startswith(target.to_num[:3])
    ]
    assert bwsim.call_id(target) in expected
    assert [c.id for c in found] == expected


async def test_until_is_refined_locally(open_demo: OpenDemo) -> None:
    app = fast_sim()
    since, until = FIXED_NOW - timedelta(hours=3), FIXED_NOW - timedelta(hours=2)
    query = CallQuery(since=since, until=until)
    p = await open_fast(open_demo, app, page_size=40)
    found = [c for page in await listing(p, query) for c in page.records if query.matches(c)]
    expected = [bwsim.call_id(c) for c in app.world.calls("bandwidth", since, until)]
    assert [c.id for c in found] == expected


# --- the call object --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "state", "listed", "expected"),
    [
        ("answered", "completed", Outcome.ANSWERED, Outcome.ANSWERED),
        ("no_answer", "completed", Outcome.NO_ANSWER, Outcome.NO_ANSWER),
        ("cancelled", "completed", Outcome.NO_ANSWER, Outcome.CANCELLED),
        ("busy", "rejected", Outcome.FAILED, Outcome.BUSY),
        ("failed", "rejected", Outcome.FAILED, Outcome.FAILED),
    ],
)
async def test_state_maps_onto_the_outcome_and_the_hangup_cause_refines_it(
    open_demo: OpenDemo, outcome: str, state: str, listed: Outcome, expected: Outcome
) -> None:
    """A list record has no cause: a rejected call is failed until the drill-down reads the
    hangup event (USER_BUSY: busy; ORIGINATOR_CANCEL: cancelled)."""
    app = fast_sim()
    c = find(app, lambda c: c.outcome == outcome and c.end < FIXED_NOW)
    p = await open_fast(open_demo, app)
    detail = await p.detail(bwsim.call_id(c))
    call = detail.call
    assert parse_call(call.raw, "demo-bandwidth").outcome is listed
    assert (call.raw["state"], call.outcome) == (state, expected)
    assert call.direction == c.direction
    assert (call.from_, call.to) == (c.from_num, c.to_num)
    assert call.started_at is not None
    assert abs(call.started_at - c.start) < timedelta(milliseconds=1)
    assert call.ended_at is not None and call.ended_at.tzinfo is not None
    assert call.billed_s == call.raw["chargeableDuration"]
    if expected is Outcome.ANSWERED:
        assert call.answered_at is not None
        assert call.duration_s == int((call.ended_at - call.answered_at).total_seconds())
    else:
        assert (call.answered_at, call.duration_s, call.billed_s) == (None, 0, 0)


async def test_a_call_still_up_is_in_progress(open_demo: OpenDemo) -> None:
    app = fast_sim()
    p = await open_fast(open_demo, app)
    pages = await listing(p, CallQuery(since=FIXED_NOW - timedelta(minutes=20)))
    live = [c for pg in pages for c in pg.records if c.outcome is Outcome.IN_PROGRESS]
    assert live
    for call in live:
        assert call.raw["state"] in ("started", "active")
        assert (call.ended_at, call.duration_s, call.billed_s) == (None, None, None)
        assert (call.answered_at is not None) == (call.raw["state"] == "active")


@pytest.mark.parametrize(
    ("state", "active", "expected"),
    [
        ("transferring", "2014-12-19T19:13:20Z", Outcome.IN_PROGRESS),
        ("started", None, Outcome.IN_PROGRESS),
        ("ACTIVE", "2014-12-19T19:13:20Z", Outcome.IN_PROGRESS),
        ("completed", "1970-01-01T00:00:00Z", Outcome.NO_ANSWER),
        ("bogus", None, Outcome.UNKNOWN),
        (None, None, Outcome.UNKNOWN),
    ],
)
def test_every_documented_state(state: Any, active: Any, expected: Outcome) -> None:
    raw = {"id": "c-1", "state": state, "startTime": "2014-12-19T19:13:09Z", "activeTime": active}
    assert parse_call(raw, "bw").outcome is expected


def test_wire_types_are_tolerated_field_by_field() -> None:
    raw = {
        "id": "c-2",
        "from": 19195551212,
        "to": {"bad": 1},
        "direction": 7,
        "state": "completed",
        "startTime": "2013-02-08T13:15:47.587Z",
        "activeTime": "2013-02-08T13:15:52Z",
        "endTime": 1360329355887,
        "chargeableDuration": "60",
    }
    call = parse_call(raw, "bw")
    assert (call.from_, call.to, call.direction) == ("19195551212", None, None)
    assert call.started_at == datetime(2013, 2, 8, 13, 15, 47, 587000, tzinfo=timezone.utc)
    assert call.answered_at == datetime(2013, 2, 8, 13, 15, 52, tzinfo=timezone.utc)
    assert call.ended_at == datetime(2013, 2, 8, 13, 15, 55, 887000, tzinfo=timezone.utc)
    assert (call.duration_s, call.billed_s, call.outcome) == (3, 60, Outcome.ANSWERED)
    assert call.raw is raw


@pytest.mark.parametrize(
    "body", [{"calls": []}, [{"state": "active"}], [["c-1"]], [{"id": None}], "[]"]
)
def test_unreadable_lists_are_data_errors(body: Any) -> None:
    with pytest.raises(DataError):
        parse_calls(body, "bw")


def test_times_in_every_form() -> None:
    utc = timezone.utc
    assert parse_time("2014-12-19T19:13:20Z") == datetime(2014, 12, 19, 19, 13, 20, tzinfo=utc)
    assert parse_time("2014-12-19T19:13:20.1Z") == datetime(
        2014, 12, 19, 19, 13, 20, 100000, tzinfo=utc
    )
    assert parse_time(1419032854964) == datetime(2014, 12, 19, 23, 47, 34, 964000, tzinfo=utc)
    assert parse_time("1419032854964") == parse_time(1419032854964)
    assert parse_time("2014-12-19T21:13:20+02:00") == datetime(2014, 12, 19, 19, 13, 20, tzinfo=utc)
    assert parse_time(0) is None
    assert parse_time("1970-01-01T00:00:00Z") is None
    assert parse_time("yesterday") is None
    assert parse_time(True) is None


async def test_request_for_a_record_fetches_that_call(open_demo: OpenDemo) -> None:
    p = await open_fast(open_demo, fast_sim())
    pages = await listing(p, CallQuery(since=FIXED_NOW - timedelta(minutes=30)))
    call = pages[0].records[3]
    path, params = p.request_for(call)
    assert (path, params) == (f"{CALLS_PATH}/{call.id}", {})
    assert (await p.http.get_json(path, params))["id"] == call.id


# --- drill-down: events -----------------------------------------------------------------------


async def test_events_are_sorted_by_time_with_json_data_decoded(open_demo: OpenDemo) -> None:
    """The events list is unsorted, mixes ISO and epoch-ms times, and `data` is a string that
    may hold JSON, as Bandwidth documents: the detail has them in time order, JSON decoded."""
    app = fast_sim()
    p = await open_fast(open_demo, app)
    answered = [c for c in app.world.calls("bandwidth") if c.outcome == "answered"][5:40]
    shown_quirks = Counter[str]()
    for c in answered:
        cid = bwsim.call_id(c)
        wire = await p.http.get_json(f"{CALLS_PATH}/{cid}/events")
        detail = await p.detail(cid)
        times = [e.time for e in detail.events]
        assert None not in times
        assert times == sorted(times)  # type: ignore[type-var]
        assert len(detail.events) == len(wire)
        names = [e.name for e in detail.events]
        assert (names[0], names[-1]) == ("create", "hangup")
        park = next(e for e in detail.events if e.name == "CHANNEL_EXECUTE")
        assert park.data == {"applicationName": "park"}
        wire_times = [e["time"] for e in wire]
        shown_quirks["int"] += any(isinstance(t, int) for t in wire_times)
        shown_quirks["str"] += any(isinstance(t, str) for t in wire_times)
        shown_quirks["unsorted"] += [e["name"] for e in wire] != names
    assert all(shown_quirks[k] > 0 for k in ("int", "str", "unsorted"))


@pytest.mark.parametrize(
    ("outcome", "sip_code", "cause", "explanation"),
    [
        ("answered", 200, "NORMAL_CLEARING", "Normal call clearing"),
        ("busy", 486, "USER_BUSY", "busy"),
        ("no_answer", 480, "NO_ANSWER", "did not answer"),
        ("cancelled", 487, "ORIGINATOR_CANCEL", "caller hung up"),
        ("failed", 404, "UNALLOCATED_NUMBER", "not assigned"),
        ("failed", 502, "NETWORK_OUT_OF_ORDER", OTHER_CAUSE),
    ],
)
async def test_the_cause_comes_from_the_hangup_event(
    open_demo: OpenDemo, outcome: str, sip_code: int, cause: str, explanation: str
) -> None:
    """Bandwidth's call record has no cause; the hangup event's data holds it."""
    app = fast_sim()
    c = find(app, lambda c: c.outcome == outcome and c.sip_code == sip_code and c.end < FIXED_NOW)
    p = await open_fast(open_demo, app)
    detail = await p.detail(bwsim.call_id(c))
    assert detail.call.cause == cause
    assert detail.explanation is not None and explanation in detail.explanation
    shown = detail.to_dict()
    assert shown["call"]["cause"] == cause
    assert shown["events"][-1] == {
        "time": shown["events"][-1]["time"],
        "name": "hangup",
        "data": cause,
    }


async def test_detail_of_a_live_call_has_no_hangup_yet(open_demo: OpenDemo) -> None:
    app = fast_sim()
    c = find(app, lambda c: c.answer is not None and c.answer < FIXED_NOW < c.end)
    p = await open_fast(open_demo, app)
    detail = await p.detail(bwsim.call_id(c))
    assert detail.call.outcome is Outcome.IN_PROGRESS
    assert "hangup" not in [e.name for e in detail.events]
    assert (detail.call.cause, detail.explanation) == (None, None)


async def test_detail_extra_holds_call_settings(open_demo: OpenDemo) -> None:
    app = fast_sim()
    c = find(app, lambda c: c.direction == "outbound" and c.end < FIXED_NOW)
    p = await open_fast(open_demo, app)
    detail = await p.detail(bwsim.call_id(c))
    assert detail.extra["callTimeout"] == 30
    assert "recordingEnabled" in detail.extra


def test_event_parsing_rules() -> None:
    body = [
        {"id": "3", "time": 1419032854964, "name": "hangup", "data": "NORMAL_CLEARING"},
        {"id": "1", "time": "2014-12-19T23:47:30.000Z", "name": "create"},
        {"id": "2", "time": "2014-12-19T23:47:31Z", "name": "CHANNEL_EXECUTE", "data": "{bad"},
        {"id": "4", "name": "playback", "data": ""},
        {"id": "5", "time": "2014-12-19T23:47:32Z", "name": "gather", "data": '[1, "2"]'},
    ]
    events = parse_events(body)
    assert [e.name for e in events] == ["create", "CHANNEL_EXECUTE", "gather", "hangup", "playback"]
    assert [e.data for e in events] == [None, "{bad", [1, "2"], "NORMAL_CLEARING", None]
    with pytest.raises(DataError):
        parse_events({"events": []})
    with pytest.raises(DataError):
        parse_events(["create"])


# --- errors -----------------------------------------------------------------------------------


async def test_wrong_credentials_are_an_auth_error(open_demo: OpenDemo) -> None:
    p = await open_fast(open_demo, fast_sim(), api_secret="s3cr3t-typo")
    with pytest.raises(AuthError) as e:
        await listing(p, CallQuery(since=FIXED_NOW - timedelta(minutes=10)))
    assert e.value.status == 401
    assert "Authentication failed" in e.value.message
    assert "s3cr3t-typo" not in str(e.value)


async def test_another_users_path_is_an_auth_error(open_demo: OpenDemo) -> None:
    p = await open_fast(open_demo, fast_sim(), user_id="u-someoneelse")
    with pytest.raises(AuthError) as e:
        await listing(p, CallQuery(since=FIXED_NOW - timedelta(minutes=10)))
    assert e.value.status == 403


async def test_unknown_call_is_not_found_with_the_servers_message(open_demo: OpenDemo) -> None:
    p = await open_fast(open_demo, fast_sim())
    with pytest.raises(NotFoundError) as e:
        await p.detail("c-nosuchcall")
    assert e.value.message == "The call c-nosuchcall could not be found"


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        ("500", ServerError, "temporarily unavailable"),
        ("html", ServerError, "HTML page"),
        ("malformed", BadResponseError, "malformed JSON"),
        ("truncated", BadResponseError, "malformed JSON"),
    ],
)
async def test_faults_are_typed_errors(
    open_demo: OpenDemo, fault: str, error: type[Exception], text: str
) -> None:
    app = SimApp(seed=7, now=FIXED_NOW, faults=f"{fault}@bandwidth", enforce_rate_limits=False)
    p = await open_fast(open_demo, app)
    with pytest.raises(error) as e:
        await listing(p, CallQuery(since=FIXED_NOW - timedelta(minutes=10)))
    assert text in str(e.value)
    assert ACCOUNT in str(e.value)


def open_with_server(handler: Any, **overrides: Any) -> Provider[Any]:
    """The adapter against a stand-in server, for wire shapes the simulator never sends."""
    raw = {**demo_accounts(SIM_HOST)[ACCOUNT], **overrides}
    account = parse_settings({"accounts": {ACCOUNT: raw}}, Path("<test>")).accounts[ACCOUNT]
    retry = RetryPolicy(attempts=1)
    return open_provider(account, transport=httpx.MockTransport(handler), retry=retry)


_IDS = itertools.count()


def page_of(n: int, link: str | None) -> httpx.Response:
    """A page of `n` calls never listed before (a page of repeats ends a listing)."""
    start = FIXED_NOW - timedelta(seconds=1)
    body = [
        {"id": f"c-{next(_IDS)}", "state": "completed", "startTime": start.isoformat()}
        for _ in range(n)
    ]
    return json_response(body, {"Link": link} if link else {})


def json_response(body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    # A stream, not content: the HTTP layer reads the body raw, as from a real socket.
    stream = httpx.ByteStream(json.dumps(body).encode())
    return httpx.Response(
        200, headers={"content-type": "application/json", **(headers or {})}, stream=stream
    )


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        (f'<{CALLS_PATH}?page=1&sortKeyLT=123>; rel="next"', "parameters ['sortKeyLT']"),
        (f'<https://evil.example{CALLS_PATH}?page=1>; rel="next"', "outside this call list"),
        ('<http://sim.calltui.invalid/v2/users/x/calls?page=1>; rel="next"', "outside"),
        (f'<{CALLS_PATH}?page=0&size=1000&sortOrder=desc>; rel="next"', "repeats this page"),
    ],
)
async def test_a_next_link_is_held_to_the_base_url_and_the_params_allowlist(
    link: str, reason: str
) -> None:
    p = open_with_server(lambda req: page_of(2, link))
    with pytest.raises(BadResponseError) as e:
        await listing(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    assert reason in str(e.value)
    await p.aclose()


async def test_a_next_link_under_a_base_url_prefix_keeps_the_prefix() -> None:
    seen: list[str] = []

    def server(req: httpx.Request) -> httpx.Response:
        seen.append(str(req.url))
        if len(seen) == 1:
            return page_of(2, '<calls?page=1&size=2&sortOrder=desc>; rel="next"')
        return page_of(1, None)

    p = open_with_server(server, base_url="https://proxy.example/bw")
    pages = await listing(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    assert [len(pg.records) for pg in pages] == [2, 1]
    assert seen[1] == f"https://proxy.example/bw{CALLS_PATH}?page=1&size=2&sortOrder=desc"
    await p.aclose()


async def test_a_body_of_the_wrong_shape_is_a_bad_response() -> None:
    p = open_with_server(lambda req: json_response({"calls": []}))
    with pytest.raises(BadResponseError) as e:
        await listing(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    assert "JSON array" in str(e.value)
    await p.aclose()


# --- the rate limit ---------------------------------------------------------------------------


def retried(app: SimApp) -> int:
    """Requests the simulator saw more than once: each repeat followed a 429."""
    counts = Counter((s.path, s.query) for s in app.seen)
    return sum(n - 1 for n in counts.values())


async def test_a_429_without_message_is_rate_limited_with_its_code() -> None:
    raw = {**demo_accounts(SIM_HOST)[ACCOUNT], "rate_limit": 1000}
    account = parse_settings({"accounts": {ACCOUNT: raw}}, Path("<test>")).accounts[ACCOUNT]
    app = SimApp(seed=7, now=FIXED_NOW)
    p = open_provider(
        account, transport=httpx.ASGITransport(app=app), retry=RetryPolicy(attempts=1)
    )
    await p.http.get_json(CALLS_PATH, {"size": 1})
    with pytest.raises(RateLimitedError) as e:
        await p.http.get_json(CALLS_PATH, {"size": 1})
    assert (e.value.status, e.value.message) == (429, "rate-limit-reached")
    await p.aclose()


async def test_a_429_is_retried_after_x_ratelimit_reset(open_demo: OpenDemo) -> None:
    """With the client's own limit raised, the second page trips the server's 1 request/s; the
    client waits until X-RateLimit-Reset and the listing completes."""
    app = SimApp(seed=7, now=FIXED_NOW)
    p = await open_demo(ACCOUNT, app=app, page_size=30, rate_limit=1000)
    pages = await listing(p, CallQuery(since=FIXED_NOW - timedelta(minutes=45)))
    assert len(pages) == 2
    assert retried(app) == 1
    assert len(list_queries(app)) == 3


async def test_the_default_rate_keeps_a_listing_under_the_limit(open_demo: OpenDemo) -> None:
    """At DEFAULT_RATE (1 request/s) a listing of several pages trips the server's limit at
    most once (a request can land a hair early on the server's clock)."""
    app = SimApp(seed=7, now=FIXED_NOW)
    p = await open_demo(ACCOUNT, app=app, page_size=25)
    assert p.http.limiter.limit == RateLimit(1, 1.0)
    pages = await listing(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    assert len(pages) >= 3
    assert retried(app) <= 1


# --- recorded fixtures ------------------------------------------------------------------------


def load(name: str) -> Any:
    return json.loads(shared_fixture("bandwidth", name).read_text())


def test_fixture_calls_list_parses() -> None:
    calls = parse_calls(load("calls-list.json"), "bw")
    assert [c.id for c in calls] == ["fakeCallId1", "fakeCallId2"]
    done, active = calls
    assert (done.outcome, done.billed_s, done.duration_s) == (Outcome.ANSWERED, 60, 3)
    assert done.direction == "outbound"
    assert (active.outcome, active.ended_at, active.billed_s) == (Outcome.IN_PROGRESS, None, None)


def test_fixture_call_parses() -> None:
    call: Call = parse_call(load("call.json"), "bw")
    assert (call.id, call.outcome, call.from_) == ("fakeCallId", Outcome.ANSWERED, "{fromNumber}")
    assert call.answered_at == datetime(2013, 2, 8, 13, 15, 52, 347000, tzinfo=timezone.utc)
    assert call.raw["sipHeaders"] == {"X-Header-1": "value-1", "X-Header-2": "value2"}


def test_fixture_events_parse() -> None:
    assert [e.name for e in parse_events(load("events.json"))] == ["create"]
    events = parse_events(load("events-2.json"))
    assert [(e.name, e.data) for e in events] == [
        ("create", None),
        ("answer", None),
        ("hangup", "foo"),
    ]


@pytest.mark.parametrize(
    ("name", "status", "text"),
    [
        ("error-401.json", 401, "Something bad happened..."),
        ("error-404-call-not-found.json", 404, "The call c-call-id could not be found"),
        ("error-429.json", 429, "rate-limit-reached"),
    ],
)
def test_fixture_error_bodies_give_a_reason(name: str, status: int, text: str) -> None:
    body = shared_fixture("bandwidth", name).read_bytes()
    resp = httpx.Response(status, content=body, headers={"content-type": "application/json"})
    assert error_text(resp, Bandwidth.ERROR_KEYS) == text
