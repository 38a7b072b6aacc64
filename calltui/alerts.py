"""Alerts of the live tail (`[alerts]` in the config): a group whose ASR falls, or whose PDD rises,
against its baseline.

    check(calls, now, policy, day_before=None) -> list[Alert]

For each field of `policy.by` (account, trunk, or any group field of analysis.groups) and each
of its groups: the recent window is the last WINDOW_S before `now`, the baseline the window of
the same length just before it, or, when the calls of the same window a day earlier are given
(`day_before`) and hold at least `min_attempts` of the group, that window (traffic has a daily
shape: the hour before can be the wrong yardstick at 9:00). A group is looked at once it has at
least `min_attempts` attempts in the recent window and in its baseline. It alerts when its ASR
fell by at least `asr_drop_points` points, or its mean PDD rose by at least `pdd_rise_s`
seconds. The numbers are those of analysis.kpi (calls, not legs; ASR over attempts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from calltui.model import Call

if TYPE_CHECKING:
    from calltui.analysis import kpi

WINDOW_S = 900
"""The rolling window an alert is about: the last 15 minutes."""


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    asr_drop_points: float = 15.0
    min_attempts: int = 20
    pdd_rise_s: float = 2.0
    by: tuple[str, ...] = ("account", "trunk")
    bell: bool = True


@dataclass(frozen=True, slots=True)
class Alert:
    field: str
    value: str | int
    kind: str
    """`asr` (it fell) or `pdd` (it rose)."""
    before: float
    after: float
    attempts: int
    """The group's attempts in the recent window."""
    baseline: str
    """`the 15 min before` or `a day earlier`."""

    @property
    def key(self) -> tuple[str, str | int, str]:
        return (self.field, self.value, self.kind)

    def line(self) -> str:
        """One line of what changed: `trunk NAP_PEER_LON: ASR 61% → 22% in the last 15 min
        (40 attempts; against the 15 min before)`."""
        if self.kind == "asr":
            what = f"ASR {self.before:.0f}% → {self.after:.0f}%"
        else:
            what = f"PDD {self.before:.1f} s → {self.after:.1f} s"
        return (
            f"{self.field} {self.value}: {what} in the last {WINDOW_S // 60} min "
            f"({self.attempts} attempts; against {self.baseline})"
        )


@dataclass(slots=True)
class _Split:
    recent: list[Call] = field(default_factory=list)
    before: list[Call] = field(default_factory=list)
    day: list[Call] = field(default_factory=list)


def check(
    calls: Iterable[Call],
    now: datetime,
    policy: AlertPolicy,
    day_before: Iterable[Call] = (),
) -> list[Alert]:
    """The alerts of `calls` (any calls: only those of the last two windows are read) at
    `now`, most attempts first."""
    # Imported here: only a live tail checks for alerts, and the first frame need not wait.
    from calltui.analysis.groups import attempts_of, reader

    window = timedelta(seconds=WINDOW_S)
    start, middle = now - 2 * window, now - window
    recent: list[Call] = []
    before: list[Call] = []
    for c in calls:
        t = c.started_at
        if t is None or t < start or t > now:
            continue
        (recent if t > middle else before).append(c)
    day = [c for c in day_before if c.started_at is not None]
    out: list[Alert] = []
    for name in policy.by:
        legs = name == "trunk"  # a trunk carries each leg of a call
        read = reader(name)
        groups: dict[str | int, _Split] = {}
        for which, part in (("recent", recent), ("before", before), ("day", day)):
            for c in attempts_of(part, legs=legs):
                value = read(c)
                if value is not None:
                    getattr(groups.setdefault(value, _Split()), which).append(c)
        for value, split in groups.items():
            out += _judge(name, value, split, policy, middle, now)
    out.sort(key=lambda a: (-a.attempts, a.field, str(a.value), a.kind))
    return out


def _judge(
    name: str, value: str | int, split: _Split, policy: AlertPolicy, middle: datetime, now: datetime
) -> list[Alert]:
    if len(split.recent) < policy.min_attempts:
        return []
    base, said = split.before, f"the {WINDOW_S // 60} min before"
    if len(split.day) >= policy.min_attempts:
        base, said = split.day, "a day earlier"
    if len(base) < policy.min_attempts:
        return []
    after = _kpis(split.recent, middle, now)
    was = _kpis(base, None, None)
    out = []
    if (
        after.asr is not None
        and was.asr is not None
        and was.asr - after.asr >= policy.asr_drop_points
    ):
        out.append(Alert(name, value, "asr", was.asr, after.asr, len(split.recent), said))
    if (
        after.pdd_s is not None
        and was.pdd_s is not None
        and after.pdd_s - was.pdd_s >= policy.pdd_rise_s
    ):
        out.append(Alert(name, value, "pdd", was.pdd_s, after.pdd_s, len(split.recent), said))
    return out


def _kpis(calls: Sequence[Call], since: datetime | None, until: datetime | None) -> kpi.Kpis:
    from calltui.analysis import kpi

    merged, _ = kpi.summarize(calls, since=since, until=until, legs=True)  # counted as split
    return merged
