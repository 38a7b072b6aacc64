"""Failures over time and where they rose (`stats --timeline`, the TUI's timeline).

    timeline(calls, since, until) -> Timeline
    onset_line(timeline, zone) -> str;  bars(timeline, zone, *, ascii=False) -> str

Buckets cover the window from `since` rounded down to a whole bucket to `until`: 1 min for a
window up to 2 h, 5 min up to 12 h, 15 min up to 2 days, 1 h beyond. Each counts the attempts
that started in it, as the KPIs count them (analysis.kpi: records that ended, calls not legs),
and their failures: attempts not effective in the NER sense (analysis.cause.effective; answered,
busy, no answer, rejected by the user and abandoned by the caller are effective). The onset
looks for a network incident, and what called users do only dilutes one: counted as failures,
busy, no-answer and cancels put a steady 38% of the simulator's attempts under the line against
about 20% that the network failed, and the same rise stands out less. Records outside the
window are left out.

The onset: the bucket where the failure rate rose and stayed up. For a candidate bucket k, with
n0 attempts and f0 failures in the buckets before it, n1 and f1 from it to the end of the window,
p0 = f0/n0, p1 = f1/n1 and p = (f0+f1)/(n0+n1) the rate of the whole window:

    z = (f1 - n1·p0) / sqrt(n1·p·(1-p)·(1 + n1/n0))

the one-sided binomial z-score of the failures from k against the rate before, in its
two-sample form: the variance counts that p0 is itself measured, on n0 attempts (the `n1/n0`
term), and is taken at the pooled rate p. With p0's own variance left out, or taken at p0, a
short "before" read a little low makes any long "after" look significant and the simulator's
normal hours showed an onset in one window of ten; and p0 = 0 (a clean start) needs no floor,
since a rise leaves 0 < p < 1. A candidate passes when:
1. it has at least MIN_BUCKETS_BEFORE buckets and MIN_BEFORE attempts before it, and MIN_AFTER
   attempts from it;
2. z >= Z_ONSET and p1 >= p0 + MIN_RISE (a rise a person cares about, not only a significant one
   over thousands of calls). Z_ONSET is 3.5, not 3: z >= 3 is one bucket's test (one-sided
   p = 0.0013), but the onset is looked for at every bucket of the window (up to 200): at 3, a
   steady synthetic series showed an onset in about one window of 50 and the simulator's normal
   hours in one of 20; at 3.5, one of 250 and one of 120, while a step from 10% to 60% is still
   found at its bucket. Measured again once failures became attempts not effective: steady
   series at the simulator's 20% of network failures, 21 windows of 1000 at 3 and 6 at 3.5; the
   simulator's normal hours (900 windows of 1 to 24 h ending before its incident, 30 seeds),
   13 of 900 at 3 and 1 at 3.5 (16 at 3.5 counting calls not answered, as before);
3. the rate stays up: every later stretch that reaches the end of the window and holds at least
   STAY_SHARE of the attempts from k (and MIN_AFTER) keeps a failure rate of at least the
   midpoint of p0 and p1. A spike that ended within the window is no onset: its tail is back
   near p0. A share, not every suffix, because the last few attempts alone are too few to tell.
The onset is the passing candidate with the largest z: where the rise most likely began (the
maximum of this statistic over k estimates the change point of a two-rate binomial series).

With the onset comes the group that carries most of the excess failures after it: failures are
grouped by (trunk, cause label, destination prefix); a group's excess is its failures after the
onset less its failures before scaled by the attempts after over the attempts before (what it
would have had at its earlier rate per attempt). Prefixes of 2 to 6 digits are tried; the
longest whose best group keeps PREFIX_KEEP of the largest excess names it (`4420`, not `44`
that only contains it, nor `44207` that cuts it up).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from calltui import numbers
from calltui.analysis import cause
from calltui.analysis.groups import attempts_of
from calltui.model import Call, iso
from calltui.text import inert

BUCKETS = ((timedelta(hours=2), 60), (timedelta(hours=12), 300), (timedelta(days=2), 900))
"""(longest window, bucket seconds); a longer window has 1 h buckets."""
LONG_BUCKET_S = 3600

Z_ONSET = 3.5
STAY_SHARE = 1 / 3
MIN_RISE = 0.03
MIN_BUCKETS_BEFORE = 3
MIN_BEFORE = 20
MIN_AFTER = 20
PREFIX_LENGTHS = range(2, 7)
PREFIX_KEEP = 0.75

BAR_WIDTH = 40


@dataclass(slots=True)
class Bucket:
    start: datetime
    attempts: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"start": iso(self.start), "attempts": self.attempts, "failed": self.failed}


@dataclass(slots=True)
class Culprit:
    """The group that carries most of the excess failures after the onset."""

    trunk: str | None
    sip: int | None
    cause: str
    prefix: str | None
    excess: float
    """Failures after the onset beyond those the group's earlier rate per attempt gives."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "trunk": self.trunk,
            "sip": self.sip,
            "cause": self.cause,
            "prefix": self.prefix,
            "excess": round(self.excess, 1),
        }


