"""Plivo Zentrunk, both API generations, as Plivo's docs and its own plivo-cli show them.

Current: `/v1/Account/{auth_id}/Zentrunk/Call/` (UTC, `hangup_cause_code`, money as strings,
`meta.next` null or a URL of any form), `/Zentrunk/Call/{uuid}/` (flat) and `.../Insights/`.
Legacy: `/v1/Account/{auth_id}/Call/` (times in the console's zone, `hangup_code`, numbers and
money as JSON numbers, `meta.next`/`previous` booleans). Both list only completed calls, sorted by
end time, newest first; filter on end time; refuse `limit` above 20, an empty value, an upper
end-time bound without a lower one and an unknown filter with 400; and allow 300 requests per 5 s
per account (429).

`meta.next` is a trap: it drops the filters and the client's limit, and its form (relative,
absolute, "", null) does not say whether more pages follow. A client that follows it lists other
calls; one that stops on a falsy `next` stops early; one that trusts legacy `next: true` never
stops. Clients page with `offset` up to `total_count`.
"""

from __future__ import annotations

import math
import operator
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from calltui.sim.asgi import Request, Response, Route, route
from calltui.sim.world import SimCall, to_london

if TYPE_CHECKING:
    from calltui.sim.app import SimApp

P = "plivo"
DEMO_ACCOUNT: dict[str, Any] = {
    "provider": P,
    "api": "current",
    "auth_id": "MADEMO0000000000PLIV",
    "auth_token": "demo-plivo-token",
}
"""The demo account (calltui.sim.demo): credentials the simulator accepts, not secrets."""
AUTH_ID: str = DEMO_ACCOUNT["auth_id"]
AUTH_TOKEN: str = DEMO_ACCOUNT["auth_token"]
# The zone set in the demo account's Plivo console: legacy times are written in it.
LEGACY_ZONE = ZoneInfo("Asia/Kolkata")
RATE_LIMIT = (300, 5.0)  # requests per seconds, per account, as Plivo documents it
MAX_LIMIT = 20
DEFAULT_WINDOW = timedelta(days=30)  # Plivo's documented search window without end_time
MAX_RANGE = timedelta(days=90)
# The world's longest call (ringing, then at most 2 h talk): how far back a start may lie from
# an end time in range.
SPAN = timedelta(hours=3)
PUBLIC_HOST = "https://api.plivo.com"

_OPS = ("", "__gt", "__gte", "__lt", "__lte")
_LOWER = ("", "__gt", "__gte")
PAGING = ("limit", "offset")
_UPPER = ("", "__lt", "__lte")
_COMMON = {"limit", "offset", "from_number", "to_number", "call_direction"}
_RANGED = {f"{f}{op}" for f in ("end_time", "bill_duration") for op in _OPS}
CURRENT_PARAMS = frozenset(_COMMON | _RANGED | {"hangup_cause_code", "hangup_source"})
CURRENT_PARAMS |= {"stir_verification"}
LEGACY_PARAMS = frozenset(_COMMON | _RANGED | {"trunk_id", "initiation_time"})

_COUNTRY = {"1": "US", "44": "GB", "49": "DE", "33": "FR", "7": "RU", "91": "IN", "61": "AU"}
_STIR = ("Verified", "Not Verified", "Not Applicable")

