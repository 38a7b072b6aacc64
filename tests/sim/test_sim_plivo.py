"""The Plivo Zentrunk simulator: wire shape, limits and quirks, over raw HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from calltui.sim import plivo as simplivo
from calltui.sim.app import SimApp
from tests.conftest import FIXED_NOW

ACCOUNT = f"/v1/Account/{simplivo.AUTH_ID}"
CURRENT = f"{ACCOUNT}/Zentrunk/Call/"
LEGACY = f"{ACCOUNT}/Call/"
WINDOW = {"end_time__gte": "2026-11-20 13:00"}
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\Z")


DEMO = (simplivo.AUTH_ID, simplivo.AUTH_TOKEN)


def client(app: SimApp, auth: tuple[str, str] | None = DEMO) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sim", auth=auth
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with client(SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)) as c:
        yield c


async def get(http: httpx.AsyncClient, path: str, **params: Any) -> Any:
    r = await http.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def error(http: httpx.AsyncClient, path: str, status: int, **params: Any) -> str:
    r = await http.get(path, params=params)
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"api_id", "error"}
    return str(body["error"])


async def test_current_record_has_the_production_field_types(http: httpx.AsyncClient) -> None:
    body = await get(http, CURRENT, **WINDOW)
    assert set(body) == {"api_id", "meta", "objects"}
    assert set(body["meta"]) == {"limit", "offset", "total_count", "next", "previous"}
    rec = body["objects"][0]
    assert list(rec)[:3] == ["call_uuid", "call_id", "from_number"]
    assert rec["from_number"].startswith("+")
    for key in ("call_duration", "bill_duration", "billed_duration", "hangup_cause_code"):
        assert type(rec[key]) is int
    for key in ("total_rate", "total_amount", "secure_trunking_rate", "cnam_lookup_rate"):
        assert re.fullmatch(r"\d+\.\d{5}", rec[key])
    for key in ("srtp", "secure_trunking", "cnam_lookup"):
        assert type(rec[key]) is bool
    assert TIME.match(rec["end_time"]) and TIME.match(rec["initiation_time"])


async def test_current_records_show_the_documented_odd_values(http: httpx.AsyncClient) -> None:
    objects = (await get(http, CURRENT, **WINDOW, call_direction="outbound"))["objects"]
    assert {o["attestation_indicator"] for o in objects} == {"null"}
    body = await get(http, CURRENT, end_time__gte="2026-11-20 08:00", call_direction="outbound")
    assert body["meta"]["total_count"] > 100
    stirs = set()
    for offset in range(0, 200, 20):
        page = await get(http, CURRENT, end_time__gte="2026-11-20 08:00", offset=offset)
        stirs |= {o["stir_verification"] for o in page["objects"]}
    assert {"not applicable", "Not Applicable", "Verified"} <= stirs


async def test_legacy_record_has_numbers_as_numbers_and_console_times(
    http: httpx.AsyncClient,
) -> None:
    current = {o["call_uuid"]: o for o in (await get(http, CURRENT, **WINDOW))["objects"]}
    body = await get(http, LEGACY, end_time__gte="2026-11-20 18:30")
    assert body["meta"]["next"] is True and body["meta"]["previous"] is False
    rec = body["objects"][0]
    new = current[rec["call_uuid"]]
    assert type(rec["from_number"]) is int and str(rec["from_number"]) == new["from_number"][1:]
    assert type(rec["rate"]) is float and rec["secure_trunking_rate"] == 0
    assert {"hangup_cause", "hangup_initiator", "trunk_id", "duration", "region"} <= set(rec)
    assert "hangup_cause_name" not in rec and "call_id" not in rec
    as_utc = datetime.fromisoformat(new["end_time"]).replace(tzinfo=timezone.utc)
    shown = datetime.fromisoformat(rec["end_time"]).replace(tzinfo=simplivo.LEGACY_ZONE)
    assert shown == as_utc


async def test_sorted_by_end_time_newest_first_completed_calls_only(
    http: httpx.AsyncClient,
) -> None:
    ends = []
    for offset in range(0, 100, 20):
        page = await get(http, CURRENT, **WINDOW, offset=offset)
        ends += [o["end_time"] for o in page["objects"]]
    assert ends == sorted(ends, reverse=True)
    assert max(ends) <= "2026-11-20 14:00:00"


async def test_a_call_still_up_is_neither_listed_nor_found(http: httpx.AsyncClient) -> None:
    app = SimApp(seed=7, now=FIXED_NOW)
    up = [c for c in app.world.calls("plivo", FIXED_NOW - timedelta(hours=1)) if c.end > FIXED_NOW]
    assert up
    listed = set()
    body = await get(http, CURRENT, **WINDOW)
    for offset in range(0, body["meta"]["total_count"], 20):
        page = await get(http, CURRENT, **WINDOW, offset=offset)
        listed |= {o["call_uuid"] for o in page["objects"]}
    assert not listed & {simplivo.call_uuid(c) for c in up}
    await error(http, f"{CURRENT}{simplivo.call_uuid(up[0])}/", 404)


async def test_meta_next_is_a_trap_in_every_form(http: httpx.AsyncClient) -> None:
    nexts = [
        (await get(http, CURRENT, **WINDOW, limit=5, offset=o))["meta"]["next"]
        for o in (0, 5, 10, 15)
    ]
    assert nexts[0] == f"{CURRENT}?limit=20&offset=5"
    assert nexts[1] == f"https://api.plivo.com{CURRENT}?limit=20&offset=10"
    assert nexts[2:] == ["", None]


async def test_limit_above_20_is_refused(http: httpx.AsyncClient) -> None:
    assert "between 1 and 20" in await error(http, CURRENT, 400, **WINDOW, limit=21)
    assert "between 1 and 20" in await error(http, LEGACY, 400, **WINDOW, limit=0)
    assert len((await get(http, CURRENT, **WINDOW))["objects"]) == 20


async def test_an_upper_end_time_bound_needs_a_lower_one(http: httpx.AsyncClient) -> None:
    msg = await error(http, CURRENT, 400, end_time__lte="2026-11-20 13:00")
    assert "needs end_time__gte" in msg
    body = await get(
        http, CURRENT, end_time__gte="2026-11-20 12:00", end_time__lte="2026-11-20 12:10"
    )
    assert all(
        "2026-11-20 12:00:00" <= o["end_time"] <= "2026-11-20 12:10:00" for o in body["objects"]
    )


async def test_empty_values_unknown_filters_and_wide_ranges_are_refused(
    http: httpx.AsyncClient,
) -> None:
    assert "empty" in await error(http, CURRENT, 400, **WINDOW, from_number="")
    assert await error(http, CURRENT, 400, **WINDOW, srtp="true") == "filtering not allowed on srtp"
    assert "trunk_id" in await error(http, CURRENT, 400, **WINDOW, trunk_id="1")
    wide = {"end_time__gte": "2026-01-01 00:00", "end_time__lte": "2026-11-20 00:00"}
    assert "90 days" in await error(http, CURRENT, 400, **wide)
    assert "format" in await error(http, CURRENT, 400, end_time__gte="yesterday")


async def test_a_plus_in_a_number_filter_matches_nothing(http: httpx.AsyncClient) -> None:
    digits = await get(http, CURRENT, **WINDOW, from_number="49")
    assert digits["meta"]["total_count"] > 0
    assert all(o["from_number"].startswith("+49") for o in digits["objects"])
    plus = await get(http, CURRENT, **WINDOW, from_number="+49")
    assert plus["meta"]["total_count"] == 0 and plus["objects"] == []


async def test_server_side_filters(http: httpx.AsyncClient) -> None:
    busy = await get(http, CURRENT, **WINDOW, hangup_cause_code=4410)
    assert busy["objects"] and {o["hangup_cause_name"] for o in busy["objects"]} == {"user_busy"}
    long = await get(http, CURRENT, **WINDOW, bill_duration__gte=300)
    assert all(o["bill_duration"] >= 300 for o in long["objects"])
    stir = await get(http, CURRENT, **WINDOW, stir_verification="NOT APPLICABLE")
    assert {o["call_direction"] for o in stir["objects"]} == {"outbound"}
    trunk = await get(http, LEGACY, **WINDOW, trunk_id="42741122632602585")
    assert {o["call_direction"] for o in trunk["objects"]} == {"inbound"}


async def test_single_call_is_flat_and_insights_only_for_answered_calls(
    http: httpx.AsyncClient,
) -> None:
    objects = (await get(http, CURRENT, **WINDOW))["objects"]
    answered = next(o for o in objects if o["answer_time"])
    missed = next(o for o in objects if not o["answer_time"])
    assert await get(http, f"{CURRENT}{answered['call_uuid']}/") == answered
    insights = await get(http, f"{CURRENT}{answered['call_uuid']}/Insights/")
    assert insights["call_uuid"] == answered["call_uuid"] and insights["post_dial_delay"] > 0
    await error(http, f"{CURRENT}{missed['call_uuid']}/Insights/", 404)
    legacy = await get(http, f"{LEGACY}{answered['call_uuid']}/")
    assert legacy["hangup_initiator"] == answered["hangup_source"]


async def test_auth_is_required_and_must_match_the_path() -> None:
    app = SimApp(seed=7, now=FIXED_NOW)
    async with client(app, ("MADEMO0000000000PLIV", "nope")) as http:
        assert "Authentication" in await error(http, CURRENT, 401, **WINDOW)
    async with client(app) as http:
        await error(http, "/v1/Account/MAOTHER/Zentrunk/Call/", 401, **WINDOW)
    async with client(app, None) as http:
        await error(http, CURRENT, 401, **WINDOW)


async def test_300_requests_per_5_seconds_then_429() -> None:
    app = SimApp(seed=7, now=FIXED_NOW)
    async with client(app) as http:
        for _ in range(300):
            assert (await http.get(CURRENT, params={**WINDOW, "limit": 1})).status_code == 200
        r = await http.get(CURRENT, params={**WINDOW, "limit": 1})
    assert r.status_code == 429 and "retry-after" not in r.headers
    assert "300 requests per 5 s" in r.json()["error"]


async def test_the_same_seed_serves_the_same_calls() -> None:
    bodies = []
    for _ in range(2):
        async with client(SimApp(seed=7, now=FIXED_NOW)) as http:
            bodies.append(await get(http, CURRENT, **WINDOW, offset=40))
    assert bodies[0]["objects"] == bodies[1]["objects"]


async def _all(http: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = await get(http, path, **params, offset=len(out))
        out += page["objects"]
        if len(out) >= page["meta"]["total_count"]:
            return out


async def test_the_incident_on_the_london_trunk(http: httpx.AsyncClient) -> None:
    """Calls to +44 20 go over one trunk, either way; from 20 minutes before the
    clock about 60% of them fail with the 503 of their side (5350 by the carrier outbound, 5360
    by your side inbound); the two hours before, the usual mix."""
    start = FIXED_NOW - timedelta(minutes=20)
    since = {"end_time__gte": f"{start - timedelta(hours=2):%Y-%m-%d %H:%M}"}
    london = await _all(http, CURRENT, **since, to_number="4420")
    domain = f"{simplivo.LONDON_TRUNK_ID}.zt.plivo.com"
    assert {o["trunk_domain"] for o in london} == {domain}
    assert {o["call_direction"] for o in london} == {"inbound", "outbound"}
    # The legacy API reads times in the console's zone.
    local = (start - timedelta(hours=2)).astimezone(simplivo.LEGACY_ZONE)
    legacy = await _all(
        http, LEGACY, end_time__gte=f"{local:%Y-%m-%d %H:%M}", trunk_id=simplivo.LONDON_TRUNK_ID
    )
    assert sorted(o["call_uuid"] for o in legacy) == sorted(o["call_uuid"] for o in london)
    others = await _all(http, CURRENT, **since)
    assert {o["trunk_domain"] for o in others if not o["to_number"].startswith("+4420")} == {
        f"{simplivo.INBOUND_TRUNK_ID}.zt.plivo.com",
        f"{simplivo.OUTBOUND_TRUNK_ID}.zt.plivo.com",
    }

    def refused(o: dict[str, Any]) -> bool:
        code = {"inbound": 5360, "outbound": 5350}[o["call_direction"]]
        return bool(o["hangup_cause_code"] == code)

    def started(o: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(o["initiation_time"]).replace(tzinfo=timezone.utc)

    during = [o for o in london if started(o) >= start]
    before = [o for o in london if started(o) < start - timedelta(seconds=1)]
    assert len(during) >= 20 and 0.4 <= sum(map(refused, during)) / len(during) <= 0.85
    assert len(before) >= 100 and sum(map(refused, before)) / len(before) < 0.05
