"""The engine: accounts merged newest first, local refinement, prefetch bounded by demand, one
failing account never stops the others."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx

from calltui.config import parse_settings
from calltui.engine import MANY_ACCOUNTS, Engine
from calltui.model import CallQuery
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_accounts, demo_settings
from tests.conftest import FAST_RETRY, FIXED_NOW


def engine_for(sim: SimApp) -> Engine:
    return Engine(demo_settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)


async def test_merge_is_newest_first_and_loses_nothing(sim):
    engine = engine_for(sim)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=2))
    merged = await engine.collect(engine.account_names, query, None)
    per_account = 0
    for name in engine.account_names:
        per_account += len(await engine.collect([name], query, None))
    await engine.aclose()
    assert len(merged) == per_account > 0
    starts = [c.started_at for c in merged]
    assert starts == sorted(starts, reverse=True)
    assert len({(c.account, c.id) for c in merged}) == len(merged)


async def test_250_plivo_records_take_13_pages_of_20(sim):
    engine = engine_for(sim)
    sim_calls = await engine.collect(
        ["demo-plivo"], CallQuery(since=FIXED_NOW - timedelta(hours=24)), 250
    )
    await engine.aclose()
    assert len(sim_calls) == 250
    pages = [s for s in sim.seen if s.provider == "plivo" and s.path.endswith("/Call/")]
    assert 13 <= len(pages) <= 13 + 2 * 4  # plus at most the prefetch window in flight


async def test_a_failing_account_stops_alone(sim):
    broken = SimApp(seed=7, now=FIXED_NOW, faults="500@bandwidth")
    engine = engine_for(broken)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1))
    calls = await engine.collect(engine.account_names, query, None)
    await engine.aclose()
    assert calls and "demo-bandwidth" not in {c.account for c in calls}
    errors = engine.errors()
    assert [e.account for e in errors] == ["demo-bandwidth"]
    assert errors[0].status == 500
    assert engine.states["demo-bandwidth"].status == "error"
    assert engine.states["demo-plivo"].status == "ok"


class _BrokenFor(httpx.AsyncBaseTransport):
    """The simulator, except that one provider's requests hit a bug below the adapter (an
    exception that is not an HTTP error)."""

    def __init__(self, sim: SimApp, provider_path: str) -> None:
        self.inner = httpx.ASGITransport(app=sim)
        self.provider_path = provider_path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.provider_path in request.url.path:
            raise RuntimeError("a bug, not a provider error")
        return await self.inner.handle_async_request(request)


async def test_an_unexpected_exception_in_one_account_is_its_error_not_a_hang(sim):
    engine = Engine(demo_settings(), transport=_BrokenFor(sim, "/users/"), retry=FAST_RETRY)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1))
    calls = await engine.collect(engine.account_names, query, None)
    await engine.aclose()
    assert calls and "demo-bandwidth" not in {c.account for c in calls}
    (error,) = engine.errors()
    assert error.account == "demo-bandwidth"
    assert "internal error: RuntimeError" in str(error)


async def test_an_account_waiting_on_the_reader_does_not_look_busy(sim):
    """Pages in hand and the reader not asking: the account is `ok`, not `loading`; it is
    `loading` again when reading resumes and it goes back to the provider."""
    engine = engine_for(sim)
    seen: list[str] = []
    query = CallQuery(since=FIXED_NOW - timedelta(hours=24))
    gen = engine.merged(["demo-plivo"], query, lambda st: seen.append(st.status))
    await anext(gen)
    for _ in range(20):  # let the pump fill its queue while nobody reads
        await asyncio.sleep(0)
    state = engine.states["demo-plivo"]
    assert state.status == "ok" and not state.done
    for _ in range(100):  # read on: more pages are fetched
        await anext(gen)
    await gen.aclose()
    await engine.aclose()
    assert seen.count("loading") >= 2 and "ok" in seen


async def test_many_accounts_fetch_a_page_only_once_the_merge_took_the_last():
    """Past MANY_ACCOUNTS, no account fetches ahead of the merge, and first pages are smaller:
    prefetching for hundreds of accounts parsed and held calls nobody had asked for."""
    accounts = {
        f"{name}-{n}": account
        for name, account in demo_accounts().items()
        for n in range(MANY_ACCOUNTS // 5 + 1)
    }
    settings = parse_settings({"accounts": accounts}, Path("<test>"))
    assert len(settings.accounts) > MANY_ACCOUNTS
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    engine = Engine(settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=24))
    gen = engine.merged(engine.account_names, query, first_page=100)
    await anext(gen)  # every account's first page is in the merge
    for _ in range(200):  # time for pumps that would fetch ahead to do so
        await asyncio.sleep(0)
    pages = {s.pages for s in engine.states.values()}
    await gen.aclose()
    await engine.aclose()
    # The first page, taken by the merge, and the next, waiting for it to be wanted (or the
    # first alone, for an account whose day fits in it).
    assert max(pages) == 2
