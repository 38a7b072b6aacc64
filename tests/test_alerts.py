"""Alerts of the live tail (calltui.alerts): a group whose ASR falls or whose PDD rises against
its baseline alerts once it has enough attempts; steady groups and small ones stay quiet."""

from __future__ import annotations

from datetime import timedelta

from calltui.alerts import WINDOW_S, AlertPolicy, check
from calltui.model import Call, Outcome
from tests.conftest import FIXED_NOW

NOW = FIXED_NOW
POLICY = AlertPolicy()


def calls(trunk: str, n: int, answered_share: float, *, ago_s: float, pdd_ms: int | None = None):
    """`n` Plivo calls on `trunk` spread over a window ending `ago_s` before NOW."""
    out = []
    for i in range(n):
        start = NOW - timedelta(seconds=ago_s + (i + 0.5) * (WINDOW_S / n))
        ok = i < round(n * answered_share)
        raw = {} if pdd_ms is None else {"pdd_ms": pdd_ms}
        out.append(
            Call(
                provider="plivo",
                account="acct",
                id=f"{trunk}-{ago_s}-{i}",
                started_at=start,
                outcome=Outcome.ANSWERED if ok else Outcome.FAILED,
                raw=raw,
                answered_at=start + timedelta(seconds=3) if ok else None,
                ended_at=start + timedelta(seconds=60),
                duration_s=57 if ok else 0,
                trunk=trunk,
            )
        )
    return out


def test_a_trunk_whose_asr_falls_alerts_and_a_steady_one_does_not():
    data = (
        calls("LON", 40, 0.7, ago_s=WINDOW_S)
        + calls("LON", 30, 0.2, ago_s=0)
        + calls("PAR", 40, 0.6, ago_s=WINDOW_S)
        + calls("PAR", 40, 0.6, ago_s=0)
    )
    alerts = check(data, NOW, AlertPolicy(by=("trunk",)))
    assert [(a.field, a.value, a.kind) for a in alerts] == [("trunk", "LON", "asr")]
    (a,) = alerts
    assert round(a.before) == 70 and round(a.after) == 20 and a.attempts == 30
    assert a.line().startswith("trunk LON: ASR 70% → 20% in the last 15 min (30 attempts")


def test_too_few_attempts_or_too_small_a_drop_stay_quiet():
    few = calls("LON", 40, 0.7, ago_s=WINDOW_S) + calls("LON", 10, 0.0, ago_s=0)
    assert check(few, NOW, POLICY) == []
    small = calls("LON", 40, 0.7, ago_s=WINDOW_S) + calls("LON", 40, 0.6, ago_s=0)
    assert check(small, NOW, POLICY) == []


def test_a_rising_pdd_alerts():
    data = calls("LON", 30, 0.7, ago_s=WINDOW_S, pdd_ms=1500) + calls(
        "LON", 30, 0.7, ago_s=0, pdd_ms=4500
    )
    kinds = {(a.value, a.kind) for a in check(data, NOW, AlertPolicy(by=("trunk",)))}
    assert kinds == {("LON", "pdd")}


def test_the_same_window_a_day_earlier_is_the_baseline_when_loaded():
    before = calls("LON", 40, 0.3, ago_s=WINDOW_S)  # the hour before was already bad...
    recent = calls("LON", 30, 0.3, ago_s=0)
    assert check(before + recent, NOW, POLICY) == []
    day = calls("LON", 40, 0.8, ago_s=86400)  # ...but this time yesterday it answered
    day_earlier = [c for c in day if c.started_at is not None]
    alerts = check(before + recent, NOW, POLICY, day_before=day_earlier)
    assert {(a.field, a.value, a.baseline) for a in alerts} == {
        ("account", "acct", "a day earlier"),
        ("trunk", "LON", "a day earlier"),
    }
