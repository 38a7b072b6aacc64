"""Bandwidth Catapult v1 voice API, as Bandwidth's API docs and its v1 SDKs describe it.

- `GET /v1/users/{userId}/calls`: a bare JSON array with no envelope, `page` from 0, `size`
  1-1000 (default 25), `sortOrder` asc|desc by startTime (default desc), `from`/`to` filters.
  Whether the real filters match a prefix is UNVERIFIED (Bandwidth's docs do not say): the
  simulator matches exactly, the stricter behaviour, so a client that sends a prefix loses calls
  here as it might there.
- The next page is signalled by `Link: <...>; rel="next"`, relative in the Python SDK's tests and
  absolute in node's, and whether `/calls` sends it at all is UNVERIFIED (only the SDKs suggest
  it): the simulator cycles through the three (relative, absolute, none) by page number, so a
  client must resolve both forms and fall back to counting pages.
- `GET .../calls/{callId}` and `GET .../calls/{callId}/events`: events `data` is a string that
  may hold JSON, the list is unsorted and `time` is ISO or epoch ms, as Bandwidth's doc examples
  show; a single event has epoch-ms `time` and `data: ""`.
- Basic auth `apiToken:apiSecret`, `userId` only in the path; errors are
  `{category, code, message, details[]}`, the 429 one without `message` and with
  `X-RateLimit-Reset` in epoch ms; `/calls` GETs are limited to 1 request/s per user, as
  Bandwidth's rate-limit docs say.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from calltui.sim.asgi import Request, Response, Route, route
from calltui.sim.world import SimCall

if TYPE_CHECKING:
    from calltui.sim.app import SimApp

PROVIDER = "bandwidth"
DEMO_ACCOUNT: dict[str, Any] = {
    "provider": PROVIDER,
    "user_id": "u-demo0000000000000000",
    "api_token": "t-demo-token",
    "api_secret": "demo-bandwidth-secret",
}
"""The demo account (calltui.sim.demo): credentials the simulator accepts, not secrets."""
_CALLS = r"/v1/users/(?P<user_id>[^/]+)/calls"
DEFAULT_SIZE = 25
MAX_SIZE = 1000
RATE = (1, 1.0)
"""`/calls` GET: 1 request per 1000 ms, the default in Bandwidth's rate-limit table."""

# Hangup causes of the hangup callback, as Bandwidth documents it; the failures past those
# documented carry FreeSWITCH names, which Bandwidth calls "anything else: an internal error".
_FAILURE_CAUSES = {
    404: "UNALLOCATED_NUMBER",
    403: "CALL_REJECTED",
    503: "NORMAL_TEMPORARY_FAILURE",
    500: "NORMAL_TEMPORARY_FAILURE",
    502: "NETWORK_OUT_OF_ORDER",
    488: "BEARERCAPABILITY_NOTIMPL",
    484: "INVALID_NUMBER_FORMAT",
}
_OUTCOME_CAUSES = {
    "answered": "NORMAL_CLEARING",
    "busy": "USER_BUSY",
    "no_answer": "NO_ANSWER",
    "cancelled": "ORIGINATOR_CANCEL",
}


def call_id(c: SimCall) -> str:
    """The wire id of a simulated call (`c-...`)."""
    return "c-" + c.hexid("bandwidth/call", 24)


def _event_id(c: SimCall, i: int) -> str:
    return "ev-" + c.hexid(f"bandwidth/event/{i}", 20)


def _iso(t: datetime, ms: bool = True) -> str:
    t = t.astimezone(timezone.utc)
    if ms:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _whole_second(t: datetime) -> datetime:
    """Rounded up, so that a time without milliseconds never precedes the one before it."""
    return t.replace(microsecond=0) + timedelta(seconds=1) if t.microsecond else t


def _epoch_ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _state(c: SimCall, now: datetime) -> str:
    """Catapult's documented call states: a busy or failed call is rejected; an unanswered one
    that rang out or was cancelled completes without activeTime."""
    if c.state_at(now) == "in_progress":
        return "active" if c.answer is not None and c.answer <= now else "started"
    if c.outcome in ("busy", "failed"):
        return "rejected"
    return "completed"


def _hangup_cause(c: SimCall) -> str:
    return _OUTCOME_CAUSES.get(c.outcome) or _FAILURE_CAUSES.get(c.sip_code, "NORMAL_UNSPECIFIED")


