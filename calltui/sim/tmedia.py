"""Simulated TelcoBridges Tmedia / ProSBC `GET /call_trace`.

What the box serves, and why (from TelcoBridges' docs, and from open-source clients of live boxes):
- HTTP Basic only, as TelcoBridges' RESTful API page says. Wrong credentials get a 401 with the
  body Rails' HTTP Basic sends (the portal is a Rails app: `_WebOAMP_session`,
  `authenticity_token`); a request without credentials is sent to the portal's form login (302
  to `/login`, an HTML page), which is how a client ends up with "a non-JSON response", the error a
  client of live boxes raises. Both are INFERENCE: the real status and body are
  published nowhere.
- One JSON object keyed by leg id with `***meta***` at every level: top, each leg, and inside
  `call_traces`, per TelcoBridges' REST convention and a client of live boxes. Keys come out in
  string order, as from a C++ std::map: legs are not in time order and `call_traces` keys run
  "1", "10", "11", "2"..., so a client must sort by `timestamp` and by `order` (the consumer
  sorts by Number(order)).
- `page` from 1 (the newest legs), `nb_result` legs a page, 10 when `nb_result` is missing
  (TelcoBridges' call-trace page); no total: a short page is the end. Without `recursive=yes`
  each leg is `{}`.
- `start` bounds a leg's start and `end` its END (TelcoBridges' call-trace page: "Filters calls
  ending before this time"); a leg still up counts as ending now. Naive times are read in the
  box's zone; a run of digits is Unix milliseconds, per TelcoBridges' filter reference.
- Times are written `YYYY/MM/DD HH:MM:SS +0300` in the box's zone (Europe/Moscow, as the demo
  account says); a leg never connected has `connect_timestamp` at the epoch in that zone, as a
  client of live boxes reads it.
- Each call is two legs: the incoming leg (direction 1) and the outgoing leg (direction 2), one
  after the other in leg ids, linked both ways by `other_leg_id`, sharing `uct_call_id`. The SBC
  is a B2BUA, so each leg has its own SIP Call-ID (`call_id`).
- `terminate_reason` is NORMAL for a call released normally (answered, or given up while ringing)
  and the numeric SIP final status otherwise (TelcoBridges' call-trace page: "custom string:
  206, 404 etc.").
- Firmware (TelcoBridges' call-trace page: "Limit of 1000 since 3.1.148+ 3.2.65+ 3.3.9+, older
  versions are limited to 100"): the box at the root is current; two old boxes show the two ways
  "limited" can look, `/old-box-cap` silently answers at most 100 legs a page and
  `/old-box-reject` answers HTTP 400. Point an account's base_url at SIM_HOST + the prefix to
  talk to one.
- `drop_call` (terminate every matching call) is refused with 403: the simulator never ends calls.
- No rate limit is documented, so none is enforced.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from calltui.sim.asgi import BIG_STEPS, Request, Response, Route, route
from calltui.sim.world import SimCall, World, to_london

PROVIDER = "tmedia"
DEMO_ACCOUNT: dict[str, Any] = {
    "provider": PROVIDER,
    "username": "api",
    "password": "demo-tmedia-pass",
    "timezone": "Europe/Moscow",
}
"""The demo account (calltui.sim.demo): credentials the simulated box accepts, not secrets."""
META = "***meta***"
BOX_ZONE = ZoneInfo(DEMO_ACCOUNT["timezone"])
SBC_IP = "10.20.0.5"
DEFAULT_NB_RESULT = 10
TIME_FORMAT = "%Y/%m/%d %H:%M:%S %z"
NEVER = datetime.fromtimestamp(0, BOX_ZONE).strftime(TIME_FORMAT)

CARRIER_NAPS = ("NAP_CARRIER_A", "NAP_CARRIER_B", "NAP_PEER_MSK")
CORE_NAPS = ("NAP_PBX_HQ", "NAP_PBX_SPB")
LONDON_NAP = "NAP_PEER_LON"
"""The peering that carries the calls to London (+44 20), whichever side they came from."""
SIP_PHRASES = {
    200: "OK",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    480: "Temporarily Unavailable",
    484: "Address Incomplete",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    600: "Busy Everywhere",
}
HTML = "text/html; charset=utf-8"
RAILS_BASIC_DENIED = "HTTP Basic: Access denied.\n"
RAILS_REDIRECT = '<html><body>You are being <a href="/login">redirected</a>.</body></html>'
LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Toolpack Web Portal - Login</title></head><body>"
    '<form action="/login/check" method="post">'
    '<input type="hidden" name="authenticity_token" value="sim">'
    '<input name="user[name]"><input type="password" name="user[pass]">'
    "</form></body></html>"
)


@dataclass(frozen=True, slots=True)
class Box:
    prefix: str
    version: str
    max_nb_result: int
    over_max: str
    """What this firmware does with nb_result above its maximum: "reject" or "cap"."""


BOXES = (
    Box("", "3.3.12", 1000, "reject"),
    Box("/old-box-cap", "3.0.95", 100, "cap"),
    Box("/old-box-reject", "2.9.170", 100, "reject"),
)


class BadParam(ValueError):
    """A parameter the box cannot read: HTTP 400."""


@dataclass(frozen=True, slots=True)
class Leg:
    call: SimCall
    incoming: bool
    start: datetime

    @property
    def number(self) -> int:
        return leg_number(self.call) + (0 if self.incoming else 1)

    @property
    def leg_id(self) -> str:
        return f"0x{self.number:08X}"

    @property
    def other_leg_id(self) -> str:
        return f"0x{self.number ^ 1:08X}"

    @property
    def direction(self) -> str:
        return "1" if self.incoming else "2"


def leg_number(call: SimCall) -> int:
    """The incoming leg's id (even); the outgoing leg is the next one, as on a real box."""
    return int(call.hexid("tmedia-leg", 8), 16) & 0xFFFFFFFE


