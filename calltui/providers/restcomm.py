"""Restcomm Connect: `GET /2012-04-24/Accounts/{AccountSid}/Calls.json` and the drill-down.

What the server really does, as Restcomm-Connect's own code (CallsEndpoint and its converters)
has it; the parts that shape this adapter:
- Always the `.json` form: without it the server answers XML to httpx's default Accept (its
  AcceptFilter forces JSON only for a `.json` path).
- Offset paging with `Page` (from 0) and `PageSize`. The navigation URIs drop the filters, the
  sort and the `/restcomm` prefix, so page URLs are built here; `num_pages` is the last page
  index and an exact multiple of the page size leaves a phantom empty page, so `total` decides
  when to stop.
- `StartTime`/`EndTime` are dates; `EndTime` also drops every call without an end time (live,
  busy and failed calls), so it is never sent for a listing; `From`/`To` are suffix `LIKE`
  matches. Everything is refined locally by CallQuery.matches.
- Keys are absent rather than null (Gson without serializeNulls), `"null"` strings stand for
  null, `date_created` is RFC 2822 while `start_time` is ISO 8601, and `status` comes in two
  spellings (the interpreter's `in-progress`, the telephony code's `IN_PROGRESS`).
- Errors mostly come with an empty body: messages are written here.
"""

from __future__ import annotations

import email.utils
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import httpx
from pydantic import SecretStr

from calltui.config import AccountBase
from calltui.hints import PARENT, Hints
from calltui.http import ProviderError, RateLimit
from calltui.model import Call, CallDetail, CallQuery, Outcome, number_key
from calltui.outcome import Evidence, decide
from calltui.providers.base import DataError, Page, Provider, page_sizes, quoted, segment
from calltui.providers.coerce import in_utc, iso_time, seconds
from calltui.providers.coerce import integer as _int
from calltui.providers.coerce import text as _text

NAME = "restcomm"
API = "2012-04-24"

LIVE = frozenset({"queued", "ringing", "in-progress", "wait-for-answer"})
FINAL = frozenset({"completed", "busy", "no-answer", "canceled", "failed", "not-found"})


def outcome_of(status: str | None) -> Outcome:
    """The one outcome rule (calltui.outcome) over a Restcomm status: queued, ringing,
    in-progress and wait-for-answer are live, completed is answered, the others (busy,
    no-answer, canceled, failed, not-found) the provider's words."""
    if status not in LIVE | FINAL:
        return Outcome.UNKNOWN  # a status no Restcomm documents: nothing says how it ended
    return decide(Evidence(live=status in LIVE, answered=status == "completed", word=status))


DIRECTIONS = {
    "inbound": "inbound",
    "outbound-api": "outbound",
    "outbound-dial": "outbound",
    # Written by the telephony code though undocumented.
    "outbound": "outbound",
}
# The list is sorted by `date_created`, but records are placed by `start_time`, which recorded
# traffic shows up to a second later (fixtures/restcomm). A generous margin keeps the watermark
# a true bound for a server that sets start_time a little later still.
START_AFTER_CREATED = timedelta(seconds=60)
NO_BOUND = datetime.max.replace(tzinfo=timezone.utc)
NOTIFICATION_PAGE_SIZE = 1000


# --- pure parsers ---------------------------------------------------------------------------


def rfc2822_time(v: Any, zone: tzinfo = timezone.utc) -> datetime | None:
    """`date_created`/`date_updated`: `Tue, 6 Jun 2017 11:11:26 +0000`, day not zero-padded."""
    s = _text(v)
    if s is None:
        return None
    try:
        return in_utc(email.utils.parsedate_to_datetime(s), zone)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def normal_status(v: Any) -> str | None:
    """`BUSY`, `IN_PROGRESS` (telephony) and `busy`, `in-progress` (interpreter) are one."""
    s = _text(v)
    return s.strip().lower().replace("_", "-") if s else None


