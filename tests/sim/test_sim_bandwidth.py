"""The Bandwidth simulator's wire shape and limits, spoken to with a plain HTTP client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from calltui.sim import bandwidth as bwsim
from calltui.sim.app import SimApp
from calltui.sim.demo import DEMO_ACCOUNTS, SIM_HOST
from tests.conftest import FIXED_NOW

DEMO = DEMO_ACCOUNTS["demo-bandwidth"]
CALLS = f"/v1/users/{DEMO['user_id']}/calls"


def client(app: SimApp, auth: tuple[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=SIM_HOST,
        auth=auth or (DEMO["api_token"], DEMO["api_secret"]),
    )


@pytest.fixture
async def bw() -> AsyncIterator[httpx.AsyncClient]:
    async with client(SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)) as c:
        yield c


async def test_list_is_a_bare_array_of_25_newest_first(bw: httpx.AsyncClient) -> None:
    r = await bw.get(CALLS)
    body = r.json()
    assert isinstance(body, list) and len(body) == 25
    starts = [c["startTime"] for c in body]
    assert starts == sorted(starts, reverse=True)
    asc = (await bw.get(CALLS, params={"sortOrder": "asc", "size": 3})).json()
    assert asc[0]["startTime"] < asc[-1]["startTime"]


@pytest.mark.parametrize(
    "params", [{"size": 1001}, {"size": 0}, {"page": -1}, {"page": "x"}, {"sortOrder": "up"}]
)
async def test_bad_paging_parameters_are_400(bw: httpx.AsyncClient, params: Any) -> None:
    r = await bw.get(CALLS, params=params)
    assert r.status_code == 400
    assert r.json()["category"] == "bad-request"


async def test_link_header_is_relative_absolute_or_absent_by_turns(bw: httpx.AsyncClient) -> None:
    q = {"size": 5, "sortOrder": "desc"}
    links = [(await bw.get(CALLS, params={**q, "page": n})).links for n in range(4)]
    assert links[0]["next"]["url"] == "calls?size=5&sortOrder=desc&page=1"
    assert links[0]["first"]["url"] == "calls?size=5&sortOrder=desc&page=0"
    assert links[1]["next"]["url"] == f"{SIM_HOST}{CALLS}?size=5&sortOrder=desc&page=2"
    assert links[2] == {}
    assert links[3]["next"]["url"].startswith("calls?")


async def test_no_next_link_past_the_last_page(bw: httpx.AsyncClient) -> None:
    r = await bw.get(CALLS, params={"size": 1000, "page": 6})
    assert 0 < len(r.json()) < 1000
    assert "link" not in r.headers


async def test_from_filter_is_exact_on_the_e164_number(bw: httpx.AsyncClient) -> None:
    number = (await bw.get(CALLS)).json()[3]["from"]
    r = await bw.get(CALLS + "?from=" + number.replace("+", "%2B"))
    assert r.json() and all(c["from"] == number for c in r.json())
    assert (await bw.get(CALLS, params={"from": number[:5]})).json() == []


async def test_call_fields_by_state(bw: httpx.AsyncClient) -> None:
    calls = (await bw.get(CALLS, params={"size": 300})).json()
    by_state: dict[str, list[dict[str, Any]]] = {}
    for c in calls:
        by_state.setdefault(c["state"], []).append(c)
    assert {"completed", "rejected", "active"} <= set(by_state)
    for c in by_state["active"] + by_state.get("started", []):
        assert "endTime" not in c and "chargeableDuration" not in c
    assert all("activeTime" in c for c in by_state["active"])
    assert all("activeTime" not in c for c in by_state["rejected"] + by_state.get("started", []))
    assert all(c["chargeableDuration"] % 60 == 0 for c in by_state["completed"])
    assert {c["direction"] for c in calls} == {"in", "out"}
    assert any(len(c["activeTime"]) == 20 for c in by_state["completed"] if "activeTime" in c)
    assert all(c["id"].startswith("c-") for c in calls)


def epoch_ms(t: int | str) -> int:
    if isinstance(t, int):
        return t
    return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)


async def test_events_are_shuffled_with_mixed_times_and_string_data(
    bw: httpx.AsyncClient,
) -> None:
    app = SimApp(seed=7, now=FIXED_NOW)
    answered = [c for c in app.world.calls("bandwidth") if c.outcome == "answered"][5:30]
    kinds: set[type] = set()
    shuffled = 0
    for c in answered:
        events = (await bw.get(f"{CALLS}/{bwsim.call_id(c)}/events")).json()
        assert all(isinstance(e.get("data", ""), str) for e in events)
        assert '{"applicationName": "park"}' in [e.get("data") for e in events]
        kinds |= {type(e["time"]) for e in events}
        times = [epoch_ms(e["time"]) for e in events]
        shuffled += times != sorted(times)
    assert kinds == {int, str}
    assert shuffled > len(answered) // 2


async def test_one_event_has_epoch_ms_time(bw: httpx.AsyncClient) -> None:
    call = (await bw.get(CALLS, params={"size": 40})).json()[-1]
    events = (await bw.get(f"{CALLS}/{call['id']}/events")).json()
    create = next(e for e in events if e["name"] == "create")
    one = (await bw.get(f"{CALLS}/{call['id']}/events/{create['id']}")).json()
    assert isinstance(one["time"], int) and one["data"] == ""
    missing = await bw.get(f"{CALLS}/{call['id']}/events/ev-none")
    assert missing.json()["code"] == "call-event-not-found"


async def test_unknown_call_is_404_call_not_found(bw: httpx.AsyncClient) -> None:
    r = await bw.get(f"{CALLS}/c-nope")
    body = r.json()
    assert (r.status_code, body["category"], body["code"]) == (404, "not-found", "call-not-found")
    assert body["message"] == "The call c-nope could not be found"
    assert {"name": "requestPath", "value": f"users/{DEMO['user_id']}/calls/c-nope"} in (
        body["details"]
    )


async def test_wrong_credentials_are_401_and_another_user_403() -> None:
    app = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    async with client(app, (DEMO["api_token"], "nope")) as c:
        r = await c.get(CALLS)
    assert r.status_code == 401
    assert set(r.json()) == {"category", "code", "message", "details"}
    async with client(app) as c:
        r = await c.get("/v1/users/u-other/calls")
    assert (r.status_code, r.json()["category"]) == (403, "authorization")


async def test_one_request_per_second_then_429_with_reset_in_epoch_ms() -> None:
    async with client(SimApp(seed=7, now=FIXED_NOW)) as c:
        first = await c.get(CALLS, params={"size": 1})
        second = await c.get(f"{CALLS}/c-nope")
    assert first.status_code == 200
    assert second.status_code == 429
    reset = second.headers["X-RateLimit-Reset"]
    assert int(reset) >= time.time() * 1000 - 5
    body = second.json()
    assert "message" not in body
    assert (body["category"], body["code"]) == ("too-many-requests", "rate-limit-reached")
    assert {"name": "rateLimitResetTime", "value": reset} in body["details"]
