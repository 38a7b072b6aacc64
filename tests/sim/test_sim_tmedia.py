"""The simulated Tmedia box on the wire, seen by a plain HTTP client: what a real box sends,
independent of our adapter."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from calltui.sim import tmedia
from calltui.sim.app import SimApp
from calltui.sim.asgi import BIG_STEPS
from calltui.sim.demo import SIM_HOST
from tests.conftest import FIXED_NOW, sim_mid_call

BOX_TIME = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \+0300$")
AUTH = ("api", "demo-tmedia-pass")
META = "***meta***"


@pytest.fixture
async def box(sim: SimApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim)
    async with httpx.AsyncClient(transport=transport, base_url=SIM_HOST, auth=AUTH) as client:
        yield client


@pytest.fixture
def mid_sim() -> SimApp:
    """The box with its clock stopped during a call, so some legs are Active: at FIXED_NOW the
    incident fails many of the last minutes' calls, and none need be up."""
    return sim_mid_call("tmedia")


@pytest.fixture
async def mid_box(mid_sim: SimApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=mid_sim)
    async with httpx.AsyncClient(transport=transport, base_url=SIM_HOST, auth=AUTH) as client:
        yield client


def legs(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in body.items() if k != META}


def moscow(t: datetime) -> str:
    return t.astimezone(ZoneInfo("Europe/Moscow")).strftime("%Y-%m-%d %H:%M:%S")


async def test_ten_legs_when_nb_result_is_missing(box: httpx.AsyncClient) -> None:
    body = (await box.get("/call_trace")).json()
    assert len(legs(body)) == 10
    assert all(v == {} for v in legs(body).values()), "ids only without recursive=yes"
    assert body[META]["version"]


async def test_meta_at_every_level_and_keys_in_string_order(box: httpx.AsyncClient) -> None:
    body = (await box.get("/call_trace", params={"nb_result": 40, "recursive": "yes"})).json()
    assert list(body) == sorted(body)
    for leg in legs(body).values():
        assert leg[META] == {"valid_url": False}
        traces = leg["call_traces"]
        assert traces[META] == {"valid_url": False}
        keys = [k for k in traces if k != META]
        assert keys == sorted(keys)
        orders = [traces[k]["order"] for k in keys]
        assert sorted(orders) == list(range(1, len(orders) + 1))
    assert any(len(leg["call_traces"]) > 10 for leg in legs(body).values()), (
        "some flows are long enough for '10' to sort before '2'"
    )


async def test_pages_are_newest_first_and_end_short(box: httpx.AsyncClient) -> None:
    params: dict[str, Any] = {
        "recursive": "yes",
        "nb_result": 100,
        "start": moscow(FIXED_NOW - timedelta(hours=1)),
    }
    starts: list[datetime] = []
    page = 1
    while True:
        body = (await box.get("/call_trace", params={**params, "page": page})).json()
        times = sorted(
            (
                datetime.strptime(v["timestamp"], "%Y/%m/%d %H:%M:%S %z")
                for v in legs(body).values()
            ),
            reverse=True,
        )
        starts.extend(times)
        if len(times) < 100:
            break
        page += 1
    assert page > 1 and starts == sorted(starts, reverse=True)


async def test_the_leg_record(mid_box: httpx.AsyncClient) -> None:
    body = (await mid_box.get("/call_trace", params={"nb_result": 200, "recursive": "yes"})).json()
    all_legs = legs(body)
    states = set()
    for leg_id, leg in all_legs.items():
        assert leg["leg_id"] == leg_id and re.fullmatch(r"0x[0-9A-F]{8}", leg_id)
        assert BOX_TIME.match(leg["timestamp"]) and BOX_TIME.match(leg["connect_timestamp"])
        assert leg["direction"] in ("1", "2") and leg["protocol"] == "SIP"
        assert not leg["calling"].startswith("+")
        other = all_legs.get(leg["other_leg_id"])
        if other is not None:
            assert other["other_leg_id"] == leg_id
            assert {leg["direction"], other["direction"]} == {"1", "2"}
            assert other["uct_call_id"] == leg["uct_call_id"]
        states.add((leg["call_state"], leg["terminate_reason"] or "-"))
        if leg["connect_timestamp"] == "1970/01/01 03:00:00 +0300":
            assert leg["call_duration"] == 0 and leg["mos"] == ""
    assert ("Active", "-") in states and ("Inactive", "NORMAL") in states
    assert any(reason.isdigit() for _, reason in states)


