"""Restcomm Connect's Calls, Recordings and Notifications API, as its server really answers.

Everything here is what the Restcomm-Connect server code does (CallsEndpoint, its filters and
Gson converters): Basic auth with an empty 401, `.json` or XML by content negotiation, offset
paging whose navigation URIs drop the filters and the `/restcomm` prefix, `"null"` strings, the
phantom empty last page, absent keys instead of nulls, RFC 2822 `date_*` beside ISO
`start_time`, status case that depends on which component wrote it, date-only
`StartTime`/`EndTime`, suffix `LIKE` on `From`/`To`, and Gson's HTML-safe escapes. Restcomm's
REST layer has no rate limit at all.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from calltui.sim.asgi import Request, Response, Route, route
from calltui.sim.world import SimCall, World

PROVIDER = "restcomm"
ACCOUNT_SID = "ACae6e420f425248d6a26948c17a9e2acf"
AUTH_TOKEN = "demo-restcomm-token"
DEMO_ACCOUNT = {"provider": PROVIDER, "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
"""The demo account (calltui.sim.demo): credentials the simulator accepts, not secrets."""
DEMO_BASE_PATH = "/restcomm"  # the demo account's base_url ends with the server's usual prefix
API = "2012-04-24"
PREFIX = DEMO_BASE_PATH + "/" + API + "/Accounts/(?P<acct>[^/]+)"
INSTANCE = "ID" + hashlib.md5(b"calltui-sim/restcomm/instance").hexdigest()
DEFAULT_PAGE_SIZE = 50
# Restcomm's own CDRs and notifications live at most this long after the call started.
LONGEST_CALL = timedelta(hours=2, minutes=5)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SORT_FIELDS = ("DateCreated", "From", "To", "Direction", "Status", "Duration", "Price")
_NOTIFICATION_SORT_FIELDS = ("DateCreated", "Log", "ErrorCode", "CallSid", "MessageText")
# Gson escapes these by default, and Restcomm keeps it: `=` arrives as \u003d, `&` as \u0026.
_GSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "=": "\\u003d", "'": "\\u0027"}


class BadRequest(Exception):
    """A 400: Restcomm's endpoints send most of them with an empty body."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "")
        self.message = message


# --- wire formats ---------------------------------------------------------------------------


def rfc2822(t: datetime) -> str:
    """Restcomm's `EEE, d MMM yyyy HH:mm:ss Z` for `date_*`: the day is not zero-padded."""
    t = t.astimezone(timezone.utc)
    return f"{_DAYS[t.weekday()]}, {t.day} {_MONTHS[t.month - 1]} {t.year} {t:%H:%M:%S} +0000"


def joda(t: datetime) -> str:
    """Joda's DateTime.toString() in UTC, as Restcomm writes start_time: milliseconds and a `Z`."""
    t = t.astimezone(timezone.utc)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}Z"


def gson(data: Any) -> bytes:
    text = json.dumps(data, separators=(",", ":"))
    for ch, esc in _GSON_ESCAPES.items():
        text = text.replace(ch, esc)
    return text.encode()


def json_response(data: Any, status: int = 200) -> Response:
    return Response(
        status,
        gson(data),
        [("content-type", "application/json"), ("server", "Apache-Coyote/1.1")],
    )


def _xml_value(name: str, value: Any) -> str:
    tag = name[:1].upper() + re.sub(r"_(\w)", lambda m: m.group(1).upper(), name[1:])
    if isinstance(value, dict):
        inner = "".join(_xml_value(k, v) for k, v in value.items())
    elif isinstance(value, list):
        inner = "".join(_xml_value(tag.rstrip("s"), v) for v in value)
    else:
        inner = escape(str(value))
    return f"<{tag}>{inner}</{tag}>"


def xml_response(data: Any, root: str) -> Response:
    body = "<?xml version='1.0' encoding='UTF-8'?><RestcommResponse>"
    body += _xml_value(root, data) + "</RestcommResponse>"
    return Response(200, body.encode(), [("content-type", "application/xml")])