@dataclass(slots=True)
class Onset:
    at: datetime
    z: float
    rate_before: float
    rate_after: float
    group: Culprit | None

    def to_dict(self) -> dict[str, Any]:
        group = None if self.group is None else self.group.to_dict()
        return {"at": iso(self.at), "z": round(self.z, 2), "group": group}


@dataclass(slots=True)
class Timeline:
    since: datetime
    until: datetime
    bucket_s: int
    buckets: list[Bucket]
    onset: Onset | None

    def to_dict(self) -> dict[str, Any]:
        """`stats --timeline --format json`: `{"bucket_s", "buckets": [{"start", "attempts",
        "failed"}], "onset"}`."""
        return {
            "bucket_s": self.bucket_s,
            "buckets": [b.to_dict() for b in self.buckets],
            "onset": None if self.onset is None else self.onset.to_dict(),
        }


def bucket_seconds(window: timedelta) -> int:
    return next((s for longest, s in BUCKETS if window <= longest), LONG_BUCKET_S)


def timeline(calls: Iterable[Call], since: datetime, until: datetime) -> Timeline:
    if until < since:
        raise ValueError("the window ends before it starts")
    size = bucket_seconds(until - since)
    # Whole buckets of the clock (13:40, not 13:37:12), so the onset reads as a time.
    first = math.floor(since.timestamp() / size) * size
    n = max(1, math.ceil((until.timestamp() - first) / size))
    buckets = [Bucket(datetime.fromtimestamp(first + i * size, timezone.utc)) for i in range(n)]
    lo, hi = since.timestamp(), until.timestamp()
    held: list[tuple[int, Call]] = []
    for c in attempts_of(calls, legs=False):
        if c.started_at is None:
            continue
        t = c.started_at.timestamp()
        if not lo <= t <= hi:
            continue
        # A call started at `until` itself belongs to the last bucket.
        i = min(int((t - first) // size), n - 1)
        b = buckets[i]
        b.attempts += 1
        if not cause.effective(c):
            b.failed += 1
        held.append((i, c))
    found = _onset(buckets)
    onset = None
    if found is not None:
        k, z, p0, p1 = found
        onset = Onset(buckets[k].start, z, p0, p1, _culprit(held, k))
    return Timeline(since, until, size, buckets, onset)


def _onset(buckets: list[Bucket]) -> tuple[int, float, float, float] | None:
    """(bucket, z, rate before, rate after) of the onset, by the test of the module docstring."""
    n_all = sum(b.attempts for b in buckets)
    f_all = sum(b.failed for b in buckets)
    pooled = f_all / n_all if n_all else 0.0
    best: tuple[int, float, float, float] | None = None
    n0 = f0 = 0
    for k, b in enumerate(buckets):
        n1, f1 = n_all - n0, f_all - f0
        enough = k >= MIN_BUCKETS_BEFORE and n0 >= MIN_BEFORE and n1 >= MIN_AFTER
        if enough and f1 / n1 >= f0 / n0 + MIN_RISE:
            p0, p1 = f0 / n0, f1 / n1
            # A rise leaves 0 < pooled < 1: the variance is never 0.
            z = (f1 - n1 * p0) / math.sqrt(n1 * pooled * (1 - pooled) * (1 + n1 / n0))
            if z >= Z_ONSET and (best is None or z > best[1]) and _stays(buckets, k, p0, p1, n1):
                best = (k, z, p0, p1)
        n0 += b.attempts
        f0 += b.failed
    return best


def _stays(buckets: list[Bucket], k: int, p0: float, p1: float, n1: int) -> bool:
    """Every suffix from a later bucket with STAY_SHARE of the `n1` attempts from `k` (and
    MIN_AFTER) keeps at least the midpoint of the rates before and after `k`."""
    mid = (p0 + p1) / 2
    least = max(MIN_AFTER, STAY_SHARE * n1)
    n = f = 0
    for b in reversed(buckets[k + 1 :]):
        n += b.attempts
        f += b.failed
        if n >= least and f < n * mid:
            return False
    return True


_Key = tuple[str | None, str, str | None]


def _culprit(held: list[tuple[int, Call]], k: int) -> Culprit | None:
    """The (trunk, cause, prefix) group with the largest excess failures from bucket `k`."""
    n_before = sum(1 for i, _ in held if i < k)
    n_after = len(held) - n_before
    failed = [(i < k, c) for i, c in held if not cause.effective(c)]
    best_by_length: list[tuple[float, _Key, Call]] = []
    for length in PREFIX_LENGTHS:
        counts: dict[_Key, list[int]] = {}
        sample: dict[_Key, Call] = {}
        for before, c in failed:
            key = (c.trunk, cause.label(c), numbers.prefix_of(c.to, length))
            pair = counts.get(key)
            if pair is None:
                pair = counts[key] = [0, 0]
                sample[key] = c
            pair[0 if before else 1] += 1
        # The onset test asked for MIN_BEFORE attempts before it: n_before is never 0.
        scale = n_after / n_before
        ranked = [(after - before * scale, key) for key, (before, after) in counts.items()]
        if ranked:
            # Most excess first; ties by the key's text, so the choice does not depend on order.
            excess, key = min(ranked, key=lambda e: (-e[0], str(e[1])))
            best_by_length.append((excess, key, sample[key]))
    top = max((e for e, _, _ in best_by_length), default=0.0)
    if top <= 0:
        return None
    excess, (trunk, label, prefix), c = next(
        e for e in reversed(best_by_length) if e[0] >= PREFIX_KEEP * top
    )
    return Culprit(trunk, cause.final_sip(c), label, prefix, excess)


# --- text ---------------------------------------------------------------------------------------


def _clock(t: datetime, zone: tzinfo | None, bucket_s: int) -> str:
    try:
        local = t.astimezone(zone)
    except OverflowError:  # pushed past the calendar: keep UTC
        local = t
    # Hour buckets span days: the date tells them apart.
    return local.strftime("%m-%d %H:%M" if bucket_s >= LONG_BUCKET_S else "%H:%M")


def spaced_prefix(prefix: str) -> str:
    """`4420` → `+44 20`: the calling code apart, as a person writes it."""
    code = numbers.calling_code_of("+" + prefix)
    if code is None or code == prefix:
        return "+" + prefix
    return f"+{code} {prefix[len(code) :]}"


def onset_line(t: Timeline, zone: tzinfo | None) -> str:
    """`failures up since 13:40 (19% → 47%): 503 from NAP_PEER_LON to +44 20`, or that the
    window shows no onset."""
    o = t.onset
    if o is None:
        return "no onset: the failure rate did not rise and stay up in this window"
    head = (
        f"failures up since {_clock(o.at, zone, t.bucket_s)} "
        f"({o.rate_before:.0%} → {o.rate_after:.0%}, z {o.z:.1f})"
    )
    g = o.group
    if g is None:
        return head
    what = str(g.sip) if g.sip is not None else g.cause
    where = "".join(
        (
            f" from {g.trunk}" if g.trunk else "",
            f" to {spaced_prefix(g.prefix)}" if g.prefix else "",
        )
    )
    return inert(f"{head}: {what}{where}", 200)


def bars(t: Timeline, zone: tzinfo | None, *, ascii: bool = False) -> str:
    """One line per bucket: its time, attempts, failures and rate, and a bar of its attempts
    scaled to the busiest bucket, failures drawn solid; the onset bucket is marked. `ascii`
    draws `#` for failures and `.` for the rest, for terminals and logs without block glyphs."""
    solid, rest = ("#", ".") if ascii else ("█", "░")
    mark = "<- onset" if ascii else "◀ onset"
    top = max((b.attempts for b in t.buckets), default=0)
    at = None if t.onset is None else t.onset.at
    width = len(_clock(t.since, zone, t.bucket_s))
    legend = f"{solid} failed  {rest} effective"
    lines = [f"{'time':>{width}}  {'calls':>6} {'failed':>6} {'rate':>5}  {legend}"]
    for b in t.buckets:
        rate = f"{b.failed / b.attempts:.0%}" if b.attempts else "-"
        bad = _cells(b.failed, top)
        drawn = (solid * bad + rest * (_cells(b.attempts, top) - bad)).ljust(BAR_WIDTH)
        clock = _clock(b.start, zone, t.bucket_s)
        line = f"{clock:>{width}}  {b.attempts:>6} {b.failed:>6} {rate:>5}  {drawn}"
        if b.start == at:
            line += f"  {mark}"
        lines.append(line.rstrip())
    return "\n".join(lines) + "\n"


def _cells(count: int, top: int) -> int:
    """`count` in BAR_WIDTH cells against `top`; any count shows."""
    return 0 if count <= 0 else max(1, round(count / top * BAR_WIDTH))