async def test_an_active_leg_shows_its_flow_so_far(
    mid_box: httpx.AsyncClient, mid_sim: SimApp
) -> None:
    params: dict[str, Any] = {"nb_result": 100, "recursive": "yes", "call_state": "ACTIVE"}
    body = (await mid_box.get("/call_trace", params=params)).json()
    assert legs(body)
    now = mid_sim.world.now().astimezone(ZoneInfo("Europe/Moscow")).strftime("%Y/%m/%d %H:%M:%S")
    for leg in legs(body).values():
        assert leg["call_state"] == "Active" and leg["terminate_reason"] == ""
        infos = [e["trace_info"] for k, e in leg["call_traces"].items() if k != META]
        assert not any(i.startswith("Call terminated") for i in infos)
        assert all(e["timestamp"][:19] <= now for k, e in leg["call_traces"].items() if k != META)


async def test_end_bounds_the_end_time_and_start_the_start(
    box: httpx.AsyncClient, sim: SimApp
) -> None:
    cut = FIXED_NOW - timedelta(hours=2)
    call = next(
        c for c in sim.world.calls("tmedia", cut - timedelta(minutes=30), cut) if c.end > cut
    )
    leg_id = tmedia.incoming_leg_id(call)
    start = moscow(cut - timedelta(minutes=30))
    params: dict[str, Any] = {"nb_result": 1000, "start": start, "end": moscow(cut)}
    assert leg_id not in legs((await box.get("/call_trace", params=params)).json())
    params["end"] = moscow(call.end + timedelta(seconds=1))
    assert leg_id in legs((await box.get("/call_trace", params=params)).json())
    params["start"] = moscow(call.start + timedelta(seconds=1))
    assert leg_id not in legs((await box.get("/call_trace", params=params)).json())


async def test_filters_match_substrings_and_direction(box: httpx.AsyncClient) -> None:
    params: dict[str, Any] = {
        "nb_result": 300,
        "recursive": "yes",
        "called": "44",
        "direction": "2",
    }
    found = legs((await box.get("/call_trace", params=params)).json())
    assert found
    assert all("44" in v["called"] and v["direction"] == "2" for v in found.values())
    assert any(not v["called"].startswith("44") for v in found.values())


async def test_one_leg_by_leg_id(box: httpx.AsyncClient) -> None:
    some = legs((await box.get("/call_trace", params={"nb_result": 5})).json())
    leg_id = next(iter(some))
    body = (await box.get("/call_trace", params={"leg_id": leg_id, "recursive": "yes"})).json()
    assert list(legs(body)) == [leg_id]
    none = (await box.get("/call_trace", params={"leg_id": "0x00000001"})).json()
    assert legs(none) == {}


async def test_nb_result_limits_per_firmware(box: httpx.AsyncClient) -> None:
    current = await box.get("/call_trace", params={"nb_result": 1001})
    assert current.status_code == 400 and "nb_result" in current.json()["error"]
    capped = await box.get("/old-box-cap/call_trace", params={"nb_result": 500})
    assert capped.status_code == 200 and len(legs(capped.json())) == 100
    rejected = await box.get("/old-box-reject/call_trace", params={"nb_result": 101})
    assert rejected.status_code == 400
    ok = await box.get("/old-box-reject/call_trace", params={"nb_result": 100})
    assert len(legs(ok.json())) == 100


async def test_bad_parameters_are_400(box: httpx.AsyncClient) -> None:
    for params in ({"start": "yesterday"}, {"page": "0"}, {"nb_result": "x"}):
        resp = await box.get("/call_trace", params=params)
        assert resp.status_code == 400 and resp.json()["error"]


async def test_drop_call_is_refused(box: httpx.AsyncClient) -> None:
    resp = await box.get("/call_trace", params={"drop_call": "yes", "called": "44"})
    assert resp.status_code == 403


