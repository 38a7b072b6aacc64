"""What Restcomm Connect support means, over real HTTP against the simulator.

Every quirk named here is what the Restcomm-Connect server code, or traffic recorded from it,
shows.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from calltui.http import AuthError, BadResponseError, NotFoundError, ServerError
from calltui.model import Call, CallQuery, Outcome
from calltui.providers.base import DataError, Page, Provider
from calltui.providers.restcomm import (
    RestcommProvider,
    created_at,
    explain,
    parse_call,
    parse_calls,
    parse_envelope,
    parse_notifications,
    parse_recordings,
)
from calltui.sim import restcomm as rsim
from calltui.sim.app import SimApp
from calltui.sim.asgi import Response, send_response
from calltui.sim.world import SimCall
from tests.conftest import FIXED_NOW, shared_fixture, sim_mid_call

ACCOUNT = "demo-restcomm"


async def collect(p: Provider[Any], q: CallQuery) -> list[Page]:
    return [page async for page in p.pages(q)]


def list_requests(sim: SimApp) -> list[dict[str, str]]:
    return [dict(s.query) for s in sim.seen if s.path.endswith("/Calls.json")]


def world_calls(sim: SimApp, since: datetime) -> list[SimCall]:
    """The calls the server holds whose start_time is at or after `since`."""
    return [c for c in sim.world.calls("restcomm") if rsim.start_time(c) >= since]


class Canned:
    """An ASGI front that answers the first `times` requests itself, then passes to the sim."""

    def __init__(self, sim: SimApp, resp: Response, times: int = 1) -> None:
        self.sim, self.resp, self.left, self.hits = sim, resp, times, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.left > 0:
            self.left -= 1
            self.hits += 1
            await send_response(send, self.resp)
            return
        await self.sim(scope, receive, send)


# --- paging ---------------------------------------------------------------------------------


async def test_lists_every_call_newest_first_over_pages_without_duplicates(
    open_demo: Any, sim: SimApp
) -> None:
    p = await open_demo(ACCOUNT, page_size=25)
    q = CallQuery(since=FIXED_NOW - timedelta(hours=4))
    pages = await collect(p, q)
    records = [c for page in pages for c in page.records]
    matched = [c for c in records if q.matches(c)]
    assert len(pages) > 3
    assert len({c.id for c in records}) == len(records)
    assert {c.id for c in matched} == {rsim.call_sid(c) for c in world_calls(sim, q.since)}
    created = [created_at(c) for c in records]
    assert created == sorted(created, reverse=True)  # type: ignore[type-var]


async def test_watermark_bounds_every_later_page_and_ends_with_none(open_demo: Any) -> None:
    p = await open_demo(ACCOUNT, page_size=30)
    pages = await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=5)))
    for i, page in enumerate(pages[:-1]):
        assert page.watermark is not None
        later = [c.started_at for pg in pages[i + 1 :] for c in pg.records]
        assert all(t is not None and t <= page.watermark for t in later)
    assert pages[-1].watermark is None


async def test_stops_paging_once_no_page_can_hold_a_call_since(open_demo: Any, sim: SimApp) -> None:
    p = await open_demo(ACCOUNT, page_size=20)
    q = CallQuery(since=FIXED_NOW - timedelta(hours=2))
    pages = await collect(p, q)
    wanted = len(world_calls(sim, q.since))
    # The server holds the whole day (StartTime is a date); paging stops a page past `since`.
    assert len(list_requests(sim)) <= wanted // 20 + 2
    last = pages[-1].records[-1]
    assert last.started_at is not None and last.started_at < q.since


async def test_always_the_json_form_and_page_urls_built_with_every_filter(
    open_demo: Any, sim: SimApp
) -> None:
    """Restcomm's next_page_uri drops the filters and the /restcomm prefix: following
    it would leave the API; every page here carries the query."""
    p = await open_demo(ACCOUNT, page_size=10)
    await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=3), to="+44"))
    assert all(s.path.startswith("/restcomm/2012-04-24/") for s in sim.seen)
    assert all(s.path.endswith(".json") for s in sim.seen)
    requests = list_requests(sim)
    assert [r["Page"] for r in requests] == [str(i) for i in range(len(requests))]
    assert len(requests) > 1
    assert all(r["To"] == "44%" and r["SortBy"] == "DateCreated:desc" for r in requests)
    assert all(r["PageSize"] == "10" for r in requests)


async def test_phantom_empty_last_page_is_never_fetched(open_demo: Any, sim: SimApp) -> None:
    """total 50 at PageSize 50 reports num_pages 1 and a next_page_uri to an empty page
    (as a real server's recorded traffic shows): `total` says the stream is over."""
    day = FIXED_NOW.replace(hour=0)
    total = len(world_calls(sim, day))
    p = await open_demo(ACCOUNT, page_size=total)
    pages = await collect(p, CallQuery(since=day))
    assert len(list_requests(sim)) == 1
    assert len(pages[0].records) == total and pages[0].watermark is None
    # The phantom page itself reads as an empty page.
    path, params = pages[0].request  # type: ignore[misc]
    assert await p.fetch_page((path, {**params, "Page": 1})) == []


async def test_refetches_a_page_from_its_request(open_demo: Any) -> None:
    p = await open_demo(ACCOUNT, page_size=15)
    pages = await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    again = await p.fetch_page(pages[0].request)  # type: ignore[arg-type]
    assert [c.id for c in again] == [c.id for c in pages[0].records]


# --- filters --------------------------------------------------------------------------------


async def test_start_time_is_the_date_of_since_and_end_time_is_never_sent(
    open_demo: Any,
) -> None:
    """EndTime is `end_time <= date + 1 day`, which drops every call without an end time: live,
    busy and failed ones, in Restcomm's SQL. Live calls must still be listed."""
    sim = sim_mid_call("restcomm")
    p = await open_demo(ACCOUNT, app=sim)
    now = sim.world.now()
    q = CallQuery(since=now - timedelta(minutes=30), until=now)
    records = [c for page in await collect(p, q) for c in page.records if q.matches(c)]
    (first, *_) = list_requests(sim)
    assert first["StartTime"] == "2026-11-20"
    assert "EndTime" not in first
    assert any(c.outcome is Outcome.IN_PROGRESS for c in records)
    assert any(c.ended_at is None and c.outcome is not Outcome.IN_PROGRESS for c in records)


async def test_start_time_date_is_taken_in_the_account_zone(open_demo: Any, sim: SimApp) -> None:
    p = await open_demo(ACCOUNT, timezone="America/New_York")
    since = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # 22:00 on the 19th in New York
    await collect(p, CallQuery(since=since))
    assert list_requests(sim)[0]["StartTime"] == "2026-11-19"


async def test_from_and_to_are_sent_as_contains_patterns_and_refined_locally(
    open_demo: Any, sim: SimApp
) -> None:
    """Restcomm's From/To are suffix LIKE matches (CallDetailRecordFilter): `44` alone would
    keep only numbers ending in 44. `44%` keeps every number containing it; the prefix is checked
    here."""
    p = await open_demo(ACCOUNT)
    q = CallQuery(since=FIXED_NOW - timedelta(hours=6), from_="+44")
    records = [c for page in await collect(p, q) for c in page.records]
    assert list_requests(sim)[0]["From"] == "44%"
    matched = {c.id for c in records if q.matches(c)}
    expected = {rsim.call_sid(c) for c in world_calls(sim, q.since) if c.from_num.startswith("+44")}
    assert matched == expected and matched
    assert any(not c.from_.startswith("+44") for c in records if c.from_)  # refined here


# --- the record -----------------------------------------------------------------------------


async def test_records_are_normalized(open_demo: Any) -> None:
    p = await open_demo(ACCOUNT)
    q = CallQuery(since=FIXED_NOW - timedelta(hours=8))
    records = [c for page in await collect(p, q) for c in page.records]
    by_dir: dict[str, Call] = {}
    for c in records:
        by_dir.setdefault(c.raw["direction"], c)
        assert c.provider == "restcomm" and c.account == ACCOUNT
        assert c.started_at is not None and c.started_at.tzinfo is not None
        assert c.sip_code is None  # Restcomm's call JSON carries no SIP code
    assert by_dir["inbound"].direction == "inbound"
    for d in ("outbound-api", "outbound-dial", "outbound"):
        assert by_dir[d].direction == "outbound"
    dial = by_dir["outbound-dial"]
    assert dial.parent_id == dial.raw["parent_call_sid"]
    assert by_dir["inbound"].parent_id is None
    answered = next(c for c in records if c.outcome is Outcome.ANSWERED)
    assert answered.duration_s == answered.raw["duration"]
    assert isinstance(answered.raw["price"], float)  # kept in raw: the record has no price


async def test_status_spellings_map_to_one_outcome(open_demo: Any) -> None:
    """Telephony writes BUSY, IN_PROGRESS for outgoing legs, the interpreter busy, in-progress."""
    p = await open_demo(ACCOUNT)
    q = CallQuery(since=FIXED_NOW - timedelta(hours=12))
    records = [c for page in await collect(p, q) for c in page.records]
    spellings = {c.raw["status"] for c in records}
    assert {"BUSY", "busy", "COMPLETED", "completed", "canceled"} <= spellings
    for c in records:
        assert c.cause == c.raw["status"]
        assert c.outcome is not Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("completed", Outcome.ANSWERED),
        ("COMPLETED", Outcome.ANSWERED),
        ("busy", Outcome.BUSY),
        ("BUSY", Outcome.BUSY),
        ("no-answer", Outcome.NO_ANSWER),
        ("NO_ANSWER", Outcome.NO_ANSWER),
        ("canceled", Outcome.CANCELLED),
        ("CANCELED", Outcome.CANCELLED),
        ("failed", Outcome.FAILED),
        ("FAILED", Outcome.FAILED),
        ("not-found", Outcome.FAILED),
        ("NOT_FOUND", Outcome.FAILED),
        ("queued", Outcome.IN_PROGRESS),
        ("ringing", Outcome.IN_PROGRESS),
        ("in-progress", Outcome.IN_PROGRESS),
        ("IN_PROGRESS", Outcome.IN_PROGRESS),
        ("WAIT_FOR_ANSWER", Outcome.IN_PROGRESS),
        ("paused", Outcome.UNKNOWN),
    ],
)
def test_outcome_rules(status: str, outcome: Outcome) -> None:
    assert parse_call({"sid": "CA1", "status": status}, "a").outcome is outcome