def parse_call(raw: Any, account: str, zone: tzinfo = timezone.utc) -> Call:
    """One call object (CallDetailRecordConverter) → the normalized record."""
    if not isinstance(raw, dict):
        raise DataError(f"a call is a {type(raw).__name__}, not an object")
    sid = _text(raw.get("sid"))
    if sid is None:
        raise DataError("a call without its sid")
    status = normal_status(raw.get("status"))
    # A call not yet started has no start_time: its creation is when it began.
    started = iso_time(raw.get("start_time"), zone) or rfc2822_time(raw.get("date_created"), zone)
    return Call(
        provider=NAME,
        account=account,
        id=sid,
        started_at=started,
        outcome=outcome_of(status),
        raw=raw,
        parent_id=_text(raw.get("parent_call_sid")),
        from_=_text(raw.get("from")),
        to=_text(raw.get("to")),
        direction=DIRECTIONS.get(normal_status(raw.get("direction")) or ""),
        ended_at=iso_time(raw.get("end_time"), zone),
        duration_s=seconds(raw.get("duration")),
        cause=_text(raw.get("status")),
    )


@dataclass(slots=True)
class ListPage:
    """One page of a Restcomm list envelope."""

    items: list[Any]
    total: int | None

    def is_last(self, page: int, size: int) -> bool:
        """Short or empty, or `total` says nothing follows: the phantom page left by an exact
        multiple of the page size (`num_pages` is `total // PageSize`) is never fetched."""
        if len(self.items) < size:
            return True
        return self.total is not None and (page + 1) * size >= self.total


def parse_envelope(body: Any, key: str) -> ListPage:
    """`{page, num_pages, page_size, total, start, end, *_uri, <key>: [...]}`; the paging keys
    may all be absent (the converter omits them all when the page or total is null)."""
    if not isinstance(body, dict):
        raise DataError(f"a list is a {type(body).__name__}, not an object")
    items = body.get(key)
    if not isinstance(items, list):
        raise DataError(f"no {key!r} list in the response")
    return ListPage(items, _int(body.get("total")))


def parse_calls(body: Any, account: str, zone: tzinfo = timezone.utc) -> list[Call]:
    return parse_page(body, account, zone)[1]


def parse_page(body: Any, account: str, zone: tzinfo = timezone.utc) -> tuple[ListPage, list[Call]]:
    """A page of the call list: its envelope (for the paging) and its records."""
    listing = parse_envelope(body, "calls")
    return listing, [parse_call(raw, account, zone) for raw in listing.items]


def created_at(call: Call, zone: tzinfo = timezone.utc) -> datetime | None:
    """The sort key of the list: `date_created` (RFC 2822), else the record's start."""
    return rfc2822_time(call.raw.get("date_created"), zone) or call.started_at


def parse_recordings(body: Any) -> list[dict[str, Any]]:
    """`Calls/{sid}/Recordings.json` is a bare array; a paged envelope is read too."""
    items = parse_envelope(body, "recordings").items if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise DataError(f"recordings are a {type(items).__name__}, not a list")
    return [_with_sid(r, "recording") for r in items]


def parse_notifications(body: Any) -> ListPage:
    page = parse_envelope(body, "notifications")
    page.items = [_with_sid(n, "notification") for n in page.items]
    return page


def _with_sid(item: Any, what: str) -> dict[str, Any]:
    if not isinstance(item, dict) or _text(item.get("sid")) is None:
        raise DataError(f"a {what} without its sid")
    return item


def explain(call: Call, notifications: list[dict[str, Any]]) -> str | None:
    """A failed call's cause as the interpreter logged it: errors (log 0) before warnings."""
    if not call.failed:
        return None
    ranked = sorted(notifications, key=lambda n: _int(n.get("log")) != 0)
    for n in ranked:
        text = _text(n.get("message_text"))
        code = _int(n.get("error_code"))
        if text or code is not None:
            head = f"Restcomm error {code}" if code is not None else "Restcomm"
            return f"{head}: {text}" if text else head
    return None


# --- the adapter ----------------------------------------------------------------------------


class RestcommAccount(AccountBase):
    CREDENTIAL_IDS = ("account_sid",)
    account_sid: str
    auth_token: SecretStr


