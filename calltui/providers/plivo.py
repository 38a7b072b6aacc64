"""Plivo Zentrunk (SIP trunking) call records, current and legacy API.

The current API lives at api.plivo.com under `/Zentrunk/Call/` with UTC times; the legacy one at
zt.plivo.com under `/Call/`, with other field names and times in the zone set in the Plivo console
(the account's `timezone`). Both page with `limit` (at most 20) and `offset`, sorted by end time,
newest first, and filter on end time only.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from calltui.config import AccountBase
from calltui.hints import Hints
from calltui.http import HttpClient, NotFoundError, RateLimit
from calltui.model import Call, CallDetail, CallQuery, Event, Outcome, number_key
from calltui.outcome import Evidence, decide
from calltui.providers import plivo_codes
from calltui.providers.base import DataError, Page, Provider, segment
from calltui.providers.coerce import integer as _int
from calltui.providers.coerce import iso_time, seconds
from calltui.providers.coerce import text as _text
from calltui.providers.plivo_codes import RECORD_NAMES, explain

NAME = "plivo"
CURRENT_BASE_URL = "https://api.plivo.com"
LEGACY_BASE_URL = "https://zt.plivo.com"

# The longest call we allow for: Plivo documents no Zentrunk call-length cap, so this is
# an assumption (a trunk call of a day). A call that started by `until` ended by `until` + this,
# so the end-time filter is widened by it and stays bounded; a longer call would be missed.
MAX_CALL = timedelta(hours=24)
# A range of end times wider than 90 days is refused with 400, as Plivo documents.
MAX_RANGE = timedelta(days=90)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)

_OPS = ("", "__gt", "__gte", "__lt", "__lte")
_Fetched = tuple[list[Call], int | None]
_PARAMS = frozenset(
    {
        "limit",
        "offset",
        "from_number",
        "to_number",
        "call_direction",
        *(f"end_time{op}" for op in _OPS),
    }
)

_BUSY_CODES = frozenset({4410})
_CANCEL_CODES = frozenset({4420, 4550})
_ANSWER_CODES = frozenset({3000, 3010})
_DIRECTIONS = {"inbound": "inbound", "outbound": "outbound"}
_STIR = {v.lower(): v for v in ("Verified", "Not Verified", "Not Applicable")}
_MONEY_KEYS = ("rate", "total_rate", "total_amount", "secure_trunking_rate", "cnam_lookup_rate")


class PlivoAccount(AccountBase):
    CREDENTIAL_IDS = ("auth_id",)
    api: Literal["current", "legacy"] = "current"
    auth_id: str
    auth_token: SecretStr


class PlivoHints(Hints):
    """Hangup codes (providers.plivo_codes) and `hangup_source` (legacy `hangup_initiator`):
    Zentrunk sits between your infrastructure (`customer`) and the `carrier`."""

    def effective(self, call: Call) -> bool | None:
        code = call.cause_code
        return None if code is None else code in plivo_codes.BUSINESS

    def cause_label(self, call: Call) -> str | None:
        code = call.cause_code
        if code is None:
            return None
        entry = plivo_codes.lookup(code)
        name = entry.name if entry else (call.cause or "")
        return f"Plivo {code} {name}".rstrip()

    def detail_pdd_s(self, detail: CallDetail) -> float | None:
        """Insights' `post_dial_delay`, in milliseconds."""
        insights = detail.extra.get("insights")
        if not isinstance(insights, dict):
            return None
        ms = insights.get("post_dial_delay")
        if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0:
            return ms / 1000
        return None

    def hangup_party(
        self, call: Call, detail: CallDetail | None, events: list[Event]
    ) -> str | None:
        return _party(call)

    def failure_side(self, call: Call) -> str | None:
        code = call.cause_code
        if code is not None and code in plivo_codes.BUSINESS:
            return "caller" if code in (4420, 4550) else "callee"
        party = _party(call)
        if party == "provider":
            return "provider"
        source = _source(call)
        if isinstance(source, str) and source.strip().lower() == "carrier":
            return "carrier"
        return party

    def reason(self, call: Call, detail: CallDetail | None) -> str | None:
        code = call.cause_code
        entry = plivo_codes.lookup(code)
        if entry is not None:
            alias = (
                f" (recorded as {call.cause})" if call.cause and call.cause != entry.name else ""
            )
            return f"hangup {entry.code} {entry.name}{alias}: {entry.meaning}"
        if code is not None:
            return f"hangup {code} {call.cause or ''} (not in the public table)".replace("  ", " ")
        return call.cause


