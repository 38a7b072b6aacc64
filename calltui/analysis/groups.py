"""Groups of calls (`stats --by`, the TUI's pivot), nested, with their KPIs.

    group(calls, by, *, since, until, previous=None) -> GroupReport
    parse_by(by) -> list[str];  table(report, zone) -> str

`by` names the fields of each level, groups first, then sub-groups: `account`, `provider`,
`trunk`, `sip` (the final SIP status, analysis.cause.final_sip), `cause` (the cause-mix label,
analysis.cause.label), `outcome`, `country` (the ISO 3166 region of the destination number) and
`prefix:N` (its first N digits). Each group holds the KPIs of analysis.kpi over its attempts
(attempts, answered, failed, ASR, NER, ACD, PDD, as kpi defines them), its share of the attempts
of the level above (%), and against `previous` (the calls of the window of the same length just
before) the change of ASR in points and of attempts; both are None where `previous` was not
loaded, and the ASR change also where either window has no attempt in the group. Groups are
those of the window itself (one found only in `previous` is left out), most failures first
(ties by key).

What is counted: attempts (records that ended; a call still up is none yet), and calls, not
legs (analysis.legs), so a Tmedia call counts once, as in `stats`. A report split by
`trunk` counts legs instead, at every level: each leg is a seizure on its own trunk, and one
population for the whole report keeps every level adding up (the groups' attempts add up to
the attempts of their parent, and the top level's to all attempts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from calltui import numbers
from calltui.analysis import cause, kpi
from calltui.analysis.legs import calls_not_legs
from calltui.columns import fmt_duration, fmt_time
from calltui.model import Call, Outcome, iso
from calltui.text import fit

Value = str | int | None
"""A group's value of its field: a SIP code is an int; None where the record does not say."""

FIELDS = ("account", "provider", "trunk", "sip", "cause", "outcome", "country")
PREFIX = "prefix:"
MAX_PREFIX = 15
"""E.164 numbers have at most 15 digits."""

KEY_WIDTH = 34
INDENT = 2


@dataclass(slots=True)
class Group:
    key: dict[str, Value]
    attempts: int
    answered: int
    failed: int
    asr: float | None
    ner: float | None
    acd_s: float | None
    pdd_s: float | None
    share: float | None
    """% of the attempts of the level above."""
    asr_delta: float | None
    attempts_delta: int | None
    groups: list[Group] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": dict(self.key),
            "attempts": self.attempts,
            "answered": self.answered,
            "failed": self.failed,
            "asr": self.asr,
            "ner": self.ner,
            "acd_s": self.acd_s,
            "pdd_s": self.pdd_s,
            "share": self.share,
            "asr_delta": self.asr_delta,
            "attempts_delta": self.attempts_delta,
            "groups": [g.to_dict() for g in self.groups],
        }


@dataclass(slots=True)
class GroupReport:
    since: datetime
    until: datetime
    by: list[str]
    groups: list[Group]
    attempts: int
    """Every attempt grouped (legs where the report splits by trunk): the top level's sum."""

    def to_dict(self) -> dict[str, Any]:
        """`stats --by --format json`: `{"since", "until", "by", "groups"}`."""
        return {
            "since": iso(self.since),
            "until": iso(self.until),
            "by": list(self.by),
            "groups": [g.to_dict() for g in self.groups],
        }


def parse_by(by: Iterable[str]) -> list[str]:
    """The fields of `by`, checked: ValueError names an unknown field, a bad `prefix:N` or one
    given twice."""
    out: list[str] = []
    for raw in by:
        name = raw.strip().lower()
        if name.startswith(PREFIX):
            digits = name[len(PREFIX) :]
            if not (digits.isdecimal() and 1 <= int(digits) <= MAX_PREFIX):
                raise ValueError(f"bad group field {raw!r}: prefix:N takes N from 1 to 15")
            name = f"{PREFIX}{int(digits)}"
        elif name not in FIELDS:
            known = ", ".join((*FIELDS, "prefix:N"))
            raise ValueError(f"unknown group field {raw!r} (one of {known})")
        if name in out:
            raise ValueError(f"group field {raw!r} given twice")
        out.append(name)
    if not out:
        raise ValueError("no group field given")
    return out


def reader(name: str) -> Callable[[Call], Value]:
    """How a call's value of the group field `name` is read."""
    if name.startswith(PREFIX):
        n = int(name[len(PREFIX) :])
        return lambda c: numbers.prefix_of(c.to, n)
    readers: dict[str, Callable[[Call], Value]] = {
        "account": lambda c: c.account,
        "provider": lambda c: c.provider,
        "trunk": lambda c: c.trunk,
        "sip": cause.final_sip,
        "cause": cause.label,
        "outcome": lambda c: c.outcome.value,
        "country": lambda c: numbers.country_of(c.to),
    }
    return readers[name]


def attempts_of(calls: Iterable[Call], *, legs: bool) -> list[Call]:
    """The records a report counts: ended ones, calls not legs unless `legs`."""
    held = list(calls) if legs else calls_not_legs(calls)
    return [c for c in held if c.outcome is not Outcome.IN_PROGRESS]


