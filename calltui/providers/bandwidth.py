"""Bandwidth Catapult v1 (Bandwidth's ap-docs, and its official SDKs where the docs are silent).

- `GET /v1/users/{userId}/calls?page=&size=&sortOrder=desc`: a bare array sorted by startTime,
  newest first, so a page's oldest start is its watermark and paging stops at --since.
- The next page is the `Link rel="next"` URL, relative or absolute, resolved against the request;
  with no Link header, the next `page` number until a short page.
- `from`/`to` are never sent: whether the server matches a prefix is UNVERIFIED (no doc or SDK
  says), and an exact-match server would drop calls that the --from/--to prefix matches.
  `fromDateTime`/`toDateTime` are not documented for calls: the time window is refined locally
  too.
- The call record has no hangup cause: the drill-down takes it from the `hangup` event.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import httpx
from pydantic import SecretStr

from calltui.analysis import q850
from calltui.config import AccountBase
from calltui.hints import Hints
from calltui.http import BadResponseError, RateLimit
from calltui.model import Call, CallDetail, CallQuery, Event, Outcome
from calltui.outcome import Evidence, decide
from calltui.providers.base import DataError, Page, Provider, page_sizes, segment
from calltui.providers.coerce import epoch, iso_time, seconds
from calltui.providers.coerce import integer as _int
from calltui.providers.coerce import text as _text

NAME = "bandwidth"
_IN_PROGRESS = frozenset({"started", "active", "transferring"})
_DIRECTIONS = {"in": "inbound", "out": "outbound"}

# The hangup callback's documented causes (ap-docs apiCallbacks/hangup.md).
CAUSES = {
    "NORMAL_CLEARING": "Normal call clearing: the call was answered and a party hung up.",
    "ORIGINATOR_CANCEL": "The caller hung up before the call was answered.",
    "USER_BUSY": "The called party was busy.",
    "CALL_REJECTED": "The called party or its network rejected the call.",
    "UNALLOCATED_NUMBER": "The dialled number is not assigned to anyone.",
    "NO_ANSWER": "The called party was alerted but did not answer in time.",
    "NORMAL_TEMPORARY_FAILURE": "A temporary network failure; a retry may succeed.",
}
OTHER_CAUSE = "Not a documented hangup cause: Bandwidth says any other cause is an internal error."


def parse_time(v: Any, zone: tzinfo = timezone.utc) -> datetime | None:
    """ISO 8601 with or without milliseconds, or epoch milliseconds (the single-event endpoint);
    a naive time is in the account's zone, an epoch placeholder is None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return epoch(v)
    if not isinstance(v, str) or not v.strip():
        return None
    s = v.strip()
    # isdecimal, not isdigit: int() refuses "²"; integer() refuses more digits than int() reads.
    if s.isdecimal():
        return parse_time(_int(s), zone)
    return iso_time(s, zone)


def outcome_of(state: Any, answered_at: datetime | None, cause: str | None = None) -> Outcome:
    """The one outcome rule (calltui.outcome) over what a Bandwidth call says: started, active,
    transferring are live; completed with activeTime is answered, without it Bandwidth's own
    no-answer; the hangup cause, once the drill-down read it (a list record has none), is the
    provider's word: a rejected call is failed until then, USER_BUSY busy after."""
    s = state.lower() if isinstance(state, str) else ""
    ended = s in ("completed", "rejected")
    return decide(
        Evidence(
            live=s in _IN_PROGRESS,
            answered=s == "completed" and answered_at is not None,
            word=cause,
            code=Outcome.NO_ANSWER if s == "completed" and cause is None else None,
            ended=ended,
        )
    )


def parse_call(raw: Any, account: str, zone: tzinfo = timezone.utc) -> Call:
    if not isinstance(raw, dict):
        raise DataError(f"a call is a JSON object, not {type(raw).__name__}")
    cid = _text(raw.get("id"))
    if not cid:
        raise DataError("a call without an id")
    started = parse_time(raw.get("startTime"), zone)
    answered = parse_time(raw.get("activeTime"), zone)
    ended = parse_time(raw.get("endTime"), zone)
    direction = raw.get("direction")
    return Call(
        provider=NAME,
        account=account,
        id=cid,
        started_at=started,
        outcome=outcome_of(raw.get("state"), answered),
        raw=raw,
        from_=_text(raw.get("from")),
        to=_text(raw.get("to")),
        direction=_DIRECTIONS.get(direction) if isinstance(direction, str) else None,
        answered_at=answered,
        ended_at=ended,
        duration_s=_talk_seconds(answered, ended),
        billed_s=seconds(raw.get("chargeableDuration")),
    )


