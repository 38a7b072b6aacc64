"""Records the analysis tests build by hand, and the simulator's records listed over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from calltui.engine import Engine
from calltui.model import Call, CallQuery, Outcome
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_settings
from tests.conftest import FAST_RETRY, FIXED_NOW

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def call(
    n: int,
    outcome: Outcome,
    *,
    account: str = "a",
    provider: str = "jambonz",
    at_s: float = 0.0,
    talk: int | None = None,
    **fields: Any,
) -> Call:
    """A call `at_s` seconds after T0; with `talk`, answered 3 s in and talking that long."""
    start = T0 + timedelta(seconds=at_s)
    answered = start + timedelta(seconds=3) if talk is not None else None
    return Call(
        provider=provider,
        account=account,
        id=f"c{n}",
        started_at=start,
        outcome=outcome,
        raw=fields.pop("raw", {}),
        answered_at=answered,
        ended_at=answered + timedelta(seconds=talk) if answered and talk is not None else None,
        duration_s=talk,
        **fields,
    )


async def sim_calls(since: datetime) -> list[Call]:
    """Every demo account's calls since `since`, from the simulator on FIXED_NOW, seed 7."""
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    engine = Engine(demo_settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    try:
        calls = await engine.collect(engine.account_names, CallQuery(since=since), None)
    finally:
        await engine.aclose()
    assert engine.errors() == []
    return calls
