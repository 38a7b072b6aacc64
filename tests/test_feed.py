"""The listing as the TUI reads it (calltui.feed), headless: plain asyncio over real HTTP to the
simulator. It lists as far as the reader wants and no further, ends where the window ends, keeps
a failed account apart and brings it back after a wait that doubles, with its rows in time
order among the others', seeks a call past the reader's target, and fetches evicted pages
again."""

from __future__ import annotations

import asyncio
import math
import pickle
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from calltui.config import parse_settings
from calltui.engine import Engine, StreamState
from calltui.feed import BATCH, BULK_CHUNK, CHUNK, PROGRESS_S, Feed, FeedEvents
from calltui.model import Call, CallQuery
from calltui.session import Session
from calltui.sim.app import SimApp
from calltui.sim.asgi import Faults, parse_faults
from calltui.sim.demo import demo_accounts
from calltui.store import EVICTED, HELD
from calltui.store_raw import CHUNK_ROWS, FLUSH_ROWS
from tests.conftest import FAST_RETRY, FIXED_NOW, FakeClock

TWO = ["demo-plivo", "demo-jambonz"]
WINDOW = CallQuery(since=FIXED_NOW - timedelta(hours=6))
"""Some hours: more calls than a few batches."""


@dataclass(frozen=True)
class Merge:
    """Rows a rejoining account merged in, as the feed stood at that moment."""

    starts: list[float]
    frontier: float
    """The start of the oldest row the main listing had added."""
    ended: bool
    """Whether the main listing had ended (then rows past the frontier may go in)."""


class Seen(FeedEvents):
    """Everything the feed reported, in order."""

    def __init__(self) -> None:
        self.feed: Feed | None = None
        self.added: list[tuple[range, int | None]] = []
        self.merged: list[range] = []
        self.merges: list[Merge] = []
        self.frontier = math.inf
        self.states: list[tuple[str, str]] = []
        self.notices: list[tuple[str, str]] = []
        self.changes = 0

    def rows_added(self, rows: range, keep_row: int | None) -> None:
        self.added.append((rows, keep_row))
        if self.feed is not None and rows:
            self.frontier = min(self.frontier, self.feed.store.started[rows[-1]])

    def rows_merged(self, rows: range) -> None:
        self.merged.append(rows)
        if self.feed is not None:
            starts = [self.feed.store.started[r] for r in rows]
            self.merges.append(Merge(starts, self.frontier, self.feed.exhausted))

    def account_changed(self, state: StreamState) -> None:
        self.states.append((state.account, state.status))

    def changed(self) -> None:
        self.changes += 1

    def notice(self, message: str, severity: str) -> None:
        self.notices.append((message, severity))


def settings():
    accounts = demo_accounts()
    return parse_settings({"accounts": accounts, "display": {"timezone": "UTC"}}, Path("<t>"))


@pytest.fixture
def sim() -> SimApp:
    return SimApp(seed=7, now=FIXED_NOW)


def feed_on(sim: SimApp, clock: FakeClock | None = None) -> tuple[Feed, Seen]:
    session = Session(
        settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY, now=FIXED_NOW
    )
    clock = clock or FakeClock()
    seen = Seen()
    feed = seen.feed = Feed(session, seen, recovery=clock.recovery())
    return feed, seen


async def until(ok: Callable[[], bool], what: str, tries: int = 1000) -> None:
    for _ in range(tries):
        if ok():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never happened: {what}")