# World SIP code → (code, name, source), for an inbound call (carrier → your PBX) and an
# outbound one (your PBX → carrier). Names as they appear on records (plivo_codes.RECORD_NAMES).
_Code = tuple[int, str, str]
_INBOUND: dict[int, _Code] = {
    486: (4410, "user_busy", "customer"),
    600: (6000, "busy_everywhere", "customer"),
    480: (4350, "temporary_unavailable", "customer"),
    408: (4170, "request_timeout_customer", "customer"),
    487: (4420, "carrier_cancelled", "carrier"),
    503: (5360, "service_unavailable_by_user", "customer"),
    404: (4310, "uri_not_found", "customer"),
    403: (4060, "forbidden", "zentrunk"),
    488: (4640, "sdp_not_acceptable_here_by_user", "customer"),
    502: (5300, "bad_gateway", "zentrunk"),
    500: (5250, "internal_error", "zentrunk"),
    484: (4120, "destination_invalid", "zentrunk"),
}
_OUTBOUND: dict[int, _Code] = {
    486: (4410, "user_busy", "carrier"),
    600: (6000, "busy_everywhere", "carrier"),
    480: (4340, "temporary_unavailable", "carrier"),
    408: (4160, "request_timeout_carrier", "carrier"),
    487: (4550, "customer_cancelled", "customer"),
    503: (5350, "service_unavailable_by_carrier", "carrier"),
    404: (4090, "destination_not_found", "carrier"),
    403: (4040, "forbidden", "carrier"),
    488: (4630, "sdp_not_acceptable_here_by_carrier", "carrier"),
    502: (5300, "bad_gateway", "zentrunk"),
    500: (5250, "internal_error", "zentrunk"),
    484: (4120, "destination_invalid", "carrier"),
}
_NO_ROUTE: _Code = (5000, "service_unavailable_no_more_destinations", "zentrunk")
_CARRIER_END: _Code = (3000, "normal_hangup", "carrier")
_CUSTOMER_END: _Code = (3010, "normal_hangup", "customer")
_RTP_TIMEOUT: _Code = (3020, "rtp_timeout", "zentrunk")
_LIMITS: tuple[_Code, ...] = (
    (5180, "cps_limit_reached", "zentrunk"),
    (5190, "concurrent_call_limit_exceeded", "zentrunk"),
)


INBOUND_TRUNK_ID = "42741122632602585"
OUTBOUND_TRUNK_ID = "31723558297410168"
LONDON_TRUNK_ID = "58306119427730941"
"""The trunk of the calls to London (+44 20), either way."""


class BadRequest(Exception):
    """A request Plivo answers with 400 and `{"api_id", "error"}`."""


def call_uuid(c: SimCall) -> str:
    return c.uuid("plivo-call")


@dataclass(frozen=True, slots=True)
class Facts:
    """What Plivo knows of a call beyond the world's data, derived once from the call's rng."""

    code: int
    name: str
    source: str
    billed: int
    rate: float
    stir: str
    attestation: str
    trunk_id: str
    region: str
    transport: str
    legacy_code: bool
    """Whether the legacy record carries `hangup_code`: Plivo's legacy docs do not say, so we
    assume not always."""


_FACTS: dict[tuple[str, int, str], Facts] = {}
_FACTS_MAX = 200_000


def facts(c: SimCall) -> Facts:
    """The call's facts, cached by its key, final status and number called (hashing the whole
    frozen SimCall costs more): the incident fails a call of its window under the same key
    (calltui.sim.world), and hostile mode changes its number."""
    k = (c.key, c.sip_code, c.to_num)
    f = _FACTS.get(k)
    if f is None:
        if len(_FACTS) >= _FACTS_MAX:
            _FACTS.clear()
        f = _FACTS[k] = _facts(c)
    return f


def _facts(c: SimCall) -> Facts:
    rng = c.rng("plivo")
    code, name, source = _hangup(c, rng.random())
    inbound = c.direction == "inbound"
    if inbound:
        stir = rng.choice(("Verified", "Verified", "Not Verified"))
        attestation = rng.choice(("A", "B", "C")) if stir == "Verified" else "C"
    else:
        # Plivo's call-object doc example writes the lower-case value and the string "null".
        stir = "not applicable" if rng.random() < 0.2 else "Not Applicable"
        attestation = "null"
    trunk = INBOUND_TRUNK_ID if inbound else OUTBOUND_TRUNK_ID
    if to_london(c):
        trunk = LONDON_TRUNK_ID
    return Facts(
        code=code,
        name=name,
        source=source,
        billed=math.ceil(c.duration_s / 60) * 60 if c.answer else 0,
        rate=round(rng.uniform(0.002, 0.03), 5),
        stir=stir,
        attestation=attestation,
        trunk_id=trunk,
        region=rng.choice(("us-east-1", "us-west-1", "ap-south-1")),
        transport=rng.choice(("udp", "udp", "tcp", "tls")),
        legacy_code=rng.random() >= 0.2,
    )