def negotiate(req: Request, ext: str | None, data: Any, root: str) -> Response:
    """Restcomm's AcceptFilter: `.json` forces JSON; else JSON if Accept mentions json, else XML."""
    if ext or "json" in req.headers.get("accept", ""):
        return json_response(data)
    return xml_response(data, root)


def unauthorized() -> Response:
    return Response(401, b"", [("www-authenticate", 'Basic realm="Restcomm realm"')])


NGINX_429 = (
    "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    "<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def error_answer(req: Request, status: int, wait_s: float | None) -> Response:
    """Restcomm's answer for an error status, as its SecurityFilter and endpoints send it: 401
    empty with its realm, 403 and 404 empty; a 500 through `buildErrorResponseBody`, JSON or
    `<RestcommResponse>` XML as the request negotiates. Restcomm's REST layer has no rate limit:
    a 429 comes from a proxy in front, nginx's page, with Retry-After when it says when to retry."""
    if status == 401:
        return unauthorized()
    if status == 429:
        resp = Response.text(NGINX_429, 429, "text/html")
        if wait_s is not None:
            resp.headers.append(("retry-after", str(math.ceil(wait_s))))
        return resp
    if status != 500:
        return Response.empty(status)
    message = "Exception while processing the request"
    if req.path.endswith(".json") or "json" in req.headers.get("accept", ""):
        body = {"message": message, "error": "java.lang.IllegalStateException"}
        return json_response(body, 500)
    xml = f"<?xml version='1.0' encoding='UTF-8'?><RestcommResponse><Message>{message}</Message>"
    return Response(
        500, (xml + "</RestcommResponse>").encode(), [("content-type", "application/xml")]
    )


# --- one call as Restcomm stores it ---------------------------------------------------------


def _pick(call: SimCall, salt: str, n: int) -> int:
    return int(call.hexid(salt, 8), 16) % n


def call_sid(call: SimCall) -> str:
    """The form Restcomm's Sid class generates since issue #1907: `ID<32>-CA<32>`."""
    return f"{INSTANCE}-CA{call.hexid('sid')}"


def direction(call: SimCall) -> str:
    if call.direction == "inbound":
        return "inbound"
    if call.parent is not None:
        return "outbound-dial"
    # Bare `outbound` also occurs, written by Restcomm's telephony code.
    return "outbound" if _pick(call, "direction", 100) < 5 else "outbound-api"


def start_time(call: SimCall) -> datetime:
    """`start_time` lags `date_created` by up to a second in recorded traffic (fixtures)."""
    return call.start.replace(microsecond=0) + timedelta(seconds=_pick(call, "lag", 2))


def _final_status(call: SimCall) -> str:
    if call.outcome == "failed" and call.sip_code == 404:
        return "not-found"
    return {
        "answered": "completed",
        "busy": "busy",
        "no_answer": "no-answer",
        "cancelled": "canceled",
        "failed": "failed",
    }[call.outcome]


def status(call: SimCall, now: datetime) -> str:
    """The interpreter writes `in-progress`; telephony writes the enum name, `IN_PROGRESS`, for
    outgoing legs, except `canceled` which recorded server traffic shows in lower case."""
    if call.state_at(now) == "in_progress":
        value = "in-progress" if call.answer is not None and call.answer <= now else "ringing"
    else:
        value = _final_status(call)
    if direction(call) != "inbound" and value != "canceled":
        return value.upper().replace("-", "_")
    return value


def duration(call: SimCall) -> int:
    """Seconds between start and end, rounded up (the seed's 'Call Duration')."""
    return max(0, math.ceil((call.end - start_time(call)).total_seconds()))


def price(call: SimCall) -> float:
    if call.outcome != "answered":
        return 0.0
    return round(0.0045 * math.ceil(duration(call) / 60), 4)


def parent_sid(call: SimCall) -> str | None:
    """An `outbound-dial` leg names the call whose <Dial> made it."""
    return call_sid(call.parent) if call.parent is not None else None


def has_end_time(call: SimCall, now: datetime) -> bool:
    """Live calls have none yet; busy and failed ones never get one (fixtures)."""
    ended = call.state_at(now) != "in_progress"
    return ended and _final_status(call) not in ("busy", "failed", "not-found")


def render_call(call: SimCall, now: datetime, acct: str) -> dict[str, Any]:
    """CallDetailRecordConverter's keys in its order; Gson omits a null, so its key is absent."""
    sid = call_sid(call)
    live = call.state_at(now) == "in_progress"
    st = status(call, now)
    d = direction(call)
    base = f"/{API}/Accounts/{acct}/Calls/{sid}"
    rec: dict[str, Any] = {
        "sid": sid,
        "InstanceId": INSTANCE,
        "date_created": rfc2822(call.start),
        "date_updated": rfc2822(min(call.end, now)),
    }
    parent = parent_sid(call)
    if parent:
        rec["parent_call_sid"] = parent
    rec.update({"account_sid": acct, "to": call.to_num, "from": call.from_num})
    if d == "inbound":
        rec["phone_number_sid"] = "PN" + call.hexid("number")
    rec["status"] = st
    rec["start_time"] = joda(start_time(call))
    if has_end_time(call, now):
        rec["end_time"] = joda(call.end)
    final = _final_status(call)
    if not live and final not in ("failed", "not-found"):
        # Busy legs report 0; failed ones no duration at all (fixtures).
        rec["duration"] = 0 if final == "busy" else duration(call)
    if not live:
        rec["price"] = price(call)
    rec["price_unit"] = "USD"
    rec["direction"] = d
    rec["api_version"] = API
    if d == "inbound" and _pick(call, "forwarded", 20) == 0:
        rec["forwarded_from"] = call.to_num[:-3] + "000"
    rec["caller_name"] = call.from_num if d != "inbound" else "Unknown"
    rec["uri"] = base + ".json"
    if d != "inbound" and not live:
        ringing = (call.answer or call.end) - call.start
        rec["ring_duration"] = int(ringing.total_seconds())
    rec["subresource_uris"] = {
        "notifications": base + "/Notifications.json",
        "recordings": base + "/Recordings.json",
    }
    return rec


# --- recordings and notifications derived from a call ---------------------------------------


def recordings(call: SimCall, now: datetime, acct: str, host: str) -> list[dict[str, Any]]:
    """Answered calls are recorded about a third of the time, a few twice, with the fields
    Restcomm's RecordingConverter writes."""
    if call.outcome != "answered" or call.answer is None or call.end > now:
        return []
    rng = call.rng("recordings")
    if rng.random() >= 0.35:
        return []
    count = 2 if rng.random() < 0.1 else 1
    talk = (call.end - call.answer).total_seconds()
    out = []
    for i in range(count):
        sid = "RE" + call.hexid(f"recording/{i}")
        length = talk / count
        made = call.answer + timedelta(seconds=length * (i + 1))
        out.append(
            {
                "sid": sid,
                "date_created": rfc2822(made),
                "date_updated": rfc2822(made),
                "account_sid": acct,
                "call_sid": call_sid(call),
                # RecordingConverter uses Double.toString: a string with the fraction.
                "duration": repr(round(length, 5)),
                "api_version": API,
                "uri": f"/{API}/Accounts/{acct}/Recordings/{sid}.json",
                "file_uri": f"http://{host}/restcomm/{API}/Accounts/{acct}/Recordings/{sid}.wav",
            }
        )
    return out


# (error_code, log level, message) per SIP failure; codes and wording as VoiceInterpreter's.
_FAILURE_NOTES: dict[int, tuple[int, int, str]] = {
    404: (13224, 1, "Dial: Invalid phone number {to}"),
    484: (13224, 1, "Dial: Invalid phone number {to}"),
    403: (13225, 1, "Dial: Forbidden phone number {to}"),
    488: (13233, 1, "SIP 488 Not Acceptable Here from {to}"),
    500: (11200, 0, "HTTP retrieval failure: the RCML application answered 500"),
    502: (11200, 0, "HTTP retrieval failure: the RCML application is unreachable"),
    503: (12400, 0, "Internal failure: no outbound proxy available (SIP 503)"),
}


@dataclass(frozen=True, slots=True)
class Note:
    call: SimCall
    index: int
    at: datetime
    log: int
    error_code: int
    message: str

    @property
    def sid(self) -> str:
        return "NO" + self.call.hexid(f"notification/{self.index}")


def notes(call: SimCall) -> list[Note]:
    """What the interpreter logged during the call: the cause of most failures, and now and
    then a warning on a call that went well (a status callback that could not be delivered)."""
    rng = call.rng("notifications")
    out = []
    if call.outcome == "failed" and call.sip_code in _FAILURE_NOTES and rng.random() < 0.8:
        code, log, text = _FAILURE_NOTES[call.sip_code]
        out.append(Note(call, 0, call.end, log, code, text.format(to=call.to_num)))
    if call.outcome == "answered" and rng.random() < 0.06:
        text = "HTTP retrieval failure: status callback http://app.example.com/status timed out"
        out.append(Note(call, 1, call.end + timedelta(seconds=5), 1, 11200, text))
    return out


def render_note(note: Note, acct: str) -> dict[str, Any]:
    """NotificationConverter's fields; Restcomm's stored uri already ends in `.json`."""
    return {
        "sid": note.sid,
        "date_created": rfc2822(note.at),
        "date_updated": rfc2822(note.at),
        "account_sid": acct,
        "call_sid": call_sid(note.call),
        "api_version": API,
        "log": note.log,
        "error_code": note.error_code,
        "more_info": f"http://docs.telestax.com/restcomm-error-code-{note.error_code}",
        "message_text": note.message,
        "message_date": joda(note.at),
        "request_url": "http://app.example.com/rcml",
        "request_method": "POST",
        "request_variables": f"CallSid={call_sid(note.call)}&AccountSid={acct}",
        "uri": f"/{API}/Accounts/{acct}/Notifications/{note.sid}.json.json",
    }


# --- list queries ---------------------------------------------------------------------------


def _page_args(params: dict[str, str]) -> tuple[int, int]:
    try:
        page = int(params.get("Page", "0"))
        size = int(params.get("PageSize", str(DEFAULT_PAGE_SIZE)))
    except ValueError:
        raise BadRequest() from None
    if page < 0 or size < 1:
        raise BadRequest()
    return page, size


def _day(value: str | None) -> datetime | None:
    """CallsEndpoint's `SimpleDateFormat("yyyy-MM-dd")`: the date only, any time part ignored."""
    if value is None:
        return None
    m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
    if m is None:
        raise BadRequest()
    try:
        d = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise BadRequest() from None
    return datetime.combine(d, time(), tzinfo=timezone.utc)


def _like(pattern: str) -> re.Pattern[str]:
    """SQL `LIKE`: `%` and `_` are wildcards (MySQL's default collation ignores case)."""
    parts = (".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _sorting(params: dict[str, str], fields: tuple[str, ...]) -> tuple[str, bool]:
    """(field, descending). An unknown field is silently ignored; a bad direction or an empty
    field is a 400 with a JSON message, as Restcomm's Sorting class answers."""
    spec = params.get("SortBy")
    if spec is None:
        descending = params.get("Reverse", "true").lower() != "false"
        return "DateCreated", descending
    name, sep, way = spec.partition(":")
    if not name or (sep and way.lower() not in ("asc", "desc")):
        raise BadRequest(f"Error parsing the SortBy parameter: {spec}")
    if name not in fields:
        return "DateCreated", True
    return name, way.lower() == "desc"


def _call_key(name: str, now: datetime) -> Callable[[SimCall], Any]:
    keys: dict[str, Callable[[SimCall], Any]] = {
        "DateCreated": lambda c: c.start,
        "From": lambda c: c.from_num,
        "To": lambda c: c.to_num,
        "Direction": direction,
        "Status": lambda c: status(c, now),
        "Duration": lambda c: duration(c) if c.end <= now else -1,
        "Price": lambda c: price(c) if c.end <= now else -1.0,
    }
    return keys[name]


def _envelope(
    path: str, page: int, size: int, total: int, items: list[dict[str, Any]], key: str
) -> dict[str, Any]:
    """CallDetailRecordListConverter: num_pages is the last page index, `start`/`end` are
    strings, `end` is off by one on the last page, and the navigation URIs carry only Page,
    PageSize and AfterSid."""
    last = total // size
    first = page * size
    end = first + len(items) if page == last else first + size - 1
    after = f"&AfterSid={items[-1]['sid']}" if items else ""
    return {
        "page": page,
        "num_pages": last,
        "page_size": size,
        "total": total,
        "start": str(first),
        "end": str(end),
        "uri": path,
        "first_page_uri": f"{path}?Page=0&PageSize={size}",
        "previous_page_uri": "null" if page == 0 else f"{path}?Page={page - 1}&PageSize={size}",
        "next_page_uri": "null"
        if page >= last
        else f"{path}?Page={page + 1}&PageSize={size}" + after,
        "last_page_uri": f"{path}?Page={last}&PageSize={size}",
        key: items,
    }


def _page_slice(total: int, page: int, size: int) -> slice:
    if page > total // size:
        raise BadRequest()
    return slice(page * size, page * size + size)


class RestcommSim:
    def __init__(self, world: World) -> None:
        self.world = world

    def authorized(self, req: Request, acct: str) -> Response | None:
        """401 with an empty body for bad credentials, as Restcomm's SecurityFilter sends; 403,
        empty, for another account's resources."""
        creds = req.basic_auth()
        if creds is None or creds != (ACCOUNT_SID, AUTH_TOKEN):
            return unauthorized()
        if acct != ACCOUNT_SID:
            return Response.empty(403)
        return None

    def _filtered_calls(self, params: dict[str, str], now: datetime) -> list[SimCall]:
        since = _day(params.get("StartTime"))
        until = _day(params.get("EndTime"))
        calls = self.world.calls(PROVIDER, since - timedelta(seconds=2) if since else None)
        if since is not None:
            calls = [c for c in calls if start_time(c) >= since]
        if until is not None:
            # The SQL is `end_time <= EndTime + 1 day`: a call with no end time never matches.
            limit = until + timedelta(days=1)
            calls = [c for c in calls if has_end_time(c, now) and c.end <= limit]
        for param, attr in (("From", "from_num"), ("To", "to_num")):
            if params.get(param):
                # CallDetailRecordFilter prefixes the value with `%`: a suffix match.
                pattern = _like("%" + params[param])
                calls = [c for c in calls if pattern.fullmatch(getattr(c, attr))]
        if params.get("Status"):
            wanted = _like(params["Status"])
            calls = [c for c in calls if wanted.fullmatch(status(c, now))]
        if params.get("ParentCallSid"):
            calls = [c for c in calls if parent_sid(c) == params["ParentCallSid"]]
        return calls

    def list_calls(self, req: Request, acct: str, ext: str | None) -> Response:
        denied = self.authorized(req, acct)
        if denied:
            return denied
        params = req.params
        now = self.world.now()
        try:
            page, size = _page_args(params)
            field, descending = _sorting(params, _SORT_FIELDS)
            calls = self._filtered_calls(params, now)
            if (field, descending) != ("DateCreated", True):
                calls.sort(key=_call_key(field, now), reverse=descending)
            chosen = calls[_page_slice(len(calls), page, size)]
        except BadRequest as e:
            return _bad_request(e)
        items = [render_call(c, now, acct) for c in chosen]
        # CallsEndpoint builds the navigation URIs without `/restcomm` (and now without `.json`).
        path = f"/{API}/Accounts/{acct}/Calls"
        return negotiate(req, ext, _envelope(path, page, size, len(calls), items, "calls"), "Calls")

    def find(self, sid: str) -> SimCall | None:
        return self.world.lookup(PROVIDER, call_sid, sid)

    def get_call(self, req: Request, acct: str, sid: str, ext: str | None) -> Response:
        denied = self.authorized(req, acct)
        if denied:
            return denied
        call = self.find(sid)
        if call is None:
            return Response.empty(404)
        return negotiate(req, ext, render_call(call, self.world.now(), acct), "Call")

    def call_recordings(self, req: Request, acct: str, sid: str, ext: str | None) -> Response:
        """CallsEndpoint returns a bare array, not a paged envelope; an unknown call has none."""
        denied = self.authorized(req, acct)
        if denied:
            return denied
        call = self.find(sid)
        host = req.headers.get("host", "localhost")
        items = [] if call is None else recordings(call, self.world.now(), acct, host)
        return negotiate(req, ext, items, "Recordings")

    def call_notifications(self, req: Request, acct: str, sid: str, ext: str | None) -> Response:
        """Advertised in subresource_uris, but Restcomm's server has no such route: 404, no body."""
        return Response.empty(404)

    def list_notifications(self, req: Request, acct: str, ext: str | None) -> Response:
        """NotificationsEndpoint's list: no CallSid filter, date-only StartTime/EndTime."""
        denied = self.authorized(req, acct)
        if denied:
            return denied
        params = req.params
        now = self.world.now()
        try:
            page, size = _page_args(params)
            field, descending = _sorting(params, _NOTIFICATION_SORT_FIELDS)
            since = _day(params.get("StartTime"))
            until = _day(params.get("EndTime"))
            found = self._notes(since, until, now)
            found.sort(key=_note_key(field), reverse=descending)
            chosen = found[_page_slice(len(found), page, size)]
        except BadRequest as e:
            return _bad_request(e)
        items = [render_note(n, acct) for n in chosen]
        path = f"/restcomm/{API}/Accounts/{acct}/Notifications"
        body = _envelope(path, page, size, len(found), items, "notifications")
        return negotiate(req, ext, body, "Notifications")

    def _notes(self, since: datetime | None, until: datetime | None, now: datetime) -> list[Note]:
        lo = since - LONGEST_CALL if since else None
        hi = until + timedelta(days=1) if until else None
        out = []
        for call in self.world.calls(PROVIDER, lo, hi):
            for n in notes(call):
                if n.at > now or (since and n.at < since) or (hi and n.at > hi):
                    continue
                out.append(n)
        return out


def _note_key(name: str) -> Callable[[Note], Any]:
    keys: dict[str, Callable[[Note], Any]] = {
        "DateCreated": lambda n: n.at,
        "Log": lambda n: n.log,
        "ErrorCode": lambda n: n.error_code,
        "CallSid": lambda n: call_sid(n.call),
        "MessageText": lambda n: n.message,
    }
    return keys[name]


def _bad_request(e: BadRequest) -> Response:
    if e.message:
        return json_response({"message": e.message}, 400)
    return Response.empty(400)


def routes(sim: Any) -> list[Route]:
    rc = RestcommSim(sim.world)
    ext = r"(?P<ext>\.json)?"
    sid = r"(?P<sid>[^/]+?)"
    return [
        route(PROVIDER, PREFIX + "/Calls" + ext, rc.list_calls),
        route(PROVIDER, PREFIX + "/Calls/" + sid + ext, rc.get_call),
        route(PROVIDER, PREFIX + "/Calls/" + sid + "/Recordings" + ext, rc.call_recordings),
        route(PROVIDER, PREFIX + "/Calls/" + sid + "/Notifications" + ext, rc.call_notifications),
        route(PROVIDER, PREFIX + "/Notifications" + ext, rc.list_notifications),
    ]