def group(
    calls: Iterable[Call],
    by: Sequence[str],
    *,
    since: datetime,
    until: datetime,
    previous: Iterable[Call] | None = None,
) -> GroupReport:
    fields = parse_by(by)
    legs = "trunk" in fields
    now = attempts_of(calls, legs=legs)
    before = None if previous is None else attempts_of(previous, legs=legs)
    level = _Level(since, until, fields)
    return GroupReport(since, until, fields, level.split(now, before, 0), len(now))


class _Level:
    """What every level of one report shares: the window KPIs are taken over, and the fields."""

    def __init__(self, since: datetime, until: datetime, fields: list[str]) -> None:
        self.since, self.until = since, until
        self.fields = fields
        self.readers = [reader(f) for f in fields]
        # One bucket over the window: groups need kpi's totals, not its series.
        self.bucket_s = max(1, math.ceil((until - since).total_seconds()) + 1)

    def kpis(self, calls: list[Call]) -> kpi.Kpis:
        # The population is already the report's (calls, or legs in a split by trunk).
        kpis, _ = kpi.summarize(
            calls, since=self.since, until=self.until, bucket_s=self.bucket_s, legs=True
        )
        return kpis

    def split(self, calls: list[Call], before: list[Call] | None, depth: int) -> list[Group]:
        name, read = self.fields[depth], self.readers[depth]
        parts = _partition(calls, read)
        earlier = None if before is None else _partition(before, read)
        out = []
        for value, members in parts.items():
            k = self.kpis(members)
            prev_calls = None if earlier is None else earlier.get(value, [])
            prev = None if prev_calls is None else self.kpis(prev_calls)
            asr_delta = None
            if prev is not None and k.asr is not None and prev.asr is not None:
                asr_delta = k.asr - prev.asr
            deeper = depth + 1 < len(self.fields)
            out.append(
                Group(
                    key={name: value},
                    attempts=k.attempts,
                    answered=k.answered,
                    failed=k.failed,
                    asr=k.asr,
                    ner=k.ner,
                    acd_s=k.acd_s,
                    pdd_s=k.pdd_s,
                    share=100.0 * k.attempts / len(calls),
                    asr_delta=asr_delta,
                    attempts_delta=None if prev is None else k.attempts - prev.attempts,
                    groups=self.split(members, prev_calls, depth + 1) if deeper else [],
                )
            )
        out.sort(key=lambda g: (-g.failed, *_order(next(iter(g.key.values())))))
        return out


def _partition(calls: list[Call], read: Callable[[Call], Value]) -> dict[Value, list[Call]]:
    parts: dict[Value, list[Call]] = {}
    for c in calls:
        v = read(c)
        members = parts.get(v)
        if members is None:
            parts[v] = [c]
        else:
            members.append(c)
    return parts


def _order(v: Value) -> tuple[bool, int, str]:
    """Keys in a stable order: codes by number, words by text, an unknown value last."""
    return (v is None, v if isinstance(v, int) else 0, "" if v is None else str(v))


# --- the table (`stats --by --format table`) ---------------------------------------------------


_COLUMNS = (
    ("ATTEMPTS", 9),
    ("SHARE", 8),
    ("ANSWERED", 9),
    ("FAILED", 8),
    ("ASR", 8),
    ("ΔASR", 7),
    ("NER", 8),
    ("ACD", 8),
    ("PDD", 7),
    ("ΔATTEMPTS", 10),
)


def table(report: GroupReport, zone: tzinfo | None) -> str:
    """The groups as aligned plain text: one row per group, sub-groups indented under theirs.
    Every value from the records goes through text.fit (inert, cut to its column)."""
    head = (
        f"calltui stats --by {','.join(report.by)}  {fmt_time(report.since, zone)} → "
        f"{fmt_time(report.until, zone)}  {report.attempts} attempts"
    )
    title = fit("GROUP (" + " › ".join(report.by) + ")", KEY_WIDTH)
    columns = "".join(f"{name:>{width}}" for name, width in _COLUMNS)
    out = [head, "", f"{title}{columns}".rstrip()]
    out += _rows(report.groups, 0)
    if not report.groups:
        out.append("(no attempts)")
    return "\n".join(out) + "\n"


def _rows(groups: list[Group], depth: int) -> list[str]:
    lines = []
    for g in groups:
        value = next(iter(g.key.values()))
        label = "(none)" if value is None else value
        cells = (
            str(g.attempts),
            _pct(g.share),
            str(g.answered),
            str(g.failed),
            _pct(g.asr),
            "-" if g.asr_delta is None else f"{g.asr_delta:+.1f}",
            _pct(g.ner),
            "-" if g.acd_s is None else fmt_duration(round(g.acd_s)),
            "-" if g.pdd_s is None else f"{g.pdd_s:.1f}s",
            "-" if g.attempts_delta is None else f"{g.attempts_delta:+d}",
        )
        indent = " " * (INDENT * depth)
        row = fit(indent + str(label), KEY_WIDTH - 1) + " "
        row += "".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, _COLUMNS, strict=True))
        lines.append(row.rstrip())
        lines += _rows(g.groups, depth + 1)
    return lines


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}%"