def test_null_strings_absent_keys_and_wrong_types_are_null() -> None:
    raw = {
        "sid": "CA1",
        "date_created": "Tue, 6 Jun 2017 11:11:26 +0000",
        "parent_call_sid": "null",
        "from": 5065,
        "to": ["x"],
        "duration": "x",
        "end_time": 12,
        "status": "BUSY",
    }
    c = parse_call(raw, "a")
    assert c.parent_id is None and c.from_ == "5065" and c.to is None
    assert c.duration_s is None and c.ended_at is None
    assert c.started_at == datetime(2017, 6, 6, 11, 11, 26, tzinfo=timezone.utc)
    assert c.raw is raw


def test_times_rfc2822_iso_and_the_epoch_placeholder() -> None:
    c = parse_call(
        {
            "sid": "CA1",
            "date_created": "Tue, 6 Jun 2017 11:11:26 +0000",
            "start_time": "2013-10-18T04:51:47.671-06:00",
            "end_time": "1970-01-01T00:00:00.000Z",
        },
        "a",
    )
    assert c.started_at == datetime(2013, 10, 18, 10, 51, 47, 671000, tzinfo=timezone.utc)
    assert c.ended_at is None
    assert created_at(c) == datetime(2017, 6, 6, 11, 11, 26, tzinfo=timezone.utc)