def _source(call: Call) -> Any:
    return call.raw.get("hangup_source", call.raw.get("hangup_initiator"))


def _party(call: Call) -> str | None:
    """`caller`, `callee` or `provider` from the hangup source: inbound calls come from the
    carrier to you, outbound ones go from you to the carrier."""
    source = _source(call)
    if not isinstance(source, str):
        return None
    s = source.strip().lower()
    if s == "zentrunk":
        return "provider"
    if s not in ("customer", "carrier") or call.direction not in ("inbound", "outbound"):
        return None
    caller_side = "carrier" if call.direction == "inbound" else "customer"
    return "caller" if s == caller_side else "callee"


class Plivo(Provider[PlivoAccount]):
    name = NAME
    ACCOUNT = PlivoAccount
    CONFIG_EXAMPLE = """\
# [accounts.plivo-prod]
# provider = "plivo"
# api = "current"                 # or "legacy" (zt.plivo.com, times in the console's zone)
# auth_id = "MAXXXXXXXXXXXXXXXXXX"
# auth_token_env = "PLIVO_AUTH_TOKEN"
"""
    FLOW_VIEW = "hangup"
    FLOW_TITLE = "Hangup & insights"
    CURL_AUTH = ("-u", "{auth_id}:{auth_token}")
    CURL_VARS = {"auth_id": "PLIVO_AUTH_ID", "auth_token": "PLIVO_AUTH_TOKEN"}
    HINTS = PlivoHints()
    PARAMS = _PARAMS
    DEFAULT_BASE_URL = CURRENT_BASE_URL
    DEFAULT_RATE = RateLimit(300, 5.0)  # 300 requests per 5 s per account
    DEFAULT_PAGE_SIZE = 20
    MAX_PAGE_SIZE = 20  # `limit` above 20 is a 400
    ERROR_KEYS = ("error", "message", "global_error")  # the server's `error` first, then `message`

    def __init__(self, account: PlivoAccount, http: HttpClient) -> None:
        super().__init__(account, http)
        self._tasks: set[asyncio.Task[_Fetched]] = set()

    @classmethod
    def default_base_url(cls, account: PlivoAccount) -> str | None:
        return LEGACY_BASE_URL if account.api == "legacy" else CURRENT_BASE_URL

    @classmethod
    def auth(cls, account: PlivoAccount) -> tuple[httpx.Auth | None, dict[str, str]]:
        token = account.auth_token.get_secret_value()
        # Scoped tokens go as a bearer token (as Plivo's own CLI sends them).
        if token.startswith("stk_"):
            return None, {"Authorization": f"Bearer {token}"}
        return httpx.BasicAuth(account.auth_id, token), {}

    @classmethod
    def curl_template(cls, account: PlivoAccount) -> tuple[str, ...]:
        if account.auth_token.get_secret_value().startswith("stk_"):
            return ("-H", "Authorization: Bearer {auth_token}")
        return cls.CURL_AUTH

    @property
    def legacy(self) -> bool:
        return self.account.api == "legacy"

    @property
    def zone(self) -> tzinfo:
        """The zone of the API's naive times: UTC, or the console's zone on the legacy API."""
        return self.account.zone() if self.legacy else timezone.utc

    def list_path(self) -> str:
        kind = "Call" if self.legacy else "Zentrunk/Call"
        return f"/v1/Account/{segment(self.account.auth_id)}/{kind}/"

    def call_path(self, call_id: str) -> str:
        return f"{self.list_path()}{segment(call_id)}/"

    def filters(self, query: CallQuery) -> dict[str, Any]:
        """The server-side filters for `query`: widened to end times, numbers without `+`."""
        params: dict[str, Any] = {
            # A call that started at or after `since` ended at or after it.
            "end_time__gte": wire_time(query.since, self.zone, up=False),
            "from_number": number_key(query.from_) or None,
            "to_number": number_key(query.to) or None,
            "call_direction": query.direction or None,
        }
        if query.until is not None:
            # An upper bound is only ever sent with the lower one above, as the API needs.
            upper = min(query.until + MAX_CALL, query.since + MAX_RANGE)
            params["end_time__lte"] = wire_time(upper, self.zone, up=True)
        return {k: v for k, v in params.items() if v}

    async def pages(self, query: CallQuery, first: int | None = None) -> AsyncIterator[Page]:
        # `first` asks nothing of Plivo: its pages hold 20 calls at most.
        path = self.list_path()
        params = {**self.filters(query), "limit": self.page_size, "offset": 0}
        records, total = await self._get(path, params)
        seen = {c.id for c in records}
        mark = _watermark(records, _FAR_FUTURE)
        done = _last(records, 0, self.page_size, total, query.since)
        yield Page(records, None if done else mark, (path, params))
        if done:
            return
        if total is None:
            async for page in self._sequential(path, params, query.since, mark, seen):
                yield page
            return
        # Later calls that end while we page would shift every offset: pin the upper bound to
        # the newest end time already listed, so the remaining pages are one stable set.
        newest = max((c.ended_at for c in records if c.ended_at), default=None)
        if newest is not None and newest - query.since <= MAX_RANGE:
            pin = wire_time(newest, self.zone, up=True)
            params["end_time__lte"] = min(params.get("end_time__lte", pin), pin)
        async for page in self._concurrent(path, params, total, query.since, mark, seen):
            yield page

    async def _concurrent(
        self,
        path: str,
        base: dict[str, Any],
        total: int,
        since: datetime,
        mark: datetime,
        seen: set[str],
    ) -> AsyncIterator[Page]:
        """Every remaining page, up to max_concurrency in flight, yielded in offset order.
        Offsets are planned lazily: a `total_count` of a billion plans nothing ahead."""
        offsets = iter(range(self.page_size, total, self.page_size))
        inflight: deque[tuple[dict[str, Any], asyncio.Task[_Fetched]]] = deque()

        def refill() -> None:
            while len(inflight) < self.http.max_concurrency:
                offset = next(offsets, None)
                if offset is None:
                    return
                params = {**base, "offset": offset}
                inflight.append((params, self._spawn(self._fetch(path, params))))

        try:
            refill()
            while inflight:
                params, task = inflight[0]
                records, _ = await _settled(task)
                inflight.popleft()
                mark = _watermark(records, mark)
                done = _last(records, params["offset"], self.page_size, total, since)
                fresh = _fresh(records, seen)
                if not (done or fresh):
                    raise self.repeated(params["offset"] // self.page_size + 1)
                yield Page(fresh, None if done else mark, (path, params))
                if done:
                    return
                refill()
        finally:
            # No await here: a consumer that drops the stream leaves it to the garbage
            # collector, and a generator finalized there must not wait on anything.
            for _, task in inflight:
                task.cancel()

    async def _get(self, path: str, params: dict[str, Any]) -> _Fetched:
        """One page, fetched in a task of its own (see `_settled`)."""
        task = self._spawn(self._fetch(path, params))
        try:
            return await _settled(task)
        finally:
            task.cancel()

    def _spawn(self, fetch: Coroutine[Any, Any, _Fetched]) -> asyncio.Task[_Fetched]:
        """A prefetch task, held here (not only by the generator's frame, which the garbage
        collector may tear down with it) until it is done; aclose() cancels what is left."""
        task = asyncio.create_task(fetch)
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[_Fetched]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # a page nobody will read: its error is not news

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().aclose()

    async def _sequential(
        self, path: str, base: dict[str, Any], since: datetime, mark: datetime, seen: set[str]
    ) -> AsyncIterator[Page]:
        """Without a total_count (a bare `meta`), page until a short or empty page."""
        offset = self.page_size
        while True:
            params = {**base, "offset": offset}
            records, _ = await self._get(path, params)
            mark = _watermark(records, mark)
            done = _last(records, offset, self.page_size, None, since)
            fresh = _fresh(records, seen)
            if not (done or fresh):
                raise self.repeated(offset // self.page_size + 1)
            yield Page(fresh, None if done else mark, (path, params))
            if done:
                return
            offset += self.page_size

    def _parse_fetched(self, body: Any) -> _Fetched:
        return self.parse_list(body), total_count(body)

    async def _fetch(self, path: str, params: dict[str, Any]) -> _Fetched:
        try:
            return await self.http.get_json(path, params, self._parse_fetched)
        except DataError as e:
            raise self.bad(e, path) from None

    def parse_list(self, body: Any) -> list[Call]:
        return parse_list(body, self.account.name, self.zone)

    def request_for(self, call: Call) -> tuple[str, dict[str, Any]]:
        return self.call_path(call.id), {}

    async def detail(self, call_id: str) -> CallDetail:
        path = self.call_path(call_id)
        body = await self.http.get_json(path)
        try:
            detail = parse_detail(body, self.account.name, self.zone)
        except DataError as e:
            raise self.bad(e, path) from None
        self.check_same_call(call_id, detail.call, path)
        if not self.legacy:
            detail.extra["insights"] = await self._insights(call_id)
        return detail

    async def _insights(self, call_id: str) -> dict[str, Any] | None:
        """Call quality (current API only); a call without media has none (404)."""
        path = f"{self.call_path(call_id)}Insights/"
        try:
            body = await self.http.get_json(path)
        except NotFoundError:
            return None
        if not isinstance(body, dict):
            raise self.bad(DataError("Insights is not a JSON object"), path)
        return {k: v for k, v in body.items() if k != "api_id"}


async def _settled(task: asyncio.Task[_Fetched]) -> _Fetched:
    """The task's result, without awaiting the task itself: on Python <= 3.11, asyncio.wait_for
    (inside HttpClient) swallows a cancellation that arrives as the request completes, and a
    consumer cancelled through it would go on as if never cancelled. asyncio.wait lets the
    cancellation reach the caller; the fetch task is cancelled apart."""
    await asyncio.wait({task})
    return task.result()


def _fresh(records: list[Call], seen: set[str]) -> list[Call]:
    """The records no earlier page of the listing held: a server that ignores `offset` sends
    its first page again and again (the caller stops on a page with nothing new)."""
    fresh = [c for c in records if c.id not in seen]
    seen.update(c.id for c in fresh)
    return fresh


def _watermark(records: list[Call], previous: datetime) -> datetime:
    """The page's smallest end time: later pages end no later, so start no later."""
    ends = [c.ended_at for c in records if c.ended_at is not None]
    return min([*ends, previous])


def _last(records: list[Call], offset: int, limit: int, total: int | None, since: datetime) -> bool:
    """Whether no later page can hold a call that started at or after `since`. `meta.next` is
    never read: legacy gives booleans, current null or URLs of any form."""
    if len(records) < limit or (total is not None and offset + limit >= total):
        return True
    ends = [c.ended_at for c in records if c.ended_at is not None]
    return bool(ends) and min(ends) < since


def wire_time(t: datetime, zone: tzinfo, *, up: bool) -> str:
    """`YYYY-MM-DD HH:MM:SS` in the API's zone, rounded outwards to whole seconds."""
    local = t.astimezone(zone)
    if up and local.microsecond:
        local += timedelta(seconds=1)
    return local.replace(microsecond=0, tzinfo=None).isoformat(sep=" ")


def total_count(body: Any) -> int | None:
    meta = body.get("meta") if isinstance(body, dict) else None
    total = meta.get("total_count") if isinstance(meta, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def parse_list(body: Any, account: str, zone: tzinfo) -> list[Call]:
    """A list envelope `{api_id, meta, objects: [...]}` → records."""
    if not isinstance(body, dict) or not isinstance(body.get("objects"), list):
        raise DataError("expected an object with an `objects` list")
    if "meta" in body and not isinstance(body["meta"], dict):
        raise DataError("`meta` is not an object")
    return [parse_call(obj, account, zone) for obj in body["objects"]]


def parse_detail(body: Any, account: str, zone: tzinfo) -> CallDetail:
    """The single-call body (flat, unlike the trunk endpoint's `object` wrapper)."""
    call = parse_call(body, account, zone)
    raw = call.raw
    extra: dict[str, Any] = {
        "hangup_source": _text(raw.get("hangup_source", raw.get("hangup_initiator"))),
        "stir_verification": stir_verification(raw.get("stir_verification")),
        "attestation_indicator": _text(raw.get("attestation_indicator")),
        "billing": {k: _money(raw[k]) for k in _MONEY_KEYS if k in raw},
    }
    return CallDetail(
        call=call,
        explanation=explain(call.cause_code, call.cause, extra["hangup_source"]),
        extra=extra,
    )


def parse_call(obj: Any, account: str, zone: tzinfo) -> Call:
    """One call object, current or legacy field names."""
    if not isinstance(obj, dict):
        raise DataError("a call is not a JSON object")
    call_id = obj.get("call_uuid")
    if not isinstance(call_id, str) or not call_id:
        raise DataError("a call without `call_uuid`")
    code = _int(_first(obj, "hangup_cause_code", "hangup_code"))
    cause = _text(_first(obj, "hangup_cause_name", "hangup_cause"))
    direction = _text(obj.get("call_direction"))
    return Call(
        provider=NAME,
        account=account,
        id=call_id,
        sip_call_id=_text(obj.get("call_id")),
        from_=_text(obj.get("from_number")),
        to=_text(obj.get("to_number")),
        direction=_DIRECTIONS.get(direction.lower()) if direction else None,
        started_at=parse_time(obj.get("initiation_time"), zone),
        answered_at=parse_time(obj.get("answer_time"), zone),
        ended_at=parse_time(obj.get("end_time"), zone),
        duration_s=seconds(_first(obj, "call_duration", "duration")),
        billed_s=seconds(_first(obj, "bill_duration", "billed_duration")),
        outcome=outcome(code, cause),
        cause=cause,
        cause_code=code,
        trunk=_text(obj.get("trunk_id")) or _text(obj.get("trunk_domain")),
        raw=obj,
    )


def outcome(code: int | None, cause: str | None) -> Outcome:
    """The one outcome rule (calltui.outcome) over a Plivo record: hangup code 3000/3010 is an
    answer (with no code: `normal_hangup`); its cause name is the provider's word (user_busy,
    busy_everywhere, …), and its code what Plivo's table says (4410 busy, 4420/4550
    cancelled, any other failed). The names seen on records where they differ from the table
    are read through plivo_codes.RECORD_NAMES."""
    if code is None and cause:
        code = _NAME_CODES.get(cause, RECORD_NAMES.get(cause))
    answered = code in _ANSWER_CODES if code is not None else cause == "normal_hangup"
    return decide(
        Evidence(
            answered=answered,
            word=cause,
            code=None if code is None else _code_outcome(code),
            ended=code is not None,
        )
    )


def _code_outcome(code: int) -> Outcome:
    if code in _BUSY_CODES:
        return Outcome.BUSY
    if code in _CANCEL_CODES:
        return Outcome.CANCELLED
    return Outcome.FAILED


# Names that decide an outcome when a record carries no code; the names seen on records where
# they differ from the table come from plivo_codes.RECORD_NAMES.
_NAME_CODES = {"user_busy": 4410, "carrier_cancelled": 4420, "user_cancelled": 4550}


def stir_verification(v: Any) -> str | None:
    """`Verified`, `Not Verified` or `Not Applicable`, whatever the case (the doc's
    example writes `not applicable`)."""
    s = _text(v)
    return None if s is None else _STIR.get(s.lower(), s)


def parse_time(v: Any, zone: tzinfo) -> datetime | None:
    """`YYYY-MM-DD HH:MM:SS[.ffffff]` naive in `zone` (an offset, if present, wins) → UTC."""
    return iso_time(v, zone)


def _first(obj: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if obj.get(k) is not None:
            return obj[k]
    return None


def _money(v: Any) -> str | None:
    """Money as a string: the current API sends strings, the legacy one JSON numbers."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return repr(v) if isinstance(v, float) else str(v)
    return _text(v)


PROVIDER = Plivo
