"""What Plivo Zentrunk support means, over real HTTP against the simulator.

Every quirk named here is what Plivo's docs, or its own plivo-cli and that tool's tests, show.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
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
    NotFoundError,
    RateLimit,
    RateLimitedError,
    ServerError,
)
from calltui.model import Call, CallQuery, Outcome
from calltui.providers.base import DataError, Page, Provider, open_provider
from calltui.providers.plivo import (
    MAX_CALL,
    Plivo,
    parse_call,
    parse_detail,
    parse_list,
    stir_verification,
)
from calltui.sim import plivo as simplivo
from calltui.sim.app import SimApp
from calltui.sim.demo import SIM_HOST, demo_accounts
from tests.conftest import FAST_RETRY, FIXED_NOW, shared_fixture

UTC = timezone.utc
IST = ZoneInfo("Asia/Kolkata")
SINCE = FIXED_NOW - timedelta(hours=2)
LEGACY = {"api": "legacy", "timezone": "Asia/Kolkata"}


async def collect(p: Provider[Any], query: CallQuery) -> list[Page]:
    return [page async for page in p.pages(query)]


def records(pages: list[Page]) -> list[Call]:
    return [c for page in pages for c in page.records]


def list_requests(sim: SimApp) -> list[dict[str, str]]:
    return [dict(s.query) for s in sim.seen if s.path.endswith("/Call/")]


def world_ids(sim: SimApp, since: datetime, until: datetime | None = None) -> set[str]:
    """The completed calls that started in [since, until], as the simulator knows them."""
    now = sim.world.now()
    calls = sim.world.calls("plivo", since, until)
    return {simplivo.call_uuid(c) for c in calls if c.end <= now}


def fast_sim(**kw: Any) -> SimApp:
    return SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False, **kw)


class Rewriting:
    """The simulator behind a proxy that counts requests in flight and may rewrite JSON list
    bodies (to show what the adapter does with a server that answers otherwise)."""

    def __init__(self, app: SimApp, rewrite: Callable[[Any], Any] | None = None) -> None:
        self.app, self.rewrite = app, rewrite
        self.inflight = self.max_inflight = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            if self.rewrite is None or scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            await self._rewritten(scope, receive, send)
        finally:
            self.inflight -= 1

    async def _rewritten(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.rewrite is not None
        messages: list[Any] = []

        async def keep(message: Any) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        start, bodies = messages[0], messages[1:]
        body = json.dumps(self.rewrite(json.loads(b"".join(m["body"] for m in bodies)))).encode()
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def open_proxied(app: Any, **overrides: Any) -> Provider[Any]:
    raw = {**demo_accounts(SIM_HOST)["demo-plivo"], **overrides}
    settings = parse_settings({"accounts": {"demo-plivo": raw}}, Path("<test>"))
    transport = httpx.ASGITransport(app=app)
    return open_provider(settings.accounts["demo-plivo"], transport=transport, retry=FAST_RETRY)


# --- the adapter's shape ---------------------------------------------------------------------


def test_documented_limits_and_hosts() -> None:
    assert RateLimit(300, 5.0) == Plivo.DEFAULT_RATE
    assert Plivo.MAX_PAGE_SIZE == 20
    settings = parse_settings(
        {
            "accounts": {
                "now": {"provider": "plivo", "auth_id": "MA1", "auth_token": "t"},
                "old": {"provider": "plivo", "api": "legacy", "auth_id": "MA1", "auth_token": "t"},
            }
        },
        Path("<test>"),
    )
    assert Plivo.default_base_url(settings.accounts["now"]) == "https://api.plivo.com"  # type: ignore[arg-type]
    assert Plivo.default_base_url(settings.accounts["old"]) == "https://zt.plivo.com"  # type: ignore[arg-type]


def test_scoped_tokens_go_as_bearer_others_as_basic_auth() -> None:
    settings = parse_settings(
        {
            "accounts": {
                "a": {"provider": "plivo", "auth_id": "MA1", "auth_token": "stk_abc"},
                "b": {"provider": "plivo", "auth_id": "MA1", "auth_token": "plain"},
            }
        },
        Path("<test>"),
    )
    assert Plivo.auth(settings.accounts["a"]) == (None, {"Authorization": "Bearer stk_abc"})  # type: ignore[arg-type]
    auth, headers = Plivo.auth(settings.accounts["b"])  # type: ignore[arg-type]
    assert isinstance(auth, httpx.BasicAuth) and headers == {}


async def test_page_size_is_capped_at_20(open_demo: Any) -> None:
    p = await open_demo("demo-plivo", app=fast_sim(), page_size=50)
    assert p.page_size == 20


# --- paging ----------------------------------------------------------------------------------


async def test_current_api_lists_every_call_once_sorted_by_end_time(open_demo: Any) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim)
    query = CallQuery(since=SINCE)
    pages = await collect(p, query)
    calls = records(pages)
    ids = [c.id for c in calls]
    assert len(ids) == len(set(ids)), "no duplicates"
    ends = [c.ended_at for c in calls]
    assert all(e is not None for e in ends)
    assert ends == sorted(ends, reverse=True), "newest end time first"  # type: ignore[type-var]
    assert {c.id for c in calls if query.matches(c)} == world_ids(sim, SINCE)
    reqs = list_requests(sim)
    assert all(r["limit"] == "20" for r in reqs)
    assert len(reqs) == math.ceil(len(calls) / 20) == len(pages)
    assert all(s.path == "/v1/Account/MADEMO0000000000PLIV/Zentrunk/Call/" for s in sim.seen)


async def test_watermark_is_each_pages_smallest_end_time_and_none_at_the_end(
    open_demo: Any,
) -> None:
    p = await open_demo("demo-plivo", app=fast_sim())
    pages = await collect(p, CallQuery(since=SINCE))
    for page in pages[:-1]:
        assert page.watermark == min(c.ended_at for c in page.records)  # type: ignore[type-var]
    assert pages[-1].watermark is None
    # The promise: no later page holds a call that started after the watermark.
    for i, page in enumerate(pages[:-1]):
        later = records(pages[i + 1 :])
        assert all(c.started_at <= page.watermark for c in later)  # type: ignore[operator]


async def test_a_page_can_be_fetched_again_from_its_request(open_demo: Any) -> None:
    p = await open_demo("demo-plivo", app=fast_sim())
    pages = await collect(p, CallQuery(since=SINCE))
    page = pages[3]
    assert page.request is not None
    again = await p.fetch_page(page.request)
    assert [c.id for c in again] == [c.id for c in page.records]


async def test_stops_at_total_count_and_never_follows_meta_next(open_demo: Any) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim, page_size=7)
    # The simulator's `next` drops the filters and the limit, and takes every form Plivo uses.
    body0 = await p.http.get_json(p.list_path(), {"end_time__gte": "2026-11-20 12:00:00"})
    forms = [
        (await p.http.get_json(p.list_path(), {"offset": o, "end_time__gte": "2026-11-20 12:00"}))[
            "meta"
        ]["next"]
        for o in (0, 20, 40, 60)
    ]
    assert (
        forms[0].startswith("/v1/") and forms[1].startswith("https://") and forms[2:] == ["", None]
    )
    assert "end_time" not in forms[0]
    total = body0["meta"]["total_count"]
    sim.seen.clear()
    calls = records(await collect(p, CallQuery(since=datetime(2026, 11, 20, 12, tzinfo=UTC))))
    assert len(calls) == total
    reqs = list_requests(sim)
    assert len(reqs) == math.ceil(total / 7)
    assert sorted(int(r["offset"]) for r in reqs) == list(range(0, total, 7))
    assert all(r["limit"] == "7" and "end_time__gte" in r for r in reqs)


async def test_legacy_next_true_on_the_last_page_does_not_keep_paging(open_demo: Any) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim, **LEGACY)
    pages = await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=30)))
    last = await p.http.get_json(*pages[-1].request)  # type: ignore[misc]
    assert last["meta"]["next"] is True
    assert len(list_requests(sim)) == len(pages) + 1


async def test_remaining_pages_are_fetched_concurrently_and_yielded_in_order(
    open_demo: Any,
) -> None:
    proxy = Rewriting(fast_sim(latency_ms=20))
    p = await open_proxied(proxy, max_concurrency=4)
    try:
        pages = await collect(p, CallQuery(since=SINCE))
    finally:
        await p.aclose()
    assert len(pages) > 8
    assert 1 < proxy.max_inflight <= 4, "requests overlapped, within max_concurrency"
    offsets = [int(page.request[1]["offset"]) for page in pages]  # type: ignore[index]
    assert offsets == sorted(offsets)
    ends = [c.ended_at for c in records(pages)]
    assert ends == sorted(ends, reverse=True)  # type: ignore[type-var]


async def test_a_consumer_that_stops_early_leaves_no_page_fetched_far_ahead(
    open_demo: Any,
) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim, max_concurrency=3)
    stream = p.pages(CallQuery(since=FIXED_NOW - timedelta(hours=24)))
    got = [await anext(stream) for _ in range(2)]
    await stream.aclose()
    assert len(got) == 2
    assert len(list_requests(sim)) <= 1 + 3, "one first page, then at most max_concurrency ahead"


async def test_a_consumer_cancelled_mid_fetch_stops_and_leaves_no_task(open_demo: Any) -> None:
    sim = fast_sim(latency_ms=50)
    p = await open_demo("demo-plivo", app=sim)
    got: asyncio.Queue[Page] = asyncio.Queue(1)

    async def pump() -> None:
        async for page in p.pages(CallQuery(since=FIXED_NOW - timedelta(hours=24))):
            await got.put(page)

    task = asyncio.create_task(pump())
    await got.get()
    while len(sim.seen) < 2:  # the later pages are in flight
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    left = set(p._tasks)
    assert left, "a prefetch was in flight when the consumer was cancelled"
    if left:
        await asyncio.wait(left)
    assert all(t.cancelled() for t in left), "the prefetches in flight were cancelled"
    assert not p._tasks


async def test_later_pages_pin_the_upper_end_time_to_the_first_pages_newest(
    open_demo: Any,
) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim)
    pages = await collect(p, CallQuery(since=SINCE))
    newest = pages[0].records[0].ended_at
    assert newest is not None
    reqs = list_requests(sim)
    assert "end_time__lte" not in reqs[0]
    assert {r["end_time__lte"] for r in reqs[1:]} == {newest.strftime("%Y-%m-%d %H:%M:%S")}


async def test_without_total_count_pages_until_a_short_page(open_demo: Any) -> None:
    def bare_meta(body: Any) -> Any:
        return {**body, "meta": {}} if "objects" in body else body

    sim = fast_sim()
    p = await open_proxied(Rewriting(sim, bare_meta))
    try:
        calls = records(await collect(p, CallQuery(since=SINCE)))
    finally:
        await p.aclose()
    assert {c.id for c in calls if CallQuery(since=SINCE).matches(c)} == world_ids(sim, SINCE)
    assert len(list_requests(sim)) == len(calls) // 20 + 1


async def test_the_demo_default_day_fills_250_rows_in_13_pages(open_demo: Any) -> None:
    p = await open_demo("demo-plivo", app=fast_sim())
    stream = p.pages(CallQuery(since=FIXED_NOW - timedelta(hours=24)))
    pages = [await anext(stream) for _ in range(13)]
    await stream.aclose()
    assert sum(len(page.records) for page in pages) == 260
    assert pages[-1].watermark is not None


# --- filters ---------------------------------------------------------------------------------


async def test_number_filters_are_sent_without_plus_and_refined_locally(open_demo: Any) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim)
    query = CallQuery(since=SINCE, from_="+49", to="+44", direction="outbound")
    calls = records(await collect(p, query))
    assert calls and all(c.from_.startswith("+49") for c in calls)  # type: ignore[union-attr]
    reqs = list_requests(sim)
    assert all(
        r["from_number"] == "49" and r["to_number"] == "44" and r["call_direction"] == "outbound"
        for r in reqs
    )
    expected = {
        simplivo.call_uuid(c)
        for c in sim.world.calls("plivo", SINCE)
        if c.from_num.startswith("+49") and c.to_num.startswith("+44") and c.direction == "outbound"
    }
    assert {c.id for c in calls if query.matches(c)} == expected


async def test_empty_filter_values_are_never_sent(open_demo: Any) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim)
    await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=20), from_="+", to=""))
    reqs = list_requests(sim)
    assert reqs and all(
        set(r) <= {"end_time__gte", "end_time__lte", "limit", "offset"} for r in reqs
    )
    assert all(v for r in reqs for v in r.values())


async def test_until_widens_the_end_time_window_and_the_window_is_refined_locally(
    open_demo: Any,
) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim)
    since, until = FIXED_NOW - timedelta(hours=5), FIXED_NOW - timedelta(hours=4)
    query = CallQuery(since=since, until=until)
    calls = records(await collect(p, query))
    first = list_requests(sim)[0]
    assert first["end_time__gte"] == "2026-11-20 09:00:00"
    assert first["end_time__lte"] == (until + MAX_CALL).strftime("%Y-%m-%d %H:%M:%S")
    # An upper bound only ever goes with the lower one: Plivo refuses it alone with a 400.
    assert all("end_time__gte" in r for r in list_requests(sim) if "end_time__lte" in r)
    matched = {c.id for c in calls if query.matches(c)}
    assert matched == world_ids(sim, since, until)
    # The widening is what keeps a call that started before `until` and ended after it.
    assert any(c.started_at <= until < c.ended_at for c in calls if c.id in matched)  # type: ignore[operator]
    assert any(c.started_at < since for c in calls), "calls that only ended in the window"  # type: ignore[operator]


# --- records ---------------------------------------------------------------------------------


async def test_current_records_normalize(open_demo: Any) -> None:
    p = await open_demo("demo-plivo", app=fast_sim())
    calls = records(await collect(p, CallQuery(since=SINCE)))
    for c in calls:
        raw = c.raw
        assert c.provider == "plivo" and c.account == "demo-plivo"
        assert c.id == raw["call_uuid"] and c.sip_call_id == raw["call_id"]
        assert c.from_ == raw["from_number"] and c.to == raw["to_number"]
        assert c.started_at.tzinfo is not None  # type: ignore[union-attr]
        assert c.cause == raw["hangup_cause_name"] and c.cause_code == raw["hangup_cause_code"]
        assert c.billed_s == raw["bill_duration"] and c.duration_s == raw["call_duration"]
        assert (c.answered_at is None) == (raw["answer_time"] is None)
    assert {c.outcome for c in calls} >= {Outcome.ANSWERED, Outcome.BUSY, Outcome.FAILED}


async def test_legacy_api_serves_the_same_calls_with_its_own_fields_and_zone(
    open_demo: Any,
) -> None:
    sim = fast_sim()
    current = await open_demo("demo-plivo", app=sim)
    legacy = await open_demo("demo-plivo", app=sim, **LEGACY)
    query = CallQuery(since=FIXED_NOW - timedelta(minutes=40))
    new = {c.id: c for c in records(await collect(current, query))}
    sim.seen.clear()
    old = records(await collect(legacy, query))
    assert {c.id for c in old} == set(new)
    assert all(s.path == "/v1/Account/MADEMO0000000000PLIV/Call/" for s in sim.seen)
    # Filters go in the console's zone, like the records' times.
    assert list_requests(sim)[0]["end_time__gte"] == "2026-11-20 18:50:00"
    for c in old:
        n = new[c.id]
        assert (c.started_at, c.answered_at, c.ended_at) == (
            n.started_at,
            n.answered_at,
            n.ended_at,
        )
        assert isinstance(c.raw["from_number"], int) and c.from_ == n.from_.lstrip("+")  # type: ignore[union-attr]
        assert c.duration_s == c.raw["duration"] and c.cause == c.raw["hangup_cause"]
        assert c.sip_call_id is None and "hangup_initiator" in c.raw
        if "hangup_code" in c.raw:
            assert c.cause_code == c.raw["hangup_code"] and c.outcome == n.outcome
    assert any("hangup_code" not in c.raw for c in old), "some legacy records carry no code"


async def test_legacy_times_read_in_another_zone_shift(open_demo: Any) -> None:
    sim = fast_sim()
    wrong = await open_demo("demo-plivo", app=sim, api="legacy", timezone="UTC")
    body = await wrong.http.get_json(wrong.list_path(), {"end_time__gte": "2026-11-20 19:00"})
    c = wrong.parse_list(body)[0]
    right = parse_call(c.raw, "x", IST)
    assert c.started_at - right.started_at == timedelta(hours=5, minutes=30)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({"hangup_cause_code": 3000, "hangup_cause_name": "normal_hangup"}, Outcome.ANSWERED),
        ({"hangup_cause_code": 3010}, Outcome.ANSWERED),
        ({"hangup_cause_code": 4410, "hangup_cause_name": "user_busy"}, Outcome.BUSY),
        ({"hangup_cause_code": 4420}, Outcome.CANCELLED),
        ({"hangup_cause_code": 4550, "hangup_cause_name": "customer_cancelled"}, Outcome.CANCELLED),
        ({"hangup_cause_code": 3020, "hangup_cause_name": "rtp_timeout"}, Outcome.FAILED),
        ({"hangup_cause_code": 6000}, Outcome.FAILED),
        ({"hangup_cause_code": 4999, "hangup_cause_name": "brand_new"}, Outcome.FAILED),
        ({"hangup_code": 4410, "hangup_cause": "user_busy"}, Outcome.BUSY),
        ({"hangup_cause": "normal_hangup"}, Outcome.ANSWERED),
        ({"hangup_cause_name": "normal_hangup"}, Outcome.ANSWERED),
        ({"hangup_cause_name": "customer_cancelled"}, Outcome.CANCELLED),
        ({"hangup_cause": "route_not_found"}, Outcome.FAILED),
        ({"hangup_cause_code": "null", "hangup_cause_name": "null"}, Outcome.UNKNOWN),
        ({}, Outcome.UNKNOWN),
    ],
)
def test_outcome_from_the_hangup_code_else_the_cause_name(
    fields: dict[str, Any], outcome: Outcome
) -> None:
    c = parse_call({"call_uuid": "u", **fields}, "acct", UTC)
    assert c.outcome is outcome


def test_both_field_sets_and_odd_values_parse() -> None:
    legacy = parse_call(
        {
            "call_uuid": "6c3a8b60-26e0-4842-9387-2350de79f16b",
            "bill_duration": 7200,
            "end_time": "2022-05-26 13:32:37",
            "from_number": 552135006716,
            "to_number": 12604109832,
            "call_direction": "outbound",
            "duration": "28",
            "hangup_cause": "normal_hangup",
            "initiation_time": "2022-05-26 13:32:06",
            "answer_time": "2022-05-26 13:32:09",
            "hangup_code": 3010,
        },
        "acct",
        ZoneInfo("America/Sao_Paulo"),
    )
    assert (legacy.from_, legacy.to, legacy.duration_s, legacy.billed_s) == (
        "552135006716",
        "12604109832",
        28,
        7200,
    )
    assert legacy.started_at == datetime(2022, 5, 26, 16, 32, 6, tzinfo=UTC)
    assert legacy.outcome is Outcome.ANSWERED and legacy.cause_code == 3010
    odd = parse_call(
        {
            "call_uuid": "u",
            "billed_duration": 60,
            "call_duration": [],
            "from_number": "null",
            "to_number": True,
            "call_direction": "Inbound",
            "answer_time": "1970-01-01 00:00:00",
            "end_time": "not a time",
            "initiation_time": 17,
        },
        "acct",
        UTC,
    )
    assert odd.billed_s == 60 and odd.duration_s is None
    assert odd.from_ is None and odd.to is None and odd.direction == "inbound"
    assert odd.answered_at is None and odd.ended_at is None and odd.started_at is None


def test_stir_verification_compares_case_insensitively_and_null_string_is_null() -> None:
    assert stir_verification("not applicable") == "Not Applicable"
    assert stir_verification("NOT VERIFIED") == "Not Verified"
    assert stir_verification("null") is None
    body = {
        "call_uuid": "u",
        "stir_verification": "not applicable",
        "attestation_indicator": "null",
        "total_rate": "0.00280",
        "rate": 0.318,
        "secure_trunking_rate": 0,
        "hangup_cause_code": 3000,
        "hangup_source": "carrier",
    }
    extra = parse_detail(body, "acct", UTC).extra
    assert extra["stir_verification"] == "Not Applicable"
    assert extra["attestation_indicator"] is None
    assert extra["billing"] == {
        "rate": "0.318",
        "total_rate": "0.00280",
        "secure_trunking_rate": "0",
    }


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"meta": {}},
        {"meta": {}, "objects": {}},
        {"meta": [], "objects": []},
        {"objects": ["x"]},
        {"objects": [{"call_uuid": ""}]},
        {"objects": [{"call_uuid": 12}]},
        {"objects": [{"from_number": "+1"}]},
    ],
)
def test_a_body_of_the_wrong_shape_is_a_data_error(body: Any) -> None:
    with pytest.raises(DataError):
        parse_list(body, "acct", UTC)


def test_plivo_cli_hand_made_list_body_parses() -> None:
    body = {
        "meta": {},
        "objects": [
            {
                "call_uuid": "8f3c1a2e",
                "hangup_cause_name": "normal_hangup",
                "hangup_source": "carrier",
                "end_time": "2026-09-15 14:32:00",
            }
        ],
    }
    (c,) = parse_list(body, "acct", UTC)
    assert c.outcome is Outcome.ANSWERED and c.ended_at == datetime(2026, 9, 15, 14, 32, tzinfo=UTC)


async def test_a_list_of_the_wrong_shape_is_a_bad_response_naming_the_account(
    open_demo: Any,
) -> None:
    p = await open_proxied(Rewriting(fast_sim(), lambda body: {**body, "objects": {"x": 1}}))
    try:
        with pytest.raises(BadResponseError, match="demo-plivo: unexpected data"):
            await collect(p, CallQuery(since=SINCE))
    finally:
        await p.aclose()


# --- detail ----------------------------------------------------------------------------------


def _first(calls: list[Call], pred: Callable[[Call], bool]) -> Call:
    return next(c for c in calls if pred(c))


async def test_detail_on_the_current_api_has_the_record_an_explanation_and_insights(
    open_demo: Any,
) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim)
    calls = records(await collect(p, CallQuery(since=SINCE)))
    answered = _first(calls, lambda c: c.outcome is Outcome.ANSWERED)
    sim.seen.clear()
    d = await p.detail(answered.id)
    assert d.call.id == answered.id and d.call.to_dict() == answered.to_dict()
    assert [s.path for s in sim.seen] == [
        f"/v1/Account/MADEMO0000000000PLIV/Zentrunk/Call/{answered.id}/",
        f"/v1/Account/MADEMO0000000000PLIV/Zentrunk/Call/{answered.id}/Insights/",
    ]
    insights = d.extra["insights"]
    assert set(insights) >= {"rtt", "jitter", "packet_loss", "post_dial_delay"}
    assert "plivo_quality_score" in insights and "api_id" not in insights
    assert f"Plivo hangup code {answered.cause_code} normal_hangup" in (d.explanation or "")
    assert p.request_for(answered) == (sim.seen[0].path, {})
    out = d.to_dict()
    assert out["trace"] is None and out["legs"] == [] and out["explanation"] == d.explanation

    busy = _first(calls, lambda c: c.outcome is Outcome.BUSY and c.cause_code == 4410)
    d = await p.detail(busy.id)
    assert d.extra["insights"] is None, "no media, no insights (404)"
    assert "4410 user_busy: the called party is busy" in (d.explanation or "")


async def test_detail_explains_a_name_that_differs_from_the_table(open_demo: Any) -> None:
    p = await open_demo("demo-plivo", app=fast_sim())
    calls = records(await collect(p, CallQuery(since=SINCE)))
    cancelled = _first(calls, lambda c: c.cause == "customer_cancelled")
    d = await p.detail(cancelled.id)
    assert "4550 user_cancelled (recorded as 'customer_cancelled')" in (d.explanation or "")


async def test_detail_on_the_legacy_api(open_demo: Any) -> None:
    sim = fast_sim()
    p = await open_demo("demo-plivo", app=sim, **LEGACY)
    calls = records(await collect(p, CallQuery(since=FIXED_NOW - timedelta(minutes=30))))
    c = calls[0]
    sim.seen.clear()
    d = await p.detail(c.id)
    assert [s.path for s in sim.seen] == [f"/v1/Account/MADEMO0000000000PLIV/Call/{c.id}/"]
    assert d.call.to_dict() == c.to_dict()
    assert "insights" not in d.extra and d.explanation


async def test_an_unknown_call_is_not_found(open_demo: Any) -> None:
    p = await open_demo("demo-plivo", app=fast_sim())
    with pytest.raises(NotFoundError) as e:
        await p.detail("00000000-0000-4000-a000-000000000000")
    assert e.value.status == 404 and "call not found" in str(e.value)


# --- errors ----------------------------------------------------------------------------------


async def test_wrong_credentials_are_an_auth_error_with_plivos_message(open_demo: Any) -> None:
    p = await open_demo("demo-plivo", app=fast_sim(), auth_token="wrong")
    with pytest.raises(AuthError) as e:
        await collect(p, CallQuery(since=SINCE))
    assert e.value.status == 401 and "Authentication credentials invalid" in str(e.value)
    assert "wrong" not in str(e.value)


async def test_the_rate_limit_maps_to_rate_limited_after_retries(open_demo: Any) -> None:
    sim = SimApp(seed=7, now=FIXED_NOW)
    p = await open_demo("demo-plivo", app=sim)
    # Spend the account's whole window (300 per 5 s) before the adapter asks.
    for _ in range(300):
        assert sim.over_limit(f"plivo/{simplivo.AUTH_ID}", *simplivo.RATE_LIMIT) is None
    with pytest.raises(RateLimitedError) as e:
        await p.detail("00000000-0000-4000-a000-000000000000")
    assert e.value.status == 429 and "Too many requests" in str(e.value)
    assert len(sim.seen) == FAST_RETRY.attempts


async def test_a_429_is_retried_after_the_wait_the_server_asks(open_demo: Any) -> None:
    # The fault generator of seed 7 answers the first request 429 (Retry-After: 1), then not.
    sim = fast_sim(faults="429@plivo=0.6")
    p = await open_demo("demo-plivo", app=sim, api="legacy")
    calls = await p.fetch_page((p.list_path(), {"end_time__gte": "2026-11-20 19:00"}))
    assert calls
    assert len(sim.seen) == 2 and sim.seen[0] == sim.seen[1]


async def test_a_server_error_is_retried_then_raised(open_demo: Any) -> None:
    sim = fast_sim(faults="500@plivo=1")
    p = await open_demo("demo-plivo", app=sim)
    with pytest.raises(ServerError) as e:
        await collect(p, CallQuery(since=SINCE))
    assert e.value.status == 500
    assert len(sim.seen) == FAST_RETRY.attempts


async def test_an_html_page_is_reported_as_such(open_demo: Any) -> None:
    p = await open_demo("demo-plivo", app=fast_sim(faults="html@plivo=1"))
    with pytest.raises(ServerError, match="HTML page"):
        await collect(p, CallQuery(since=SINCE))


async def test_malformed_json_is_a_bad_response(open_demo: Any) -> None:
    p = await open_demo("demo-plivo", app=fast_sim(faults="malformed@plivo=1"))
    with pytest.raises(BadResponseError, match="malformed JSON"):
        await collect(p, CallQuery(since=SINCE))


# --- recorded fixtures -----------------------------------------------------------------------


def test_the_real_zentrunk_cdr_parses() -> None:
    body = json.loads(shared_fixture("plivo", "zentrunk-call-real.json").read_text())
    d = parse_detail(body, "prod", UTC)
    c = d.call
    assert c.id == "f3f74402-59af-40b3-909c-80c50a4b063f"
    assert c.sip_call_id == "459580122_124515270@206.146.101.14"
    assert (c.from_, c.to, c.direction) == ("+919902443540", "+17322179088", "inbound")
    assert c.started_at == datetime(2026, 9, 18, 8, 51, 53, tzinfo=UTC)
    assert c.answered_at == datetime(2026, 9, 18, 8, 51, 54, tzinfo=UTC)
    assert c.ended_at == datetime(2026, 9, 18, 8, 52, 26, tzinfo=UTC)
    assert (c.duration_s, c.billed_s) == (32, 60)
    assert (c.outcome, c.cause, c.cause_code) == (Outcome.ANSWERED, "normal_hangup", 3000)
    assert c.raw == body
    assert d.extra["billing"]["total_amount"] == "0.00280"
    assert d.extra["stir_verification"] == "Not Verified"
    assert d.extra["attestation_indicator"] == "C"
    assert "normal hangup from the carrier" in (d.explanation or "")
    # The same record in a list envelope.
    assert parse_list({"meta": {}, "objects": [body]}, "prod", UTC)[0].to_dict() == c.to_dict()


def test_the_real_trunk_body_is_not_mistaken_for_a_call() -> None:
    # The trunk endpoint nests its record under `object`; call records are flat.
    body = json.loads(shared_fixture("plivo", "zentrunk-trunk-real.json").read_text())
    with pytest.raises(DataError, match="call_uuid"):
        parse_detail(body, "prod", UTC)