@pytest.mark.parametrize("body", [[], {"calls": {}}, {"calls": [{"status": "busy"}]}, {"x": 1}])
def test_unreadable_lists_are_data_errors(body: Any) -> None:
    with pytest.raises(DataError):
        parse_calls(body, "a")


# --- detail ---------------------------------------------------------------------------------


def find(sim: SimApp, pick: Any) -> SimCall:
    return next(c for c in sim.world.calls("restcomm") if c.end <= FIXED_NOW and pick(c))


async def test_detail_of_an_answered_call_with_recordings(open_demo: Any, sim: SimApp) -> None:
    host = "sim.calltui.invalid"
    call = find(sim, lambda c: rsim.recordings(c, FIXED_NOW, rsim.ACCOUNT_SID, host))
    p = await open_demo(ACCOUNT)
    d = await p.detail(rsim.call_sid(call))
    assert d.call.id == rsim.call_sid(call) and d.call.outcome is Outcome.ANSWERED
    assert d.recordings and all(r["call_sid"] == d.call.id for r in d.recordings)
    assert all(isinstance(r["duration"], str) for r in d.recordings)  # Double.toString
    assert d.explanation is None
    paths = [s.path for s in sim.seen]
    assert paths[1].endswith(f"/Calls/{d.call.id}/Recordings.json")
    assert not any(p_.endswith("/Notifications.json") and "/Calls/" in p_ for p_ in paths)


