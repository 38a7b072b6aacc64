"""What jambonz support means: RecentCalls on both mounts, the record, traces in every Jaeger
dialect, the pcap, and the error shapes jambonz-api-server's code sends."""

from __future__ import annotations

import gc
import json
import struct
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from calltui.http import AuthError, BadResponseError, NotFoundError, ServerError
from calltui.model import Call, CallQuery, Outcome
from calltui.providers import jambonz as pj
from calltui.providers.base import DataError
from calltui.sim import jambonz as sj
from calltui.sim.app import SimApp
from tests.conftest import FIXED_NOW, OpenDemo, shared_fixture

SINCE = FIXED_NOW - timedelta(hours=3)


async def collect(p: Any, query: CallQuery) -> tuple[list[Call], list[Any]]:
    records, pages = [], []
    async for page in p.pages(query):
        pages.append(page)
        records.extend(page.records)
    return records, pages


def listed(sim: SimApp) -> list[dict[str, Any]]:
    return [dict(q.query) for q in sim.seen if q.path.endswith("/RecentCalls")]


def sim_call(sim: SimApp, pred: Any) -> Any:
    calls = [c for c in sim.world.calls("jambonz") if c.end <= FIXED_NOW]
    return next(c for c in calls if sj.facts(c).account_sid == sj.DEMO_ACCOUNT_SID and pred(c))


# --- listing -------------------------------------------------------------------------------


