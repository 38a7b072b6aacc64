"""The Restcomm simulator answers as the real server's code does, quirks included."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from calltui.sim import restcomm as rsim
from calltui.sim.app import SimApp
from tests.conftest import FIXED_NOW, sim_mid_call

ROOT = f"/restcomm/2012-04-24/Accounts/{rsim.ACCOUNT_SID}"
AUTH = (rsim.ACCOUNT_SID, rsim.AUTH_TOKEN)
SIM = "http://sim.calltui.invalid"


@pytest.fixture
async def client(sim: SimApp) -> Any:
    transport = httpx.ASGITransport(app=sim)
    async with httpx.AsyncClient(transport=transport, base_url=SIM, auth=AUTH) as c:
        yield c


async def test_bad_credentials_get_401_with_no_body_and_the_realm(client: Any) -> None:
    r = await client.get(f"{ROOT}/Calls.json", auth=(rsim.ACCOUNT_SID, "nope"))
    assert r.status_code == 401 and r.content == b""
    assert r.headers["www-authenticate"] == 'Basic realm="Restcomm realm"'


async def test_another_accounts_resources_are_forbidden_with_no_body(client: Any) -> None:
    r = await client.get("/restcomm/2012-04-24/Accounts/ACother/Calls.json")
    assert r.status_code == 403 and r.content == b""


async def test_json_needs_the_suffix_or_an_accept_header(client: Any) -> None:
    xml = await client.get(f"{ROOT}/Calls", headers={"accept": "*/*"})
    assert xml.headers["content-type"] == "application/xml"
    assert xml.text.startswith("<?xml") and "<RestcommResponse>" in xml.text
    assert (await client.get(f"{ROOT}/Calls.json")).json()["page"] == 0


async def test_envelope_strings_nulls_and_gson_escapes(client: Any) -> None:
    r = await client.get(f"{ROOT}/Calls.json", params={"PageSize": 5, "From": "1"})
    assert b"\\u003d" in r.content and b"\\u0026" in r.content
    body = r.json()
    assert body["previous_page_uri"] == "null"
    assert body["start"] == "0" and body["end"] == "4"
    assert body["num_pages"] == body["total"] // 5
    # Restcomm's navigation URIs drop the filter, the /restcomm prefix and the .json.
    nxt = body["next_page_uri"]
    assert nxt.startswith("/2012-04-24/") and "From" not in nxt and ".json" not in nxt
    assert f"AfterSid={body['calls'][-1]['sid']}" in nxt
    assert (await client.get(nxt)).status_code == 404


async def test_last_page_end_is_off_by_one_and_the_phantom_page_is_empty(client: Any) -> None:
    total = (await client.get(f"{ROOT}/Calls.json")).json()["total"]
    last = (await client.get(f"{ROOT}/Calls.json", params={"PageSize": total})).json()
    assert last["num_pages"] == 1 and last["next_page_uri"] != "null"
    assert last["end"] == str(total - 1)
    phantom = (await client.get(f"{ROOT}/Calls.json", params={"PageSize": total, "Page": 1})).json()
    assert phantom["calls"] == [] and phantom["next_page_uri"] == "null"
    assert phantom["end"] == str(total)
    r = await client.get(f"{ROOT}/Calls.json", params={"PageSize": total, "Page": 2})
    assert r.status_code == 400 and r.content == b""


async def test_records_have_absent_keys_rfc2822_and_iso_times(client: Any) -> None:
    calls = (await client.get(f"{ROOT}/Calls.json", params={"PageSize": 400})).json()["calls"]
    assert not any(v is None for c in calls for v in c.values())
    failed = [c for c in calls if c["status"].lower() in ("failed", "not-found", "not_found")]
    assert failed and all("duration" not in c and "end_time" not in c for c in failed)
    busy = [c for c in calls if c["status"].lower() == "busy"]
    assert busy and all(c["duration"] == 0 and "end_time" not in c for c in busy)
    first = calls[0]
    assert first["date_created"][3:5] == ", " and first["date_created"].endswith("+0000")
    assert first["start_time"].endswith(".000Z")
    assert all(c["sid"].startswith(rsim.INSTANCE + "-CA") for c in calls)


async def test_status_case_depends_on_the_leg() -> None:
    transport = httpx.ASGITransport(app=sim_mid_call("restcomm"))
    async with httpx.AsyncClient(transport=transport, base_url=SIM, auth=AUTH) as client:
        r = await client.get(f"{ROOT}/Calls.json", params={"PageSize": 600})
    calls = r.json()["calls"]
    inbound = {c["status"] for c in calls if c["direction"] == "inbound"}
    outbound = {c["status"] for c in calls if c["direction"] != "inbound"}
    assert all(s == s.lower() for s in inbound)
    assert outbound - {"canceled"} and all(s == s.upper() for s in outbound - {"canceled"})
    assert any(s in ("IN_PROGRESS", "RINGING") for s in outbound) or any(
        s in ("in-progress", "ringing") for s in inbound
    )


async def test_filters_dates_suffix_like_and_end_time_drops_open_calls(
    client: Any, sim: SimApp
) -> None:
    day = FIXED_NOW.date().isoformat()
    all_today = (await client.get(f"{ROOT}/Calls.json", params={"StartTime": day})).json()
    timed = (
        await client.get(
            f"{ROOT}/Calls.json", params={"StartTime": day + "T13:00:00", "PageSize": 1000}
        )
    ).json()
    assert timed["total"] == all_today["total"]  # the time part is ignored
    ended = (
        await client.get(f"{ROOT}/Calls.json", params={"EndTime": day, "PageSize": 2000})
    ).json()
    assert all("end_time" in c for c in ended["calls"])
    assert ended["total"] < (await client.get(f"{ROOT}/Calls.json")).json()["total"]
    number = sim.world.calls("restcomm")[0].from_num
    suffix = (await client.get(f"{ROOT}/Calls.json", params={"From": number[-6:]})).json()
    assert number in {c["from"] for c in suffix["calls"]}
    assert all(c["from"].endswith(number[-6:]) for c in suffix["calls"])
    r = await client.get(f"{ROOT}/Calls.json", params={"StartTime": "yesterday"})
    assert r.status_code == 400 and r.content == b""


async def test_sort_by(client: Any) -> None:
    asc = (await client.get(f"{ROOT}/Calls.json", params={"SortBy": "DateCreated:asc"})).json()
    desc = (await client.get(f"{ROOT}/Calls.json", params={"SortBy": "date_created"})).json()
    assert asc["calls"][0]["sid"] != desc["calls"][0]["sid"]
    r = await client.get(f"{ROOT}/Calls.json", params={"SortBy": "DateCreated:up"})
    assert r.status_code == 400
    assert json.loads(r.content)["message"].startswith("Error parsing the SortBy parameter")


async def test_single_call_recordings_and_notifications(client: Any, sim: SimApp) -> None:
    call = next(
        c
        for c in sim.world.calls("restcomm")
        if c.end <= FIXED_NOW and rsim.recordings(c, FIXED_NOW, rsim.ACCOUNT_SID, "h")
    )
    sid = rsim.call_sid(call)
    single = (await client.get(f"{ROOT}/Calls/{sid}.json")).json()
    assert single["sid"] == sid and "calls" not in single
    recs = (await client.get(f"{ROOT}/Calls/{sid}/Recordings.json")).json()
    assert isinstance(recs, list) and recs and recs[0]["call_sid"] == sid
    missing = await client.get(f"{ROOT}/Calls/ID0-CA0.json")
    assert missing.status_code == 404 and missing.content == b""
    sub = await client.get(f"{ROOT}/Calls/{sid}/Notifications.json")
    assert sub.status_code == 404 and sub.content == b""
    notes = (await client.get(f"{ROOT}/Notifications.json", params={"PageSize": 5})).json()
    assert notes["notifications"] and notes["first_page_uri"].startswith("/restcomm/")
    assert all(n["uri"].endswith(".json.json") for n in notes["notifications"])
    assert all(isinstance(n["error_code"], int) for n in notes["notifications"])


async def test_no_rate_limit(client: Any) -> None:
    codes = {
        (await client.get(f"{ROOT}/Calls.json", params={"PageSize": 1})).status_code
        for _ in range(30)
    }
    assert codes == {200}