async def test_detail_of_a_failed_call_explained_by_its_notification(
    open_demo: Any, sim: SimApp
) -> None:
    call = find(sim, lambda c: any(n.log == 0 for n in rsim.notes(c)))
    p = await open_demo(ACCOUNT)
    d = await p.detail(rsim.call_sid(call))
    assert d.call.outcome is Outcome.FAILED
    assert d.notifications and all(n["call_sid"] == d.call.id for n in d.notifications)
    note = rsim.notes(call)[0]
    assert d.explanation == f"Restcomm error {note.error_code}: {note.message}"
    (listing,) = [s for s in sim.seen if s.path.endswith("/Notifications.json")]
    params = dict(listing.query)
    assert params["StartTime"] == call.start.date().isoformat()
    assert "CallSid" not in params  # NotificationsEndpoint has no such filter


async def test_notifications_of_other_calls_are_left_out(open_demo: Any, sim: SimApp) -> None:
    call = find(sim, lambda c: c.outcome == "busy")
    others = [
        n
        for c in sim.world.calls("restcomm", call.start - timedelta(hours=3))
        for n in rsim.notes(c)
    ]
    assert others  # the account has notifications of other calls on those days
    p = await open_demo(ACCOUNT)
    d = await p.detail(rsim.call_sid(call))
    assert d.notifications == [] and d.explanation is None
    assert d.call.ended_at is None  # busy legs get no end_time (fixtures)


async def test_a_warning_on_an_answered_call_explains_nothing(open_demo: Any, sim: SimApp) -> None:
    call = find(sim, lambda c: c.outcome == "answered" and rsim.notes(c))
    p = await open_demo(ACCOUNT)
    d = await p.detail(rsim.call_sid(call))
    assert len(d.notifications) == 1 and d.notifications[0]["log"] == 1
    assert d.explanation is None


def test_explanation_prefers_errors_to_warnings() -> None:
    failed = parse_call({"sid": "CA1", "status": "failed"}, "a")
    notes = [
        {"sid": "NO1", "log": 1, "error_code": 13225, "message_text": "warn"},
        {"sid": "NO2", "log": 0, "error_code": 11200, "message_text": "HTTP retrieval failure"},
    ]
    assert explain(failed, notes) == "Restcomm error 11200: HTTP retrieval failure"
    assert explain(failed, []) is None


