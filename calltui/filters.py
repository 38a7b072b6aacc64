"""The filters of `calls`, `stats` and the TUI, each defined once in FILTER_FIELDS: its name,
CLI flag, help, kind, how its raw value (a flag's or a form field's) is read into a CallQuery,
and its label in the TUI's filter form. The CLI's flags (calltui.cli), build_query and the form
(calltui.tui.screens.filters) are all made from it; errors name the field. A new filter is one
more entry; one with no flag and no label (a field of the query language alone) is read by
build_query and left off the CLI and the form.

Which calls a query keeps is CallQuery.matches, the one rule (calltui.model)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from calltui.model import FAILED_OUTCOMES, CallQuery, Outcome
from calltui.query import QueryError, bare, term
from calltui.query import parse as parse_terms

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def parse_time(value: str, *, field: str, now: datetime, tz: timezone | None = None) -> datetime:
    """`15m`, `4h`, `2d` (that long before now) or an ISO date-time (naive: `tz`, else UTC)."""
    m = _RELATIVE.match(value)
    if m:
        return now - timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            field, f"{value!r} is neither a relative time (15m, 4h, 2d) nor an ISO date-time"
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz or timezone.utc)
    return t.astimezone(timezone.utc)


def parse_outcome(value: str, *, field: str = "outcome") -> Outcome:
    try:
        return Outcome(value.strip().lower().replace("-", "_"))
    except ValueError:
        names = ", ".join(o.value for o in Outcome)
        raise FilterError(field, f"{value!r} is not one of {names}") from None


class Kind(Enum):
    """How a filter's value is given: on the command line and in the form."""

    TEXT = "text"
    """A string: `--flag VALUE`, an input box."""
    CHOICE = "choice"
    """One of `choices`: the CLI refuses any other, the form offers them (or any)."""
    CHOICES = "choices"
    """Any of `choices`: the flag is repeatable, the form picks one (or any)."""
    SWITCH = "switch"
    """On or off: a flag without a value, a checkbox."""


@dataclass(slots=True)
class Draft:
    """A query being read from raw values, field by field in FILTER_FIELDS order."""

    now: datetime
    default_since: timedelta
    query: dict[str, Any] = field(default_factory=dict)
    """CallQuery's keyword arguments so far."""


@dataclass(frozen=True, slots=True)
class FilterField:
    name: str
    """What errors and build_query's values call it: the CLI flag's dest, the form field's id."""
    flags: tuple[str, ...]
    """Empty: no flag (a field of the query language alone)."""
    kind: Kind
    read: Callable[[Any, Draft], None]
    """Reads the raw value (None or blank: not given) into the draft; a bad one raises
    FilterError naming the field."""
    shown: Callable[[CallQuery], Any]
    """The field's value in a query, to fill the form with (None: empty)."""
    label: str | None
    """In the form: beside its box, or on its checkbox (None: not in the form)."""
    placeholder: str = ""
    metavar: str | None = None
    help: str | None = None
    choices: tuple[str, ...] = ()
    term: Callable[[CallQuery], str | None] | None = None
    """The field's value in a query as the query language writes it (None: not given); the
    window (since, until) has none: a view spec gives it apart."""


DIRECTIONS = ("inbound", "outbound")


def _text(value: Any) -> str | None:
    return (value or "").strip() or None


def _read_terms(value: Any, d: Draft) -> None:
    text = _text(value)
    if text is None:
        return
    try:
        terms = parse_terms(text)
    except QueryError as e:
        raise FilterError("query", str(e)) from None
    if terms.terms:
        d.query["terms"] = terms


def _read_since(value: Any, d: Draft) -> None:
    d.query["since"] = (
        parse_time(value, field="since", now=d.now) if value else d.now - d.default_since
    )


def _read_until(value: Any, d: Draft) -> None:
    until = parse_time(value, field="until", now=d.now) if value else None
    if until is not None and until < d.query["since"]:
        raise FilterError("until", "is before since")
    d.query["until"] = until


def _read_direction(value: Any, d: Draft) -> None:
    direction = value.strip().lower() if value else None
    if direction is not None and direction not in DIRECTIONS:
        raise FilterError("direction", f"{direction!r} is not inbound or outbound")
    d.query["direction"] = direction


def _read_outcomes(value: Any, d: Draft) -> None:
    given: Iterable[str] = value or ()
    d.query["outcomes"] = frozenset(parse_outcome(o) for o in given if o.strip())


def _read_failed(value: Any, d: Draft) -> None:
    if not value:
        return
    given = d.query["outcomes"]
    wanted = (given & FAILED_OUTCOMES) if given else FAILED_OUTCOMES
    if not wanted:
        raise FilterError("failed", "excludes every outcome given with --outcome")
    d.query["outcomes"] = frozenset(wanted)


def _seconds(name: str, not_below: str | None = None) -> Callable[[Any, Draft], None]:
    """Whole seconds into CallQuery's `name`; with `not_below`, at least that field's."""

    def read(value: Any, d: Draft) -> None:
        if value is None or value == "":
            d.query[name] = None
            return
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise FilterError(name, f"{value!r} is not a whole number of seconds") from None
        if n < 0:
            raise FilterError(name, "must not be negative")
        lo = None if not_below is None else d.query[not_below]
        if lo is not None and n < lo:
            raise FilterError(name, f"is below {not_below}")
        d.query[name] = n

    return read


