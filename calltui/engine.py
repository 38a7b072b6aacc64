"""Streams of pages per account, prefetched, merged newest first, refined locally.

Every account runs its own pump task that fetches pages ahead into a small queue; the merge
emits a record only once no account can still produce a newer one (each page carries a
watermark: the newest start time any later page of that stream may hold). An account that
fails stops alone: its error is kept and the other accounts go on (Recovery says when the TUI
tries it again). A listing is bounded by its account's max_pages and max_listing_s (the time
spent waiting on the provider, not on the reader): past either it stops with ListingStopped,
which names the bound, and what it listed stays.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from calltui.config import AccountBase, Settings
from calltui.http import (
    AuthError,
    BadResponseError,
    NotFoundError,
    ProviderError,
    RefusedError,
    RetryPolicy,
    TLSError,
    sockets_ready,
)
from calltui.model import Call, CallDetail, CallQuery, PageRef
from calltui.pacing import share_turn
from calltui.providers.base import ListingStopped, Page, Provider, open_provider

PREFETCH_PAGES = 2
MANY_ACCOUNTS = 10
"""Past this many accounts in one listing, each fetches a page only once the merge has taken
its last one, and their first pages are smaller (MIN_FIRST_PAGE at the least): together they
hide each other's latency, and the rows wanted first (a screen or two) come from the first
pages of all of them. With 300 accounts, prefetching two full pages each parsed and held
tens of thousands of calls nobody had asked for, on the UI's loop."""
MIN_FIRST_PAGE = 20
IN_FLIGHT_RECORDS = 4000
"""Records fetched ahead of the merge (parsed, not yet taken), across every account of a
listing: past it, an account fetches its next page only once the merge waits on it. Each is a
Call with its raw record, all tracked by the collector until the store packs them; with every
account two pages ahead, 25 accounts held 80-190 MB. One account's prefetch fits in it."""
SHARE_EVERY = 256
"""Records emitted by the merge between two checks of its share of the event loop."""
_END = object()


@dataclass(slots=True)
class StreamState:
    """What the UI shows per account: fetch progress and the last error."""

    account: str
    status: str = "idle"  # idle, loading, ok, error
    pages: int = 0
    fetched: int = 0
    matched: int = 0
    error: ProviderError | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class Recovery:
    """How an account whose stream failed is tried again while the others go on (the TUI does
    it by itself): after `first_s`, then twice as long after each failure in a row, at most
    `cap_s`, so that a provider down for an hour is asked a few dozen times, not hammered.
    `sleep` and `clock` are how a wait is made and how far it has got (a test brings its own)."""

    first_s: float = 5.0
    cap_s: float = 240.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic

    def delay(self, failures: int) -> float:
        """The wait before the next try, after `failures` failures in a row (1: the first)."""
        return min(self.cap_s, self.first_s * 2 ** min(max(failures - 1, 0), 30))

    @staticmethod
    def retries(error: ProviderError) -> bool:
        """Whether waiting can mend `error`: credentials, a certificate or an address that the
        server does not know need the config changed (and bad credentials sent again and again
        may get an account locked), so those are only tried again when the user asks; and
        neither is a listing stopped at a bound or a request refused, which would only stop
        again."""
        return not isinstance(
            error, (AuthError, TLSError, NotFoundError, ListingStopped, RefusedError)
        )


@dataclass(slots=True)
class _Stream:
    state: StreamState
    queue: asyncio.Queue[Any]
    lazy: bool = False
    """The next page is fetched once the merge has taken the last (see MANY_ACCOUNTS)."""
    task: asyncio.Task[None] | None = None
    watermark: datetime | None = None
    started: bool = False
    ended: bool = False
    wanted: bool = False
    """The merge waits on this stream's next page: it is fetched whatever the budget."""


@dataclass(slots=True)
class _Budget:
    """The records of pages fetched and not yet taken by the merge, of every stream."""

    limit: int
    used: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, s: _Stream) -> None:
        while self.used >= self.limit and not s.wanted:
            await self._changed.wait()

    def change(self, records: int) -> None:
        self.used += records
        # Only room wakes the waiting pumps: with hundreds of accounts waiting, waking them
        # all on every page the merge took, each to find no room, was most of a busy loop.
        if records < 0 and self.used < self.limit:
            self.notify()

    def notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