async def test_request_for_names_the_call_resource(open_demo: Any) -> None:
    p = await open_demo(ACCOUNT)
    call = parse_call({"sid": "ID1-CA2"}, ACCOUNT)
    path, params = p.request_for(call)
    assert path == "/2012-04-24/Accounts/ACae6e420f425248d6a26948c17a9e2acf/Calls/ID1-CA2.json"
    assert params == {}


# --- errors ---------------------------------------------------------------------------------


async def test_wrong_credentials_are_an_auth_error_despite_the_empty_body(
    open_demo: Any,
) -> None:
    p = await open_demo(ACCOUNT, auth_token="wrong")
    with pytest.raises(AuthError) as e:
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    assert e.value.status == 401
    assert "check account_sid and auth_token" in str(e.value)
    assert "wrong" not in str(e.value)


async def test_unknown_call_is_not_found_with_a_clear_message(open_demo: Any) -> None:
    p = await open_demo(ACCOUNT)
    with pytest.raises(NotFoundError) as e:
        await p.detail("ID00-CA00")
    assert "call 'ID00-CA00' not found" in str(e.value)


async def test_missing_restcomm_prefix_says_so(open_demo: Any) -> None:
    p = await open_demo(ACCOUNT, base_url="http://sim.calltui.invalid")
    with pytest.raises(NotFoundError) as e:
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    assert "/restcomm" in str(e.value)


async def test_page_out_of_range_is_a_bad_response_with_a_clear_message(open_demo: Any) -> None:
    p = await open_demo(ACCOUNT)
    path = "/2012-04-24/Accounts/ACae6e420f425248d6a26948c17a9e2acf/Calls.json"
    with pytest.raises(BadResponseError) as e:
        await p.fetch_page((path, {"Page": 999, "PageSize": 50}))
    assert e.value.status == 400 and "refused" in str(e.value)


async def test_rate_limited_then_retried_after_the_wait(open_demo: Any, sim: SimApp) -> None:
    """Restcomm's REST layer has no limit; a front proxy may still answer 429."""
    front = Canned(sim, Response.json({"message": "slow down"}, 429, [("retry-after", "0")]))
    p = await open_demo(ACCOUNT, app=front)
    pages = await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=20)))
    assert front.hits == 1 and pages[0].records


async def test_server_errors_are_retried_then_reported(open_demo: Any) -> None:
    app = SimApp(seed=7, now=FIXED_NOW, faults="500@restcomm=1")
    p = await open_demo(ACCOUNT, app=app)
    with pytest.raises(ServerError):
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    assert len(app.seen) == 3


async def test_an_html_page_is_reported_as_such(open_demo: Any) -> None:
    app = SimApp(seed=7, now=FIXED_NOW, faults="html@restcomm=1")
    p = await open_demo(ACCOUNT, app=app)
    with pytest.raises(ServerError) as e:
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    assert "HTML" in str(e.value)


@pytest.mark.parametrize("fault", ["malformed", "truncated", "empty"])
async def test_broken_json_is_a_bad_response(open_demo: Any, fault: str) -> None:
    app = SimApp(seed=7, now=FIXED_NOW, faults=f"{fault}@restcomm=1")
    p = await open_demo(ACCOUNT, app=app)
    with pytest.raises(BadResponseError):
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))


