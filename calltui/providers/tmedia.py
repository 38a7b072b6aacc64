"""TelcoBridges Tmedia / ProSBC `GET /call_trace`.

One record per call leg. The body is one JSON object keyed by leg id, with `***meta***` at every
level (TelcoBridges' REST convention). Paging is `page` from 1 (the newest) with `nb_result` legs
a page and no total: a short page is the end. `start` bounds a leg's start but `end` its END
(TelcoBridges documents it as "calls ending before this time"), so `end` is widened by the
longest call we allow for and the window refined locally.

Read-only by construction: PARAMS lists only what this module sends, so `drop_call` (which
terminates every matching live call) can never leave the process.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

from calltui.config import AccountBase
from calltui.hints import Hints
from calltui.http import BadResponseError, NotFoundError, RateLimit
from calltui.model import (
    Call,
    CallDetail,
    CallQuery,
    Event,
    Outcome,
    number_key,
)
from calltui.outcome import Evidence, decide
from calltui.providers.base import DataError, Page, Provider, page_sizes, quoted
from calltui.providers.coerce import integer as _int
from calltui.providers.coerce import seconds
from calltui.providers.coerce import text as _str
from calltui.providers.tmedia_box import (
    BOX_UTC,
    META,
    box_datetime,
    leg_events,
    leg_mos,
    to_box_time,
    trace_causes,
    traces_pdd,
)

PATH = "/call_trace"
MAX_CALL = timedelta(hours=4)
"""The longest call the listing allows for: `end` filters on end time, so it is set this far past
the window (a call that started in the window and lasted longer is missed)."""
OLD_FIRMWARE_MAX = 100
"""nb_result above 100 is refused or capped before 3.1.148 / 3.2.65 / 3.3.9 (TelcoBridges'
call_trace docs)."""
DETAIL_NB_RESULT = 10
DIRECTIONS = {"1": "inbound", "2": "outbound"}
DIRECTION_CODES = {v: k for k, v in DIRECTIONS.items()}


NAME = "tmedia"


class TmediaAccount(AccountBase):
    username: str
    password: SecretStr


# --- pure parsers ------------------------------------------------------------------------------


def leg_evidence(
    state: str | None, reason: str | None, answered: datetime | None, traces: object = None
) -> Evidence:
    """What a Tmedia leg says of how it went, for the one outcome rule (calltui.outcome):
    `call_state` Active is live; NORMAL with a real connect time is an answer; the final SIP
    status is a numeric terminate reason of 300-699, else the last final response of its
    `call_traces`; the Q.850 cause a numeric reason of 1-127, else a Reason header there; any
    other reason is the box's word (NORMAL without an answer: no answer)."""
    if state is not None and state.strip().lower() == "active":
        return Evidence(live=True)
    word = None if reason is None else reason.strip()
    number = None if word is None else _reason_number(word)
    sip = number if number is not None and 300 <= number < 700 else None
    cause = number if number is not None and 0 < number < 128 else None
    answer = word is not None and word.upper() == "NORMAL" and answered is not None
    if not answer and (sip is None or sip < 400):
        # The call flow is read only where it can decide: not for an answer, nor past a
        # failing status in the reason (a listing parses a million legs).
        traced_sip, traced_q850 = trace_causes(traces)
        sip = traced_sip if sip is None else sip
        cause = traced_q850 if cause is None else cause
    return Evidence(
        answered=answer,
        sip=sip,
        q850=cause,
        word=None if number is not None else word,
        ended=word is not None,
    )


def outcome_of(
    state: str | None, reason: str | None, answered: datetime | None, traces: object = None
) -> Outcome:
    """A leg's outcome by the one rule over its evidence (leg_evidence)."""
    return decide(leg_evidence(state, reason, answered, traces))


def _reason_number(word: str) -> int | None:
    return int(word) if word.isdecimal() and len(word) <= 3 else None