class Engine:
    """Opens one adapter per account on demand; lists, merges and drills down."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._retry = retry
        self._providers: dict[str, Provider[Any]] = {}
        self.states: dict[str, StreamState] = {}

    @property
    def account_names(self) -> list[str]:
        return list(self.settings.accounts)

    def provider(self, name: str) -> Provider[Any]:
        p = self._providers.get(name)
        if p is None:
            account = self.settings.accounts[name]
            p = open_provider(account, transport=self._transport, retry=self._retry)
            self._providers[name] = p
        return p

    async def aclose(self) -> None:
        for p in self._providers.values():
            await p.aclose()
        self._providers.clear()

    async def detail(self, account: str, call_id: str) -> CallDetail:
        return await self.provider(account).detail(call_id)

    async def refetch(self, account: str, request: tuple[str, dict[str, Any]]) -> list[Call]:
        """The records of a page listed earlier (its Page.request), fetched again."""
        calls = await self.provider(account).fetch_page(request)
        ref = PageRef(account, request)
        for c in calls:
            c.page = ref
        return calls

    async def merged(
        self,
        accounts: Iterable[str],
        query: CallQuery,
        on_state: Callable[[StreamState], None] | None = None,
        first_page: int | None = None,
    ) -> AsyncGenerator[Call, None]:
        """Every matching call of `accounts`, newest first by started_at. `first_page`: how many
        calls each account's first page need hold (Provider.pages); by default, a full page.
        Past MANY_ACCOUNTS accounts, each first page holds a share of `first_page` (at least
        MIN_FIRST_PAGE) and no page is fetched ahead."""
        names = list(accounts)
        many = len(names) > MANY_ACCOUNTS
        if many and first_page is not None:
            first_page = max(MIN_FIRST_PAGE, first_page * MANY_ACCOUNTS // len(names))
        streams = []
        for name in names:
            state = StreamState(name, status="loading")
            self.states[name] = state
            streams.append(_Stream(state, asyncio.Queue(1 if many else PREFETCH_PAGES), many))
        budget = _Budget(IN_FLIGHT_RECORDS)
        for s in streams:
            s.task = asyncio.create_task(self._pump(s, budget, query, on_state, first_page))
        tie = itertools.count()
        # Every stream's records not yet emitted, newest first, in one heap; the stream waited
        # for changes only when a page or an end is read, so it is found again only then.
        held: list[tuple[float, int, Call]] = []
        waiting: _Stream | None = None
        changed = True
        emitted = 0
        try:
            while True:
                if changed:
                    # The stream that may still hold the newest call decides whether to emit.
                    active = [s for s in streams if not s.ended]
                    waiting = max(active, key=_watermark_key, default=None)
                    changed = False
                if held and (
                    waiting is None or (waiting.started and _ts(waiting.watermark) <= -held[0][0])
                ):
                    yield heapq.heappop(held)[2]
                    emitted += 1
                    if emitted % SHARE_EVERY == 0:
                        # A reader taking thousands of held records in a row shares the loop.
                        await share_turn()
                    continue
                if waiting is None:
                    return
                if waiting.queue.empty():
                    waiting.wanted = True
                    budget.notify()
                item = await waiting.queue.get()
                # Pages queued already come without a wait: hundreds of accounts' first pages,
                # each weighed against every stream, are read in turns with the rest of the loop.
                await share_turn()
                waiting.wanted = False
                waiting.queue.task_done()  # a lazy pump may fetch its next page
                changed = True
                waiting.started = True
                if item is _END:
                    waiting.ended = True
                    continue
                page: Page = item
                budget.change(-len(page.records))
                waiting.watermark = page.watermark
                for c in page.records:
                    if query.matches(c):
                        assert c.started_at is not None
                        heapq.heappush(held, (-c.started_at.timestamp(), next(tie), c))
                        waiting.state.matched += 1
                if page.watermark is None:
                    waiting.ended = True
        finally:
            tasks = [s.task for s in streams if s.task is not None]
            for t in tasks:
                t.cancel()
            for s in streams:
                # A pump blocked on a full queue must be able to finish.
                while not s.queue.empty():
                    s.queue.get_nowait()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _pump(
        self,
        s: _Stream,
        budget: _Budget,
        query: CallQuery,
        on_state: Callable[[StreamState], None] | None,
        first_page: int | None,
    ) -> None:
        state = s.state
        pages: AsyncIterator[Page] | None = None
        account = self.settings.accounts[state.account]
        fetching = 0.0
        expected = reserved = 0
        try:
            # Opening an account's client and its first request take a millisecond or so:
            # hundreds of accounts started together take turns with the rest of the loop.
            await sockets_ready(self._transport)
            await share_turn()
            pages = self.provider(state.account).pages(query, first_page)
            while True:
                # So does each next request (its URL built, its tasks made): hundreds of
                # accounts whose pages the merge took together ask for their next ones together.
                await share_turn()
                if state.pages:
                    # A first page is never held back: the merge needs every account's.
                    await budget.wait(s)
                # Counted before it comes, as big as the last, so that pumps let through
                # together do not all see the same room.
                reserved = expected
                budget.change(reserved)
                started = time.monotonic()
                try:
                    page = await anext(pages)
                except StopAsyncIteration:
                    break
                expected = len(page.records)
                budget.change(expected - reserved)
                reserved = 0
                fetching += time.monotonic() - started
                # Every record knows its page, so the store can drop it and fetch it again.
                ref = PageRef(state.account, page.request)
                for c in page.records:
                    c.page = ref
                state.pages += 1
                state.fetched += len(page.records)
                if s.queue.full() or s.lazy:
                    # Pages enough in hand: it waits on the reader (the table wants no more
                    # rows yet), not on the provider, and must not look busy meanwhile.
                    state.status = "ok"
                if on_state:
                    on_state(state)
                await s.queue.put(page)
                if s.lazy:
                    await s.queue.join()
                if state.status == "ok":
                    state.status = "loading"
                    if on_state:
                        on_state(state)
                if page.watermark is not None:
                    _check_bounds(account, state.pages, fetching)
            state.status = "ok"
        except ProviderError as e:
            state.status, state.error = "error", e
        except asyncio.CancelledError:
            state.status = "ok" if state.status == "loading" else state.status
            raise
        except Exception as e:  # a bug in one adapter must not hang the merge of the others
            state.status = "error"
            state.error = BadResponseError(state.account, f"internal error: {type(e).__name__}")
        finally:
            budget.change(-reserved)
            if pages is not None:
                await pages.aclose()  # type: ignore[attr-defined]
            state.done = True
            if on_state:
                on_state(state)
        await s.queue.put(_END)

    def errors(self) -> list[ProviderError]:
        return [s.error for s in self.states.values() if s.error is not None]

    async def calls(
        self, accounts: Iterable[str], query: CallQuery, limit: int | None
    ) -> AsyncGenerator[Call, None]:
        """The merged calls (see merged), at most `limit` of them, as they come."""
        if limit == 0:
            return
        gen = self.merged(accounts, query)
        taken = 0
        try:
            async for call in gen:
                yield call
                taken += 1
                if limit is not None and taken >= limit:
                    break
        finally:
            await gen.aclose()

    async def collect(
        self, accounts: Iterable[str], query: CallQuery, limit: int | None
    ) -> list[Call]:
        return [call async for call in self.calls(accounts, query, limit)]


def _check_bounds(account: AccountBase, pages: int, fetching_s: float) -> None:
    """ListingStopped once a listing that is not over has used up a bound of its account."""
    if pages >= account.max_pages:
        raise ListingStopped(account.name, f"stopped after {pages} pages (max_pages)")
    if fetching_s >= account.max_listing_s:
        reason = f"stopped after {fetching_s:.1f} s of fetching, {pages} pages (max_listing_s)"
        raise ListingStopped(account.name, reason)


def _ts(t: datetime | None) -> float:
    return float("-inf") if t is None else t.timestamp()


def _watermark_key(s: _Stream) -> float:
    # A stream that has not answered yet may hold anything: it is the one to wait for.
    return float("inf") if not s.started else _ts(s.watermark)