async def test_a_wrong_envelope_is_a_bad_response_naming_the_account(
    open_demo: Any, sim: SimApp
) -> None:
    front = Canned(sim, Response.json({"calls": "none"}))
    p = await open_demo(ACCOUNT, app=front)
    with pytest.raises(BadResponseError) as e:
        await collect(p, CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    assert str(e.value).startswith(f"{ACCOUNT}: unexpected data")


def test_sends_only_its_documented_parameters() -> None:
    documented = {"Page", "PageSize", "SortBy", "StartTime", "EndTime", "From", "To"}
    assert documented == RestcommProvider.PARAMS


# --- recorded fixtures ----------------------------------------------------------------------


def load(name: str) -> Any:
    return json.loads(shared_fixture("restcomm", name).read_text(encoding="utf-8"))


def test_fixture_filter_call_upper_and_lower_case_statuses() -> None:
    body = load("calls-FilterCall-1.json")
    calls = parse_calls(body, "lab")
    outcomes = [c.outcome for c in calls]
    assert len(calls) == 21
    assert outcomes.count(Outcome.BUSY) == 16
    assert outcomes.count(Outcome.FAILED) == 3
    assert outcomes.count(Outcome.CANCELLED) == 2
    assert all(c.direction == "outbound" for c in calls)
    assert all(c.duration_s is None for c in calls if c.outcome is Outcome.FAILED)
    assert parse_envelope(body, "calls").is_last(0, 50)  # num_pages 0, next_page_uri "null"


def test_fixture_get_details_phantom_page_and_sparse_records() -> None:
    body = load("calls-GetDetails-1.json")
    calls = parse_calls(body, "lab")
    assert len(calls) == 50 and all(c.started_at for c in calls)
    assert parse_envelope(body, "calls").is_last(0, 50)  # total 50: Page=1 would be empty
    assert {c.direction for c in calls} == {"inbound", "outbound"}
    assert all(c.outcome is not Outcome.UNKNOWN for c in calls)


def test_fixture_filter_page_sip_user_and_inbound_completed() -> None:
    body = load("calls-FilterPage-1.json")
    (call,) = parse_calls(body, "lab")
    assert call.from_ == "nukles1.07" and call.to == "5065"
    assert call.outcome is Outcome.ANSWERED and call.duration_s == 6
    assert call.started_at == datetime(2017, 5, 16, 10, 16, 45, tzinfo=timezone.utc)
    assert call.ended_at == datetime(2017, 5, 16, 10, 16, 51, tzinfo=timezone.utc)
    assert not parse_envelope(body, "calls").is_last(0, 1)  # total 51


def test_fixture_sdk_calls_composite_sid_and_price() -> None:
    (call,) = parse_calls(load("calls-response.json"), "lab")
    assert call.id == "ID12345-CA12345" and call.outcome is Outcome.FAILED
    assert call.raw["price"] == 0.0


def test_fixture_recordings_envelope_and_string_durations() -> None:
    recordings = parse_recordings(load("recordings-response.json"))
    assert [r["duration"] for r in recordings] == ["9.72275", "10.10275"]


def test_notifications_envelope_is_read() -> None:
    page = parse_notifications({"total": 1, "notifications": [{"sid": "NO1", "call_sid": "CA1"}]})
    assert page.is_last(0, 50) and page.items[0]["call_sid"] == "CA1"
    with pytest.raises(DataError):
        parse_notifications({"notifications": [{"call_sid": "CA1"}]})


@pytest.mark.parametrize(
    "name", ["test_FilterCall.yaml", "test_FilterPage.yaml", "test_GetDetails.yaml"]
)
def test_recorded_cassettes_parse(name):
    """The vcrpy cassettes recorded against a real Restcomm: every call response body parses."""
    import yaml

    cassette = yaml.safe_load(shared_fixture("restcomm", "cassettes", name).read_text())
    parsed = 0
    for interaction in cassette["interactions"]:
        uri = interaction["request"]["uri"]
        body = interaction["response"]["body"]["string"]
        if "/Calls" not in uri or not body.strip().startswith("{"):
            continue
        doc = json.loads(body)
        calls = parse_calls(doc, "rc") if "calls" in doc else [parse_call(doc, "rc")]
        assert all(c.id.startswith("CA") and c.provider == "restcomm" for c in calls)
        parsed += len(calls)
    assert parsed > 0
