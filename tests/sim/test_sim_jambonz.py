"""The jambonz simulator on the wire: what the real server's code does."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx

from calltui.sim import jambonz as sj
from calltui.sim.app import SimApp
from calltui.sim.asgi import BIG_SPANS
from calltui.sim.demo import SIM_HOST
from tests.conftest import FIXED_NOW, sim_mid_call

ACCOUNT_PATH = f"/v1/Accounts/{sj.DEMO_ACCOUNT_SID}/RecentCalls"
SP_PATH = f"/v1/ServiceProviders/{sj.SERVICE_PROVIDER_SID}/RecentCalls"


async def get(sim: SimApp, path: str, key: str = sj.SP_KEY, **params: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=sim)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url=SIM_HOST, headers=headers) as c:
        return await c.get(path, params=params)


async def test_envelope_echoes_page_and_count_as_strings(sim: SimApp) -> None:
    r = await get(sim, ACCOUNT_PATH, page=2, count=7)
    body = r.json()
    assert list(body) == ["total", "page_size", "page", "data"]
    assert body["page_size"] == "7" and body["page"] == "2"
    assert isinstance(body["total"], int) and body["total"] > 14
    assert len(body["data"]) == 7


async def test_count_over_500_and_bad_page_are_400_with_msg(sim: SimApp) -> None:
    r = await get(sim, ACCOUNT_PATH, page=1, count=501)
    assert r.status_code == 400 and r.json() == {"msg": 'missing or invalid "count" query arg'}
    r = await get(sim, ACCOUNT_PATH, page=0, count=5)
    assert r.status_code == 400 and r.json() == {"msg": 'missing or invalid "page" query arg'}
    assert (await get(sim, ACCOUNT_PATH, page=1, count=500)).status_code == 200


async def test_rows_carry_every_column_in_influx_order(sim: SimApp) -> None:
    rows = (await get(sim, ACCOUNT_PATH, page=1, count=200)).json()["data"]
    assert all(list(r) == list(rows[0]) for r in rows)
    assert next(iter(rows[0])) == "attempted_at" and "sip_callid" in rows[0]
    assert "sip_call_id" not in rows[0] and "batch" not in rows[0]
    assert all(re.fullmatch(r"\S+T\S+\.\d{9}Z", r["attempted_at"]) for r in rows)
    failed_in = [r for r in rows if not r["answered"] and r["direction"] == "inbound"]
    assert failed_in and all(r["answered_at"] == "1970-01-01T00:00:00.000Z" for r in failed_in)
    assert all(r["call_sid"] is None and r["trace_id"] is None for r in failed_in)
    assert all(r["termination_reason"] == "failed" for r in failed_in)
    answered = [r for r in rows if r["answered"]]
    assert any(r["trace_id"] == sj.NO_TRACE for r in answered)
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["trace_id"]) for r in answered)


async def test_calls_still_up_are_not_listed() -> None:
    sim = sim_mid_call("jambonz")
    now = sim.world.now()
    up = [c for c in sim.world.calls("jambonz", now - timedelta(hours=3)) if c.end > now]
    assert up
    rows = (await get(sim, SP_PATH, page=1, count=500, days=1)).json()["data"]
    listed = {r["sip_callid"] for r in rows}
    assert rows and not listed & {c.sip_call_id for c in up}


async def test_days_overrides_start_and_end(sim: SimApp) -> None:
    start = (FIXED_NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    narrow = (await get(sim, ACCOUNT_PATH, page=1, count=1, start=start)).json()["total"]
    both = (await get(sim, ACCOUNT_PATH, page=1, count=1, start=start, days=2)).json()["total"]
    assert both > narrow * 10


async def test_filters_answered_direction_trunk(sim: SimApp) -> None:
    params = {"page": 1, "count": 500, "days": 1}
    rows = (await get(sim, ACCOUNT_PATH, answered="false", direction="outbound", **params)).json()
    assert rows["data"] and all(
        not r["answered"] and r["direction"] == "outbound" for r in rows["data"]
    )
    rows = (await get(sim, ACCOUNT_PATH, trunk="user", **params)).json()["data"]
    assert rows and all(r["trunk"] == "user" for r in rows)


async def test_filter_is_a_raw_regex_on_from_or_to_or_the_call_sid(sim: SimApp) -> None:
    rows = (await get(sim, ACCOUNT_PATH, page=1, count=50)).json()["data"]
    needle = rows[0]["from"][2:6]
    hits = (await get(sim, ACCOUNT_PATH, page=1, count=500, filter=needle)).json()["data"]
    assert hits and all(needle in r["from"] or needle in r["to"] for r in hits)
    sid = next(r["call_sid"] for r in rows if r["call_sid"])
    one = (await get(sim, ACCOUNT_PATH, page=1, count=5, filter=sid)).json()["data"]
    assert [r["call_sid"] for r in one] == [sid]
    # time-series pastes the filter into `/.*+1508.*/`, not a valid regex for InfluxQL.
    r = await get(sim, ACCOUNT_PATH, page=1, count=5, filter="+1508")
    assert r.status_code == 500 and "regexp" in r.json()["msg"]


async def test_auth_errors_have_the_real_shapes(sim: SimApp) -> None:
    r = await get(sim, ACCOUNT_PATH, key="nope", page=1, count=5)
    assert (r.status_code, r.text) == (401, "Unauthorized")
    assert r.headers["content-type"].startswith("text/plain")
    r = await get(sim, SP_PATH, key=sj.ACCOUNT_KEY, page=1, count=5)
    assert r.status_code == 403
    assert r.json() == {"status": "fail", "message": "insufficient privileges"}
    r = await get(sim, "/v1/Accounts/not-a-uuid/RecentCalls", page=1, count=5)
    assert r.json() == {"status": "fail", "message": "invalid AccountsSid format"}
    other = f"/v1/Accounts/{sj.OTHER_ACCOUNT_SID}/RecentCalls"
    assert (await get(sim, other, page=1, count=5)).status_code == 200
    assert (await get(sim, other, key=sj.ACCOUNT_KEY, page=1, count=5)).status_code == 403


async def test_unknown_trace_and_pcap_are_plain_404(sim: SimApp) -> None:
    for path in (f"{ACCOUNT_PATH}/trace/{'ab' * 16}", f"{ACCOUNT_PATH}/nosuch@host/invite/pcap"):
        r = await get(sim, path)
        assert (r.status_code, r.text) == (404, "Not Found")


async def test_each_dialect_is_served_with_its_own_shape(sim: SimApp) -> None:
    calls = [c for c in sim.world.calls("jambonz") if c.end <= FIXED_NOW]
    traced = [c for c in calls if sj.facts(c).trace_id not in (None, sj.NO_TRACE)]
    by_dialect = {sj.facts(c).dialect: c for c in traced if not sj.facts(c).trace_lost}
    assert set(by_dialect) == set(sj.DIALECTS)
    bodies = {}
    for dialect, call in by_dialect.items():
        r = await get(sim, f"{ACCOUNT_PATH}/trace/{sj.facts(call).trace_id}")
        assert r.status_code == 200
        bodies[dialect] = r.json()
    old = bodies["1.46"]["resourceSpans"][0]["instrumentationLibrarySpans"][0]["spans"][0]
    assert old["kind"] == "SPAN_KIND_INTERNAL" and old["spanId"].endswith("=")
    v153 = bodies["1.53"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert v153["parentSpanId"] == "" and v153["spanId"].endswith("=")
    v154 = bodies["1.54"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert v154["kind"] == 1 and re.fullmatch(r"[0-9a-f]{16}", v154["spanId"])
    assert "parentSpanId" not in bodies["v2"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert bodies["legacy"]["data"][0]["spans"][0]["operationName"] == "incoming-call"


async def test_pcap_ip_headers_carry_valid_checksums(sim: SimApp) -> None:
    row = (await get(sim, ACCOUNT_PATH, page=1, count=1)).json()["data"][0]
    r = await get(sim, f"{ACCOUNT_PATH}/{row['sip_callid']}/invite/pcap")
    assert r.headers["content-type"] == "application/octet-stream"
    assert f"filename=callid-{row['sip_callid']}.pcap" in r.headers["content-disposition"]
    ip = r.content[24 + 16 + 14 : 24 + 16 + 14 + 20]
    total = sum(int.from_bytes(ip[i : i + 2], "big") for i in range(0, 20, 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF


async def test_the_incident_on_the_peer_lon_trunk(sim: SimApp) -> None:
    """Calls to +44 20 go over the `peer-lon` trunk; from 20 minutes before the
    clock about 60% of them fail with 503 (Q.850 34 in the pcap's Reason); the two hours before,
    the usual mix."""
    start = FIXED_NOW - timedelta(minutes=20)
    since = (start - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = (await get(sim, SP_PATH, page=1, count=500, start=since)).json()["data"]
    assert len(rows) < 500, "one page holds them all"
    london = [r for r in rows if r["to"].startswith("4420")]
    assert london and {r["trunk"] for r in london} == {sj.LONDON_TRUNK}
    assert sj.LONDON_TRUNK not in {r["trunk"] for r in rows if r not in london}
    on_trunk = (await get(sim, SP_PATH, page=1, count=500, start=since, trunk="peer-lon")).json()
    assert [r["sip_callid"] for r in on_trunk["data"]] == [r["sip_callid"] for r in london]

    def in_window(r: dict[str, Any]) -> bool:
        return r["attempted_at"][:19] >= start.strftime("%Y-%m-%dT%H:%M:%S")

    def refused(r: dict[str, Any]) -> bool:
        return bool(r["sip_status"] == 503)

    during = [r for r in london if in_window(r)]
    before = [r for r in london if not in_window(r)]
    assert len(during) >= 15 and 0.4 <= sum(map(refused, during)) / len(during) <= 0.85
    assert len(before) >= 60 and sum(map(refused, before)) / len(before) < 0.05
    row = next(filter(refused, during))
    assert (row["answered"], row["termination_reason"]) == (False, "failed")
    pcap = (await get(sim, f"{SP_PATH}/{row['sip_callid']}/invite/pcap")).content
    assert b"SIP/2.0 503 Service Unavailable" in pcap
    assert b'Reason: Q.850;cause=34;text="No circuit/channel available"' in pcap


async def test_bigdetail_serves_a_trace_of_big_spans_to_the_calls_it_picks(sim: SimApp) -> None:
    """`--faults bigdetail=RATE`: the calls picked by their key get a trace of BIG_SPANS spans
    (a tree still: every parent is a span of the trace), every other call its usual one."""
    big = SimApp(seed=7, now=FIXED_NOW, faults="bigdetail=0.5")
    calls = [c for c in sim.world.calls("jambonz") if c.end <= FIXED_NOW and c.answer]
    traced = [c for c in calls if sj.facts(c).trace_id not in (None, sj.NO_TRACE)]
    fresh = [c for c in traced if not sj.facts(c).trace_lost]
    picked = [c for c in fresh if big.faults.big("jambonz", c.key)]
    left = [c for c in fresh if not big.faults.big("jambonz", c.key)]
    assert picked and left
    for call in (picked[0], left[0]):
        path = f"{ACCOUNT_PATH}/trace/{sj.facts(call).trace_id}"
        usual, served = (await get(sim, path)).json(), (await get(big, path)).json()
        if call is left[0]:
            assert served == usual
            continue
        spans = sj.build_spans(call, BIG_SPANS)
        assert len(spans) == BIG_SPANS
        ids = {s.span_id for s in spans}
        assert len(ids) == BIG_SPANS and all(s.parent in ids for s in spans if s.parent)
        assert len(json.dumps(served)) > 20 * len(json.dumps(usual))
    listing = await get(big, ACCOUNT_PATH, page=1, count=50)
    assert listing.json() == (await get(sim, ACCOUNT_PATH, page=1, count=50)).json()