def incoming_leg_id(call: SimCall) -> str:
    return f"0x{leg_number(call):08X}"


def uct_call_id(call: SimCall) -> str:
    return "0x" + call.hexid("tmedia-uct", 8).upper()


def legs_of(call: SimCall) -> tuple[Leg, Leg]:
    # The outgoing leg is created after routing, a few milliseconds after the INVITE arrived.
    delay = timedelta(milliseconds=5 + int(call.hexid("tmedia-route", 4), 16) % 75)
    return Leg(call, True, call.start), Leg(call, False, call.start + delay)


def digits(number: str) -> str:
    return number.lstrip("+")


def naps(call: SimCall) -> tuple[str, str]:
    """(incoming NAP, outgoing NAP): carrier to PBX for inbound calls, the reverse outbound;
    a call to London leaves on LONDON_NAP."""
    out = LONDON_NAP if to_london(call) else None
    if call.link:
        return "NAP_JAMBONZ", out or CORE_NAPS[0]
    n = int(call.hexid("tmedia-nap", 4), 16)
    carrier, core = CARRIER_NAPS[n % len(CARRIER_NAPS)], CORE_NAPS[n % len(CORE_NAPS)]
    return (carrier, out or core) if call.direction == "inbound" else (core, out or carrier)


def route_name(call: SimCall) -> str:
    return f"route_{1 + int(call.hexid('tmedia-route-name', 2), 16) % 12}"


def sip_call_id(leg: Leg) -> str:
    if leg.incoming:
        return leg.call.sip_call_id
    return f"{leg.call.hexid('tmedia-out-cid', 24)}@{SBC_IP}"


def peer_ip(leg: Leg) -> str:
    h = leg.call.hexid("tmedia-peer-in" if leg.incoming else "tmedia-peer-out", 6)
    return f"198.51.{int(h[:2], 16) % 100}.{1 + int(h[2:4], 16) % 250}"


def box_time(t: datetime) -> str:
    return t.astimezone(BOX_ZONE).strftime(TIME_FORMAT)


def terminate_reason(call: SimCall) -> str:
    if call.outcome in ("answered", "no_answer", "cancelled"):
        return "NORMAL"
    return str(call.sip_code)