def render_call(c: SimCall, now: datetime, base: str, user_id: str) -> dict[str, Any]:
    cid = call_id(c)
    rng = c.rng("bandwidth/call")
    with_ms = rng.random() < 0.7
    state = _state(c, now)
    url = f"{base}/v1/users/{user_id}/calls/{cid}"
    out: dict[str, Any] = {
        "id": cid,
        "direction": "in" if c.direction == "inbound" else "out",
        "from": c.from_num,
        "to": c.to_num,
        "recordingEnabled": rng.random() < 0.2,
        "callbackUrl": "https://voice.example.net/bandwidth/events",
        "callbackHttpMethod": "POST",
        "callbackTimeout": 15000,
        "state": state,
        "startTime": _iso(c.start),
    }
    if c.direction == "outbound":
        out["callTimeout"] = 30
    if c.answer is not None and c.answer <= now:
        out["activeTime"] = _iso(c.answer if with_ms else _whole_second(c.answer), with_ms)
    if state in ("completed", "rejected"):
        out["endTime"] = _iso(c.end if with_ms else _whole_second(c.end), with_ms)
        out["chargeableDuration"] = 60 * math.ceil(c.duration_s / 60)
    out["events"] = f"{url}/events"
    out["recordings"] = f"{url}/recordings"
    out["transcriptions"] = f"{url}/transcriptions"
    out["transcriptionEnabled"] = False
    if rng.random() < 0.3:
        out["sipHeaders"] = {"X-Ticket": f"T{rng.randint(100000, 999999)}"}
    return out


def _timeline(c: SimCall) -> list[tuple[datetime, str, str | None]]:
    """(time, name, data) of a call's events, in the order they happened."""
    rng = c.rng("bandwidth/events")
    park = json.dumps({"applicationName": "park"})
    steps: list[tuple[datetime, str, str | None]] = [
        (c.start, "create", None),
        (c.start + timedelta(milliseconds=rng.randint(5, 40)), "CHANNEL_EXECUTE", park),
    ]
    if c.answer is not None:
        t = c.answer
        steps.append((t, "answer", None))
        if rng.random() < 0.6:
            play = t + timedelta(milliseconds=rng.randint(80, 400))
            done = play + timedelta(seconds=rng.uniform(1.5, 6))
            steps.append((play, "playback", "start"))
            steps.append((done, "playback", "done"))
            response = {"applicationName": "playback", "applicationResponse": "FILE PLAYED"}
            steps.append((done, "CHANNEL_EXECUTE_COMPLETE", json.dumps(response)))
    steps.append((c.end, "hangup", _hangup_cause(c)))
    return [s for s in steps if s[0] <= c.end]


def render_events(c: SimCall, now: datetime) -> list[dict[str, Any]]:
    """The events list: ISO or epoch-ms times mixed, `data` only where the event has one, and
    in no particular order, as in Bandwidth's own doc examples."""
    rng = c.rng("bandwidth/event-order")
    out: list[dict[str, Any]] = []
    for i, (t, name, data) in enumerate(_timeline(c)):
        if t > now:
            continue
        event: dict[str, Any] = {
            "id": _event_id(c, i),
            "time": _epoch_ms(t) if rng.random() < 0.4 else _iso(t),
            "name": name,
        }
        if data is not None:
            event["data"] = data
        out.append(event)
    rng.shuffle(out)
    return out


def render_event(c: SimCall, event_id: str, now: datetime) -> dict[str, Any] | None:
    """One event, as getCallsCallIdEventsEventId shows it: `time` in epoch ms, `data` ""."""
    for i, (t, name, data) in enumerate(_timeline(c)):
        if _event_id(c, i) == event_id and t <= now:
            return {"id": event_id, "time": _epoch_ms(t), "name": name, "data": data or ""}
    return None


def error(
    status: int, category: str, code: str, message: str | None, details: dict[str, str]
) -> Response:
    body: dict[str, Any] = {"category": category, "code": code}
    if message is not None:
        body["message"] = message
    body["details"] = [{"name": k, "value": v} for k, v in details.items()]
    return Response.json(body, status)


def _request_details(req: Request) -> dict[str, str]:
    return {
        "requestMethod": req.method,
        "remoteAddress": "127.0.0.1",
        "requestPath": req.path.removeprefix("/v1/").rstrip("/"),
    }


# (category, code, message) by status, from the categories of Bandwidth's error catalogue.
_ERRORS = {
    401: (
        "authentication",
        "unauthorized",
        "Authentication failed: the API token or secret is wrong",
    ),
    403: ("authorization", "forbidden", "The user does not belong to this API token"),
    404: ("not-found", "resource-not-found", "The requested resource could not be found"),
    500: ("unavailable", "service-unavailable", "The service is temporarily unavailable"),
}


def error_answer(req: Request, status: int, wait_s: float | None) -> Response:
    """Bandwidth's answer for an error status: `{category, code, message, details}`; the 429
    one has no `message`, and its reset time (epoch ms) in a detail and in `X-RateLimit-Reset`,
    both absent from the variant that says nothing about when to retry."""
    details = _request_details(req)
    if status != 429:
        category, code, message = _ERRORS.get(status, ("unavailable", "error", "Unknown error"))
        return error(status, category, code, message, details)
    if wait_s is None:
        return error(429, "too-many-requests", "rate-limit-reached", None, details)
    # Rounded up: a client that waits until the reset instant must then be let through.
    reset = str(math.ceil((time.time() + wait_s) * 1000))
    details["rateLimitResetTime"] = reset
    resp = error(429, "too-many-requests", "rate-limit-reached", None, details)
    resp.headers.append(("X-RateLimit-Reset", reset))
    return resp


