"""The normalized call record, the query, and the drill-down detail.

Records are slotted dataclasses: a page of 1000 is built per fetch and pydantic validation per
record would cost more than the JSON parse. Pydantic models guard the edges (config, filters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Protocol

from calltui.providers.registry import BUILTIN

PROVIDERS = tuple(BUILTIN)
"""The built-in providers' names (calltui.providers.registry: names() adds those registered)."""


class Outcome(str, Enum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CANCELLED = "cancelled"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    UNKNOWN = "unknown"


FAILED_OUTCOMES = frozenset(
    {Outcome.BUSY, Outcome.NO_ANSWER, Outcome.CANCELLED, Outcome.FAILED, Outcome.UNKNOWN}
)

RECORD_KEYS = (
    "provider",
    "account",
    "id",
    "parent_id",
    "sip_call_id",
    "from",
    "to",
    "direction",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_s",
    "billed_s",
    "outcome",
    "sip_code",
    "cause",
    "cause_code",
    "mos",
    "trunk",
    "raw",
)


@dataclass(slots=True, eq=False)
class PageRef:
    """The listing request a record came from (shared by every record of one page), so the store
    can drop a page's heavy parts and fetch it again later. Compared by identity: one per page."""

    account: str
    request: tuple[str, dict[str, Any]] | None


@dataclass(slots=True)
class Call:
    provider: str
    account: str
    id: str
    started_at: datetime | None
    outcome: Outcome
    raw: dict[str, Any]
    parent_id: str | None = None
    sip_call_id: str | None = None
    from_: str | None = None
    to: str | None = None
    direction: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: int | None = None
    billed_s: int | None = None
    sip_code: int | None = None
    cause: str | None = None
    cause_code: int | None = None
    mos: float | None = None
    trunk: str | None = None
    """The carrier side the call used : Tmedia's NAP, Plivo's trunk, jambonz's."""
    page: PageRef | None = field(default=None, compare=False, repr=False)
    """Where the record was listed; not part of the record (not in RECORD_KEYS)."""

    def to_dict(self, *, with_raw: bool = True) -> dict[str, Any]:
        """The record as `calls --format json` prints it: exactly RECORD_KEYS, times as ISO
        8601 UTC."""
        d: dict[str, Any] = {
            "provider": self.provider,
            "account": self.account,
            "id": self.id,
            "parent_id": self.parent_id,
            "sip_call_id": self.sip_call_id,
            "from": self.from_,
            "to": self.to,
            "direction": self.direction,
            "started_at": iso(self.started_at),
            "answered_at": iso(self.answered_at),
            "ended_at": iso(self.ended_at),
            "duration_s": self.duration_s,
            "billed_s": self.billed_s,
            "outcome": self.outcome.value,
            "sip_code": self.sip_code,
            "cause": self.cause,
            "cause_code": self.cause_code,
            "mos": self.mos,
            "trunk": self.trunk,
        }
        if with_raw:
            d["raw"] = self.raw
        return d

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES


@dataclass(slots=True)
class Span:
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "attributes": self.attributes,
        }


@dataclass(slots=True)
class Event:
    """One step of a call's timeline: a Bandwidth event or a Tmedia `call_traces` entry.
    `data` is the provider's own account of it, shown and exported as it came; `leg`,
    `received` and `seq` say in plain terms what a ladder of legs draws, where the provider
    knows them (not exported: `data` holds what they are read from)."""

    time: datetime | None
    name: str
    data: Any = None
    leg: str | None = None
    """The id of the leg (Call.id) the step is on."""
    received: bool | None = None
    """A message the platform received on that leg (True) or sent on it (False); None: not a
    message, or its way is not known."""
    seq: int = 0
    """Its place among its leg's steps, which orders steps of the same time."""

    def to_dict(self) -> dict[str, Any]:
        return {"time": iso(self.time), "name": self.name, "data": self.data}


@dataclass(slots=True)
class CallDetail:
    call: Call
    legs: list[Call] = field(default_factory=list)
    spans: list[Span] | None = None
    events: list[Event] = field(default_factory=list)
    recordings: list[Any] = field(default_factory=list)
    notifications: list[Any] = field(default_factory=list)
    explanation: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Provider extras not in the `show` contract (Plivo Insights); shown in the TUI."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "call": self.call.to_dict(),
            "legs": [leg.to_dict() for leg in self.legs],
            "trace": None if self.spans is None else {"spans": [s.to_dict() for s in self.spans]},
            "events": [e.to_dict() for e in self.events],
            "recordings": self.recordings,
            "notifications": self.notifications,
            "explanation": self.explanation,
        }


def iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(timezone.utc).isoformat()


_DIGITS = re.compile(r"\D")


def number_key(n: str | None) -> str:
    """A number as compared by --from/--to: a leading `+` and a `sip:` scheme ignored."""
    if not n:
        return ""
    s = n.strip()
    if s.lower().startswith("sip:"):
        s = s[4:]
    return s.lstrip("+")


class Terms(Protocol):
    """A query of the query language (calltui.query.Query): terms a call must all hold."""

    def matches(self, call: Call) -> bool: ...


@dataclass(slots=True, frozen=True)
class CallQuery:
    """What to list (made from the filters by calltui.filters.build_query). Providers send what
    they can filter; `matches` refines every record locally, the one rule of which calls a
    query keeps."""

    since: datetime
    until: datetime | None = None
    from_: str | None = None
    to: str | None = None
    direction: str | None = None
    outcomes: frozenset[Outcome] = frozenset()
    min_duration: int | None = None
    max_duration: int | None = None
    text: str | None = None
    terms: Terms | None = None
    """The query language's terms (calltui.query), added to the filters above."""

    def matches(self, c: Call) -> bool:
        if c.started_at is None or c.started_at < self.since:
            return False
        if self.until is not None and c.started_at > self.until:
            return False
        if self.from_ and not number_key(c.from_).startswith(number_key(self.from_)):
            return False
        if self.to and not number_key(c.to).startswith(number_key(self.to)):
            return False
        if self.direction and c.direction != self.direction:
            return False
        if self.outcomes and c.outcome not in self.outcomes:
            return False
        if self.min_duration is not None and (c.duration_s or 0) < self.min_duration:
            return False
        if self.max_duration is not None and (c.duration_s or 0) > self.max_duration:
            return False
        if self.text:
            needle = self.text.lower()
            hay = (c.id, c.sip_call_id, c.parent_id, c.from_, c.to)
            if not any(h and needle in h.lower() for h in hay):
                return False
        return self.terms is None or self.terms.matches(c)


def epoch_placeholder(t: datetime | None) -> datetime | None:
    """Providers write 1970 (in any zone) for 'never': that means null."""
    if t is None or t.year <= 1971:
        return None
    return t