# --- call_traces: the portal's per-leg call flow ---------------------------------------------

Trace = tuple[datetime, str, str, str]
"""(time, direction, trace_info, trace_tooltip); direction 1 = received on this leg, 2 = sent."""


def _final(code: int, call: SimCall) -> str:
    return (
        f"SIP/2.0 {code} {SIP_PHRASES.get(code, '')}\n"
        f'Reason: Q.850;cause={call.q850};text="{call.reason}"'
    )


def _ringing_at(call: SimCall) -> datetime | None:
    if call.outcome not in ("answered", "no_answer", "cancelled"):
        return None
    ring = call.start + timedelta(milliseconds=call.pdd_ms)
    limit = (call.answer or call.end) - timedelta(milliseconds=100)
    return max(call.start, min(ring, limit))


def _mos_line(leg: Leg) -> Trace:
    call, rng = leg.call, leg.call.rng(f"tmedia-mos-{leg.direction}")
    mos = call.mos or 4.1
    quality = network_quality(call)
    info = (
        f"MOS: {mos:.1f} codec ideal MOS 4.4, codec PCMA, packet loss "
        f"{rng.uniform(0, 3 if mos < 3.8 else 0.4):.1f}%, jitter {rng.randint(1, 40)} ms, "
        f"Network quality: {quality}%"
    )
    return call.end, leg.direction, info, "RTP statistics at the end of the call"


def _invite(leg: Leg, uac: str) -> Trace:
    call = leg.call
    host = SBC_IP if leg.incoming else peer_ip(leg)
    tooltip = (
        f"INVITE sip:{digits(call.to_num)}@{host}:5060 SIP/2.0\n"
        f"From: <sip:{digits(call.from_num)}@{peer_ip(leg) if leg.incoming else SBC_IP}>\n"
        f"Call-ID: {sip_call_id(leg)}\nSDP: PCMA/8000 PCMU/8000 telephone-event/8000"
    )
    return leg.start, uac, "INVITE", tooltip


def _outcome_traces(leg: Leg, uac: str, uas: str) -> list[Trace]:
    call, end = leg.call, leg.call.end
    if call.outcome == "answered" and call.answer is not None:
        bye_from = uac if call.hangup_by == "caller" else uas
        bye_to = uas if bye_from == uac else uac
        return [
            (call.answer, uas, "200 OK", "SIP/2.0 200 OK\nSDP: PCMA/8000 telephone-event/8000"),
            (call.answer, uac, "ACK", "ACK"),
            (end, bye_from, "BYE", f"BYE (hangup by the {call.hangup_by})"),
            (end, bye_to, "200 OK (BYE)", "SIP/2.0 200 OK"),
            _mos_line(leg),
        ]
    if call.outcome == "cancelled":
        return [
            (end, uac, "CANCEL", "CANCEL"),
            (end, uas, "200 OK (CANCEL)", "SIP/2.0 200 OK"),
            (end, uas, "487 Request Terminated", _final(487, call)),
            (end, uac, "ACK", "ACK"),
        ]
    phrase = f"{call.sip_code} {SIP_PHRASES.get(call.sip_code, '')}".strip()
    return [(end, uas, phrase, _final(call.sip_code, call)), (end, uac, "ACK", "ACK")]


