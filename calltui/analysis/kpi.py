"""NOC KPIs over a set of records, in one pass.

    compute(calls, *, short_s=10, bucket_s=60, top=5, since=None, until=None) -> Kpis
    by_account(calls, ...) -> dict[str, Kpis]
    summarize(calls, ...) -> tuple[Kpis, dict[str, Kpis]]     # merged and per account, one pass
    sparkline(values, width) -> str;  bar(count, top, width) -> str

Definitions (what each number counts):
- attempts: calls that have ended (every outcome but in_progress). Calls, not legs
  (analysis.legs): a Tmedia call is two legs, the incoming and the outgoing, and counts once,
  with its outgoing leg's outcome; `legs=True` counts every record (a split by trunk, where each
  leg is a seizure on its own trunk).
- answered: attempts that were answered, including those connected before they ended badly
  (Plivo 3020 rtp_timeout; a Tmedia leg with a connect time): analysis.cause.answered.
- ASR = answered / attempts × 100 (ITU-T E.411): busy and no answer count as failures.
- NER = effective / attempts × 100 (ITU-T E.425): effective = answered + attempts ended by the
  called user's behaviour: user busy, ring-no-answer, user rejection, and the caller abandoning.
  By code (analysis.cause.effective): SIP 480, 486, 487, 600, 603 (RFC 6076 SEER's set plus the
  caller's 487); Plivo hangup codes 4340, 4410, 4420, 4550, 6000, 6030 (its "expected outcomes"
  among the calls that do not connect); Q.850 17, 18, 19, 20, 21. Every other
  final code (404, 408, 484, 403, 488, 5xx; Q.850 1, 27, 34, 38, 41, ...) is a network, routing
  or address failure. Without any final code (Restcomm, Bandwidth lists) the outcome decides:
  busy, no_answer and cancelled are effective.
- ACD: mean talk time (`duration_s`, else answered→ended) of answered attempts whose duration is
  known, in seconds.
- PDD: mean post-dial delay (INVITE to first 180/183) over the attempts where the record gives
  it (analysis.cause.pdd_s: Tmedia's call flow, a `post_dial_delay`/`pdd_ms` field); None when
  no record does. `pdd_calls` says how many records it is taken over.
- short share: answered attempts shorter than `short_s` seconds, as a % of the answered ones with
  a known duration (a false-answer and quality smell).
- causes: the `top` most frequent failure labels (analysis.cause.label) over the attempts that
  were not answered, most frequent first (ties by label); `failed` counts them all.
- per_minute: records (in progress included) started in each `bucket_s` bucket from `since`
  (the last bucket ends at `until`, inclusive); records outside [since, until] are left out of
  it only.
Percentages are None when their denominator is zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from calltui.analysis import cause
from calltui.analysis.legs import calls_not_legs
from calltui.model import Call, Outcome, iso

SPARK = "▁▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉█"

KPI_KEYS = (
    "attempts",
    "answered",
    "effective",
    "failed",
    "in_progress",
    "asr",
    "ner",
    "acd_s",
    "pdd_s",
    "pdd_calls",
    "short_s",
    "short_calls",
    "short_share",
    "causes",
    "bucket_s",
    "since",
    "per_minute",
)
"""The keys of Kpis.to_dict(), in order (also what `calltui stats --format json` prints)."""


@dataclass(slots=True)
class Kpis:
    attempts: int = 0
    answered: int = 0
    effective: int = 0
    failed: int = 0
    in_progress: int = 0
    asr: float | None = None
    ner: float | None = None
    acd_s: float | None = None
    pdd_s: float | None = None
    pdd_calls: int = 0
    short_s: int = 10
    short_calls: int = 0
    short_share: float | None = None
    causes: list[tuple[str, int]] = field(default_factory=list)
    bucket_s: int = 60
    since: datetime | None = None
    per_minute: list[int] = field(default_factory=list)
    """Counts per `bucket_s` bucket (per minute with the default) from `since`."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "answered": self.answered,
            "effective": self.effective,
            "failed": self.failed,
            "in_progress": self.in_progress,
            "asr": self.asr,
            "ner": self.ner,
            "acd_s": self.acd_s,
            "pdd_s": self.pdd_s,
            "pdd_calls": self.pdd_calls,
            "short_s": self.short_s,
            "short_calls": self.short_calls,
            "short_share": self.short_share,
            "causes": [{"label": label, "count": n} for label, n in self.causes],
            "bucket_s": self.bucket_s,
            "since": iso(self.since),
            "per_minute": list(self.per_minute),
        }


