"""The listing as a reader wants it: rows fetched as far as they are wanted, headless.

A Feed lists a query's calls of some accounts into a Session's store (Engine.merged: newest
first across accounts) and stops once it holds as many rows as its reader wants (`target`);
`want_more` moves the target on. It says what happens through FeedEvents:
- rows_added: rows of the main listing, always older than every row before them;
- rows_merged: rows of an account coming back after a failure, in time order among the others;
- rows_refined: held rows whose record a drill-down refined (Session.on_refined);
- account_changed: an account's fetch state (loading, its pages, its error);
- changed: the listing's progress (ended, stopped, an account's retry countdown);
- notice: one line for the user (a call looked for was not found).

An account that fails stops alone (the engine goes on with the others) and is tried again by
itself, after Recovery's wait (doubling with each failure in a row; never for credentials,
certificates or a 404, which need the config changed: `retry_failed` tries those now). Its rows
rejoin in time order: those newer than the oldest row the main listing has added (its frontier)
go in at once, the older ones wait until the main listing gets there.

Seeking (`start(keep=..., seek=True)`): the listing goes on past the reader's target, up to
SEEK_MAX more rows, until the call `keep` arrives (a jump to a related call); `rows_added` then
names its row.

Every task runs through `spawn` (asyncio tasks by default; the TUI gives its workers, so a
screen's Esc and its teardown reach them).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncGenerator, Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol

from calltui.engine import Recovery, StreamState
from calltui.http import ProviderError
from calltui.model import Call, CallQuery
from calltui.pacing import share_turn
from calltui.session import Key, Session
from calltui.store import Refetch
from calltui.store_raw import CHUNK_ROWS, FLUSH_ROWS

BATCH = 200
"""Rows the target moves on by, each time the reader wants more."""
FIRST_PAGE = 100
"""What an account's first page need hold: a screenful and more. The first rows do not wait for
a page of 1000 (Provider.pages); later pages grow to the full size."""
ALL_ROWS = 2**62
"""The target of a reader that wants the whole window (KPIs are of all of it)."""
SEEK_MAX = 50_000
"""Rows fetched past the target while looking for a call to jump to."""
CHUNK = 50
"""Rows handed over at once while the first BATCH fill (the first screen does not wait for
more)."""
BULK_CHUNK = 2000
HANDOVER_S = 0.25
"""Past the first BATCH, rows are handed over BULK_CHUNK at once, or when the oldest has waited
HANDOVER_S: every hand-over lays the table out again (its height, the scrollbar, the status
line: ~20 ms), and 50 at a time made that most of a long load's work."""
PACK_PAGES = 64
"""Pages whose raw records are compressed in one chunk of work (~0.5 ms a page, however few
records it holds): 300 accounts' first pages had made 140 compressions in one turn (90 ms). With
8, a load of 25 accounts' pages was packed too slowly (1,063 B of RSS a record), with 32 their
chunks came out smaller (700-710 B); with 64, 674 B, as unbounded."""
PROGRESS_S = 0.25
"""After an account's first state, its changes while it loads (a page more; waiting on a full
queue and loading again) are told at most this often, all accounts together, the last of each
one always: the status line says the pages fetched, and redrawn for each page of each of many
accounts it laid the screen out again hundreds of times a second. The end (done, or an error)
is told at once."""


class Handle(Protocol):
    def cancel(self) -> Any: ...


Spawn = Callable[[Coroutine[Any, Any, None], str], Handle]


class FeedEvents:
    """What a Feed tells its reader; every method does nothing unless overridden."""

    def rows_added(self, rows: range, keep_row: int | None) -> None:
        """Rows of the main listing, older than all before them; `keep_row`: the row of the
        call being sought, when it is among them."""

    def rows_merged(self, rows: range) -> None:
        """Rows of an account brought back after a failure, anywhere in time order."""

    def rows_refined(self, rows: list[int]) -> None:
        """Held rows that took their drill-down's record (a Bandwidth call's hangup cause): the
        same rows, another outcome or cause."""

    def account_changed(self, state: StreamState) -> None:
        """An account's fetch state changed."""

    def changed(self) -> None:
        """The listing's progress changed (ended, stopped, a retry's countdown)."""

    def notice(self, message: str, severity: str) -> None:
        """One line for the user; `severity` is `information` or `warning`."""