def traces_of(leg: Leg, now: datetime, steps: int | None = None) -> list[Trace]:
    """The leg's call flow as far as it has happened at `now`; with `steps`, a flow of that
    many steps (`--faults bigdetail`), the rest mid-call keep-alives (re-INVITE, OPTIONS)."""
    call = leg.call
    uac, uas = ("1", "2") if leg.incoming else ("2", "1")
    out: list[Trace] = [
        _invite(leg, uac),
        (leg.start + timedelta(milliseconds=20), uas, "100 Trying", "SIP/2.0 100 Trying"),
    ]
    if leg.incoming:
        in_nap, out_nap = naps(call)
        info = f"Routing: {route_name(call)} from {in_nap} to {out_nap}"
        tooltip = f"Called {digits(call.to_num)} matched {route_name(call)}; new outgoing leg"
        out.append((legs_of(call)[1].start, "1", info, tooltip))
    ringing = _ringing_at(call)
    if ringing is not None:
        out.append((ringing, uas, "180 Ringing", "SIP/2.0 180 Ringing"))
    out.extend(_outcome_traces(leg, uac, uas))
    reason = terminate_reason(call)
    out.append((call.end, leg.direction, f"Call terminated: {reason}", f"Leg released ({reason})"))
    if steps is not None:
        # In time among the others (a stable sort keeps the order of steps at one instant).
        out = sorted(out + _keepalives(leg, uac, uas, steps - len(out)), key=lambda t: t[0])
    return [t for t in out if t[0] <= now]


_KEEPALIVES = (
    ("re-INVITE (session refresh)", "INVITE sip:{to}@{host}:5060 SIP/2.0\nSession-Expires: 90"),
    ("200 OK (re-INVITE)", "SIP/2.0 200 OK\nSession-Expires: 90;refresher=uac"),
    ("OPTIONS", "OPTIONS sip:{to}@{host}:5060 SIP/2.0"),
    ("200 OK (OPTIONS)", "SIP/2.0 200 OK\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS"),
)


def _keepalives(leg: Leg, uac: str, uas: str, n: int) -> list[Trace]:
    """`n` steps of session refreshes and OPTIONS pings, evenly between the leg's answer (its
    start, if it had none) and its end, strictly."""
    call = leg.call
    begin = call.answer or leg.start
    gap = (call.end - begin) / max(1, n + 1)
    host = SBC_IP if leg.incoming else peer_ip(leg)
    out: list[Trace] = []
    for i in range(max(0, n)):
        info, tooltip = _KEEPALIVES[i % len(_KEEPALIVES)]
        sender = uac if i % 2 == 0 else uas
        text = tooltip.format(to=digits(call.to_num), host=host)
        out.append((begin + gap * (i + 1), sender, info, text))
    return out


def render_traces(leg: Leg, now: datetime, steps: int | None = None) -> dict[str, Any]:
    entries: dict[str, Any] = {META: {"valid_url": False}}
    leg_id = leg.leg_id  # a hash of the call's key: once, not once a step
    for order, (t, direction, info, tooltip) in enumerate(traces_of(leg, now, steps), start=1):
        entries[str(order)] = {
            "order": order,
            "timestamp": box_time(t),
            "direction": direction,
            "leg": leg_id,
            "trace_info": info,
            "trace_tooltip": tooltip,
        }
    return dict(sorted(entries.items()))


# --- legs --------------------------------------------------------------------------------------


def network_quality(call: SimCall) -> int:
    mos = call.mos or 4.1
    return max(1, min(100, round((mos - 1.0) / 3.5 * 100)))


def render_leg(leg: Leg, now: datetime, steps: int | None = None) -> dict[str, Any]:
    call = leg.call
    active = call.end > now
    connected = call.answer is not None and call.answer <= now
    talk = int((min(call.end, now) - call.answer).total_seconds()) if call.answer else 0
    in_nap, out_nap = naps(call)
    return {
        META: {"valid_url": False},
        "leg_id": leg.leg_id,
        "other_leg_id": leg.other_leg_id,
        "uct_call_id": uct_call_id(call),
        "call_id": sip_call_id(leg),
        "calling": digits(call.from_num),
        "called": digits(call.to_num),
        "nap": in_nap if leg.incoming else out_nap,
        "route": route_name(call),
        "protocol": "SIP",
        "direction": leg.direction,
        "timestamp": box_time(leg.start),
        "connect_timestamp": box_time(call.answer) if connected and call.answer else NEVER,
        "call_duration": talk if connected else 0,
        "call_state": "Active" if active else "Inactive",
        "terminate_reason": "" if active else terminate_reason(call),
        "recorded": "Not Recorded",
        "interception_leg": False,
        "mos": f"{call.mos:.1f}" if call.mos is not None and connected and not active else "",
        "network_quality": network_quality(call) if connected else "",
        "call_traces": render_traces(leg, now, steps),
    }