def _hangup(c: SimCall, roll: float) -> _Code:
    inbound = c.direction == "inbound"
    if c.outcome == "answered":
        if c.hangup_by == "network":
            return _RTP_TIMEOUT if roll < 0.3 else _CARRIER_END
        ours = (c.hangup_by == "callee") == inbound
        return _CUSTOMER_END if ours else _CARRIER_END
    if c.outcome == "failed" and roll < 0.05:
        return _LIMITS[0] if roll < 0.025 else _LIMITS[1]
    return (_INBOUND if inbound else _OUTBOUND).get(c.sip_code, _NO_ROUTE)


def _country(number: str) -> str:
    digits = number.lstrip("+")
    return next((v for k, v in _COUNTRY.items() if digits.startswith(k)), "US")


def _wire(t: datetime | None, zone: tzinfo) -> str | None:
    if t is None:
        return None
    return t.astimezone(zone).replace(microsecond=0, tzinfo=None).isoformat(sep=" ")


def render_current(c: SimCall) -> dict[str, Any]:
    """The field order and types of the production CDR plivo-cli's tests quote verbatim."""
    f = facts(c)
    utc = timezone.utc
    return {
        "call_uuid": call_uuid(c),
        "call_id": c.sip_call_id,
        "from_number": c.from_num,
        "to_number": c.to_num,
        "call_direction": c.direction,
        "call_duration": c.duration_s,
        "bill_duration": f.billed,
        "end_time": _wire(c.end, utc),
        "hangup_cause_name": f.name,
        "hangup_source": f.source,
        "total_rate": f"{f.rate:.5f}",
        "total_amount": f"{f.rate * f.billed / 60:.5f}",
        "initiation_time": _wire(c.start, utc),
        "answer_time": _wire(c.answer, utc),
        "trunk_domain": f"{f.trunk_id}.zt.plivo.com",
        "from_country": _country(c.from_num),
        "to_country": _country(c.to_num),
        "transport_protocol": f.transport,
        "srtp": f.transport == "tls",
        "hangup_cause_code": f.code,
        "secure_trunking": f.transport == "tls",
        "secure_trunking_rate": "0.00100" if f.transport == "tls" else "0.00000",
        "cnam_lookup": False,
        "cnam_lookup_rate": "0.00000",
        "stir_verification": f.stir,
        "attestation_indicator": f.attestation,
        "billed_duration": f.billed,
    }


def _legacy_number(n: str) -> int | str:
    """The legacy API writes numbers as JSON integers; a number that is not all digits (the
    hostile corpus) stays a string, as a real server would have to send it."""
    digits = n.lstrip("+")
    return int(digits) if digits.isascii() and digits.isdecimal() else n


def render_legacy(c: SimCall) -> dict[str, Any]:
    """A record as the seed's legacy example has it: numbers and money as JSON numbers, times in
    the console's zone, `hangup_cause`/`hangup_initiator`/`hangup_code`."""
    f = facts(c)
    out: dict[str, Any] = {
        "call_uuid": call_uuid(c),
        "bill_duration": f.billed,
        "trunk_id": f.trunk_id,
        "end_time": _wire(c.end, LEGACY_ZONE),
        "from_number": _legacy_number(c.from_num),
        "to_number": _legacy_number(c.to_num),
        "call_direction": c.direction,
        "duration": c.duration_s,
        "hangup_cause": f.name,
        "hangup_initiator": f.source,
        "rate": f.rate,
        "total_amount": round(f.rate * f.billed / 60, 5),
        "initiation_time": _wire(c.start, LEGACY_ZONE),
        "answer_time": _wire(c.answer, LEGACY_ZONE),
        "trunk_domain": f"{f.trunk_id}.zt.plivops.com",
        "region": f.region,
        "from_country": _country(c.from_num),
        "to_country": _country(c.to_num),
        "transport_protocol": f.transport,
        "srtp": f.transport == "tls",
        "hangup_code": f.code,
        "secure_trunking": f.transport == "tls",
        "secure_trunking_rate": 0,
        "stir_verification": f.stir,
    }
    if not f.legacy_code:
        del out["hangup_code"]
    return out