async def test_pages_newest_first_complete_without_duplicates(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    p = await open_demo("demo-jambonz", page_size=40)
    records, pages = await collect(p, CallQuery(since=SINCE))
    expected = [
        c
        for c in sim.world.calls("jambonz", SINCE)
        if c.end <= FIXED_NOW and sj.facts(c).account_sid == sj.DEMO_ACCOUNT_SID
    ]
    assert len(records) == len(expected) > 80
    assert len({c.id for c in records}) == len(records)
    starts = [c.started_at for c in records]
    assert starts == sorted(starts, reverse=True)  # type: ignore[type-var]
    assert [q["page"] for q in listed(sim)] == [str(i) for i in range(1, len(pages) + 1)]
    assert all(q["count"] == "40" for q in listed(sim))
    assert [pg.watermark for pg in pages[:-1]] == [pg.records[-1].started_at for pg in pages[:-1]]
    assert pages[-1].watermark is None


async def test_default_page_size_is_500_and_stops_once_total_is_reached(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    p = await open_demo("demo-jambonz")
    assert p.page_size == pj.Jambonz.DEFAULT_PAGE_SIZE == pj.Jambonz.MAX_PAGE_SIZE == 500
    assert (await open_demo("demo-jambonz", page_size=900)).page_size == 500
    records, _ = await collect(p, CallQuery(since=SINCE))
    sim.seen.clear()
    exact = await open_demo("demo-jambonz", page_size=len(records))
    again, pages = await collect(exact, CallQuery(since=SINCE))
    # A full page whose page*count reaches `total` is the last: no empty page is requested.
    assert len(again) == len(records) and len(pages) == 1 and pages[0].watermark is None
    assert len(listed(sim)) == 1


async def test_count_over_500_is_a_400_with_msg(open_demo: OpenDemo) -> None:
    p = await open_demo("demo-jambonz")
    with pytest.raises(BadResponseError) as e:
        await p.fetch_page((p.base_path, {"page": 1, "count": 501}))
    assert e.value.status == 400 and 'invalid "count" query arg' in str(e.value)


async def test_service_provider_mount_lists_all_accounts_of_the_sp(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    sp = await open_demo(
        "demo-jambonz", account_sid=None, service_provider_sid=sj.SERVICE_PROVIDER_SID
    )
    records, _ = await collect(sp, CallQuery(since=SINCE))
    assert sim.seen[-1].path == f"/v1/ServiceProviders/{sj.SERVICE_PROVIDER_SID}/RecentCalls"
    accounts = {c.raw["account_sid"] for c in records}
    assert accounts == {sj.DEMO_ACCOUNT_SID, sj.OTHER_ACCOUNT_SID}
    own, _ = await collect(await open_demo("demo-jambonz"), CallQuery(since=SINCE))
    assert {c.id for c in own} < {c.id for c in records}


async def test_filters_are_sent_and_nothing_that_matches_is_lost(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    p = await open_demo("demo-jambonz")
    everything, _ = await collect(p, CallQuery(since=SINCE))
    until = FIXED_NOW - timedelta(minutes=5)
    target = next(
        c for c in everything if c.outcome is Outcome.BUSY and c.started_at and c.started_at < until
    )
    query = CallQuery(
        since=SINCE,
        until=until,
        from_="+" + (target.from_ or "")[:4],
        direction=target.direction,
        outcomes=frozenset({Outcome.BUSY, Outcome.FAILED}),
    )
    sim.seen.clear()
    got, _ = await collect(p, query)
    sent = listed(sim)[0]
    assert sent["start"] == "2026-11-20T11:00:00.000Z"
    assert sent["end"] == "2026-11-20T13:55:00.000Z"
    assert sent["answered"] == "false" and sent["direction"] == target.direction
    assert sent["filter"] == (target.from_ or "")[:4]  # the `+` stripped: it breaks the regex
    assert [c.id for c in got if query.matches(c)] == [c.id for c in everything if query.matches(c)]
    assert target.id in {c.id for c in got}


async def test_answered_only_sends_answered_true(open_demo: OpenDemo, sim: SimApp) -> None:
    p = await open_demo("demo-jambonz")
    got, _ = await collect(p, CallQuery(since=SINCE, outcomes=frozenset({Outcome.ANSWERED})))
    assert listed(sim)[0]["answered"] == "true"
    assert got and all(c.outcome is Outcome.ANSWERED for c in got)


@pytest.mark.parametrize(
    ("number", "sent"),
    [
        ("+15083084809", "15083084809"),
        ("+1 (508) 555.1234", "1234"),
        ("sip:+1508*", "1508"),
        ("+", None),
        ("alice.smith", "alice"),
    ],
)
def test_filter_never_carries_plus_or_regex_metacharacters(number: str, sent: str | None) -> None:
    assert pj.filter_value(CallQuery(since=SINCE, to=number)) == sent


# --- the record ----------------------------------------------------------------------------


async def test_record_fields_map_onto_the_model(open_demo: OpenDemo) -> None:
    p = await open_demo("demo-jambonz")
    records, _ = await collect(p, CallQuery(since=SINCE))
    answered = next(c for c in records if c.outcome is Outcome.ANSWERED)
    raw = answered.raw
    assert answered.id == raw["call_sid"] and answered.sip_call_id == raw["sip_callid"]
    assert answered.started_at == pj.parse_time(raw["attempted_at"])
    assert len(raw["attempted_at"].split(".")[1]) == 10  # 9 digits and the Z
    assert answered.answered_at and answered.ended_at and answered.duration_s == raw["duration"]
    assert answered.cause in ("caller hungup", "called party hungup") and answered.sip_code == 200
    failed_in = next(c for c in records if c.raw["call_sid"] is None)
    assert failed_in.id == failed_in.sip_call_id == failed_in.raw["sip_callid"]
    assert failed_in.answered_at is None  # "1970-01-01T00:00:00.000Z"
    assert failed_in.cause == "failed" and failed_in.sip_code == failed_in.raw["sip_status"]
    child = next(c for c in records if c.raw["sip_parent_callid"])
    assert child.parent_id == child.raw["sip_parent_callid"]


@pytest.mark.parametrize(
    ("answered", "status", "outcome"),
    [
        (True, 200, Outcome.ANSWERED),
        (False, 486, Outcome.BUSY),
        (False, 600, Outcome.BUSY),
        (False, 487, Outcome.CANCELLED),
        (False, 408, Outcome.NO_ANSWER),
        (False, 480, Outcome.NO_ANSWER),
        (False, 503, Outcome.FAILED),
        (False, 200, Outcome.FAILED),
        (False, None, Outcome.FAILED),
    ],
)
def test_outcome_rules(answered: bool, status: int | None, outcome: Outcome) -> None:
    assert pj.outcome_of(answered, status) is outcome


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T13:59:18.575961176Z", datetime(2026, 11, 20, 13, 59, 18, 575961)),
        ("2023-05-23T11:49:13.9Z", datetime(2023, 5, 23, 11, 49, 13, 900000)),
        ("2023-05-23T11:49:13Z", datetime(2023, 5, 23, 11, 49, 13)),
        ("2023-05-23T13:49:13.000+02:00", datetime(2023, 5, 23, 11, 49, 13)),
        (1685606400, datetime(2023, 6, 1, 8, 0)),
        (1742899815000, datetime(2025, 3, 25, 10, 50, 15)),
        ("1970-01-01T00:00:00.000Z", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_times_with_up_to_nine_fraction_digits(text: Any, expected: datetime | None) -> None:
    want = expected.replace(tzinfo=timezone.utc) if expected else None
    assert pj.parse_time(text) == want


def test_numbers_as_json_numbers_become_strings_and_bad_shapes_are_data_errors() -> None:
    call = pj.parse_call({"sip_callid": "x@h", "from": 15083084809, "sip_status": 486.0}, "a")
    assert (call.from_, call.sip_code, call.outcome) == ("15083084809", 486, Outcome.BUSY)
    with pytest.raises(DataError):
        pj.parse_call({"from": "1"}, "a")
    for body in ([], {"data": {}}, {"batch": 1}):
        with pytest.raises(DataError):
            pj.parse_envelope(body, "a")


async def test_request_for_finds_the_call_again(open_demo: OpenDemo) -> None:
    p = await open_demo("demo-jambonz")
    records, _ = await collect(p, CallQuery(since=SINCE))
    with_sid = next(c for c in records if c.raw["call_sid"])
    without = next(c for c in records if not c.raw["call_sid"])
    for call in (with_sid, without):
        assert call.id in {c.id for c in await p.fetch_page(p.request_for(call))}


# --- detail and traces ---------------------------------------------------------------------


async def test_detail_fetches_the_trace_by_trace_id_in_every_dialect(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    p = await open_demo("demo-jambonz")
    shapes = {}
    for dialect in sj.DIALECTS:
        call = sim_call(
            sim,
            lambda c, d=dialect: (
                sj.facts(c).dialect == d
                and sj.facts(c).trace_id not in (None, sj.NO_TRACE)
                and not sj.facts(c).trace_lost
            ),
        )
        d = await p.detail(sj.facts(call).call_sid)
        assert sim.seen[-1].path.endswith(f"/RecentCalls/trace/{sj.facts(call).trace_id}")
        assert d.spans
        roots = [s for s in d.spans if s.parent_id is None]
        assert [r.name for r in roots] == [
            "incoming-call" if call.direction == "inbound" else "rest-call"
        ]
        ids = {s.span_id for s in d.spans}
        assert all(len(i) == 16 and i == i.lower() and int(i, 16) for i in ids)
        assert all(s.parent_id in ids for s in d.spans if s.parent_id)
        assert all(s.start_ns <= s.end_ns for s in d.spans)
        names = {s.name for s in d.spans}
        assert {"lookupApplication", "performAppWebhook", "call-status:completed"} <= names
        hook = next(s for s in d.spans if s.name == "performAppWebhook")
        assert hook.attributes["http.statusCode"] == 200.0
        shapes[dialect] = [(s.name, s.start_ns // 1000) for s in d.spans]
        assert d.to_dict()["trace"]["spans"][0]["span_id"] == d.spans[0].span_id
    assert all(s for s in shapes.values())


async def test_attribute_values_are_flattened(open_demo: OpenDemo, sim: SimApp) -> None:
    p = await open_demo("demo-jambonz")
    call = sim_call(
        sim,
        lambda c: sj.facts(c).trace_id not in (None, sj.NO_TRACE) and not sj.facts(c).trace_lost,
    )
    d = await p.detail(sj.facts(call).call_sid)
    tts = next(s for s in d.spans or [] if s.name == "tts-generation")
    assert isinstance(tts.attributes["tts.cached"], bool)
    gather = next(s for s in d.spans or [] if s.name.startswith("verb:gather"))
    assert isinstance(gather.attributes["stt.latency_ms"], int)
    assert json.loads(gather.attributes["stt.result"])["is_final"] is True


async def test_all_zero_trace_id_is_never_requested(open_demo: OpenDemo, sim: SimApp) -> None:
    p = await open_demo("demo-jambonz")
    call = sim_call(sim, lambda c: sj.facts(c).trace_id == sj.NO_TRACE)
    d = await p.detail(sj.facts(call).call_sid)
    assert d.spans is None and d.call.outcome is Outcome.ANSWERED
    assert not any("/trace/" in s.path for s in sim.seen)


async def test_trace_jaeger_lost_is_a_plain_404_and_no_spans(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    p = await open_demo("demo-jambonz")
    call = sim_call(
        sim, lambda c: sj.facts(c).trace_lost and sj.facts(c).trace_id not in (None, sj.NO_TRACE)
    )
    d = await p.detail(sj.facts(call).call_sid)
    assert d.spans is None and "trace_error" in d.extra
    assert d.to_dict()["trace"] is None


async def test_detail_of_a_failed_call_found_by_its_sip_callid(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    p = await open_demo("demo-jambonz")
    call = sim_call(sim, lambda c: sj.facts(c).call_sid is None)
    d = await p.detail(call.sip_call_id)
    assert d.call.sip_call_id == call.sip_call_id and d.spans is None
    assert d.recordings == []
    with pytest.raises(NotFoundError):
        await p.detail("00000000-0000-4000-a000-000000000000")


async def test_a_listed_call_without_call_sid_is_found_again_by_its_millisecond(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    p = await open_demo("demo-jambonz")
    records, _ = await collect(p, CallQuery(since=FIXED_NOW - timedelta(days=2)))
    listed_call = next(c for c in reversed(records) if c.raw.get("call_sid") is None)
    before = len(listed(sim))
    d = await p.detail(listed_call.id)
    asked = listed(sim)[before:]
    assert d.call.id == listed_call.id and d.call.started_at == listed_call.started_at
    assert len(asked) == 1 and "filter" not in asked[0]
    assert asked[0]["start"] <= pj.iso_ms(listed_call.started_at) <= asked[0]["end"]  # type: ignore[arg-type]


async def test_a_listing_leaves_no_call_behind_in_the_adapter(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    p = await open_demo("demo-jambonz", page_size=100)
    gc.collect()
    alive = sum(isinstance(o, Call) for o in gc.get_objects())
    records, pages = await collect(p, CallQuery(since=FIXED_NOW - timedelta(days=1)))
    assert len(records) > 500
    del records, pages
    gc.collect()
    assert sum(isinstance(o, Call) for o in gc.get_objects()) <= alive


async def test_detail_gives_the_recording_as_an_absolute_url(
    open_demo: OpenDemo, sim: SimApp
) -> None:
    p = await open_demo("demo-jambonz")
    call = sim_call(sim, lambda c: sj.facts(c).recording)
    d = await p.detail(sj.facts(call).call_sid)
    assert d.recordings[0]["url"].startswith("http://sim.calltui.invalid/v1/Accounts/")


# --- pcap ----------------------------------------------------------------------------------


def sip_payloads(pcap: bytes) -> list[str]:
    magic, major, minor, _, _, _, linktype = struct.unpack("<IHHiIII", pcap[:24])
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, 1)
    out, offset = [], 24
    while offset < len(pcap):
        _, _, incl, orig = struct.unpack("<IIII", pcap[offset : offset + 16])
        frame = pcap[offset + 16 : offset + 16 + incl]
        assert incl == orig and frame[12:14] == b"\x08\x00"
        ihl = (frame[14] & 0x0F) * 4
        assert frame[14 + 9] == 17  # UDP
        udp = frame[14 + ihl :]
        assert struct.unpack("!H", udp[2:4])[0] == 5060
        out.append(udp[8:].decode())
        offset += 16 + incl
    return out


async def test_pcap_holds_the_calls_sip_exchange(open_demo: OpenDemo, sim: SimApp) -> None:
    p = await open_demo("demo-jambonz")
    answered = sim_call(sim, lambda c: c.outcome == "answered")
    messages = sip_payloads(await p.pcap(answered.sip_call_id))
    assert sim.seen[-1].path.endswith(f"/RecentCalls/{answered.sip_call_id}/invite/pcap")
    assert messages[0].startswith("INVITE sip:")
    assert f"Call-ID: {answered.sip_call_id}\r\n" in messages[0]
    firsts = [m.split(" ")[0] if not m.startswith("SIP") else m.split(" ")[1] for m in messages]
    assert firsts == ["INVITE", "100", "180", "200", "ACK", "BYE", "200"]
    busy = sim_call(sim, lambda c: c.sip_code == 486 and c.outcome == "busy")
    assert "SIP/2.0 486 Busy Here" in "".join(sip_payloads(await p.pcap(busy.sip_call_id)))
    with pytest.raises(NotFoundError):
        await p.pcap("nosuch@10.0.0.1")


# --- errors --------------------------------------------------------------------------------


async def test_wrong_key_is_a_401_plain_text(open_demo: OpenDemo) -> None:
    p = await open_demo("demo-jambonz", api_key="wrong")
    with pytest.raises(AuthError) as e:
        await collect(p, CallQuery(since=SINCE))
    assert e.value.status == 401 and e.value.message == "Unauthorized"
    assert "wrong" not in str(e.value)


async def test_account_key_on_the_sp_mount_is_a_403_with_message(open_demo: OpenDemo) -> None:
    p = await open_demo(
        "demo-jambonz",
        api_key=sj.ACCOUNT_KEY,
        account_sid=None,
        service_provider_sid=sj.SERVICE_PROVIDER_SID,
    )
    with pytest.raises(AuthError) as e:
        await collect(p, CallQuery(since=SINCE))
    assert e.value.status == 403 and e.value.message == "insufficient privileges"


async def test_malformed_sid_is_a_400_with_message(open_demo: OpenDemo) -> None:
    p = await open_demo("demo-jambonz", account_sid="not-a-uuid")
    with pytest.raises(BadResponseError) as e:
        await collect(p, CallQuery(since=SINCE))
    assert e.value.status == 400 and e.value.message == "invalid AccountsSid format"


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ("500@jambonz", ServerError, 500),
        ("html@jambonz", ServerError, 502),
        ("malformed@jambonz", BadResponseError, None),
        ("empty@jambonz", BadResponseError, None),
    ],
)
async def test_server_faults_are_typed(
    open_demo: OpenDemo, fault: str, error: type[Exception], status: int | None
) -> None:
    app = SimApp(seed=7, now=FIXED_NOW, faults=fault)
    p = await open_demo("demo-jambonz", app=app)
    with pytest.raises(error) as e:
        await collect(p, CallQuery(since=SINCE))
    assert getattr(e.value, "status", None) == status or status is None


async def test_rate_limited_request_is_retried_after_the_servers_wait(open_demo: OpenDemo) -> None:
    # With seed 7 the fault fires on the first request only (its draws are 0.584, 0.844, ...).
    app = SimApp(seed=7, now=FIXED_NOW, faults="429@jambonz=0.6")
    p = await open_demo("demo-jambonz", app=app)
    records, pages = await collect(p, CallQuery(since=SINCE))
    assert records and len(pages) == 1
    assert p.http.requests_sent == 2 and app.seen[0].query == app.seen[1].query


# --- recorded fixtures ---------------------------------------------------------------------


def load(*parts: str) -> Any:
    return json.loads(shared_fixture(*parts).read_text())


def test_fixture_seeded_cdrs_parse() -> None:
    rows = load("jambonz", "recent-calls-seeded.json")
    # The write-side rows (epoch ms times), wrapped in the read-side envelope.
    calls, total = pj.parse_envelope(
        {"total": 5, "page_size": "25", "page": "1", "data": rows}, "a"
    )
    assert total == 5 and len(calls) == 5
    assert calls[0].outcome is Outcome.FAILED  # unanswered despite sip_status 200
    assert all(c.id == "b6f48929-8e86-4d62-ae3b-64fb574d91f6" for c in calls)
    assert calls[1].outcome is Outcome.ANSWERED and calls[1].started_at is not None


def test_fixture_real_jambonz_trace_instrumentation_library_spans() -> None:
    spans = pj.parse_trace(load("jambonz", "trace-jaeger-1.46-instrumentationLibrarySpans.json"))
    assert len(spans) == 72
    roots = [s for s in spans if s.parent_id is None]
    assert [r.name for r in roots] == ["incoming-call"]
    assert roots[0].attributes["finalStatus"] == 200.0
    ids = {s.span_id for s in spans}
    assert all(s.parent_id in ids for s in spans if s.parent_id)
    assert spans[0].start_ns == min(s.start_ns for s in spans)


def test_fixture_jaeger_api_v3_dialects_agree_on_ids() -> None:
    v153 = pj.parse_trace(load("jaeger", "apiv3-v1.53-GetTrace.json"))
    v154 = pj.parse_trace(load("jaeger", "apiv3-v1.54-GetTrace.json"))
    v2 = pj.parse_trace(load("jaeger", "apiv3-v2-GetTrace.json"))
    assert v153[0].span_id == v154[0].span_id == "00000000000000b4"
    assert v153[0].parent_id is None and v154[0].parent_id is None and v2[0].parent_id is None
    assert v154[0].start_ns == 11651379494838206464
    assert (v2[0].span_id, v2[0].start_ns, v2[0].end_ns) == ("0000000000000002", 0, 0)


def test_fixture_otlp_attribute_kinds_and_duplicates() -> None:
    [span] = pj.parse_trace(load("jaeger", "otlp-span_tags_trace.json"))
    assert span.attributes == {
        "sameplacetag1": "sameplacevalue",
        "sameplacetag2": 123,
        "sameplacetag4": True,
        "sameplacetag3": 72.5,
        "blob": "AAAwOQ==",
    }
    [dup] = pj.parse_trace(load("jaeger", "otlp2jaeger-in.json"))
    assert dup.parent_id == "909541b92cf05311"


def test_fixture_legacy_api_traces_shapes() -> None:
    spans = pj.parse_trace(load("jaeger", "legacy-ui_01.json"))
    assert len(spans) == 5
    tagged = next(s for s in spans if s.attributes)
    assert tagged.attributes["javascript_limit"] == 9223372036854775222
    assert tagged.attributes["temperature"] == 72.5
    ref = next(s for s in spans if s.name == "reference-test")
    assert ref.parent_id == "0000000000000002"  # the CHILD_OF within its own trace
    [out] = pj.parse_trace(load("jaeger", "otlp2jaeger-out.json"))
    assert out.parent_id == "909541b92cf05311"
    assert out.end_ns - out.start_ns == 123_000


def test_trace_ids_and_bad_bodies() -> None:
    assert pj.hex_id("dxvDGL2t1TCxM7b36PIvyA==") == "771bc318bdadd530b133b6f7e8f22fc8"
    assert pj.hex_id("AAAAAAAAAAA=") is None and pj.hex_id("") is None
    assert pj.hex_id("00000000000000B4") == "00000000000000b4"
    for body in ([], {"foo": 1}, {"resourceSpans": {}}, {"data": [{"spans": [{"x": 1}]}]}):
        with pytest.raises(DataError):
            pj.parse_trace(body)


@pytest.mark.parametrize(
    "value", ["inf", "nan", 1e300, "1e999", [], {"a": 1}, True, "200 OK", -1e20]
)
def test_odd_values_on_optional_fields_give_none_not_exceptions(value: Any) -> None:
    row = {"call_sid": "c", "sip_status": value, "duration": value, "attempted_at": value}
    call = pj.parse_call(row, "a")
    assert (call.id == "c" and call.started_at is None) or isinstance(call.started_at, datetime)
    span = {"spanId": "0000000000000002", "startTimeUnixNano": value, "attributes": [
        {"key": "d", "value": {"doubleValue": value}}, {"key": "i", "value": {"intValue": value}},
    ]}  # fmt: skip
    assert pj.parse_trace({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