async def everything_calls(sim: SimApp, accounts: list[str], query: CallQuery) -> list[Call]:
    """Every call of the query, merged newest first, from an engine of its own."""
    engine = Engine(settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    try:
        return await engine.collect(accounts, query, None)
    finally:
        await engine.aclose()


async def everything(sim: SimApp, accounts: list[str], query: CallQuery) -> list[tuple[str, str]]:
    return [(c.account, c.id) for c in await everything_calls(sim, accounts, query)]


def keys(feed: Feed) -> list[tuple[str, str]]:
    return [feed.store.key(r) for r in range(len(feed.store))]


def jambonz_rows(feed: Feed) -> list[int]:
    return [r for r in range(len(feed.store)) if feed.store.account_of(r) == "demo-jambonz"]


def starts(feed: Feed) -> list[float]:
    return [feed.store.started[r] for r in range(len(feed.store))]


def merged_in_time_order(seen: Seen) -> bool:
    """Whether the rejoining account's rows came newest first, and none went in past the
    frontier of its moment before the main listing had ended."""
    merged = [s for m in seen.merges for s in m.starts]
    return merged == sorted(merged, reverse=True) and all(
        s >= m.frontier for m in seen.merges if not m.ended for s in m.starts
    )


async def test_lists_what_the_reader_wants_and_no_more(sim: SimApp) -> None:
    feed, seen = feed_on(sim)
    feed.start(TWO, WINDOW)
    await until(lambda: feed.idle, "the listing waits for the reader")
    assert len(feed.store) == BATCH and not feed.exhausted
    assert seen.added and all(keep is None for _, keep in seen.added)
    assert starts(feed) == sorted(starts(feed), reverse=True)  # newest first, across accounts
    assert feed.want_more()
    await until(lambda: feed.idle and len(feed.store) == 2 * BATCH, "the next batch")
    assert not feed.want_more() or len(feed.store) < feed.target  # moved once per batch
    await feed.aclose()
    await feed.session.aclose()


async def test_rows_back_to_a_time_are_listed_whole_however_many(sim: SimApp) -> None:
    """`want_since`: what the live tail's alerts compare (the last two windows) is listed whole,
    past the reader's target, and no further than the first row before it."""
    feed, _ = feed_on(sim)
    feed.start(TWO, WINDOW)
    await until(lambda: feed.idle, "the listing waits for the reader")
    assert len(feed.store) == BATCH
    back = FIXED_NOW - timedelta(hours=2)
    assert min(starts(feed)) > back.timestamp()  # a batch does not reach back that far
    feed.want_since(back)
    await until(lambda: feed.idle and min(starts(feed)) <= back.timestamp(), "back to the time")
    every = await everything(sim, TWO, WINDOW)
    held = keys(feed)
    assert held == every[: len(held)]  # in order, nothing skipped
    assert sum(s < back.timestamp() for s in starts(feed)) <= CHUNK  # it stopped there
    assert not feed.exhausted
    await feed.aclose()
    await feed.session.aclose()


async def test_ends_with_the_window_holding_every_call_in_order(sim: SimApp) -> None:
    query = CallQuery(since=FIXED_NOW - timedelta(minutes=10))
    feed, seen = feed_on(sim)
    feed.start(TWO, query, want_all=True)
    await until(lambda: feed.exhausted, "the end of the window")
    assert feed.idle and seen.changes >= 1
    assert keys(feed) == await everything(sim, TWO, query)
    assert not feed.want_more()  # nothing left to want
    await feed.session.aclose()


async def test_a_long_load_hands_rows_over_in_few_big_batches(sim: SimApp) -> None:
    # Each hand-over lays the table out again: past the first screens, rows come in bulk.
    # (Hand-overs also go when the oldest row has waited HANDOVER_S: on average they are far
    # bigger than CHUNK unless the simulator gives fewer than 800 rows a second.)
    feed, seen = feed_on(sim)
    feed.start(TWO, CallQuery(since=FIXED_NOW - timedelta(hours=36)), want_all=True)
    await until(lambda: feed.exhausted, "the end of the window", tries=3000)
    sizes = [len(rows) for rows, _ in seen.added]
    assert sum(sizes) == len(feed.store) > 2 * BULK_CHUNK
    first = BATCH // CHUNK
    assert sizes[:first] == [CHUNK] * first  # the first screens do not wait
    later = sizes[first:-1]
    assert later and max(later) <= BULK_CHUNK and sum(later) / len(later) > 4 * CHUNK
    await feed.session.aclose()


async def test_states_are_told_at_most_every_progress_s_and_every_end_at_once(
    sim: SimApp,
) -> None:
    # The status line is redrawn on each account_changed: not once per page of each account.
    feed, seen = feed_on(sim)
    began = time.monotonic()
    feed.start(TWO, CallQuery(since=FIXED_NOW - timedelta(hours=36)), want_all=True)
    await until(lambda: feed.exhausted, "the end of the window", tries=3000)
    took = time.monotonic() - began
    pages = sum(feed.engine.states[a].pages for a in TWO)
    assert pages > 100  # Plivo's pages hold 20 calls
    told = len(seen.states) - len(TWO)  # the end of each account is told as well
    assert told <= len(TWO) * (took / PROGRESS_S + 2) < pages
    for account in TWO:
        assert [st for a, st in seen.states if a == account][-1] == "ok"
    await feed.session.aclose()


async def test_a_failed_account_waits_longer_each_time_then_rejoins_in_time_order(
    sim: SimApp,
) -> None:
    query = CallQuery(since=FIXED_NOW - timedelta(minutes=20))
    clock = FakeClock()
    sim.faults = Faults(parse_faults("500@plivo"), 7)
    feed, seen = feed_on(sim, clock)
    feed.start(TWO, query, want_all=True)
    await until(lambda: feed.exhausted and clock.waits == [5.0], "plivo failed, jambonz ended")
    assert feed.failed_accounts() == ["demo-plivo"]
    assert feed.retry_in("demo-plivo") == 5
    assert {a for a, _ in keys(feed)} == {"demo-jambonz"}  # the other account went on
    assert feed.pending() == ["demo-plivo"]

    clock.advance(5)  # still failing: the next wait doubles
    await until(lambda: clock.waits == [5.0, 10.0], "a second, longer wait")

    sim.faults = Faults((), 7)
    clock.advance(10)
    await until(lambda: not feed.pending(), "plivo back")
    assert seen.merged  # its rows came in among the others'
    assert merged_in_time_order(seen)
    expected = await everything(sim, TWO, query)
    assert sorted(keys(feed)) == sorted(expected)
    await feed.session.aclose()


async def test_rows_of_a_rejoining_account_wait_for_the_others_to_get_there(sim: SimApp) -> None:
    clock = FakeClock()
    sim.faults = Faults(parse_faults("500@jambonz"), 7)
    feed, seen = feed_on(sim, clock)
    feed.start(TWO, WINDOW)
    await until(lambda: clock.waits == [5.0] and feed.idle, "jambonz failed")
    frontier = feed.store.started[len(feed.store) - 1]
    sim.faults = Faults((), 7)
    clock.advance(5)
    await until(lambda: bool(jambonz_rows(feed)), "jambonz rows above the frontier")
    await asyncio.sleep(0.2)
    assert all(feed.store.started[r] >= frontier for r in jambonz_rows(feed))
    assert "demo-jambonz" in feed.pending()  # its older rows wait for the others to get there
    assert feed.want_more()
    await until(
        lambda: any(feed.store.started[r] < frontier for r in jambonz_rows(feed)),
        "jambonz rows older than the frontier",
    )
    assert not feed.exhausted and merged_in_time_order(seen)
    await feed.aclose()
    await feed.session.aclose()


async def test_bad_credentials_wait_for_the_user(sim: SimApp) -> None:
    clock = FakeClock()
    sim.faults = Faults(parse_faults("401@plivo"), 7)
    feed, _ = feed_on(sim, clock)
    feed.start(TWO, CallQuery(since=FIXED_NOW - timedelta(minutes=10)), want_all=True)
    await until(lambda: feed.exhausted and feed.failed_accounts() == ["demo-plivo"], "401")
    await asyncio.sleep(0.05)
    assert clock.waits == [] and feed.retry_in("demo-plivo") is None
    sim.faults = Faults((), 7)
    assert feed.retry_failed() == ["demo-plivo"]  # R
    await until(lambda: not feed.pending(), "plivo listed")
    assert "demo-plivo" in {a for a, _ in keys(feed)}
    await feed.session.aclose()


async def test_seeks_a_call_past_the_target_and_names_its_row(sim: SimApp) -> None:
    wanted = (await everything(sim, TWO, WINDOW))[3 * BATCH + 7]
    feed, seen = feed_on(sim)
    feed.start(TWO, WINDOW, keep=wanted, seek=True)
    await until(lambda: any(k is not None for _, k in seen.added), "the call sought")
    row = next(k for _, k in seen.added if k is not None)
    assert feed.store.key(row) == wanted and len(feed.store) > BATCH
    await until(lambda: feed.idle, "the listing stops once it is found")
    assert seen.notices == []
    await feed.aclose()
    await feed.session.aclose()


async def test_a_call_no_longer_listed_is_said(sim: SimApp) -> None:
    feed, seen = feed_on(sim)
    feed.start(TWO, CallQuery(since=FIXED_NOW - timedelta(minutes=5)), keep=("x", "y"), seek=True)
    await until(lambda: feed.exhausted, "the end")
    assert seen.notices == [("that call is not listed any more", "warning")]
    await feed.session.aclose()


async def test_evicted_pages_come_back_equal(sim: SimApp) -> None:
    feed, _ = feed_on(sim)
    feed.store.max_records = 300
    day = CallQuery(since=FIXED_NOW - timedelta(hours=24))
    feed.start(["demo-jambonz"], day, want_all=True)
    await until(lambda: len(feed.store) >= 1000, "more rows than the store holds")
    feed.stop()
    evicted = next(r for r in range(len(feed.store)) if feed.store.state[r] == EVICTED)
    key = feed.store.key(evicted)
    ticket = feed.store.claim(evicted)
    assert ticket is not None
    restored = await feed.refetch(ticket)
    assert evicted in restored and feed.store.state[evicted] == HELD
    again = feed.store.call(evicted)
    listed = {(c.account, c.id): c for c in await everything_calls(sim, ["demo-jambonz"], day)}
    assert (again.account, again.id) == key and again == listed[key]
    await feed.session.aclose()


async def test_stop_ends_every_load_and_keeps_the_rows(sim: SimApp) -> None:
    clock = FakeClock()
    sim.faults = Faults(parse_faults("500@plivo"), 7)
    feed, _ = feed_on(sim, clock)
    feed.start(TWO, WINDOW)
    await until(lambda: clock.waits == [5.0] and feed.idle, "plivo waits for a retry")
    held = keys(feed)
    feed.stop()
    assert feed.stopped and feed.retry_in("demo-plivo") is None
    sim.faults = Faults((), 7)
    clock.advance(5)
    feed.want_more()
    await asyncio.sleep(0.1)
    assert keys(feed) == held
    await feed.session.aclose()


async def test_a_long_load_compresses_raw_records_a_chunk_at_a_time(sim: SimApp) -> None:
    """Compressing 4096 raw records at once held the loop ~90 ms: the Feed packs them a chunk
    a turn, the last ones too once the listing has ended, and every raw record reads back
    the same."""
    query = CallQuery(since=FIXED_NOW - timedelta(days=2))
    feed, _ = feed_on(sim)
    feed.start(["demo-tmedia", "demo-bandwidth"], query, want_all=True)
    await until(lambda: feed.exhausted and feed._packing is None, "the end of the window", 3000)
    store = feed.store
    assert len(store) > FLUSH_ROWS + CHUNK_ROWS
    assert store.pending == 0
    sizes = [len(pickle.loads(zlib.decompress(blob))) for blob in store._raw.chunks if blob]
    assert sizes and max(sizes) <= CHUNK_ROWS
    again = {(c.account, c.id): c.raw for c in await everything_calls(sim, feed.accounts, query)}
    for row in range(0, len(store), 97):
        assert store.raw(row) == again[store.key(row)]
    await feed.aclose()
    await feed.session.aclose()


async def test_a_listing_that_waits_for_the_reader_has_packed_what_it_holds(sim: SimApp):
    """A first screen's worth of rows, the listing resting until more is wanted: its raw
    records are compressed meanwhile, not kept as dicts until the next rows come."""
    query = CallQuery(since=FIXED_NOW - timedelta(days=2))
    feed, _ = feed_on(sim)
    feed.start(["demo-tmedia"], query)
    await until(lambda: feed.idle and feed._packing is None, "the first rows, packed", 3000)
    store = feed.store
    assert not feed.exhausted and 0 < len(store) < FLUSH_ROWS
    assert store.pending == 0
    again = {(c.account, c.id): c.raw for c in await everything_calls(sim, feed.accounts, query)}
    assert all(store.raw(row) == again[store.key(row)] for row in range(len(store)))
    await feed.aclose()
    await feed.session.aclose()