def insights(c: SimCall) -> dict[str, Any]:
    rng = c.rng("plivo-insights")
    mos = c.mos or 4.2
    degraded = mos < 3.8
    return {
        "call_uuid": call_uuid(c),
        "rtt": round(rng.uniform(120, 400) if degraded else rng.uniform(20, 110), 1),
        "jitter": round(rng.uniform(20, 60) if degraded else rng.uniform(0.5, 8), 2),
        "packet_loss": round(rng.uniform(2, 9) if degraded else rng.uniform(0, 0.6), 2),
        "post_dial_delay": c.pdd_ms,
        "plivo_quality_score": round(mos, 1),
    }


def _error(status: int, text: str, key: str = "error") -> Response:
    return Response.json({"api_id": str(uuid.uuid4()), key: text}, status)


_ERRORS = {
    401: "Authentication credentials invalid",
    # The 403 example of Plivo's SIP trunking API overview.
    403: "SIP trunking is not enabled for this account",
    404: "not found",
    429: "Too many requests. Plivo rate limit is 300 requests per 5 s",
    500: "Internal server error. Please try again later",
}


def error_answer(req: Request, status: int, wait_s: float | None) -> Response:
    """Plivo's answer for an error status: `{"api_id", "error"}` JSON whatever went wrong, as
    its docs show. Plivo documents no reset header on its 429: one that says when to retry can
    only be the standard Retry-After."""
    resp = _error(status, _ERRORS.get(status, "error"))
    if status == 429 and wait_s is not None:
        resp.headers.append(("retry-after", str(math.ceil(wait_s))))
    return resp


def _parse_time(v: str, name: str, zone: tzinfo) -> tuple[datetime, timedelta]:
    """`YYYY-MM-DD HH:MM[:ss[.uuuuuu]]` in `zone` → the instant and the precision given."""
    for fmt, step in (
        ("%Y-%m-%d %H:%M:%S.%f", timedelta(microseconds=1)),
        ("%Y-%m-%d %H:%M:%S", timedelta(seconds=1)),
        ("%Y-%m-%d %H:%M", timedelta(minutes=1)),
    ):
        try:
            return datetime.strptime(v, fmt).replace(tzinfo=zone), step
        except ValueError:
            continue
    raise BadRequest(f"invalid datetime format for {name}: expected YYYY-MM-DD HH:MM[:ss[.uuuuuu]]")


def _int(v: str, name: str) -> int:
    try:
        return int(v)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


@dataclass(frozen=True, slots=True)
class Bound:
    """One `field[__op]` filter: `op` is "" (equal at the precision given), gt, gte, lt, lte."""

    op: str
    value: Any
    step: Any

    def test(self, x: Any) -> bool:
        if self.op == "":
            return bool(self.value <= x < self.value + self.step)
        return bool(_COMPARE[self.op](x, self.value))


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "__gt": operator.gt,
    "__gte": operator.ge,
    "__lt": operator.lt,
    "__lte": operator.le,
}


def _ranged(
    params: dict[str, str], field: str, parse: Callable[[str, str], tuple[Any, Any]]
) -> list[Bound]:
    """The bounds given on `field`: `field`, `field__gt`, ..."""
    out = []
    for op in _OPS:
        if field + op in params:
            value, step = parse(params[field + op], field + op)
            out.append(Bound(op, value, step))
    return out