async def test_auth(sim: SimApp) -> None:
    transport = httpx.ASGITransport(app=sim)
    async with httpx.AsyncClient(transport=transport, base_url=SIM_HOST) as anon:
        redirect = await anon.get("/call_trace")
        assert redirect.status_code == 302 and redirect.headers["location"] == "/login"
        assert redirect.text.startswith("<html>")
        login = await anon.get("/login")
        assert login.status_code == 200 and "authenticity_token" in login.text
        wrong = await anon.get("/call_trace", auth=("api", "nope"))
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Basic ")
        assert wrong.text == "HTTP Basic: Access denied.\n"


async def test_the_incident_on_nap_peer_lon(box: httpx.AsyncClient) -> None:
    """Calls to +44 20 leave on NAP_PEER_LON; from 20 minutes before the clock
    about 60% of them are refused there with 503 and Q.850 34, both legs released on it; the
    two hours before, and the other calls, keep their usual mix."""
    start = FIXED_NOW - timedelta(minutes=20)
    params = {"nb_result": 1000, "recursive": "yes", "start": moscow(start - timedelta(hours=2))}
    by_id = legs((await box.get("/call_trace", params=params)).json())
    outgoing = [leg for leg in by_id.values() if leg["direction"] == "2"]
    london = [leg for leg in outgoing if leg["called"].startswith("4420")]
    assert london and {leg["nap"] for leg in london} == {tmedia.LONDON_NAP}
    assert tmedia.LONDON_NAP not in {leg["nap"] for leg in outgoing if leg not in london}

    def in_window(leg: dict[str, Any]) -> bool:
        return datetime.strptime(leg["timestamp"], tmedia.TIME_FORMAT) >= start

    def refused(leg: dict[str, Any]) -> bool:
        return leg["terminate_reason"] == "503"

    during = [leg for leg in london if in_window(leg) and leg["call_state"] == "Inactive"]
    before = [leg for leg in london if not in_window(leg)]
    assert len(during) >= 10 and 0.4 <= sum(map(refused, during)) / len(during) <= 0.85
    assert len(before) >= 50 and sum(map(refused, before)) / len(before) < 0.05
    others = [leg for leg in outgoing if leg not in london and in_window(leg)]
    assert others and sum(map(refused, others)) / len(others) < 0.2
    for leg in filter(refused, during):
        assert refused(by_id[leg["other_leg_id"]])
        tooltips = [e["trace_tooltip"] for k, e in leg["call_traces"].items() if k != META]
        assert (
            'SIP/2.0 503 Service Unavailable\nReason: Q.850;cause=34;text="No circuit/channel '
            'available"'
        ) in tooltips


async def test_bigdetail_gives_a_leg_asked_by_id_big_steps() -> None:
    """`--faults bigdetail`: a leg asked by leg_id has BIG_STEPS call_traces steps, in order
    and in time from its INVITE to its release; a listing stays as it was."""
    plain = SimApp(seed=7, now=FIXED_NOW)
    big = SimApp(seed=7, now=FIXED_NOW, faults="bigdetail")
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=plain), base_url=SIM_HOST, auth=AUTH
        ) as usual,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=big), base_url=SIM_HOST, auth=AUTH
        ) as box,
    ):
        page: dict[str, str | int] = {"nb_result": 20, "recursive": "yes"}
        listed = (await box.get("/call_trace", params=page)).json()
        assert listed == (await usual.get("/call_trace", params=page)).json()
        leg_id, leg = next((k, v) for k, v in legs(listed).items() if v["connect_timestamp"])
        params = {"leg_id": leg_id, "recursive": "yes"}
        one = legs((await box.get("/call_trace", params=params)).json())[leg_id]
        steps = sorted(
            (v for k, v in one["call_traces"].items() if k != META), key=lambda v: v["order"]
        )
        assert len(steps) == BIG_STEPS
        assert steps[0]["trace_info"] == "INVITE"
        assert steps[-1]["trace_info"].startswith("Call terminated")
        times = [datetime.strptime(v["timestamp"], "%Y/%m/%d %H:%M:%S %z") for v in steps]
        assert times == sorted(times)
        assert {k: v for k, v in one.items() if k != "call_traces"} == {
            k: v for k, v in leg.items() if k != "call_traces"
        }
