"""What every benchmark shares: a report line per goal, and realistic records in bulk.

Each script measures a baseline in the same process, so the machine's speed cancels out, and
prints one line per goal: the measured ratio (or figure), the goal, PASS or FAIL.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

from calltui.model import Call, Outcome

FIXED_NOW = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)
_OUTCOMES = (
    [Outcome.ANSWERED] * 62
    + [Outcome.NO_ANSWER] * 12
    + [Outcome.BUSY] * 8
    + [Outcome.CANCELLED] * 7
    + [Outcome.FAILED] * 11
)
_CAUSES = {
    Outcome.ANSWERED: (200, "Normal call clearing", 16),
    Outcome.NO_ANSWER: (480, "No user responding", 18),
    Outcome.BUSY: (486, "User busy", 17),
    Outcome.CANCELLED: (487, "Request terminated", 16),
    Outcome.FAILED: (503, "No circuit/channel available", 34),
}
failures = 0


def machine() -> str:
    return (
        f"{platform.machine()} · {platform.processor() or 'cpu'} · Python {sys.version.split()[0]}"
    )


def report(
    goal: str,
    value: float,
    limit: float,
    unit: str = "x",
    *,
    higher_is_better: bool = False,
    detail: str = "",
) -> bool:
    """One result line: `goal  value (limit)  PASS|FAIL  detail`; failures are counted."""
    global failures
    ok = value >= limit if higher_is_better else value <= limit
    if not ok:
        failures += 1
    sign = ">=" if higher_is_better else "<="
    verdict = "PASS" if ok else "FAIL"
    line = f"{goal:<58} {value:10.3f}{unit:<3} (goal {sign} {limit:g}{unit})  {verdict}"
    print(line + (f"  {detail}" if detail else ""), flush=True)
    return ok


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall time of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def synthetic_calls(n: int, accounts: int = 5) -> Iterator[Call]:
    """`n` plausible records, newest first, each with a raw dict the size of a real API record."""
    providers = ("tmedia", "plivo", "bandwidth", "restcomm", "jambonz")
    for i in range(n):
        start = FIXED_NOW - timedelta(seconds=i * 0.7)
        outcome = _OUTCOMES[(i * 7919) % len(_OUTCOMES)]
        sip, cause, q850 = _CAUSES[outcome]
        duration = (i * 37) % 900 if outcome is Outcome.ANSWERED else 0
        p = providers[i % accounts]
        cid = f"{i:08x}-5c1e-4b7a-9d2f-{i * 2654435761 % 10**12:012d}"
        caller, callee = f"+1{2025550000 + i % 9999:010d}", f"+44{7700900000 + i % 7777:010d}"
        raw = {
            "call_uuid": cid,
            "from_number": caller,
            "to_number": callee,
            "call_direction": "outbound" if i % 3 else "inbound",
            "initiation_time": start.strftime("%Y-%m-%d %H:%M:%S+00:00"),
            "answer_time": None,
            "end_time": (start + timedelta(seconds=duration)).strftime("%Y-%m-%d %H:%M:%S+00:00"),
            "call_duration": duration,
            "bill_duration": duration,
            "billed_duration": duration,
            "hangup_cause_name": cause,
            "hangup_cause_code": 4000 + q850,
            "hangup_source": "Callee",
            "total_amount": "0.00650",
            "total_rate": "0.00650",
            "trunk_domain": "trunk-a.zt.plivo.com",
            "resource_uri": f"/v1/Account/MA0000000000000000/Call/{cid}/",
        }
        yield Call(
            provider=p,
            account=f"demo-{p}",
            id=cid,
            started_at=start,
            outcome=outcome,
            raw=raw,
            sip_call_id=f"{cid}@10.0.{i % 256}.{(i >> 8) % 256}",
            from_=caller,
            to=callee,
            direction=raw["call_direction"],
            ended_at=start + timedelta(seconds=duration),
            duration_s=duration,
            billed_s=duration,
            sip_code=sip,
            cause=cause,
            cause_code=q850,
            mos=4.1 if outcome is Outcome.ANSWERED else None,
        )


def finish() -> int:
    """The exit status of a benchmark script: 1 if any goal failed."""
    print(f"# {machine()}", flush=True)
    return 1 if failures else 0