@dataclass(slots=True)
class ListQuery:
    limit: int
    offset: int
    lo: datetime
    hi: datetime
    end: list[Bound]
    billed: list[Bound]
    from_number: str | None = None
    to_number: str | None = None
    direction: str | None = None
    code: int | None = None
    source: str | None = None
    stir: str | None = None
    trunk_id: str | None = None
    initiated: datetime | None = None

    def matches(self, c: SimCall) -> bool:
        end = c.end.replace(microsecond=0)
        if not all(b.test(end) for b in self.end):
            return False
        # Digits only: a leading `+` matches nothing, which is why plivo-cli strips it.
        if self.from_number and not c.from_num.lstrip("+").startswith(self.from_number):
            return False
        if self.to_number and not c.to_num.lstrip("+").startswith(self.to_number):
            return False
        if self.direction and c.direction != self.direction:
            return False
        if self.initiated and c.start.replace(microsecond=0) != self.initiated:
            return False
        return self._matches_facts(facts(c))

    def _matches_facts(self, f: Facts) -> bool:
        if not all(b.test(f.billed) for b in self.billed):
            return False
        if self.code is not None and f.code != self.code:
            return False
        if self.source and f.source != self.source:
            return False
        if self.stir and f.stir.lower() != self.stir.lower():
            return False
        return not (self.trunk_id and f.trunk_id != self.trunk_id)


def parse_query(params: dict[str, str], legacy: bool, now: datetime) -> ListQuery:
    allowed = LEGACY_PARAMS if legacy else CURRENT_PARAMS
    for k, v in params.items():
        if k not in allowed:
            raise BadRequest(f"filtering not allowed on {k}")
        if not v.strip():
            raise BadRequest(f"invalid value for {k}: empty")
    limit = _int(params.get("limit", str(MAX_LIMIT)), "limit")
    offset = _int(params.get("offset", "0"), "offset")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit should be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise BadRequest("offset should be a positive integer")
    has_lower = any(f"end_time{op}" in params for op in _LOWER)
    if not has_lower and any(f"end_time{op}" in params for op in _UPPER):
        raise BadRequest("an end_time upper bound needs end_time__gte or end_time__gt")
    zone = LEGACY_ZONE if legacy else timezone.utc
    end = _ranged(params, "end_time", lambda v, n: _parse_time(v, n, zone))
    lo = max((b.value for b in end if b.op in ("", "__gt", "__gte")), default=now - DEFAULT_WINDOW)
    upper = [
        b.value + b.step if b.op == "" else b.value for b in end if b.op in ("", "__lt", "__lte")
    ]
    if upper and min(upper) - lo > MAX_RANGE:
        raise BadRequest("the end_time range cannot be wider than 90 days")
    direction = params.get("call_direction")
    if direction not in (None, "inbound", "outbound"):
        raise BadRequest("call_direction should be inbound or outbound")
    initiated = params.get("initiation_time") if legacy else None
    code = params.get("hangup_cause_code")
    return ListQuery(
        limit=limit,
        offset=offset,
        lo=lo,
        hi=min([*upper, now]),
        end=end,
        billed=_ranged(params, "bill_duration", lambda v, n: (_int(v, n), 1)),
        from_number=params.get("from_number"),
        to_number=params.get("to_number"),
        direction=direction,
        code=_int(code, "hangup_cause_code") if code else None,
        source=params.get("hangup_source"),
        stir=params.get("stir_verification"),
        trunk_id=params.get("trunk_id"),
        initiated=_parse_time(initiated, "initiation_time", zone)[0] if initiated else None,
    )


def select(sim: SimApp, q: ListQuery) -> list[SimCall]:
    """The completed calls that match, sorted by end time, newest first."""
    now = sim.world.now()
    out = [c for c in sim.world.calls(P, q.lo - SPAN, q.hi) if c.end <= now and q.matches(c)]
    out.sort(key=lambda c: (c.end, c.key), reverse=True)
    return out