def _talk_seconds(answered: datetime | None, ended: datetime | None) -> int | None:
    """The record has no duration, only chargeableDuration (billed, per minute): the talk time
    is activeTime → endTime, 0 for a call that ended unanswered, None while it is up."""
    if ended is None:
        return None
    if answered is None:
        return 0
    return seconds(max(0, int((ended - answered).total_seconds())))


def parse_calls(body: Any, account: str, zone: tzinfo = timezone.utc) -> list[Call]:
    """The list body is a bare array, with no envelope."""
    if not isinstance(body, list):
        raise DataError(f"the call list is a JSON array, not {type(body).__name__}")
    return [parse_call(item, account, zone) for item in body]


def _event_data(v: Any) -> Any:
    """`data` is a string that sometimes holds JSON: decode it when it does."""
    if not isinstance(v, str):
        return v
    s = v.strip()
    if not s:
        return None
    if s[0] in "{[":
        try:
            return json.loads(s)
        except ValueError:
            return v
    return v


_NO_TIME = datetime.max.replace(tzinfo=timezone.utc)


def parse_events(body: Any, zone: tzinfo = timezone.utc) -> list[Event]:
    """Events sorted by time (the list is unsorted, even in the docs' example; `time` is ISO or
    epoch ms). Events without a time go last, in the order given."""
    if not isinstance(body, list):
        raise DataError(f"the event list is a JSON array, not {type(body).__name__}")
    events = []
    for item in body:
        if not isinstance(item, dict):
            raise DataError(f"an event is a JSON object, not {type(item).__name__}")
        name = _text(item.get("name")) or "event"
        events.append(
            Event(parse_time(item.get("time"), zone), name, _event_data(item.get("data")))
        )
    events.sort(key=lambda e: e.time or _NO_TIME)
    return events


def hangup_cause(events: list[Event]) -> str | None:
    """The cause is the `data` of the hangup event."""
    for e in reversed(events):
        if e.name.lower() == "hangup" and isinstance(e.data, str) and e.data.strip():
            return e.data.strip()
    return None


def explain(cause: str | None) -> str | None:
    if cause is None:
        return None
    return CAUSES.get(cause.upper(), OTHER_CAUSE)


class BandwidthAccount(AccountBase):
    user_id: str
    api_token: SecretStr
    api_secret: SecretStr


class BandwidthHints(Hints):
    """The hangup cause (known once the drill-down read the hangup event) is an upper-case
    FreeSWITCH name carrying its Q.850 value; CAUSES explains it."""

    def q850(self, call: Call) -> int | None:
        return q850.by_name(call.cause)

    def hangup_party(
        self, call: Call, detail: CallDetail | None, events: list[Event]
    ) -> str | None:
        return "caller" if (call.cause or "").upper() == "ORIGINATOR_CANCEL" else None

    def reason(self, call: Call, detail: CallDetail | None) -> str | None:
        if detail is not None and detail.explanation:
            return f"{call.cause}: {detail.explanation}" if call.cause else detail.explanation
        return call.cause