class _Acc:
    """Running sums for one set of records; merged accumulators add up."""

    __slots__ = (
        "answered",
        "attempts",
        "buckets",
        "causes",
        "dur_n",
        "dur_sum",
        "effective",
        "in_progress",
        "pdd_n",
        "pdd_sum",
        "short",
    )

    def __init__(self, n_buckets: int) -> None:
        self.attempts = self.answered = self.effective = self.in_progress = 0
        self.dur_n = self.short = self.pdd_n = 0
        self.dur_sum = self.pdd_sum = 0.0
        self.causes: dict[str, int] = {}
        self.buckets = [0] * n_buckets

    def merge(self, other: _Acc) -> None:
        self.attempts += other.attempts
        self.answered += other.answered
        self.effective += other.effective
        self.in_progress += other.in_progress
        self.dur_n += other.dur_n
        self.dur_sum += other.dur_sum
        self.short += other.short
        self.pdd_n += other.pdd_n
        self.pdd_sum += other.pdd_sum
        for label, n in other.causes.items():
            self.causes[label] = self.causes.get(label, 0) + n
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]

    def kpis(self, *, top: int, short_s: int, bucket_s: int, since: datetime | None) -> Kpis:
        failed = self.attempts - self.answered
        ranked = sorted(self.causes.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return Kpis(
            attempts=self.attempts,
            answered=self.answered,
            effective=self.effective,
            failed=failed,
            in_progress=self.in_progress,
            asr=_pct(self.answered, self.attempts),
            ner=_pct(self.effective, self.attempts),
            acd_s=self.dur_sum / self.dur_n if self.dur_n else None,
            pdd_s=self.pdd_sum / self.pdd_n if self.pdd_n else None,
            pdd_calls=self.pdd_n,
            short_s=short_s,
            short_calls=self.short,
            short_share=_pct(self.short, self.dur_n),
            causes=ranked,
            bucket_s=bucket_s,
            since=since,
            per_minute=self.buckets,
        )


def _pct(n: int, d: int) -> float | None:
    return 100.0 * n / d if d else None


def _window(
    calls: Iterable[Call], since: datetime | None, until: datetime | None
) -> tuple[Iterable[Call], datetime | None, datetime | None]:
    """Without a window the calls' own start times bound it (the calls are read twice)."""
    if since is not None and until is not None:
        return calls, since, until
    held = calls if isinstance(calls, Sequence) else list(calls)
    starts = [c.started_at for c in held if c.started_at is not None]
    return held, since or min(starts, default=None), until or max(starts, default=None)


def summarize(
    calls: Iterable[Call],
    *,
    short_s: int = 10,
    bucket_s: int = 60,
    top: int = 5,
    since: datetime | None = None,
    until: datetime | None = None,
    accounts: Iterable[str] = (),
    legs: bool = False,
) -> tuple[Kpis, dict[str, Kpis]]:
    """Merged KPIs and KPIs per account, in one pass over `calls`. `accounts` names accounts
    to report even when none of their calls is in the set (zero attempts, None ratios); `legs`:
    every record counts (else calls, not legs)."""
    if bucket_s <= 0:
        raise ValueError("bucket_s must be positive")
    if not legs:
        calls = calls_not_legs(calls)
    calls, since, until = _window(calls, since, until)
    start = since.timestamp() if since is not None else 0.0
    n = 0
    if since is not None and until is not None and until >= since:
        n = max(1, math.ceil((until.timestamp() - start) / bucket_s))
    end = until.timestamp() if until is not None else 0.0
    per: dict[str, _Acc] = {name: _Acc(n) for name in accounts}
    in_progress = Outcome.IN_PROGRESS
    effective, label, pdd_of = cause.effective, cause.label, cause.pdd_s
    is_answered = cause.answered
    for c in calls:
        acc = per.get(c.account)
        if acc is None:
            acc = per[c.account] = _Acc(n)
        t = c.started_at
        if t is not None and n:
            ts = t.timestamp()
            # A call started at `until` itself belongs to the last bucket.
            i = min(int((ts - start) // bucket_s), n - 1) if ts <= end else n
            if 0 <= i < n:
                acc.buckets[i] += 1
        if c.outcome is in_progress:
            acc.in_progress += 1
            continue
        acc.attempts += 1
        if is_answered(c):
            acc.answered += 1
            acc.effective += 1
            d = c.duration_s
            if d is None and c.ended_at is not None and c.answered_at is not None:
                d = int((c.ended_at - c.answered_at).total_seconds())
            if d is not None:
                acc.dur_n += 1
                acc.dur_sum += d
                if d < short_s:
                    acc.short += 1
        else:
            if effective(c):
                acc.effective += 1
            key = label(c)
            acc.causes[key] = acc.causes.get(key, 0) + 1
        p = pdd_of(c)
        if p is not None:
            acc.pdd_n += 1
            acc.pdd_sum += p
    merged = _Acc(n)
    for acc in per.values():
        merged.merge(acc)
    opts: dict[str, Any] = {"top": top, "short_s": short_s, "bucket_s": bucket_s, "since": since}
    return merged.kpis(**opts), {name: acc.kpis(**opts) for name, acc in per.items()}


def sparkline(values: Sequence[int | float], width: int) -> str:
    """`values` as at most `width` block characters, scaled to their maximum. Longer series are
    summed into `width` nearly equal bins; a zero bin is a space, any count shows."""
    if width <= 0 or not values:
        return ""
    if len(values) > width:
        size = len(values) / width
        bins = [sum(values[int(i * size) : int((i + 1) * size)]) for i in range(width)]
    else:
        bins = list(values)
    top = max(bins)
    if top <= 0:
        return " " * len(bins)
    last = len(SPARK) - 1
    return "".join(" " if v <= 0 else SPARK[min(last, int(v / top * last + 0.5))] for v in bins)


def bar(count: float, top: float, width: int) -> str:
    """A horizontal bar of `count` against `top` in `width` cells, eighth-cell precise; a
    positive count is never drawn empty. Padded to `width`."""
    if width <= 0:
        return ""
    if top <= 0 or count <= 0:
        return " " * width
    eighths = max(1, round(min(count, top) / top * width * 8))
    full, part = divmod(eighths, 8)
    out = "█" * full + (EIGHTHS[part] if part else "")
    return out.ljust(width)