def _next_trap(path: str, offset: int, limit: int) -> str | None:
    """A `next` that drops the filters and the client's limit, in a form that says nothing."""
    relative = f"{path}?limit={MAX_LIMIT}&offset={offset + limit}"
    forms = (relative, PUBLIC_HOST + relative, "", None)
    return forms[(offset // limit) % len(forms)]


def routes(sim: SimApp) -> list[Route]:
    # The matching rows of recent queries: a client pages through one query with many offsets.
    selections: dict[tuple[Any, ...], list[SimCall]] = {}

    def rows_for(req: Request, q: ListQuery, legacy: bool) -> list[SimCall]:
        filters = tuple(sorted((k, v) for k, v in req.params.items() if k not in PAGING))
        key = (legacy, filters, sim.world.now())
        rows = selections.get(key)
        if rows is None:
            if len(selections) >= 16:
                del selections[next(iter(selections))]
            rows = selections[key] = select(sim, q)
        return rows

    def guard(req: Request, auth_id: str) -> Response | None:
        # The {auth_id} in the path must be the authenticated one.
        if req.basic_auth() != (AUTH_ID, AUTH_TOKEN) or auth_id != AUTH_ID:
            return error_answer(req, 401, None)
        if sim.over_limit(f"{P}/{auth_id}", *RATE_LIMIT) is not None:
            # No Retry-After: Plivo documents none.
            return error_answer(req, 429, None)
        return None

    def listing(req: Request, auth_id: str, legacy: bool) -> Response:
        denied = guard(req, auth_id)
        if denied is not None:
            return denied
        try:
            q = parse_query(req.params, legacy, sim.world.now())
        except BadRequest as e:
            return _error(400, str(e))
        rows = rows_for(req, q, legacy)
        page = rows[q.offset : q.offset + q.limit]
        render = render_legacy if legacy else render_current
        meta: dict[str, Any] = {"limit": q.limit, "offset": q.offset, "total_count": len(rows)}
        if legacy:
            # The seed's example says `next: true` with 4 calls on a page of 20.
            meta |= {"next": True, "previous": q.offset > 0}
        else:
            meta |= {"next": _next_trap(req.path, q.offset, q.limit), "previous": None}
        body = {"api_id": str(uuid.uuid4()), "meta": meta, "objects": [render(c) for c in page]}
        return Response.json(body)

    def one(req: Request, auth_id: str, call: str) -> Response | SimCall:
        denied = guard(req, auth_id)
        if denied is not None:
            return denied
        c = sim.world.lookup(P, call_uuid, call)
        if c is None or c.end > sim.world.now():
            return _error(404, "call not found")
        return c

    def current_list(req: Request, auth_id: str) -> Response:
        return listing(req, auth_id, legacy=False)

    def legacy_list(req: Request, auth_id: str) -> Response:
        return listing(req, auth_id, legacy=True)

    def current_call(req: Request, auth_id: str, call: str) -> Response:
        c = one(req, auth_id, call)
        if isinstance(c, Response):
            return c
        # Flat and without `api_id`, as the production CDR quoted by plivo-cli's tests is.
        return Response.json(render_current(c))

    def legacy_call(req: Request, auth_id: str, call: str) -> Response:
        c = one(req, auth_id, call)
        if isinstance(c, Response):
            return c
        return Response.json(render_legacy(c))

    def current_insights(req: Request, auth_id: str, call: str) -> Response:
        c = one(req, auth_id, call)
        if isinstance(c, Response):
            return c
        if c.answer is None:
            # No media, no quality data.
            return _error(404, "no insights for a call that was not answered")
        return Response.json({"api_id": str(uuid.uuid4()), **insights(c)})

    account = r"/v1/Account/(?P<auth_id>[^/]+)"
    call = r"(?P<call>[^/]+)"
    return [
        route(P, rf"{account}/Zentrunk/Call/?", current_list),
        route(P, rf"{account}/Zentrunk/Call/{call}/?", current_call),
        route(P, rf"{account}/Zentrunk/Call/{call}/Insights/?", current_insights),
        route(P, rf"{account}/Call/?", legacy_list),
        route(P, rf"{account}/Call/{call}/?", legacy_call),
    ]