def _task(coro: Coroutine[Any, Any, None], name: str) -> Handle:
    return asyncio.create_task(coro, name=name)


class Feed:
    def __init__(
        self,
        session: Session,
        events: FeedEvents,
        *,
        recovery: Recovery | None = None,
        spawn: Spawn = _task,
        first_page: int | None = FIRST_PAGE,
    ) -> None:
        self.session = session
        self.engine = session.engine
        self.store = session.store
        self.events = events
        session.on_refined = events.rows_refined
        self.recovery = recovery or Recovery()
        self.spawn = spawn
        self.first_page = first_page
        self.accounts: list[str] = list(session.account_names)
        self.query = CallQuery(since=session.now())
        self.target = BATCH
        self.exhausted = False
        self.idle = False
        """True while the listing waits for the reader to want more, or has ended."""
        self.stopped = False
        """stop() ended every load; start() lists again."""
        self._more = asyncio.Event()
        self._main: Handle | None = None
        self._packing: Handle | None = None
        """The task compressing the store's raw records, while one runs."""
        self._generation = 0
        self._failures: dict[str, int] = {}
        """Failures in a row of each account (its next wait doubles with each)."""
        self._rejoining: dict[str, Handle] = {}
        """The task bringing each failed account back (see _rejoin)."""
        self._retry_at: dict[str, float] = {}
        """When (on recovery.clock) an account waiting to be tried again will be."""
        self._frontier = math.inf
        """The start of the oldest row the main listing added: every account's rows above it
        are in the store, so a recovering account's rows above it go in at once."""
        self._wake = asyncio.Event()
        """Set when the frontier moves, more rows are wanted or the main listing ends."""
        self._keep: Key | None = None
        self._seek = False
        self._reach = math.inf
        """Rows are wanted back to this start time (epoch s), however many (`want_since`)."""
        self._told: set[str] = set()
        """The accounts whose first state was told."""
        self._due: dict[str, StreamState] = {}
        """States not told yet (PROGRESS_S), told when _progress fires."""
        self._progress: asyncio.TimerHandle | None = None
        self._progress_at = 0.0

    # --- the listing --------------------------------------------------------------------------
    def start(
        self,
        accounts: list[str],
        query: CallQuery,
        *,
        keep: Key | None = None,
        seek: bool = False,
        want_all: bool = False,
    ) -> None:
        """List `query`'s calls of `accounts` afresh (the store is emptied). `keep`: the call
        the reader wants back when it arrives; `seek`: list on until it does."""
        self._cancel_all()
        self._generation += 1
        self.accounts, self.query = list(accounts), query
        self.store.clear()
        self.exhausted = self.idle = self.stopped = False
        self.target = ALL_ROWS if want_all else BATCH
        self._frontier = math.inf
        self._failures.clear()
        self._told = set()
        self._keep = keep
        self._seek = seek and keep is not None
        self._reach = math.inf
        self._more = asyncio.Event()
        self._wake = asyncio.Event()
        self._main = self.spawn(self._list(self._generation), "feed")

    def want_more(self) -> bool:
        """The reader wants more rows than the target: it moves on by BATCH (only once the rows
        due are in, so how far it moves does not depend on when the reader asked)."""
        if (not self.exhausted or self._rejoining) and len(self.store) >= self.target:
            self.target = len(self.store) + BATCH
            self._more.set()
            self._wake.set()
            return True
        return False

    def want_since(self, t: datetime) -> None:
        """Every row that started at or after `t` is wanted, however many they are (the live
        tail's alerts compare the last windows: they need them whole)."""
        self._reach = min(self._reach, t.timestamp())
        if not self.exhausted and self._frontier > self._reach:
            self._more.set()

    def want_all(self) -> None:
        """Every row of the window is wanted."""
        self.target = ALL_ROWS
        if not self.exhausted:
            self._more.set()

    def stop(self) -> None:
        """Every load stops now (the listing, the retries); loaded rows stay."""
        self._cancel_all()
        self.stopped = self.idle = True
        self.events.changed()

    async def aclose(self) -> None:
        self._cancel_all()
        await asyncio.sleep(0)

    def _cancel_all(self) -> None:
        if self._progress is not None:
            self._progress.cancel()
            self._progress = None
        self._due = {}
        for handle in [self._main, *self._rejoining.values()]:
            if handle is not None:
                handle.cancel()
        self._main = None
        self._rejoining.clear()
        self._retry_at.clear()

    def _past_target(self) -> bool:
        """Whether the listing goes on past the reader's target: back to `want_since`'s time, or
        seeking the call it was asked to keep."""
        if self._frontier > self._reach:
            return True
        return self._seek and self._keep is not None and len(self.store) < self.target + SEEK_MAX

    async def _list(self, generation: int) -> None:
        gen: AsyncGenerator[Call, None] = self.engine.merged(
            self.accounts,
            self.query,
            lambda state: self._on_state(state, generation),
            first_page=self.first_page,
        )
        batch: list[Call] = []
        since = 0.0
        try:
            async for call in gen:
                if not batch:
                    since = time.monotonic()
                batch.append(call)
                if len(self.store) + len(batch) >= self.target or (
                    len(batch) >= CHUNK
                    and (
                        len(self.store) < BATCH
                        or len(batch) >= BULK_CHUNK
                        or time.monotonic() - since >= HANDOVER_S
                    )
                ):
                    self._append(batch)
                    batch = []
                while len(self.store) >= self.target and not self._past_target():
                    if self._seek and self._keep is not None:
                        self._seek = False
                        self.events.notice(
                            "that call was not found among the calls listed", "information"
                        )
                    self._more.clear()
                    self.idle = True
                    self._pack_soon()
                    await self._more.wait()
                    self.idle = False
            self._append(batch)
            self.exhausted = True
            self.idle = True
            self._pack_soon()
            self._wake.set()
            if self._seek and self._keep is not None:
                self._seek = False
                self.events.notice("that call is not listed any more", "warning")
        finally:
            await gen.aclose()
        self.events.changed()

    def _append(self, batch: list[Call]) -> None:
        if not batch:
            return
        new = self.store.extend(batch, flush=False)
        if self.store.pending >= FLUSH_ROWS:
            self._pack_soon()
        self._frontier = _start_ts(batch[-1])
        self._wake.set()
        keep_row = None
        if self._keep is not None:
            for i in new:
                if self.store.key(i) == self._keep:
                    keep_row, self._keep, self._seek = i, None, False
        self.events.rows_added(new, keep_row)

    def _pack_soon(self) -> None:
        if self._packing is None and self.store.pending:
            self._packing = self.spawn(self._pack(), "pack")

    async def _pack(self) -> None:
        """Compress the raw records the store keeps as dicts, a chunk a turn of the loop: while
        rows come, whole chunks; once the listing rests (it waits for the reader, or has
        ended), the rest too. Kept as dicts, the raw records short of FLUSH_ROWS at the end of
        a load took ~4 KB each where packed they take ~150 B (14 MB while that was 4,096), and
        all of a smaller load's."""
        try:
            while self.store.pending >= (1 if self.idle else CHUNK_ROWS):
                await share_turn()
                self.store.flush(CHUNK_ROWS, PACK_PAGES)
        finally:
            self._packing = None

    def _on_state(self, state: StreamState, generation: int) -> None:
        if generation != self._generation:
            return  # a stream of a listing that was replaced, winding down
        if not state.done and state.account in self._told:
            wait = self._progress_at + PROGRESS_S - time.monotonic()
            if wait > 0:
                self._due[state.account] = state
                if self._progress is None:
                    loop = asyncio.get_running_loop()
                    self._progress = loop.call_later(wait, self._tell_due, generation)
                return
            self._progress_at = time.monotonic()
        self._told.add(state.account)
        self._due.pop(state.account, None)
        self.events.account_changed(state)
        account, error = state.account, state.error
        if state.done and error is not None and self.engine.states.get(account) is state:
            # The others go on; this one is tried again by itself, after a wait.
            failures = self._failures[account] = self._failures.get(account, 0) + 1
            if self.recovery.retries(error):
                self._start_rejoin(account, self.recovery.delay(failures))

    def _tell_due(self, generation: int) -> None:
        self._progress = None
        due, self._due = self._due, {}
        if generation != self._generation:
            return
        self._progress_at = time.monotonic()
        for state in due.values():
            self.events.account_changed(state)

    # --- failed accounts: backoff, retry, rejoin ------------------------------------------------
    def failed_accounts(self) -> list[str]:
        """The listed accounts whose last fetch failed (and that are not being fetched again)."""
        states = self.engine.states
        return [a for a in self.accounts if (s := states.get(a)) and s.done and s.error]

    def pending(self) -> list[str]:
        """The accounts more rows may still come from: failed, or coming back."""
        return sorted(set(self._rejoining) | set(self.failed_accounts()))

    def retry_in(self, account: str) -> int | None:
        """Whole seconds (at least 1) until `account` is tried again; None if it is not
        waiting for a retry."""
        at = self._retry_at.get(account)
        if at is None:
            return None
        return max(1, math.ceil(at - self.recovery.clock()))

    @property
    def waiting_retries(self) -> bool:
        return bool(self._retry_at)

    def retry_failed(self) -> list[str]:
        """Every failed account tried again now (a backoff under way is cut short)."""
        failed = self.failed_accounts()
        for account in failed:
            self._start_rejoin(account, 0)
        return failed

    def _start_rejoin(self, account: str, delay: float) -> None:
        old = self._rejoining.pop(account, None)
        if old is not None:
            old.cancel()
        self._retry_at.pop(account, None)
        self._rejoining[account] = self.spawn(
            self._rejoin(account, delay, self._generation), f"rejoin {account}"
        )

    async def _rejoin(self, account: str, delay: float, generation: int) -> None:
        """Bring a failed account back while every loaded row stays: wait `delay`, list its
        calls again and merge them in, in time order; on another failure, wait longer."""
        me = self._rejoining.get(account)
        try:
            while True:
                if delay > 0:
                    self._retry_at[account] = self.recovery.clock() + delay
                    self.events.changed()
                    try:
                        await self.recovery.sleep(delay)
                    finally:
                        if self._rejoining.get(account) is me:
                            self._retry_at.pop(account, None)
                error = await self._refill(account, generation)
                if error is None:
                    self._failures.pop(account, None)
                    return
                failures = self._failures[account] = self._failures.get(account, 0) + 1
                if not self.recovery.retries(error):
                    return
                delay = self.recovery.delay(failures)
        finally:
            if me is not None and self._rejoining.get(account) is me:
                del self._rejoining[account]
            if generation == self._generation:
                self.events.changed()

    async def _refill(self, account: str, generation: int) -> ProviderError | None:
        """The account's calls listed again and merged in as far as the others' rows reach;
        its error if it failed again."""

        def shown(state: StreamState) -> None:
            if generation == self._generation:
                self.events.account_changed(state)

        gen = self.engine.merged([account], self.query, shown)
        batch: list[Call] = []
        try:
            async for call in gen:
                while not self._wanted(call):
                    self._merge_in(batch)
                    batch = []
                    self._wake.clear()
                    await self._wake.wait()
                batch.append(call)
                if len(batch) >= CHUNK:
                    self._merge_in(batch)
                    batch = []
            self._merge_in(batch)
        finally:
            await gen.aclose()
        return self.engine.states[account].error

    def _wanted(self, call: Call) -> bool:
        """Whether a row of a recovering account goes in now: above the frontier it takes its
        place in time order among the others'; below it, it waits until they get there (or,
        once they have all ended, until more rows are wanted)."""
        if _start_ts(call) >= self._frontier:
            return True
        return self.exhausted and len(self.store) < self.target

    def _merge_in(self, batch: list[Call]) -> None:
        if batch:
            rows = self.store.extend(batch)
            if rows:
                self.events.rows_merged(rows)

    # --- evicted pages --------------------------------------------------------------------------
    async def refetch(self, ticket: Refetch) -> list[int]:
        """An evicted page fetched again and its rows put back; the rows restored. On a
        ProviderError (raised) or a cancel the page is released, to be claimed again when next
        wanted."""
        try:
            calls = await self.engine.refetch(ticket.account, ticket.request)
        except (asyncio.CancelledError, ProviderError):
            self.store.release(ticket)
            raise
        return self.store.restore(ticket, calls)


def _start_ts(c: Call) -> float:
    return c.started_at.timestamp() if c.started_at is not None else float("-inf")
