"""The jambonz API as its server code (jambonz-api-server, @jambonz/time-series) behaves.

`/v1/{Accounts|ServiceProviders}/{sid}/RecentCalls` lists CDRs newest first with offset paging
and the `{total, page_size, page, data}` envelope; `.../trace/{trace_id}` returns the call's
Jaeger trace (only its `result`, in the dialect of the Jaeger version behind the server, chosen
per call here); `.../{sip_callid}/invite/pcap` returns Homer's capture of the call's SIP exchange.
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from calltui.sim.asgi import BIG_SPANS, Request, Response, Route, route
from calltui.sim.world import SimCall, to_london

PROVIDER = "jambonz"
DEMO_ACCOUNT_SID = "9351f46a-678c-43f5-b8a6-d4eb58d131af"
SP_KEY = "demo-jambonz-key"
DEMO_ACCOUNT = {"provider": PROVIDER, "account_sid": DEMO_ACCOUNT_SID, "api_key": SP_KEY}
"""The demo account (calltui.sim.demo): credentials the simulator accepts, not secrets."""
SERVICE_PROVIDER_SID = "2708b1b3-2736-40ea-b502-c53d8396247f"
OTHER_ACCOUNT_SID = "c6a1e2f0-5d0b-4f7e-9a53-0e2f7d1c4b88"
"""A second account of the service provider: its calls show only on the SP mount."""
SP_ACCOUNTS = (DEMO_ACCOUNT_SID, OTHER_ACCOUNT_SID)
ACCOUNT_KEY = "demo-jambonz-account-key"
"""An account-scope key: the api-server lets it use only `/Accounts/{DEMO_ACCOUNT_SID}`."""
KEYS = {
    SP_KEY: ("service_provider", SERVICE_PROVIDER_SID),
    ACCOUNT_KEY: ("account", DEMO_ACCOUNT_SID),
}
APPLICATIONS = {
    DEMO_ACCOUNT_SID: "66381298-c034-4d77-9a53-4bc2fdd8a420",
    OTHER_ACCOUNT_SID: "0d8f3b7e-2a4c-4e19-b6d0-5f1e9c3a7b21",
}
MAX_COUNT = 500
NO_TRACE = "0" * 32
SBC_HOST = "10.0.0.5"
DIALECTS = ("1.46", "1.53", "1.54", "v2", "legacy")
_CARRIERS = ("twilio", "voxbone", "telnyx", "bandwidth")
LONDON_TRUNK = "peer-lon"
"""The carrier of the calls to London (+44 20)."""
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_BASE = r"/v1/(?P<mount>Accounts|ServiceProviders)/(?P<sid>[^/]+)/RecentCalls"


@dataclass(frozen=True, slots=True)
class Facts:
    """What jambonz knows of a SimCall beyond the world's data, derived from it stably."""

    account_sid: str
    call_sid: str | None
    trunk: str
    trace_id: str | None
    dialect: str
    trace_lost: bool
    remote_host: str
    recording: bool
    parent_callid: str | None


@lru_cache(maxsize=1 << 16)
def facts(call: SimCall) -> Facts:
    rng = call.rng("jambonz")
    draws = [rng.random() for _ in range(5)]
    carrier = rng.choice(_CARRIERS)
    dialect = rng.choice(DIALECTS)
    answered = call.outcome == "answered"
    inbound = call.direction == "inbound"
    # Linked calls (Plivo → jambonz → Tmedia) stay on the demo account so correlation shows.
    if call.parent is not None:
        account = facts(call.parent).account_sid  # a B leg stays on its A leg's account
    else:
        account = DEMO_ACCOUNT_SID if call.link or draws[0] < 0.8 else OTHER_ACCOUNT_SID
    # sbc-inbound sets call_sid and trace_id only once the feature server answers;
    # outbound calls are created by the feature server, which names them first.
    call_sid = call.uuid("call_sid") if answered or not inbound else None
    trunk = carrier
    if to_london(call):
        trunk = LONDON_TRUNK
    elif not inbound and draws[2] < 0.3:
        trunk = "user"
    trace_id = None
    if answered:
        trace_id = NO_TRACE if draws[1] < 0.1 else call.hexid("trace")
    return Facts(
        account_sid=account,
        call_sid=call_sid,
        trunk=trunk,
        trace_id=trace_id,
        dialect=dialect,
        trace_lost=draws[3] < 0.05,
        remote_host=call.sip_call_id.partition("@")[2] or "3.55.24.34",
        recording=answered and draws[4] < 0.3,
        # A B leg names its A leg's Call-ID.
        parent_callid=call.parent.sip_call_id if call.parent is not None else None,
    )