# --- the request -------------------------------------------------------------------------------


def parse_box_time(value: str, name: str) -> datetime:
    """A `start`/`end` parameter: naive in the box's zone, or Unix milliseconds."""
    v = value.strip()
    if v.isdigit():
        return datetime.fromtimestamp(int(v) / 1000, timezone.utc)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(v, fmt).replace(tzinfo=BOX_ZONE)
        except ValueError:
            continue
    raise BadParam(f"{name}: invalid date '{value}' (expected YYYY-MM-DD HH:MM:SS)")


def parse_positive(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name, "")
    if value == "":
        return default
    if not value.isdigit() or int(value) < 1:
        raise BadParam(f"{name}: '{value}' is not a positive integer")
    return int(value)


LegTest = Callable[[Leg], bool]


def _called(value: str) -> LegTest:
    return lambda leg: value in digits(leg.call.to_num)


def _calling(value: str) -> LegTest:
    return lambda leg: value in digits(leg.call.from_num)


def leg_tests(params: dict[str, str], now: datetime) -> list[LegTest]:
    """The documented filters the simulator applies (others are accepted and ignored)."""
    tests: list[LegTest] = []
    p = {k: v.strip() for k, v in params.items() if v.strip()}
    if "start" in p:
        lo = parse_box_time(p["start"], "start")
        tests.append(lambda leg: leg.start >= lo)
    if "end" in p:
        hi = parse_box_time(p["end"], "end")
        tests.append(lambda leg: min(leg.call.end, now) <= hi)
    if "called" in p:
        tests.append(_called(p["called"]))
    if "calling" in p:
        tests.append(_calling(p["calling"]))
    if "direction" in p:
        tests.append(lambda leg: leg.direction == p["direction"])
    if "call_state" in p:
        active = p["call_state"].lower() == "active"
        tests.append(lambda leg: (leg.call.end > now) == active)
    if "leg_id" in p:
        tests.append(lambda leg: leg.leg_id.lower() == p["leg_id"].lower())
    if "uct_call_id" in p:
        tests.append(lambda leg: uct_call_id(leg.call).lower() == p["uct_call_id"].lower())
    if "call_id" in p:
        tests.append(lambda leg: sip_call_id(leg) == p["call_id"])
    if "terminate_reason" in p:
        tests.append(_reason_test(p["terminate_reason"], now))
    return tests


def _reason_test(wanted: str, now: datetime) -> LegTest:
    w = wanted.upper().replace(" ", "_")

    def test(leg: Leg) -> bool:
        if leg.call.end > now:
            return False
        reason = terminate_reason(leg.call)
        return reason != "NORMAL" if w == "NOT_NORMAL" else reason == w

    return test


def candidates(world: World, params: dict[str, str]) -> list[Leg]:
    """Legs that could pass the filters, before they are tested: one call by id, else the window
    the time filters allow (a second earlier: outgoing legs start after their call)."""
    wanted = params.get("leg_id", "").strip()
    if wanted:
        try:
            number = int(wanted, 16) & 0xFFFFFFFE
        except ValueError:
            return []
        call = world.lookup(PROVIDER, incoming_leg_id, f"0x{number:08X}")
        return list(legs_of(call)) if call else []
    lo = params.get("start", "").strip()
    hi = params.get("end", "").strip()
    start = parse_box_time(lo, "start") - timedelta(seconds=1) if lo else None
    end = parse_box_time(hi, "end") if hi else None
    return [leg for c in world.calls(PROVIDER, start, end) for leg in legs_of(c)]