def _stripped(attr: str) -> Callable[[Any, Draft], None]:
    """The value stripped, into CallQuery's `attr` (blank: None)."""

    def read(value: Any, d: Draft) -> None:
        d.query[attr] = _text(value)

    return read


def _single_outcome(q: CallQuery) -> str | None:
    return next(iter(q.outcomes)).value if len(q.outcomes) == 1 else None


def _outcome_term(q: CallQuery) -> str | None:
    if not q.outcomes:
        return None
    return term("outcome", *sorted(o.value for o in q.outcomes))


FILTER_FIELDS: tuple[FilterField, ...] = (
    FilterField(
        "since",
        ("--since",),
        Kind.TEXT,
        _read_since,
        lambda q: q.since,
        label="since",
        placeholder="15m, 4h, 2d or ISO",
        metavar="T",
        help="ISO date-time or 15m, 4h, 2d",
    ),
    FilterField(
        "until",
        ("--until",),
        Kind.TEXT,
        _read_until,
        lambda q: q.until,
        label="until",
        placeholder="now",
        metavar="T",
    ),
    FilterField(
        "from",
        ("--from",),
        Kind.TEXT,
        _stripped("from_"),
        lambda q: q.from_,
        label="from",
        placeholder="number prefix",
        metavar="NUM",
        help="number prefix",
        term=lambda q: None if not q.from_ else term("from", q.from_),
    ),
    FilterField(
        "to",
        ("--to",),
        Kind.TEXT,
        _stripped("to"),
        lambda q: q.to,
        label="to",
        placeholder="number prefix",
        metavar="NUM",
        help="number prefix",
        term=lambda q: None if not q.to else term("to", q.to),
    ),
    FilterField(
        "direction",
        ("--direction",),
        Kind.CHOICE,
        _read_direction,
        lambda q: q.direction,
        label="direction",
        choices=DIRECTIONS,
        term=lambda q: None if not q.direction else term("dir", q.direction),
    ),
    FilterField(
        "outcome",
        ("--outcome",),
        Kind.CHOICES,
        _read_outcomes,
        _single_outcome,
        label="outcome",
        metavar="OUTCOME",
        choices=tuple(o.value for o in Outcome),
        term=_outcome_term,
    ),
    FilterField(
        "failed",
        ("--failed",),
        Kind.SWITCH,
        _read_failed,
        lambda q: q.outcomes == FAILED_OUTCOMES,
        label="failed only",
        help="every outcome but answered/in_progress",
    ),
    FilterField(
        "min_duration",
        ("--min-duration",),
        Kind.TEXT,
        _seconds("min_duration"),
        lambda q: q.min_duration,
        label="min dur",
        placeholder="seconds",
        metavar="S",
        term=lambda q: None if q.min_duration is None else term("dur", f">={q.min_duration}"),
    ),
    FilterField(
        "max_duration",
        ("--max-duration",),
        Kind.TEXT,
        _seconds("max_duration", not_below="min_duration"),
        lambda q: q.max_duration,
        label="max dur",
        placeholder="seconds",
        metavar="S",
        term=lambda q: None if q.max_duration is None else term("dur", f"<={q.max_duration}"),
    ),
    FilterField(
        "query",
        ("--query",),
        Kind.TEXT,
        _read_terms,
        lambda q: None if q.terms is None else str(q.terms) or None,
        label="query",
        placeholder="sip:5xx trunk:NAP_PEER_LON -dir:in",
        metavar="Q",
        help="query terms, all must hold: field:value (account provider from to trunk sip "
        "cause outcome dir id country dur mos pdd), a bare word, -term",
        term=lambda q: None if q.terms is None else str(q.terms) or None,
    ),
    FilterField(
        "text",
        ("--text",),
        Kind.TEXT,
        _stripped("text"),
        lambda q: q.text,
        label="text",
        placeholder="id or number",
        metavar="STR",
        help="substring of ids and numbers",
        term=lambda q: None if not q.text else bare(q.text),
    ),
)
"""In the order they are read (since before until, outcome before failed, min before max: each
is checked against the one before) and listed in --help. Each surface reads it as it is built,
so that a filter added here is on all of them."""


def as_terms(q: CallQuery) -> str:
    """Every filter of `q` but its window, in the query language: `from:+44 outcome:failed
    sip:503`, which parse back (with the window) to the same calls."""
    return " ".join(t for f in FILTER_FIELDS if f.term and (t := f.term(q)))


def build_query(
    values: Mapping[str, Any],
    *,
    default_since: timedelta = timedelta(hours=24),
    now: datetime | None = None,
) -> CallQuery:
    """The query of raw filter values by field name (FILTER_FIELDS; a field left out is not
    given). Without since: the last `default_since`. The first bad field raises FilterError."""
    unknown = set(values) - {f.name for f in FILTER_FIELDS}
    if unknown:
        raise TypeError(f"no such filter: {', '.join(sorted(unknown))}")
    draft = Draft(now or datetime.now(timezone.utc), default_since)
    for f in FILTER_FIELDS:
        f.read(values.get(f.name), draft)
    return CallQuery(**draft.query)