class Bandwidth(Provider[BandwidthAccount]):
    name = NAME
    ACCOUNT = BandwidthAccount
    CONFIG_EXAMPLE = """\
# [accounts.bw]
# provider = "bandwidth"
# user_id = "u-abc123"
# api_token_env = "BW_API_TOKEN"
# api_secret_cmd = "pass show bandwidth/secret"
"""
    FLOW_VIEW = "events"
    FLOW_TITLE = "Events"
    CURL_AUTH = ("-u", "{api_token}:{api_secret}")
    CURL_VARS = {"api_token": "BANDWIDTH_API_TOKEN", "api_secret": "BANDWIDTH_API_SECRET"}
    HINTS = BandwidthHints()
    PARAMS = frozenset({"page", "size", "sortOrder"})
    DEFAULT_BASE_URL = "https://api.catapult.inetwork.com"
    DEFAULT_RATE = RateLimit(1, 1.0)
    """`/calls` GET: 1 request per 1000 ms."""
    DEFAULT_PAGE_SIZE = 1000
    MAX_PAGE_SIZE = 1000
    ERROR_KEYS = ("message", "code", "category")
    """The 429 body has no `message`: its `code` says what happened."""

    @classmethod
    def auth(cls, account: BandwidthAccount) -> tuple[httpx.Auth | None, dict[str, str]]:
        token, secret = account.api_token.get_secret_value(), account.api_secret.get_secret_value()
        return httpx.BasicAuth(token, secret), {}

    def _calls_path(self) -> str:
        return f"/v1/users/{segment(self.account.user_id)}/calls"

    def _call_path(self, call_id: str) -> str:
        return f"{self._calls_path()}/{segment(call_id)}"

    def parse_list(self, body: Any) -> list[Call]:
        return parse_calls(body, self.account.name, self.account.zone())

    async def pages(self, query: CallQuery, first: int | None = None) -> AsyncIterator[Page]:
        sizes = page_sizes(self.page_size, first)
        size = next(sizes)
        request: tuple[str, dict[str, Any]] = (
            self._calls_path(),
            {"page": "0", "size": str(size), "sortOrder": "desc"},
        )
        # Only a page whose records all lack startTime keeps this bound: no call starts later.
        watermark = query.until or datetime.now(timezone.utc) + timedelta(days=1)
        offset = 0
        seen: set[str] = set()
        for number in itertools.count(1):
            path, params = request
            resp = await self.http.get(path, params)
            try:
                records = await self.http.read_json(resp, self.parse_list)
            except DataError as e:
                raise self.bad(e, path) from None
            fresh = [c for c in records if c.id not in seen]
            seen.update(c.id for c in fresh)
            starts = [c.started_at for c in records if c.started_at is not None]
            watermark = min(starts, default=watermark)
            offset += len(records)
            # Sorted by startTime descending: once a page reaches past --since, no later one
            # can hold a call that started at or after it.
            crossed = not records or watermark < query.since
            nxt, refused = None, None
            if not crossed:
                try:
                    nxt = self._next_request(resp, path, params, len(records))
                except BadResponseError as e:  # the page is good: kept, then the link refused
                    refused = e
            if nxt is not None and not fresh:
                raise self.repeated(number)
            if nxt is not None and len(records) == size and (grown := next(sizes)) != size:
                # Still ramping up (page_sizes): the link is to a page of the old size.
                size = grown
                nxt = path, {**params, "page": str(offset // size), "size": str(size)}
            yield Page(fresh, None if nxt is None else watermark, request)
            if refused is not None:
                raise refused
            if nxt is None:
                return
            if nxt == request:
                raise self.bad(DataError("the next-page link repeats this page"), path)
            request = nxt

    def _next_request(
        self, resp: httpx.Response, path: str, params: dict[str, Any], count: int
    ) -> tuple[str, dict[str, Any]] | None:
        """Link rel="next" if given; else the next page number unless this page was short."""
        link = resp.links.get("next", {}).get("url")
        if link:
            try:
                url = resp.request.url.join(link)
            except httpx.InvalidURL:
                raise self.bad(DataError("the next-page link is no URL"), path) from None
            return self._resolve(url, path)
        size, page = _int(params.get("size")), _int(params.get("page"))
        if size is None or page is None or count < size:
            return None
        return path, {**params, "page": str(page + 1)}

    def _resolve(self, url: httpx.URL, path: str) -> tuple[str, dict[str, Any]]:
        """A next link as a request for the same list under the account's base URL: a link
        elsewhere (credentials go with every request) or one carrying parameters calltui never
        sends is refused."""
        base = httpx.URL((self.account.base_url or self.default_base_url(self.account) or "") + "/")
        same_list = (url.scheme, url.host, url.port, url.path) == (
            base.scheme,
            base.host,
            base.port,
            base.path.rstrip("/") + path,
        )
        if not same_list:
            raise self.bad(DataError("the next-page link points outside this call list"), path)
        params = dict(url.params)
        unknown = sorted(set(params) - self.PARAMS)
        if unknown:
            raise self.bad(DataError(f"the next-page link carries parameters {unknown}"), path)
        return path, params

    async def detail(self, call_id: str) -> CallDetail:
        path = self._call_path(call_id)
        zone = self.account.zone()
        body = await self.http.get_json(path)
        try:
            call = parse_call(body, self.account.name, zone)
        except DataError as e:
            raise self.bad(e, path) from None
        self.check_same_call(call_id, call, path)
        events_body = await self.http.get_json(path + "/events")
        try:
            events = parse_events(events_body, zone)
        except DataError as e:
            raise self.bad(e, path + "/events") from None
        call.cause = hangup_cause(events)
        call.outcome = outcome_of(body.get("state"), call.answered_at, call.cause)
        return CallDetail(
            call=call, events=events, explanation=explain(call.cause), extra=_extra(body)
        )

    def request_for(self, call: Call) -> tuple[str, dict[str, Any]]:
        return self._call_path(call.id), {}


def _extra(raw: dict[str, Any]) -> dict[str, Any]:
    """Call settings a NOC engineer asks about that the record has no column for."""
    keys = ("callTimeout", "sipHeaders", "bridgeId", "conferenceId", "recordingEnabled")
    return {k: raw[k] for k in keys if raw.get(k) is not None}


PROVIDER = Bandwidth