def call_trace(
    world: World, box: Box, params: dict[str, str], big: Callable[[SimCall], bool]
) -> Response:
    """The `/call_trace` answer; a leg asked by id whose call is `big` has BIG_STEPS steps."""
    now = world.now()
    nb_result = parse_positive(params, "nb_result", DEFAULT_NB_RESULT)
    if nb_result > box.max_nb_result and box.over_max == "reject":
        raise BadParam(f"nb_result: {nb_result} is out of range (1 to {box.max_nb_result})")
    nb_result = min(nb_result, box.max_nb_result)
    page = parse_positive(params, "page", 1)
    tests = leg_tests(params, now)
    legs = [
        leg for leg in candidates(world, params) if leg.start <= now and all(t(leg) for t in tests)
    ]
    legs.sort(key=lambda leg: leg.start, reverse=True)
    chosen = legs[(page - 1) * nb_result : page * nb_result]
    recursive = params.get("recursive", "").lower() == "yes"
    by_id = bool(params.get("leg_id", "").strip())

    def rendered(leg: Leg) -> dict[str, Any]:
        if not recursive:
            return {}
        return render_leg(leg, now, BIG_STEPS if by_id and big(leg.call) else None)

    body = {leg.leg_id: rendered(leg) for leg in chosen}
    body[META] = {"version": box.version, "src_path": ""}
    return Response.json(dict(sorted(body.items())))


RAILS_PAGES = {
    404: ("The page you were looking for doesn't exist", "You may have mistyped the address."),
    500: ("We're sorry, but something went wrong", "Please try again later."),
}
RAILS_PHRASES = {404: "Not Found", 500: "Internal Server Error"}


def error_answer(req: Request, status: int, wait_s: float | None) -> Response:
    """The portal's answer for an error status. The real bodies are published nowhere; these
    are what its Rails stack sends: HTTP Basic's plain refusal for 401, an empty `head
    :forbidden` for 403, ActionDispatch::PublicExceptions for 404 and 500 (JSON
    `{"status", "error"}` to a client that accepts JSON, else the static HTML page), and
    Rack::Attack's `Retry later` for 429."""
    if status == 401:
        resp = Response.text(RAILS_BASIC_DENIED, 401, HTML)
        resp.headers.append(("www-authenticate", 'Basic realm="Toolpack"'))
        return resp
    if status == 429:
        resp = Response.text("Retry later\n", 429)
        if wait_s is not None:
            resp.headers.append(("retry-after", str(max(1, round(wait_s)))))
        return resp
    if status in RAILS_PAGES:
        if "json" in req.headers.get("accept", ""):
            return Response.json({"status": status, "error": RAILS_PHRASES[status]}, status)
        title, hint = RAILS_PAGES[status]
        page = (
            f"<!DOCTYPE html><html><head><title>{title} ({status})</title></head><body>"
            f"<div class='dialog'><h1>{title}.</h1><p>{hint}</p></div></body></html>"
        )
        return Response.text(page, status, HTML)
    return Response(status, b"", [("content-type", HTML)])


def authorize(req: Request) -> Response | None:
    """None when the request carries the demo box's credentials, else the box's refusal."""
    if "authorization" not in req.headers:
        return Response(
            302, RAILS_REDIRECT.encode(), [("location", "/login"), ("content-type", HTML)]
        )
    account = DEMO_ACCOUNT
    if req.basic_auth() != (account["username"], account["password"]):
        return error_answer(req, 401, None)
    return None


def routes(sim: Any) -> list[Route]:
    def big(call: SimCall) -> bool:
        return bool(sim.faults.big(PROVIDER, call.key))

    def handler_for(box: Box) -> Callable[..., Response]:
        def handle(req: Request) -> Response:
            refused = authorize(req)
            if refused is not None:
                return refused
            params = req.params
            if "drop_call" in params:
                return Response.json(
                    {"error": "drop_call refused: the simulator ends no call"}, 403
                )
            try:
                return call_trace(sim.world, box, params, big)
            except BadParam as e:
                return Response.json({"error": str(e)}, 400)

        return handle

    def login(req: Request) -> Response:
        return Response.text(LOGIN_PAGE, 200, HTML)

    out = [
        route(PROVIDER, re.escape(box.prefix) + r"/call_trace/?", handler_for(box)) for box in BOXES
    ]
    out.append(route(PROVIDER, r"/login", login))
    return out