class RestcommHints(Hints):
    """`parent_call_sid` (the record's parent_id) names the call an `outbound-dial` leg was
    dialed from, on the same account."""

    def relations(self, call: Call, cand: Call) -> list[tuple[float, str]]:
        if not (call.provider == cand.provider == NAME and call.account == cand.account):
            return []
        if call.parent_id and call.parent_id == cand.id:
            return [(PARENT, "its parent call (parent_call_sid)")]
        if cand.parent_id and cand.parent_id == call.id:
            return [(PARENT, "a call it spawned (parent_call_sid)")]
        return []


class RestcommProvider(Provider[RestcommAccount]):
    name = NAME
    ACCOUNT = RestcommAccount
    CONFIG_EXAMPLE = """\
# [accounts.restcomm-lab]
# provider = "restcomm"
# base_url = "https://restcomm.example.net/restcomm"
# account_sid = "AC..."
# auth_token_env = "RESTCOMM_TOKEN"
"""
    FLOW_VIEW = "items"
    FLOW_TITLE = "Recordings & notifications"
    CURL_AUTH = ("-u", "{account_sid}:{auth_token}")
    CURL_VARS = {"account_sid": "RESTCOMM_ACCOUNT_SID", "auth_token": "RESTCOMM_AUTH_TOKEN"}
    HINTS = RestcommHints()
    PARAMS = frozenset({"Page", "PageSize", "SortBy", "StartTime", "EndTime", "From", "To"})
    DEFAULT_BASE_URL = None
    # Restcomm's REST layer has no rate limit (it never answers 429): be polite to a self-hosted
    # server.
    DEFAULT_RATE = RateLimit(10, 1.0)
    DEFAULT_PAGE_SIZE = 100
    # CallsEndpoint caps no PageSize; bound the size of one response.
    MAX_PAGE_SIZE = 1000
    ERROR_KEYS = ("message", "error")

    @classmethod
    def auth(cls, account: RestcommAccount) -> tuple[httpx.Auth | None, dict[str, str]]:
        return httpx.BasicAuth(account.account_sid, account.auth_token.get_secret_value()), {}

    @property
    def _root(self) -> str:
        return f"/{API}/Accounts/{segment(self.account.account_sid)}"

    def _call_path(self, sid: str, sub: str = "") -> str:
        return f"{self._root}/Calls/{segment(sid)}{sub}.json"

    def list_params(self, query: CallQuery) -> dict[str, Any]:
        """What the server can filter, always a superset of what the query matches."""
        zone = self.account.zone()
        params: dict[str, Any] = {
            # Honoured since SortBy exists; newest first is what the engine merges.
            "SortBy": "DateCreated:desc",
            # A date (the server ignores any time part), read in the server's zone: the day of
            # `since` holds it.
            "StartTime": query.since.astimezone(zone).date().isoformat(),
        }
        for param, value in (("From", query.from_), ("To", query.to)):
            key = number_key(value)
            if key:
                # The server matches `LIKE '%' + value`; a trailing `%` turns that into
                # "contains", which every number starting with `key` satisfies.
                params[param] = key + "%"
        return params

    async def pages(self, query: CallQuery, first: int | None = None) -> AsyncIterator[Page]:
        path = f"{self._root}/Calls.json"
        base = self.list_params(query)
        seen: set[str] = set()
        mark = NO_BOUND
        offset = 0
        for number, size in enumerate(page_sizes(self.page_size, first), 1):
            page = offset // size
            params = {**base, "Page": page, "PageSize": size}
            try:
                listing, calls = await self._get_json(
                    path, params, "the call list", self._parse_page
                )
            except DataError as e:
                raise self.bad(e, path) from None
            mark = self._watermark(calls, mark)
            done = listing.is_last(page, size) or mark < query.since
            # Offset paging (the server ignores AfterSid) shifts as calls arrive: a record may
            # come round again.
            fresh = [c for c in calls if c.id not in seen]
            seen.update(c.id for c in fresh)
            if not (done or fresh):
                raise self.repeated(number)
            yield Page(fresh, None if done else mark, (path, params))
            if done:
                return
            offset += size

    def _watermark(self, calls: list[Call], previous: datetime) -> datetime:
        """Later pages hold calls created no later than this page's last; they may have started
        up to START_AFTER_CREATED after their creation."""
        times = [t for t in (created_at(c, self.account.zone()) for c in calls) if t]
        return min(times) + START_AFTER_CREATED if times else previous

    def parse_list(self, body: Any) -> list[Call]:
        return parse_calls(body, self.account.name, self.account.zone())

    def _parse_page(self, body: Any) -> tuple[ListPage, list[Call]]:
        return parse_page(body, self.account.name, self.account.zone())

    async def fetch_page(self, request: tuple[str, dict[str, Any]]) -> list[Call]:
        path, params = request
        try:
            return await self._get_json(path, params, "the call list", self.parse_list)
        except DataError as e:
            raise self.bad(e, path) from None

    def request_for(self, call: Call) -> tuple[str, dict[str, Any]]:
        return self._call_path(call.id), {}

    async def detail(self, call_id: str) -> CallDetail:
        path = self._call_path(call_id)
        body = await self._get_json(path, {}, f"call {quoted(call_id)}")
        try:
            call = parse_call(body, self.account.name, self.account.zone())
        except DataError as e:
            raise self.bad(e, path) from None
        self.check_same_call(call_id, call, path)
        recordings = await self._recordings(call_id)
        notifications = await self._notifications(call)
        return CallDetail(
            call=call,
            recordings=recordings,
            notifications=notifications,
            explanation=explain(call, notifications),
        )

    async def _recordings(self, call_id: str) -> list[dict[str, Any]]:
        path = self._call_path(call_id, "/Recordings")
        body = await self._get_json(path, {}, f"the recordings of call {quoted(call_id)}")
        try:
            return parse_recordings(body)
        except DataError as e:
            raise self.bad(e, path) from None

    def notification_params(self, call: Call) -> dict[str, Any]:
        """The days the call's notifications can fall on. The list has no CallSid filter and
        the call's own Notifications subresource has no route on the server."""
        zone = self.account.zone()
        params: dict[str, Any] = {"PageSize": NOTIFICATION_PAGE_SIZE}
        if call.started_at is not None:
            params["StartTime"] = call.started_at.astimezone(zone).date().isoformat()
        if call.ended_at is not None:
            # Late notifications (a status callback after hang-up) may fall on the next day.
            last_day = call.ended_at.astimezone(zone).date() + timedelta(days=1)
            params["EndTime"] = last_day.isoformat()
        return params

    async def _notifications(self, call: Call) -> list[dict[str, Any]]:
        path = f"{self._root}/Notifications.json"
        base = self.notification_params(call)
        found: list[dict[str, Any]] = []
        seen: set[Any] = set()
        for page in range(self.account.max_pages):
            params = {**base, "Page": page}
            body = await self._get_json(path, params, "the notifications")
            try:
                listing = parse_notifications(body)
            except DataError as e:
                raise self.bad(e, path) from None
            new = [n for n in listing.items if n["sid"] not in seen]
            seen.update(n["sid"] for n in new)
            found.extend(n for n in new if n.get("call_sid") == call.id)
            # A page with nothing new: the server ignores Page, and would send it forever.
            if listing.is_last(page, NOTIFICATION_PAGE_SIZE) or not new:
                break
        return found

    async def _get_json(
        self,
        path: str,
        params: dict[str, Any],
        what: str,
        parse: Callable[[Any], Any] | None = None,
    ) -> Any:
        try:
            return await self.http.get_json(path, params, parse)
        except ProviderError as e:
            raise clarify(e, what) from None


def clarify(e: ProviderError, what: str) -> ProviderError:
    """Restcomm answers 400, 401, 403 and 404 with no body: say what they mean."""
    bare = e.message in ("", "no reason given", httpx.codes.get_reason_phrase(e.status or 0))
    if not bare or e.status is None:
        return e
    message = {
        400: f"the server refused the request for {what} (a bad page number or date)",
        401: "the server refused the credentials: check account_sid and auth_token",
        403: f"this account may not read {what} (forbidden, or the account is closed)",
        404: f"{what} not found (or base_url lacks the /restcomm prefix)",
    }.get(e.status)
    return e if message is None else type(e)(e.account, message, status=e.status, url=e.url)


PROVIDER = RestcommProvider