def parse_leg(raw: Any, account: str, zone: ZoneInfo) -> Call:
    if not isinstance(raw, dict):
        raise DataError(f"a leg is {type(raw).__name__}, not an object")
    leg_id = _str(raw.get("leg_id"))
    if leg_id is None:
        raise DataError("a leg without leg_id (was recursive=yes ignored?)")
    direction = DIRECTIONS.get(_str(raw.get("direction")) or "")
    started = box_datetime(raw.get("timestamp"), zone)
    answered = box_datetime(raw.get("connect_timestamp"), zone)
    duration = seconds(raw.get("call_duration"))
    state = _str(raw.get("call_state"))
    reason = _str(raw.get("terminate_reason"))
    evidence = leg_evidence(state, reason, answered, raw.get("call_traces"))
    outcome = decide(evidence)
    ended = None
    if answered is not None and duration is not None and outcome is not Outcome.IN_PROGRESS:
        # No end time is given: call_duration is the talk time, counted from connect.
        try:
            ended = answered + timedelta(seconds=duration)
        except OverflowError:  # a duration past the calendar: no end time
            ended = None
    return Call(
        provider=NAME,
        account=account,
        id=leg_id,
        started_at=started,
        outcome=outcome,
        raw=raw,
        parent_id=_str(raw.get("other_leg_id")) if direction == "outbound" else None,
        sip_call_id=_str(raw.get("call_id")),
        from_=_str(raw.get("calling")),
        to=_str(raw.get("called")),
        direction=direction,
        answered_at=answered,
        ended_at=ended,
        duration_s=duration,
        sip_code=evidence.sip,
        cause=reason,
        cause_code=_int(reason) if reason is not None and reason.strip().isdecimal() else None,
        mos=leg_mos(raw),
        trunk=_str(raw.get("nap")),
    )


def parse_legs(body: Any, account: str, zone: ZoneInfo) -> list[Call]:
    """A `/call_trace?recursive=yes` body → records, newest first (keys are in no time order)."""
    if not isinstance(body, dict):
        raise DataError(f"the body is {type(body).__name__}, not an object keyed by leg id")
    calls = [parse_leg(v, account, zone) for k, v in body.items() if k != META]
    return sorted(calls, key=_start_key, reverse=True)


def _start_key(c: Call) -> float:
    return c.started_at.timestamp() if c.started_at else float("-inf")


# --- what a leg says beyond its record (calltui.hints) -----------------------------------------

OTHER_LEG = 0.95
"""Confidence that `other_leg_id` names the other leg of the same call on the same box."""
SAME_UCT = 0.9
_PDD_CACHE: dict[tuple[str, str, Outcome], float | None] = {}
_PDD_CACHE_MAX = 1 << 20


class TmediaHints(Hints):
    """A numeric `terminate_reason` is a SIP status (300-699, "206, 404 etc." in TelcoBridges'
    docs: the record's sip_code) or a Q.850 cause (1-127); the leg's `call_traces` are its SIP
    ladder."""

    def q850(self, call: Call) -> int | None:
        code = call.cause_code
        return code if code is not None and 0 < code < 128 else None

    def events_of(self, call: Call) -> list[Event]:
        return leg_events(call, BOX_UTC)

    def pdd_s(self, call: Call) -> float | None:
        """The INVITE and first ringing entries of the leg's `call_traces` (whole seconds: the
        box's clock)."""
        # KPIs are recomputed as filters change: read each leg's call flow once.
        key = (call.account, call.id, call.outcome)
        if key in _PDD_CACHE:
            return _PDD_CACHE[key]
        if len(_PDD_CACHE) >= _PDD_CACHE_MAX:
            _PDD_CACHE.clear()
        out = _PDD_CACHE[key] = traces_pdd(call.raw.get("call_traces"))
        return out

    def hangup_party(
        self, call: Call, detail: CallDetail | None, events: list[Event]
    ) -> str | None:
        """Who sent the first BYE or CANCEL. The incoming leg faces the caller and the
        outgoing leg the callee, so a BYE the box received on the incoming leg (or sent on the
        outgoing one) came from the caller."""
        legs = detail.legs if detail is not None and detail.legs else [call]
        incoming = {leg.id for leg in legs if leg.direction == "inbound"}
        for e in events:
            words = e.name.split()
            word = words[0].upper() if words else ""
            if word == "CANCEL":
                return "caller"
            if word == "BYE" and e.received is not None:
                on_incoming = (e.leg or call.id) in incoming
                return "caller" if e.received == on_incoming else "callee"
        return None

    def reason(self, call: Call, detail: CallDetail | None) -> str | None:
        reason = call.raw.get("terminate_reason")
        return f"terminate_reason {reason}" if isinstance(reason, (str, int)) and reason else None

    def call_key(self, call: Call) -> str | None:
        """The legs of one call share `uct_call_id`; not `call_id`, which is each leg's own SIP
        Call-ID (the box is a B2BUA). Without it, the pair of leg ids `other_leg_id` links."""
        uct = _lower(call.raw.get("uct_call_id"))
        if uct is not None:
            return f"uct {uct}"
        other = _lower(call.raw.get("other_leg_id"))
        return None if other is None else f"legs {min(call.id.lower(), other)}"

    def relations(self, call: Call, cand: Call) -> list[tuple[float, str]]:
        """The other leg on the same box (`other_leg_id` is on both legs of a call), else a leg of
        the same call (`uct_call_id`)."""
        if not (call.provider == cand.provider == NAME and call.account == cand.account):
            return []
        mine, theirs = _lower(call.raw.get("other_leg_id")), _lower(cand.raw.get("other_leg_id"))
        if mine == cand.id.lower() or theirs == call.id.lower():
            return [(OTHER_LEG, "the other leg of this Tmedia call (other_leg_id)")]
        uct = _lower(call.raw.get("uct_call_id"))
        if uct is not None and uct == _lower(cand.raw.get("uct_call_id")):
            return [(SAME_UCT, "same Tmedia call (uct_call_id)")]
        return []


