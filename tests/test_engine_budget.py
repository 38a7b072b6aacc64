"""The records fetched ahead of the merge, across every account of a listing, stay within
IN_FLIGHT_RECORDS (beyond what the merge holds to order them)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx

from calltui.config import parse_settings
from calltui.engine import IN_FLIGHT_RECORDS, MANY_ACCOUNTS, Engine, StreamState
from calltui.model import CallQuery
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_accounts
from tests.conftest import FAST_RETRY, FIXED_NOW

ACCOUNTS = MANY_ACCOUNTS - 2
PAGE = 1000


async def test_accounts_fetch_ahead_only_within_the_budget() -> None:
    bandwidth = demo_accounts()["demo-bandwidth"]
    accounts = {f"bw-{n}": {**bandwidth, "page_size": PAGE} for n in range(ACCOUNTS)}
    settings = parse_settings({"accounts": accounts}, Path("<test>"))
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    engine = Engine(settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    fetched: dict[str, int] = {}

    def on_state(state: StreamState) -> None:
        fetched[state.account] = state.fetched

    gen = engine.merged(
        engine.account_names, CallQuery(since=FIXED_NOW - timedelta(days=7)), on_state
    )
    ahead = []
    for taken in range(1, 4 * PAGE, 97):
        for _ in range(97):
            await anext(gen)
        await asyncio.sleep(0.05)  # a reader that stops: pumps free to fetch ahead do so
        ahead.append(sum(fetched.values()) - taken)
    await gen.aclose()
    await engine.aclose()
    assert sum(s.pages for s in engine.states.values()) > ACCOUNTS  # some fetched ahead
    # What the merge holds to order them (about a page per account), the page the merge waits
    # for, and the one let through last under the budget: no account prefetches on its own.
    assert max(ahead) <= IN_FLIGHT_RECORDS + (ACCOUNTS + 2) * PAGE
