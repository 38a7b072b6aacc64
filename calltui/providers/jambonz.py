"""jambonz: RecentCalls (CDRs from InfluxDB), the Jaeger trace of a call, and its pcap.

Everything here follows the server code (jambonz-api-server, @jambonz/time-series), not the docs:
the envelope is `{total, page_size, page, data}` (no `batch`), the SIP Call-ID is `sip_callid`,
times are ISO strings (not integers), the trace is addressed by `trace_id` and comes back as OTLP
JSON in whichever dialect the Jaeger behind the server speaks (the api-server passes Jaeger's
api/v3 `result` through unchanged), and the pcap path has a `{invite|register}` segment.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr, model_validator

from calltui.config import AccountBase
from calltui.http import HttpClient, NotFoundError, RateLimit, RefusedError
from calltui.model import Call, CallDetail, CallQuery, Outcome, Span, number_key
from calltui.outcome import Evidence, decide
from calltui.providers.base import DataError, Page, Provider, page_sizes, quoted, segment
from calltui.providers.coerce import common_iso, epoch, in_utc, seconds
from calltui.providers.coerce import integer as _int
from calltui.providers.coerce import number as _float
from calltui.providers.coerce import text as _str
from calltui.providers.jambonz_reasons import NAME, JambonzHints

NO_TRACE = "0" * 32
"""What sbc-inbound writes when the feature server sent no X-Trace-ID."""

_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_HEX_ID = re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}")
_FILTER_SAFE = re.compile(r"[A-Za-z0-9_@-]+")
_BUSY = frozenset({486, 600})
_NO_ANSWER = frozenset({408, 480})
_PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_UINT64 = 2**64
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)
_KNOWN_CALLS = 5000
_SCAN_PAGES = 40


class JambonzAccount(AccountBase):
    account_sid: str | None = None
    service_provider_sid: str | None = None
    api_key: SecretStr

    @model_validator(mode="after")
    def _one_mount(self) -> JambonzAccount:
        if bool(self.account_sid) == bool(self.service_provider_sid):
            raise ValueError("give exactly one of account_sid and service_provider_sid")
        return self


class _Bearer(httpx.Auth):
    """`Authorization: Bearer <api key>`, the secret read only when a request goes out."""

    def __init__(self, key: SecretStr) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        yield request


# --- records -------------------------------------------------------------------------------


def parse_time(value: Any, zone: tzinfo = timezone.utc) -> datetime | None:
    """An ISO 8601 string with up to 9 fraction digits (time-series 0.5.x adds a nanosecond
    offset, which Python 3.10's fromisoformat cannot read), or epoch seconds/ms as the docs
    and the write side show them. The 1970 placeholder of `new Date(null)` is None."""
    if isinstance(value, str):
        fast = common_iso(value)
        if fast is not None:
            return in_utc(fast, zone)
        return _general_time(value, zone)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return epoch(value)
    return None


def _general_time(value: str, zone: tzinfo) -> datetime | None:
    """Any ISO 8601 date-time the regex reads (a comma, `t`/`z`, `+0530`, spaces)."""
    m = _ISO.fullmatch(value.strip())
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    micro = int((frac or "0").ljust(6, "0")[:6])
    try:
        t = datetime(
            int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=_zone(tz, zone)
        )
    except ValueError:
        return None
    return in_utc(t, zone)


def _zone(tz: str | None, default: tzinfo) -> tzinfo:
    if tz is None:
        return default
    if tz.upper() == "Z":
        return timezone.utc
    digits = tz[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    return timezone(timedelta(minutes=minutes if tz[0] == "+" else -minutes))


def outcome_of(answered: Any, sip_status: int | None, reason: str | None = None) -> Outcome:
    """The one outcome rule (calltui.outcome) over a jambonz record: `answered`, then the final
    SIP status, then its termination reason."""
    return decide(
        Evidence(
            answered=answered is True or answered == "true",
            sip=sip_status,
            word=reason,
            ended=True,
        )
    )


def parse_call(row: Any, account: str, zone: tzinfo = timezone.utc) -> Call:
    """One RecentCalls row → Call. Every column is present with null where the point has none."""
    if not isinstance(row, dict):
        raise DataError(f"a call record is {type(row).__name__}, not an object")
    sip_call_id = _str(row.get("sip_callid"))
    call_id = _str(row.get("call_sid")) or sip_call_id
    if call_id is None:
        raise DataError("a call record has neither call_sid nor sip_callid")
    sip_status = _int(row.get("sip_status"))
    direction = row.get("direction")
    return Call(
        provider=NAME,
        account=account,
        id=call_id,
        started_at=parse_time(row.get("attempted_at"), zone),
        outcome=outcome_of(row.get("answered"), sip_status, _str(row.get("termination_reason"))),
        raw=row,
        parent_id=_str(row.get("sip_parent_callid")),
        sip_call_id=sip_call_id,
        from_=_str(row.get("from")),
        to=_str(row.get("to")),
        direction=direction if direction in ("inbound", "outbound") else None,
        answered_at=parse_time(row.get("answered_at"), zone),
        ended_at=parse_time(row.get("terminated_at"), zone),
        duration_s=seconds(row.get("duration")),
        billed_s=seconds(row.get("billed_seconds")),
        sip_code=sip_status,
        cause=_str(row.get("termination_reason")),
        trunk=_str(row.get("trunk")),
    )


def parse_envelope(body: Any, account: str, zone: tzinfo = timezone.utc) -> tuple[list[Call], int]:
    """`{total, page_size, page, data}` → (records, total). `page_size` and `page` echo the query
    strings as sent and are not needed; `total` may be missing on odd servers (-1)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise DataError("expected an object with a `data` list")
    total = _int(body.get("total"))
    return [parse_call(r, account, zone) for r in body["data"]], -1 if total is None else total


def trace_id_of(call: Call) -> str | None:
    """The Jaeger trace id of a call, or None where there is none to fetch (null on failed calls,
    all zeros when the feature server sent no X-Trace-ID)."""
    value = call.raw.get("trace_id")
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{32}", value):
        return None
    return None if value == NO_TRACE else value.lower()


# --- traces --------------------------------------------------------------------------------


def hex_id(value: Any) -> str | None:
    """A trace or span id as lowercase hex: Jaeger ≥ 1.54 sends hex, older ones base64.
    Empty, missing or all-zero means none."""
    if not isinstance(value, str) or not value:
        return None
    if _HEX_ID.fullmatch(value):
        out = value.lower()
    else:
        try:
            out = base64.b64decode(value, validate=True).hex()
        except (binascii.Error, ValueError):
            raise DataError(f"id {value[:40]!r} is neither hex nor base64") from None
    return None if not out or set(out) == {"0"} else out


def any_value(value: Any) -> Any:
    """An OTLP AnyValue → a plain JSON value (intValue is an int64 as a string)."""
    if not isinstance(value, dict):
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "intValue" in value:
        return _int(value["intValue"])
    if "doubleValue" in value:
        return _float(value["doubleValue"])
    if "bytesValue" in value:
        return value["bytesValue"]
    if "arrayValue" in value:
        return [any_value(v) for v in _list(value["arrayValue"], "values")]
    if "kvlistValue" in value:
        return attributes(_list(value["kvlistValue"], "values"))
    return None


def _list(obj: Any, key: str) -> list[Any]:
    """`obj[key]` where obj is an object and that is a list; else nothing (a field of the wrong
    type reads as absent)."""
    v = obj.get(key) if isinstance(obj, dict) else None
    return v if isinstance(v, list) else []


def attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {
        a["key"]: any_value(a.get("value"))
        for a in items
        if isinstance(a, dict) and isinstance(a.get("key"), str)
    }


def _nanos(value: Any) -> int:
    """Nanoseconds arrive as strings and must never pass through a float (it loses them); zero
    times are omitted by Jaeger v2. OTLP times are uint64: anything else is no time (0)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, str) and value.isdecimal() and len(value) <= 20:
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < _UINT64 else 0


def _otlp_span(s: Any) -> Span:
    if not isinstance(s, dict):
        raise DataError("a span is not an object")
    span_id = hex_id(s.get("spanId"))
    if span_id is None:
        raise DataError("a span has no spanId")
    try:
        parent = hex_id(s.get("parentSpanId"))
    except DataError:
        parent = None
    name = s.get("name")
    return Span(
        span_id=span_id,
        parent_id=parent,
        name=name if isinstance(name, str) else "",
        start_ns=_nanos(s.get("startTimeUnixNano")),
        end_ns=_nanos(s.get("endTimeUnixNano")),
        attributes=attributes(s.get("attributes")),
    )


def _otlp_spans(body: dict[str, Any]) -> list[Span]:
    resource_spans = body["resourceSpans"]
    if not isinstance(resource_spans, list):
        raise DataError("`resourceSpans` is not a list")
    out: list[Span] = []
    for rs in resource_spans:
        if not isinstance(rs, dict):
            raise DataError("a resourceSpans entry is not an object")
        # Jaeger ≤ 1.49 speaks pre-1.0 OTLP: instrumentationLibrarySpans.
        scopes = rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []
        for scope in scopes if isinstance(scopes, list) else []:
            out.extend(_otlp_span(s) for s in _list(scope, "spans"))
    return out


def _tag_value(tag: dict[str, Any]) -> Any:
    value = tag.get("value")
    kind = tag.get("type")
    if kind == "int64":
        return _int(value)  # past 2^53 Jaeger emits it as a string
    if kind == "float64":
        return _float(value)
    return value


def _legacy_parent(span: dict[str, Any]) -> str | None:
    """Jaeger's rule: the first CHILD_OF reference within the same trace, else the first one."""
    refs = [r for r in _list(span, "references") if isinstance(r, dict)]
    same = [r for r in refs if r.get("traceID") == span.get("traceID")]
    for r in [*(r for r in same if r.get("refType") == "CHILD_OF"), *same, *refs]:
        return hex_id(r.get("spanID"))
    return None


def _legacy_span(s: Any) -> Span:
    if not isinstance(s, dict):
        raise DataError("a span is not an object")
    span_id = hex_id(s.get("spanID"))
    if span_id is None:
        raise DataError("a span has no spanID")
    start_us = _int(s.get("startTime")) or 0
    duration_us = _int(s.get("duration")) or 0
    tags = [t for t in _list(s, "tags") if isinstance(t, dict) and isinstance(t.get("key"), str)]
    name = s.get("operationName")
    return Span(
        span_id=span_id,
        parent_id=_legacy_parent(s),
        name=name if isinstance(name, str) else "",
        start_ns=_nanos(start_us * 1000),
        end_ns=_nanos((start_us + duration_us) * 1000),
        attributes={t["key"]: _tag_value(t) for t in tags},
    )


def _legacy_spans(traces: list[Any]) -> list[Span]:
    out: list[Span] = []
    for t in traces:
        if not isinstance(t, dict) or not isinstance(t.get("spans"), list):
            raise DataError("a legacy trace has no `spans` list")
        out.extend(_legacy_span(s) for s in t["spans"])
    return out


def parse_trace(body: Any) -> list[Span]:
    """Any Jaeger trace body → spans sorted by start: OTLP `{resourceSpans}` in its three
    dialects (with or without api_v3's `result` wrapper) or the legacy `/api/traces` shape
    (`{data: [trace]}` or one bare trace). Exact duplicates are dropped."""
    if isinstance(body, dict) and isinstance(body.get("result"), dict):
        body = body["result"]
    if not isinstance(body, dict):
        raise DataError("a trace body is not an object")
    if "resourceSpans" in body:
        spans = _otlp_spans(body)
    elif isinstance(body.get("data"), list):
        spans = _legacy_spans(body["data"])
    elif isinstance(body.get("spans"), list):
        spans = _legacy_spans([body])
    else:
        raise DataError("not a Jaeger trace (no resourceSpans, data or spans)")
    seen: set[tuple[str, str, int, int]] = set()
    unique = []
    for s in spans:
        key = (s.span_id, s.name, s.start_ns, s.end_ns)
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return sorted(unique, key=lambda s: s.start_ns)


# --- the adapter ---------------------------------------------------------------------------


def filter_value(query: CallQuery) -> str | None:
    """The `filter` to send for a --from/--to prefix, or None.

    The server pastes `filter` unescaped into an InfluxQL regex, `/.*${filter}.*/`, and also
    compares it to call_sid: a leading `+` makes the regex invalid (a 500) and any other
    metacharacter changes its meaning. Rather than escape (how jambonz's string interpolation and
    InfluxQL's regex literal treat backslashes is unverified), we send the longest run of plain
    characters of the number: every call whose number starts with the prefix contains that run,
    so nothing that matches is lost, and query.matches() refines the rest locally.
    """
    runs = [
        m.group(0)
        for n in (query.from_, query.to)
        if n
        for m in _FILTER_SAFE.finditer(number_key(n))
    ]
    return max(runs, key=len) if runs else None


def _answered_param(query: CallQuery) -> str | None:
    """`answered` filters on the CDR's bool, which maps onto outcomes exactly."""
    if not query.outcomes:
        return None
    if query.outcomes == {Outcome.ANSWERED}:
        return "true"
    return "false" if Outcome.ANSWERED not in query.outcomes else None


def iso_ms(t: datetime) -> str:
    """The form the jambonz webapp sends (`dayjs().toISOString()`)."""
    u = t.astimezone(timezone.utc)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"


class Jambonz(Provider[JambonzAccount]):
    name = NAME
    ACCOUNT = JambonzAccount
    CONFIG_EXAMPLE = """\
# [accounts.jambonz]
# provider = "jambonz"
# base_url = "https://api.jambonz.cloud"
# account_sid = "..."             # or service_provider_sid = "..."
# api_key_env = "JAMBONZ_API_KEY"
"""
    FLOW_VIEW = "waterfall"
    FLOW_TITLE = "Trace"
    PCAP = True
    CURL_AUTH = ("-H", "Authorization: Bearer {api_key}")
    CURL_VARS = {"api_key": "JAMBONZ_API_KEY"}
    HINTS = JambonzHints()
    # `days` is left out on purpose: when present the server ignores start/end, and
    # start/end say the same more precisely. CallQuery has no trunk, so `trunk` is never sent.
    PARAMS = frozenset({"page", "count", "start", "end", "answered", "direction", "filter"})
    DEFAULT_BASE_URL = "https://api.jambonz.cloud"
    # jambonz documents no rate limit; this is a polite default.
    DEFAULT_RATE = RateLimit(10, 1.0)
    DEFAULT_PAGE_SIZE = 500
    MAX_PAGE_SIZE = 500
    # Route errors say {"msg"}; the auth middleware says {"status":"fail","message"}.
    ERROR_KEYS: ClassVar[tuple[str, ...]] = ("msg", "message")

    def __init__(self, account: JambonzAccount, http: HttpClient) -> None:
        super().__init__(account, http)
        # The millisecond of attempt of listed calls whose id is no call_sid, by id: no
        # `filter` reaches them, so without it a drill-down scans pages. Only an int per call,
        # never the Call: a listing of a week holds tens of thousands of records per account,
        # which the store keeps compactly, and copies kept here were megabytes each.
        self._attempted_ms: dict[str, int] = {}

    @classmethod
    def auth(cls, account: JambonzAccount) -> tuple[httpx.Auth | None, dict[str, str]]:
        return _Bearer(account.api_key), {}

    @property
    def base_path(self) -> str:
        """Both mounts serve the same routes; an account-scope key can use only the first."""
        if self.account.account_sid:
            return f"/v1/Accounts/{segment(self.account.account_sid)}/RecentCalls"
        sp = self.account.service_provider_sid or ""
        return f"/v1/ServiceProviders/{segment(sp)}/RecentCalls"

    def list_params(self, query: CallQuery) -> dict[str, Any]:
        params: dict[str, Any] = {
            "start": iso_ms(query.since),
            "end": iso_ms(query.until) if query.until else None,
            "answered": _answered_param(query),
            "direction": query.direction,
            "filter": filter_value(query),
        }
        return {k: v for k, v in params.items() if v is not None}

    def parse_list(self, body: Any) -> list[Call]:
        return self._parse_page(body)[0]

    def _parse_page(self, body: Any) -> tuple[list[Call], int]:
        return parse_envelope(body, self.account.name, self.account.zone())

    async def _page(self, params: dict[str, Any]) -> tuple[list[Call], int]:
        try:
            calls, total = await self.http.get_json(self.base_path, params, self._parse_page)
        except DataError as e:
            raise self.bad(e, self.base_path) from None
        known = self._attempted_ms
        for c in calls:
            if c.started_at is not None and not _UUID.fullmatch(c.id):
                known.pop(c.id, None)  # last seen last, so the oldest is dropped first
                known[c.id] = (c.started_at - _EPOCH) // _MS
        if len(known) > 2 * _KNOWN_CALLS:
            self._attempted_ms = dict(list(known.items())[-_KNOWN_CALLS:])
        return calls, total

    async def pages(self, query: CallQuery, first: int | None = None) -> AsyncIterator[Page]:
        """`page` from 1 with `count` rows, ORDER BY time DESC. Offset paging over a live
        store shifts when calls land between requests, so rows seen already are dropped."""
        base = self.list_params(query)
        seen: set[tuple[str, datetime | None]] = set()
        watermark = query.until or _FAR_FUTURE
        offset = 0
        for number, size in enumerate(page_sizes(self.page_size, first), 1):
            params = {**base, "page": offset // size + 1, "count": size}
            calls, total = await self._page(params)
            fresh = [c for c in calls if (c.id, c.started_at) not in seen]
            seen.update((c.id, c.started_at) for c in calls)
            times = [c.started_at for c in calls if c.started_at is not None]
            watermark = min(times, default=watermark)
            offset += size
            done = len(calls) < size or (total >= 0 and offset >= total) or watermark < query.since
            if not (done or fresh):
                raise self.repeated(number)
            yield Page(fresh, None if done else watermark, (self.base_path, params))
            if done:
                return

    async def detail(self, call_id: str) -> CallDetail:
        call = await self._find(call_id)
        extra: dict[str, Any] = {"trace_id": call.raw.get("trace_id")}
        recordings = []
        recording = _str(call.raw.get("recording_url"))
        if recording:
            # A relative API path, `/Accounts/...` as sbc-inbound writes it; the webapp prefixes
            # its API base the same way.
            url = recording if recording.startswith("http") else self._api_url(recording)
            recordings.append({"url": url})
        trace_id = trace_id_of(call)
        spans = await self.trace(trace_id) if trace_id else None
        if trace_id and spans is None:
            extra["trace_error"] = "Jaeger holds no trace for this call"
        return CallDetail(call=call, spans=spans, recordings=recordings, extra=extra)

    def _api_url(self, path: str) -> str:
        try:
            return self.http.url_for("/v1" + path)
        except RefusedError:  # a path no URL can hold (a line break): shown as the server sent it
            return path

    async def _find(self, call_id: str) -> Call:
        """A call by call_sid (the server's `filter` also matches call_sid exactly), else by
        sip_callid, which no filter reaches: failed inbound calls have no call_sid (it is set on
        answer), so their id is the Call-ID: one listed before is asked for by its millisecond of
        attempt, any other is looked for in the pages, newest first."""
        ms = self._attempted_ms.get(call_id)
        if ms is not None:
            at = _EPOCH + ms * _MS
            calls, _ = await self._page({"page": 1, "count": 25, **_ms_window(at)})
            for c in calls:
                if c.id == call_id:
                    return c
        if _UUID.fullmatch(call_id):
            calls, _ = await self._page({"page": 1, "count": 25, "filter": call_id})
            for c in calls:
                if c.raw.get("call_sid") == call_id:
                    return c
        for page in range(1, _SCAN_PAGES + 1):
            calls, total = await self._page({"page": page, "count": self.page_size})
            for c in calls:
                if call_id in (c.id, c.sip_call_id):
                    return c
            if len(calls) < self.page_size or page * self.page_size >= total:
                break
        raise NotFoundError(self.http.account, f"no call {quoted(call_id)} among the recent calls")

    async def trace(self, trace_id: str) -> list[Span] | None:
        """The spans of a trace, or None when Jaeger has nothing (the server then answers a
        plain 404 whatever went wrong)."""
        path = f"{self.base_path}/trace/{segment(trace_id)}"
        try:
            body = await self.http.get_json(path)
        except NotFoundError:
            return None
        try:
            return parse_trace(body)
        except DataError as e:
            raise self.bad(e, path) from None

    async def pcap(self, sip_callid: str) -> bytes:
        """The call's SIP capture from Homer: `{sip_callid}/invite/pcap`, not the documented
        `{CallId}/pcap`, which matches no route."""
        path = f"{self.base_path}/{segment(sip_callid)}/invite/pcap"
        resp = await self.http.get(path)
        body = resp.content
        if body[:4] not in (*_PCAP_MAGICS, _PCAPNG_MAGIC):
            raise self.bad(DataError("the body is not a pcap capture"), path)
        return body

    def request_for(self, call: Call) -> tuple[str, dict[str, Any]]:
        """The list request that finds this call: by call_sid where it has one, else the
        millisecond of its attempt (Influx compares `time` inclusively on both ends)."""
        call_sid = call.raw.get("call_sid")
        if isinstance(call_sid, str) and call_sid:
            return self.base_path, {"page": 1, "count": 25, "filter": call_sid}
        params: dict[str, Any] = {"page": 1, "count": 25}
        if call.started_at is not None:
            params |= _ms_window(call.started_at)
        return self.base_path, params


def _ms_window(t: datetime) -> dict[str, str]:
    """`start`/`end` around the millisecond of `t` (Influx compares `time` inclusively on both
    ends)."""
    ms = t.replace(microsecond=t.microsecond // 1000 * 1000)
    return {"start": iso_ms(ms), "end": iso_ms(ms + _MS)}


PROVIDER = Jambonz