def trace_key(call: SimCall) -> str:
    return facts(call).trace_id or ""


def sip_callid_key(call: SimCall) -> str:
    return call.sip_call_id


# --- RecentCalls ---------------------------------------------------------------------------


def _iso_ms(t: datetime) -> str:
    """What `new Date(...)` serialises to, as time-series returns answered_at and terminated_at."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _iso_ns(call: SimCall) -> str:
    """Influx's `time` with time-series 0.5.x's sub-millisecond offset: 9 fraction digits."""
    extra = int(call.hexid("ns"), 16) % 1000
    return call.start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{call.start.microsecond:06d}{extra:03d}Z"


def _reason(call: SimCall) -> str:
    # sbc-inbound's `status === 487 === status ? ...` always yields 'failed'.
    if call.outcome != "answered":
        return "failed"
    return "called party hungup" if call.hangup_by == "callee" else "caller hungup"


def render_row(call: SimCall) -> dict[str, Any]:
    """One CDR as `SELECT * FROM cdrs` returns it: every column, `time` first then alphabetical,
    null where the point has no value."""
    f = facts(call)
    answered = call.answer is not None
    recording = None
    if f.recording:
        recording = (
            f"/Accounts/{f.account_sid}/RecentCalls/{f.call_sid}/record/"
            f"{call.start:%Y}/{call.start:%m}/{call.start:%d}/mp3"
        )
    return {
        "attempted_at": _iso_ns(call),
        "account_sid": f.account_sid,
        "answered": answered,
        # time-series' `new Date(null)` for calls never answered: the epoch.
        "answered_at": _iso_ms(call.answer if call.answer else _EPOCH),
        "application_sid": APPLICATIONS[f.account_sid] if f.call_sid else None,
        "call_sid": f.call_sid,
        "direction": call.direction,
        "duration": call.duration_s,
        "from": call.from_num.lstrip("+"),
        "host": SBC_HOST,
        "recording_url": recording,
        "remote_host": f.remote_host,
        "service_provider_sid": SERVICE_PROVIDER_SID,
        "sip_callid": call.sip_call_id,
        "sip_parent_callid": f.parent_callid,
        "sip_status": 200 if answered else call.sip_code,
        "terminated_at": _iso_ms(call.end),
        "termination_reason": _reason(call),
        "to": call.to_num.lstrip("+"),
        "trace_id": f.trace_id,
        "trunk": f.trunk,
    }


def _fail(message: str) -> Response:
    return Response.json({"status": "fail", "message": message}, 400)


# express-rate-limit as the api-server sets it up: 600 requests per 5-minute window, standard
# headers.
RATE_LIMIT_POLICY = "600;w=300"


def error_answer(req: Request, status: int, wait_s: float | None) -> Response:
    """jambonz-api-server's answer for an error status: Express `sendStatus` plain text for
    401 (passport) and 404, the permission middleware's `{status, message}` for 403, the route's
    `{"msg": err.message}` for 500 (here: InfluxDB is down). A 429 comes from express-rate-limit
    as the api-server sets it up: its HTML-typed message with the `RateLimit-*` headers and
    Retry-After, or none of them where the limiter is configured without headers."""
    if status == 401:
        return Response.text("Unauthorized", 401)
    if status == 403:
        return Response.json({"status": "fail", "message": "insufficient privileges"}, 403)
    if status == 404:
        return Response.text("Not Found", 404)
    if status == 429:
        text = "Too many requests, please try again later."
        resp = Response.text(text, 429, "text/html; charset=utf-8")
        if wait_s is not None:
            reset = str(math.ceil(wait_s))
            resp.headers += [
                ("ratelimit-policy", RATE_LIMIT_POLICY),
                ("ratelimit-limit", "600"),
                ("ratelimit-remaining", "0"),
                ("ratelimit-reset", reset),
                ("retry-after", reset),
            ]
        return resp
    return Response.json({"msg": "connect ECONNREFUSED 127.0.0.1:8086"}, status)


def authorize(req: Request, mount: str, sid: str) -> frozenset[str] | Response:
    """The accounts `req` may read under this mount, or the api-server's error: 401 plain from
    passport, 400/403 `{status, message}` from the permission middleware."""
    grant = KEYS.get(req.bearer() or "")
    if grant is None:
        return error_answer(req, 401, None)
    if not _UUID.fullmatch(sid):
        return _fail("invalid AccountsSid format" if mount == "Accounts" else "invalid sid format")
    scope, owner = grant
    if mount == "Accounts" and (
        sid == owner or (scope == "service_provider" and sid in SP_ACCOUNTS)
    ):
        return frozenset({sid})
    if mount == "ServiceProviders" and scope == "service_provider" and sid == owner:
        return frozenset(SP_ACCOUNTS)
    return error_answer(req, 403, None)


def _positive(value: str | None) -> int | None:
    try:
        n = int(value or "")
    except ValueError:
        return None
    return n if n >= 1 else None


def _rfc3339(value: str) -> datetime:
    m = re.fullmatch(r"(.+?T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})", value)
    if m is None:
        raise ValueError(value)
    head, frac, zone = m.groups()
    text = head + "." + (frac or "0").ljust(6, "0")[:6] + ("+00:00" if zone == "Z" else zone)
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def _window(now: datetime, p: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    """`days` wins: the api-server ignores start/end when it is given."""
    if p.get("days"):
        return now - timedelta(days=int(p["days"])), None
    start = _rfc3339(p["start"]) if p.get("start") else None
    end = _rfc3339(p["end"]) if p.get("end") else None
    return start, end


def _influx_regex(text: str) -> re.Pattern[str]:
    """`/.*${filter}.*/` as InfluxQL compiles it (Go RE2): a quantifier after `.*` is an error
    there (Python would read `.*+` as possessive)."""
    if text[:1] in "+*?{":
        raise ValueError(
            f"error parsing regexp: missing argument to repetition operator: `{text[0]}`"
        )
    try:
        return re.compile(f".*{text}.*")
    except re.error as e:
        raise ValueError(f"error parsing regexp: {e}") from None


def _matches(call: SimCall, p: dict[str, str], accounts: frozenset[str], rx: Any) -> bool:
    f = facts(call)
    row_from, row_to = call.from_num.lstrip("+"), call.to_num.lstrip("+")
    return (
        f.account_sid in accounts
        and (
            p.get("answered") not in ("true", "false")
            or (call.answer is not None) == (p["answered"] == "true")
        )
        and (not p.get("direction") or call.direction == p["direction"])
        and (not p.get("trunk") or f.trunk == p["trunk"])
        and (
            rx is None
            or bool(rx.search(row_from) or rx.search(row_to))
            or f.call_sid == p.get("filter")
        )
    )


def list_calls(sim: Any, req: Request, mount: str, sid: str) -> Response:
    accounts = authorize(req, mount, sid)
    if isinstance(accounts, Response):
        return accounts
    p = req.params
    page, count = _positive(p.get("page")), _positive(p.get("count"))
    if page is None:
        return Response.json({"msg": 'missing or invalid "page" query arg'}, 400)
    if count is None or count > MAX_COUNT:
        return Response.json({"msg": 'missing or invalid "count" query arg'}, 400)
    now = sim.world.now()
    try:
        start, end = _window(now, p)
        rx = _influx_regex(p["filter"]) if p.get("filter") else None
    except ValueError as e:
        return Response.json({"msg": str(e)}, 500)
    # A CDR is written when the call ends: calls still up are not listed yet.
    calls = [
        c
        for c in sim.world.calls(PROVIDER, start, end)
        if c.end <= now and _matches(c, p, accounts, rx)
    ]
    rows = calls[(page - 1) * count : page * count]
    # time-series echoes page_size and page as the raw query strings.
    body = {"total": len(calls), "page_size": p["count"], "page": p["page"]}
    return Response.json({**body, "data": [render_row(c) for c in rows]})


# --- traces --------------------------------------------------------------------------------


@dataclass(slots=True)
class SimSpan:
    span_id: str
    parent: str | None
    name: str
    start_ns: int
    end_ns: int
    attrs: dict[str, Any]


def _ns(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1) * 1000


class _Tree:
    """Builds a feature-server span tree with stable ids."""

    def __init__(self, call: SimCall) -> None:
        self.call = call
        self.spans: list[SimSpan] = []

    def add(self, parent: str | None, name: str, start: int, end: int, **attrs: Any) -> str:
        span_id = self.call.hexid(f"span/{len(self.spans)}", 16)
        common = {"service.name": "jambonz-feature-server", "service.version": "0.9.6"}
        self.spans.append(SimSpan(span_id, parent, name, start, end, {**attrs, **common}))
        return span_id


_SAYS = ("<speak>Thank you for calling", "<speak>How can I help you", "<speak>Just a moment")
_HEARD = ("I need to check my order", "billing please", "yes", "talk to an agent")


def _verbs(tree: _Tree, root: str, start: int, end: int, f: Facts) -> None:
    """The application's verbs between answer and hang-up: config, say (with its TTS), gather
    (with its STT result), the action hook, and a dial with its outdial for some calls."""
    rng = tree.call.rng("verbs")
    rounds = max(1, min(5, tree.call.duration_s // 25))
    plan = ["config"] + ["say", "gather", "hook"] * rounds
    if rng.random() < 0.3:
        plan.append("dial")
    weights = [0.05 if v == "config" else rng.uniform(0.5, 2.0) for v in plan]
    scale = (end - start) / sum(weights)
    t = start
    for verb, w in zip(plan, weights, strict=True):
        stop = t + int(w * scale)
        _verb(tree, rng, root, verb, t, max(t + 1000, stop), f)
        t = stop


def _verb(tree: _Tree, rng: Any, root: str, verb: str, t: int, stop: int, f: Facts) -> None:
    ms = 1_000_000
    if verb == "config":
        tree.add(root, "verb:config{set synthesizer{google,en-US,en-US-Wavenet-C}}", t, t + 70_000)
    elif verb == "say":
        text = rng.choice(_SAYS)
        span = tree.add(root, f"verb:say{{text={text[:16]}...}}", t, stop, **{"verb.summary": text})
        cached = rng.random() < 0.6
        tts_end = t + (rng.randint(1, 5) if cached else rng.randint(120, 600)) * ms
        tree.add(span, "tts-generation", t, min(stop, tts_end), **{
            "tts.vendor": "google", "tts.language": "en-US",
            "tts.voice": "en-US-Wavenet-C", "tts.cached": cached,
        })  # fmt: skip
    elif verb == "gather":
        heard = rng.choice(_HEARD)
        result = {"is_final": True, "alternatives": [{"confidence": 0.91, "transcript": heard}]}
        tree.add(root, "verb:gather{inputs=speech,vendor=google,language=en-US}", t, stop, **{
            "stt.resolve": "speech", "stt.result": json.dumps(result),
            "stt.latency_ms": rng.randint(180, 900),
        })  # fmt: skip
    elif verb == "hook":
        tree.add(root, "verb:hook (voice)", t, min(stop, t + rng.randint(40, 400) * ms), **{
            "app.hook": "https://app.example.com/voice/action", "http.statusCode": 200.0,
            "http.body": json.dumps([{"verb": "say", "text": "ok"}]),
        })  # fmt: skip
    else:
        span = tree.add(root, "verb:dial{target=phone}", t, stop)
        tree.add(span, "outdial", t, stop, to=tree.call.to_num.lstrip("+"), trunk=f.trunk)


def build_spans(call: SimCall, size: int | None = None) -> list[SimSpan]:
    """A realistic jambonz-feature-server trace (a real one's span names); with
    `size`, an application that ran that many spans' worth of verbs (`--faults bigdetail`)."""
    f = facts(call)
    rng = call.rng("trace")
    ms = 1_000_000
    t0 = _ns(call.start) + rng.randint(15, 80) * ms
    end = _ns(call.end)
    answer = _ns(call.answer) if call.answer else t0
    tree = _Tree(call)
    inbound = call.direction == "inbound"
    root = tree.add(None, "incoming-call" if inbound else "rest-call", t0, end, **{
        "callSid": f.call_sid or "", "accountSid": f.account_sid, "callId": call.sip_call_id,
        "direction": call.direction, "from": call.from_num.lstrip("+"),
        "to": call.to_num.lstrip("+"), "finalStatus": 200.0, "call.termination": _reason(call),
    })  # fmt: skip
    t = t0
    for name, lo, hi in (("lookupAccountDetails", 2, 12), ("lookupApplication", 2, 10)):
        step = rng.randint(lo, hi) * ms
        tree.add(root, name, t, t + step)
        t += step
    hook_end = t + rng.randint(40, 400) * ms
    tree.add(root, "performAppWebhook", t, hook_end, **{
        "app.hook": "https://app.example.com/voice", "http.statusCode": 200.0,
    })  # fmt: skip
    tree.add(root, "call-status:trying", t, t + ms)
    if not inbound:
        tree.add(root, "outdial", t, answer, to=call.to_num.lstrip("+"), trunk=f.trunk)
    tree.add(root, "call-status:in-progress", answer, answer + ms)
    verbs_from, verbs_to = max(answer, hook_end) + 10 * ms, max(end - 50 * ms, answer + 20 * ms)
    if size is None:
        _verbs(tree, root, verbs_from, verbs_to, f)
    else:
        _many_verbs(tree, root, verbs_from, verbs_to, f, size - len(tree.spans) - 1)
    tree.add(root, "call-status:completed", end - ms, end)
    return tree.spans


def _many_verbs(tree: _Tree, root: str, start: int, end: int, f: Facts, spans: int) -> None:
    """Verbs in turn (say, gather, hook) until `spans` more spans are in the tree, evenly over
    the call's time: a long IVR session, or an application stuck in a loop."""
    rng = tree.call.rng("many-verbs")
    goal = len(tree.spans) + spans
    rounds = max(1, spans // 2)  # a say is two spans, gather and hook one each
    step = max(1000, (end - start) // rounds)
    t = start
    while len(tree.spans) < goal:
        verb = ("say", "gather", "hook")[len(tree.spans) % 3]
        if verb == "say" and goal - len(tree.spans) < 2:
            verb = "hook"
        _verb(tree, rng, root, verb, t, t + step, f)
        t += step


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def _any_value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": str(v)}


def _otlp_span(s: SimSpan, trace_id: str, dialect: str) -> dict[str, Any]:
    hexed = dialect in ("1.54", "v2")
    ident = (lambda h: h) if hexed else _b64
    out: dict[str, Any] = {"traceId": ident(trace_id), "spanId": ident(s.span_id)}
    if s.parent is not None:
        out["parentSpanId"] = ident(s.parent)
    elif dialect == "1.46":
        out["parentSpanId"] = "AAAAAAAAAAA="  # 8 zero bytes, as in the real sample
    elif dialect != "v2":  # v2 omits zero values; 1.53 and 1.54 send ""
        out["parentSpanId"] = ""
    out |= {
        "name": s.name,
        "kind": 1 if hexed else "SPAN_KIND_INTERNAL",
        "startTimeUnixNano": str(s.start_ns),
        "endTimeUnixNano": str(s.end_ns),
        "attributes": [{"key": k, "value": _any_value(v)} for k, v in s.attrs.items()],
    }
    return out


_RESOURCE = {
    "attributes": [{"key": "service.name", "value": {"stringValue": "jambonz-feature-server"}}]
}


def _legacy_tag(key: str, v: Any) -> dict[str, Any]:
    kind = "bool" if isinstance(v, bool) else "int64" if isinstance(v, int) else "string"
    kind = "float64" if isinstance(v, float) else kind
    return {"key": key, "type": kind, "value": v}


def _legacy(spans: list[SimSpan], trace_id: str) -> dict[str, Any]:
    """Jaeger's `/api/traces/{id}` shape, as a server pointed straight at it returns."""
    rows = []
    for s in spans:
        refs = [] if s.parent is None else [
            {"refType": "CHILD_OF", "traceID": trace_id, "spanID": s.parent}
        ]  # fmt: skip
        rows.append({
            "traceID": trace_id, "spanID": s.span_id, "operationName": s.name,
            "references": refs, "startTime": s.start_ns // 1000,
            "duration": (s.end_ns - s.start_ns) // 1000,
            "tags": [_legacy_tag(k, v) for k, v in s.attrs.items()], "logs": [],
            "processID": "p1", "warnings": None,
        })  # fmt: skip
    trace = {
        "traceID": trace_id,
        "spans": rows,
        "processes": {"p1": {"serviceName": "jambonz-feature-server", "tags": []}},
        "warnings": None,
    }
    return {"data": [trace], "total": 0, "limit": 0, "offset": 0, "errors": None}


def render_trace(call: SimCall, dialect: str, size: int | None = None) -> dict[str, Any]:
    """The trace in one Jaeger dialect, as Jaeger's api/v3 snapshots of each version show: 1.46
    is pre-1.0 OTLP with one resourceSpans per span as in the real sample; 1.53 base64 ids and
    enum names; 1.54 and v2 hex and ints.
    `size`: the number of spans of a huge trace (build_spans)."""
    trace_id = facts(call).trace_id or NO_TRACE
    spans = build_spans(call, size)
    if dialect == "legacy":
        return _legacy(spans, trace_id)
    rendered = [_otlp_span(s, trace_id, dialect) for s in spans]
    if dialect == "1.46":
        library = {"name": "jambonz-feature-server", "version": "undefined"}
        return {"resourceSpans": [
            {"resource": _RESOURCE,
             "instrumentationLibrarySpans": [{"instrumentationLibrary": library, "spans": [s]}]}
            for s in rendered
        ]}  # fmt: skip
    return {
        "resourceSpans": [{"resource": _RESOURCE, "scopeSpans": [{"scope": {}, "spans": rendered}]}]
    }


def get_trace(sim: Any, req: Request, mount: str, sid: str, trace_id: str) -> Response:
    accounts = authorize(req, mount, sid)
    if isinstance(accounts, Response):
        return accounts
    # The api-server's trace route does not tie the trace to the account in the URL.
    call = sim.world.lookup(PROVIDER, trace_key, trace_id) if trace_id != NO_TRACE else None
    if call is None or call.end > sim.world.now() or facts(call).trace_lost:
        return Response.text("Not Found", 404)
    if sim.faults.big(PROVIDER, call.key):
        return _big_trace(call)
    return Response.json(render_trace(call, facts(call).dialect))


@lru_cache(maxsize=4)
def _big_trace(call: SimCall) -> Response:
    """A huge trace, made once: Jaeger serves a stored trace at the speed of its store, while
    making 20,000 spans here takes longer than the client's whole drill-down should."""
    return Response.json(render_trace(call, facts(call).dialect, BIG_SPANS))


# --- pcap ----------------------------------------------------------------------------------

_PHRASES = {
    100: "Trying", 180: "Ringing", 200: "OK", 403: "Forbidden", 404: "Not Found",
    408: "Request Timeout", 480: "Temporarily Unavailable", 484: "Address Incomplete",
    486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
    500: "Server Internal Error", 502: "Bad Gateway", 503: "Service Unavailable",
    600: "Busy Everywhere",
}  # fmt: skip


@dataclass(slots=True)
class SipPacket:
    time: datetime
    outgoing: bool
    """From the caller's side (the carrier for inbound calls) to the callee's."""
    text: str


def _sdp(host: str, port: int) -> str:
    return (
        f"v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    )


class _Dialog:
    def __init__(self, call: SimCall, caller: str, callee: str) -> None:
        self.call, self.caller, self.callee = call, caller, callee
        self.from_tag = call.hexid("from-tag", 8)
        self.to_tag = call.hexid("to-tag", 8)
        self.branch = "z9hG4bK" + call.hexid("branch", 12)
        self.uri = f"sip:{call.to_num.lstrip('+')}@{callee}"

    def request(self, method: str, cseq: int, *, tagged: bool, sdp: str = "") -> str:
        c = self.call
        to_tag = f";tag={self.to_tag}" if tagged else ""
        lines = [
            f"{method} {self.uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.caller}:5060;branch={self.branch}{method[:3].lower()}",
            "Max-Forwards: 70",
            f"From: <sip:{c.from_num.lstrip('+')}@{self.caller}>;tag={self.from_tag}",
            f"To: <{self.uri}>{to_tag}",
            f"Call-ID: {c.sip_call_id}",
            f"CSeq: {cseq} {method}",
        ]
        return self._finish(lines, sdp)

    def response(self, code: int, method: str, cseq: int, sdp: str = "") -> str:
        c = self.call
        to_tag = f";tag={self.to_tag}" if code > 100 else ""
        lines = [
            f"SIP/2.0 {code} {_PHRASES.get(code, 'Error')}",
            f"Via: SIP/2.0/UDP {self.caller}:5060;branch={self.branch}{method[:3].lower()}",
            f"From: <sip:{c.from_num.lstrip('+')}@{self.caller}>;tag={self.from_tag}",
            f"To: <{self.uri}>{to_tag}",
            f"Call-ID: {c.sip_call_id}",
            f"CSeq: {cseq} {method}",
        ]
        if code >= 300:
            lines.append(f'Reason: Q.850;cause={c.q850};text="{c.reason}"')
        return self._finish(lines, sdp)

    @staticmethod
    def _finish(lines: list[str], sdp: str) -> str:
        if sdp:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(sdp)}")
        return "\r\n".join(lines) + "\r\n\r\n" + sdp


def sip_exchange(call: SimCall) -> list[SipPacket]:
    """The call's SIP messages as the SBC saw them: INVITE/100/180/200/ACK/BYE for an answered
    call, the final failure and its ACK otherwise, CANCEL for an abandoned one."""
    f = facts(call)
    caller, callee = (
        (f.remote_host, SBC_HOST) if call.direction == "inbound" else (SBC_HOST, f.remote_host)
    )
    d = _Dialog(call, caller, callee)
    ms = timedelta(milliseconds=1)
    ring = min(call.start + call.pdd_ms * ms, call.end - 2 * ms)
    out = [
        SipPacket(call.start, True, d.request("INVITE", 1, tagged=False, sdp=_sdp(caller, 40000))),
        SipPacket(call.start + 20 * ms, False, d.response(100, "INVITE", 1)),
    ]
    if call.outcome not in ("busy", "failed"):
        out.append(SipPacket(ring, False, d.response(180, "INVITE", 1)))
    if call.answer is not None:
        bye_out = call.hangup_by != "callee"
        out += [
            SipPacket(call.answer, False, d.response(200, "INVITE", 1, _sdp(callee, 30000))),
            SipPacket(call.answer + 30 * ms, True, d.request("ACK", 1, tagged=True)),
            SipPacket(call.end, bye_out, d.request("BYE", 2, tagged=True)),
            SipPacket(call.end + 40 * ms, not bye_out, d.response(200, "BYE", 2)),
        ]
        return out
    if call.outcome == "cancelled":
        out += [
            SipPacket(call.end - ms, True, d.request("CANCEL", 1, tagged=False)),
            SipPacket(call.end, False, d.response(200, "CANCEL", 1)),
        ]
    out += [
        SipPacket(call.end, False, d.response(call.sip_code, "INVITE", 1)),
        SipPacket(call.end + 20 * ms, True, d.request("ACK", 1, tagged=True)),
    ]
    return out


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(src: str, dst: str, payload: bytes, ident: int) -> bytes:
    udp = struct.pack("!HHHH", 5060, 5060, 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0x4000, 64, 17, 0,
        bytes(int(x) for x in src.split(".")), bytes(int(x) for x in dst.split(".")),
    )  # fmt: skip
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp


def render_pcap(call: SimCall, now: datetime) -> bytes:
    """A libpcap file (Ethernet, IPv4, UDP 5060) of the SIP messages sent by `now`."""
    f = facts(call)
    caller, callee = (
        (f.remote_host, SBC_HOST) if call.direction == "inbound" else (SBC_HOST, f.remote_host)
    )
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, p in enumerate(pkt for pkt in sip_exchange(call) if pkt.time <= now):
        src, dst = (caller, callee) if p.outgoing else (callee, caller)
        frame = _frame(src, dst, p.text.encode(), i + 1)
        seconds = (p.time - _EPOCH) // timedelta(seconds=1)
        out.append(
            struct.pack("<IIII", seconds, p.time.microsecond, len(frame), len(frame)) + frame
        )
    return b"".join(out)


def get_pcap(sim: Any, req: Request, mount: str, sid: str, call_id: str, method: str) -> Response:
    accounts = authorize(req, mount, sid)
    if isinstance(accounts, Response):
        return accounts
    # Homer is searched by Call-ID over the last 7 days; `register` searches registrations,
    # of which the simulator has none.
    call = sim.world.lookup(PROVIDER, sip_callid_key, call_id) if method == "invite" else None
    if call is None:
        return Response.text("Not Found", 404)
    headers = [
        ("content-type", "application/octet-stream"),
        ("content-disposition", f"attachment; filename=callid-{call_id}.pcap"),
    ]
    return Response(200, render_pcap(call, sim.world.now()), headers)


def routes(sim: Any) -> list[Route]:
    return [
        route(PROVIDER, _BASE + r"/?", lambda req, **g: list_calls(sim, req, **g)),
        route(
            PROVIDER,
            _BASE + r"/trace/(?P<trace_id>[^/]+)",
            lambda req, **g: get_trace(sim, req, **g),
        ),
        route(
            PROVIDER,
            _BASE + r"/(?P<call_id>[^/]+)/(?P<method>[^/]+)/pcap",
            lambda req, **g: get_pcap(sim, req, **g),
        ),
    ]