class BandwidthSim:
    def __init__(self, sim: SimApp) -> None:
        self.sim = sim

    def guard(self, req: Request, user_id: str) -> Response | None:
        """Auth (401 unknown credentials, 403 another user's path), then the rate limit."""
        if req.basic_auth() != (DEMO_ACCOUNT["api_token"], DEMO_ACCOUNT["api_secret"]):
            return error_answer(req, 401, None)
        if user_id != DEMO_ACCOUNT["user_id"]:
            message = f"The user {user_id} does not belong to this API token"
            return error(403, "authorization", "forbidden", message, _request_details(req))
        wait = self.sim.over_limit(f"{PROVIDER}/{user_id}", *RATE)
        return None if wait is None else error_answer(req, 429, wait)

    def list_calls(self, req: Request, user_id: str) -> Response:
        denied = self.guard(req, user_id)
        if denied:
            return denied
        p = req.params
        try:
            page = int(p.get("page", "0"))
            size = int(p.get("size", str(DEFAULT_SIZE)))
        except ValueError:
            return self._bad(req, "page and size must be integers")
        if page < 0 or not 1 <= size <= MAX_SIZE:
            return self._bad(req, f"page must be 0 or more and size between 1 and {MAX_SIZE}")
        order = p.get("sortOrder", "desc")
        if order not in ("asc", "desc"):
            return self._bad(req, "sortOrder must be asc or desc")
        filtered = bool(p.get("from") or p.get("to"))
        # Bandwidth's list has no time bounds: a first page needs only the newest hours.
        world = self.sim.world
        calls = (
            world.calls(PROVIDER)
            if filtered or order == "asc"
            else world.newest(PROVIDER, (page + 1) * size + 1)
        )
        for key, attr in (("from", "from_num"), ("to", "to_num")):
            if p.get(key):
                calls = [c for c in calls if getattr(c, attr) == p[key]]
        if order == "asc":
            calls.reverse()
        chunk = calls[page * size : (page + 1) * size]
        now, base = self.sim.world.now(), _origin(req)
        resp = Response.json([render_call(c, now, base, user_id) for c in chunk])
        if (page + 1) * size < len(calls):
            link = _link(req, base, {**p, "page": str(page + 1)}, page)
            if link:
                resp.headers.append(("Link", link))
        return resp

    def get_call(self, req: Request, user_id: str, call: str) -> Response:
        c = self._call(req, user_id, call)
        if isinstance(c, Response):
            return c
        return Response.json(render_call(c, self.sim.world.now(), _origin(req), user_id))

    def list_events(self, req: Request, user_id: str, call: str) -> Response:
        c = self._call(req, user_id, call)
        if isinstance(c, Response):
            return c
        return Response.json(render_events(c, self.sim.world.now()))

    def get_event(self, req: Request, user_id: str, call: str, event: str) -> Response:
        c = self._call(req, user_id, call)
        if isinstance(c, Response):
            return c
        body = render_event(c, event, self.sim.world.now())
        if body is None:
            message = f"The call event {event} could not be found"
            details = {"callEventId": event, **_request_details(req)}
            return error(404, "not-found", "call-event-not-found", message, details)
        return Response.json(body)

    def _call(self, req: Request, user_id: str, call: str) -> SimCall | Response:
        """The user's visible call `call`, or the server's refusal (auth, then not found)."""
        denied = self.guard(req, user_id)
        if denied:
            return denied
        c = self.sim.world.lookup(PROVIDER, call_id, call)
        return self._not_found(req, call) if c is None else c

    @staticmethod
    def _not_found(req: Request, call: str) -> Response:
        message = f"The call {call} could not be found"
        details = {"callId": call, **_request_details(req)}
        return error(404, "not-found", "call-not-found", message, details)

    @staticmethod
    def _bad(req: Request, message: str) -> Response:
        return error(400, "bad-request", "invalid-parameter", message, _request_details(req))


def _origin(req: Request) -> str:
    return "http://" + req.headers.get("host", "api.catapult.inetwork.com")


def _link(req: Request, base: str, params: dict[str, str], page: int) -> str | None:
    """The `Link` header of a page that has a next one: relative, absolute or absent by turns."""
    form = page % 3
    if form == 2:
        return None
    first = urlencode({**params, "page": "0"})
    query = urlencode(params)
    if form == 0:
        # Relative to the request URL, like the Python SDK's test (`<transactions?page=1>`).
        leaf = req.path.rsplit("/", 1)[-1]
        return f'<{leaf}?{first}>; rel="first", <{leaf}?{query}>; rel="next"'
    return f'<{base}{req.path}?{first}>; rel="first", <{base}{req.path}?{query}>; rel="next"'


def routes(sim: SimApp) -> list[Route]:
    bw = BandwidthSim(sim)
    return [
        route(PROVIDER, _CALLS + "/?", bw.list_calls),
        route(PROVIDER, _CALLS + r"/(?P<call>[^/]+)/?", bw.get_call),
        route(PROVIDER, _CALLS + r"/(?P<call>[^/]+)/events/?", bw.list_events),
        route(PROVIDER, _CALLS + r"/(?P<call>[^/]+)/events/(?P<event>[^/]+)/?", bw.get_event),
    ]