def _lower(v: Any) -> str | None:
    return v.strip().lower() if isinstance(v, str) and v.strip() else None


# --- the adapter -------------------------------------------------------------------------------


class TmediaProvider(Provider[TmediaAccount]):
    name = NAME
    ACCOUNT = TmediaAccount
    CONFIG_EXAMPLE = """\
# [accounts.sbc-moscow]
# provider = "tmedia"
# base_url = "https://10.1.2.3:12358"
# username = "api"
# password_env = "SBC_MOSCOW_PASSWORD"
# verify_tls = false              # or ca_bundle = "/path/to/ca.pem"
# timezone = "Europe/Moscow"      # the zone of the box's naive times
"""
    FLOW_VIEW = "ladder"
    FLOW_TITLE = "Legs & ladder"
    CURL_AUTH = ("-u", "{username}:{password}")
    CURL_VARS = {"username": "TMEDIA_USERNAME", "password": "TMEDIA_PASSWORD"}
    HINTS = TmediaHints()
    PARAMS = frozenset(
        {
            "page",
            "nb_result",
            "recursive",
            "start",
            "end",
            "called",
            "calling",
            "direction",
            "call_state",
            "leg_id",
        }
    )
    DEFAULT_BASE_URL = None
    DEFAULT_RATE = RateLimit(5, 1.0)
    """No limit is documented; an appliance's web portal answers these, so stay gentle."""
    DEFAULT_PAGE_SIZE = 500
    MAX_PAGE_SIZE = 1000
    ERROR_KEYS = ("error", "message", "reason")

    @classmethod
    def auth(cls, account: TmediaAccount) -> tuple[httpx.Auth | None, dict[str, str]]:
        return httpx.BasicAuth(account.username, account.password.get_secret_value()), {}

    @property
    def zone(self) -> ZoneInfo:
        return self.account.zone()

    def parse_list(self, body: Any) -> list[Call]:
        return parse_legs(body, self.account.name, self.zone)

    def end_bound(self, until: datetime | None) -> datetime:
        """`end` filters on end time ("calls ending before"): a call that started by `until` (or
        now) ended by this bound unless it lasted longer than MAX_CALL. The slack also covers a
        box clock ahead of ours."""
        return (until or datetime.now(timezone.utc)) + MAX_CALL

    def list_params(self, query: CallQuery) -> dict[str, Any]:
        """The filters the box applies exactly (or more widely) as the query means them."""
        params: dict[str, Any] = {
            "recursive": "yes",
            # "after this time": a second earlier in case the box compares strictly.
            "start": to_box_time(query.since - timedelta(seconds=1), self.zone, lower=True),
            "end": to_box_time(self.end_bound(query.until), self.zone, lower=False),
            # called/calling match substrings, as TelcoBridges documents: wider than our prefix
            # match.
            "called": number_key(query.to),
            "calling": number_key(query.from_),
            "direction": DIRECTION_CODES.get(query.direction or ""),
        }
        if query.outcomes == {Outcome.IN_PROGRESS}:
            params["call_state"] = "Active"
        # call_duration is not sent: whether it is talk or total time, and whether its bounds
        # are inclusive, is unverified.
        return params

    async def _list_page(
        self, base: dict[str, Any], offset: int, size: int
    ) -> tuple[list[Call], dict[str, Any]]:
        """The legs of one page at `offset` legs in. An old box that refuses nb_result over 100
        with a 400 (its documented limit) is asked again with 100, and so is every later
        request to it."""
        while True:
            size = min(size, self.page_size)
            params = {**base, "page": offset // size + 1, "nb_result": size}
            try:
                return await self.http.get_json(PATH, params, self.parse_list), params
            except BadResponseError as e:
                if e.status != 400 or size <= OLD_FIRMWARE_MAX:
                    raise
                self.page_size = OLD_FIRMWARE_MAX

    async def pages(self, query: CallQuery, first: int | None = None) -> AsyncIterator[Page]:
        base = self.list_params(query)
        seen: set[str] = set()
        sizes = page_sizes(self.page_size, first)
        offset, capped = 0, False
        watermark = self.end_bound(query.until)
        for number in itertools.count(1):
            size = OLD_FIRMWARE_MAX if capped else next(sizes)
            try:
                records, params = await self._list_page(base, offset, size)
            except DataError as e:
                raise self.bad(e, PATH) from None
            size = params["nb_result"]
            if len(records) == OLD_FIRMWARE_MAX < size:
                # Exactly 100 for more: an old box capping silently, or a last page of exactly
                # 100. Go on 100 a page for this stream; the latter costs one empty request.
                size, capped = OLD_FIRMWARE_MAX, True
            fresh = [c for c in records if c.id not in seen]
            seen.update(c.id for c in fresh)
            times = [c.started_at for c in records if c.started_at is not None]
            watermark = min(times, default=watermark)
            # The ring buffer shifts down as legs arrive, so pages overlap (deduplicated above);
            # a full page with nothing new means the box ignores `page`.
            done = len(records) < size or watermark < query.since
            if not (done or fresh):
                raise self.repeated(number)
            yield Page(fresh, None if done else watermark, (PATH, params))
            if done:
                return
            offset += len(records)

    def request_for(self, call: Call) -> tuple[str, dict[str, Any]]:
        return PATH, self._leg_params(call.id)

    def _leg_params(self, leg_id: str) -> dict[str, Any]:
        end = to_box_time(self.end_bound(None), self.zone, lower=False)
        return {"leg_id": leg_id, "recursive": "yes", "nb_result": DETAIL_NB_RESULT, "end": end}

    async def _leg(self, leg_id: str) -> Call | None:
        body = await self.http.get_json(PATH, self._leg_params(leg_id))
        try:
            legs = self.parse_list(body)
        except DataError as e:
            raise self.bad(e, PATH) from None
        return next((c for c in legs if c.id.lower() == leg_id.lower()), None)

    async def detail(self, call_id: str) -> CallDetail:
        """The leg (`leg_id`), its other leg (`other_leg_id`), and both legs'
        `call_traces` in `order` as events, the incoming leg's first."""
        leg = await self._leg(call_id)
        if leg is None:
            raise NotFoundError(
                self.http.account,
                f"no leg {quoted(call_id)} on the box (legs age out of its call trace buffer)",
                url=self.http.url_for(PATH, self._leg_params(call_id)),
            )
        legs = [leg]
        other_id = _str(leg.raw.get("other_leg_id"))
        if other_id and other_id.lower() != leg.id.lower():
            other = await self._leg(other_id)
            if other is not None:
                legs.append(other)
        legs.sort(key=lambda c: c.direction != "inbound")
        events = [e for c in legs for e in leg_events(c, self.zone)]
        return CallDetail(call=leg, legs=legs, events=events, extra=leg_extra(leg))


def leg_extra(leg: Call) -> dict[str, Any]:
    """Leg data outside the record that a NOC engineer reads: NAP, route, protocol, uct id."""
    keys = ("uct_call_id", "nap", "route", "protocol", "network_quality", "recorded")
    return {k: leg.raw[k] for k in keys if k in leg.raw and leg.raw[k] not in ("", None)}


PROVIDER = TmediaProvider
