"""Live tail, headless: poll the newest page of each account for calls not seen yet.

    poller = TailPoller(engine.provider, accounts, query, known=store.find, now=clock)
    batch = await poller.poll()          # the accounts that are due; new calls newest first
    await asyncio.sleep(poller.wait_s())

Each account is polled on its own schedule: every `interval_s` while it answers, and after an
error with exponential backoff (interval × 2^failures, capped at `max_backoff_s`), so a failing
or rate-limited account slows down alone while the others go on.

A poll asks for the calls that started between the newest call already seen of that account
(less `lookback_s`: CDR-based APIs such as jambonz list a call once it has ended, so a record
can appear minutes after its start) and now, newest first, and reads pages until they reach
past that start (at most `max_pages`: a burst bigger than that is not followed, the next poll
starts from what it got). `until` is the poll's clock, so each page's request lists the same
calls whenever it is sent again (the store evicts pages and fetches them again).

Records are deduplicated against `known(account, id)` (what the caller already holds) and
against what earlier polls returned (kept while they are within the lookback). Only records the
caller's query matches are returned. A call in progress (returned in progress by a poll, or held
so by the caller: `in_progress(account, id)`) is watched: the poll that lists it over returns
its record once more, in `ended`, for the caller to update what it shows. A call that ends
further back than the lookback is not seen again (a refresh lists it anew). Nothing here
imports Textual: the TUI drives it from a worker, and the tests from plain asyncio.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from calltui.http import ProviderError
from calltui.model import Call, CallQuery, Outcome, PageRef
from calltui.providers.base import Page, Provider


@dataclass(frozen=True, slots=True)
class TailPolicy:
    interval_s: float = 5.0
    """Seconds between two polls of one account while it answers."""
    max_backoff_s: float = 300.0
    lookback_s: float = 600.0
    """How far before the newest call seen a poll starts (records that appear late)."""
    max_pages: int = 3

    def delay(self, failures: int) -> float:
        """The wait before the next poll of an account after `failures` errors in a row."""
        if failures <= 0:
            return self.interval_s
        return min(self.max_backoff_s, self.interval_s * 2 ** min(failures, 30))


@dataclass(slots=True)
class AccountTail:
    """One account's tail state (the status line shows its error and backoff)."""

    account: str
    newest: datetime | None = None
    """The start of the newest call of this account seen so far."""
    failures: int = 0
    due_at: float = 0.0
    """Monotonic time of the next poll."""
    error: ProviderError | None = None
    polls: int = 0


@dataclass(slots=True)
class TailBatch:
    calls: list[Call] = field(default_factory=list)
    """New calls matching the query, newest first."""
    ended: list[Call] = field(default_factory=list)
    """Calls seen in progress before, as their provider lists them now that they are over."""
    errors: dict[str, ProviderError] = field(default_factory=dict)
    polled: list[str] = field(default_factory=list)


LEAD_PAGES = 50
"""The most pages before the window (`newest_pages`) one look-up reads, besides its budget."""


async def newest_pages(
    provider: Provider[Any], query: CallQuery, max_pages: int
) -> AsyncIterator[Page]:
    """The first pages of `query`, newest first, until one reaches past `query.since` or
    `max_pages` were read. Every record knows its page (PageRef), as the engine's do.

    A page whose every call started after `query.until` is before the window and does not count
    against `max_pages` (at most LEAD_PAGES of them are read): an API that sorts and filters on
    end time (Plivo's) lists first every call that ended since the window, and for a window
    hours back those pages come by the dozen before the first that holds one of its calls."""
    pages = provider.pages(query)
    try:
        read = lead = 0
        async for page in pages:
            ref = PageRef(provider.account.name, page.request)
            for c in page.records:
                c.page = ref
            yield page
            if _before(page, query):
                lead += 1
            else:
                read += 1
            if page.watermark is None or page.watermark < query.since:
                return
            if read >= max_pages or lead >= LEAD_PAGES:
                return
    finally:
        await pages.aclose()  # type: ignore[attr-defined]


def _before(page: Page, query: CallQuery) -> bool:
    """Whether every call of `page` started after the window of `query` (a record without a
    start could be in it)."""
    until = query.until
    return (
        until is not None
        and bool(page.records)
        and all(c.started_at is not None and c.started_at > until for c in page.records)
    )


async def around(
    provider_of: Callable[[str], Provider[Any]],
    accounts: Iterable[str],
    query: CallQuery,
    max_pages: int = 3,
) -> tuple[list[Call], dict[str, ProviderError]]:
    """The calls of `accounts` that `query` matches, from each account's first `max_pages`
    pages of the window (newest_pages), fetched concurrently (used for a short window around
    one call, for correlation); each account's error apart."""
    names = list(accounts)

    async def one(name: str) -> list[Call]:
        out: list[Call] = []
        async for page in newest_pages(provider_of(name), query, max_pages):
            out.extend(c for c in page.records if query.matches(c))
        return out

    results = await asyncio.gather(*(one(n) for n in names), return_exceptions=True)
    calls: list[Call] = []
    errors: dict[str, ProviderError] = {}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, ProviderError):
            errors[name] = result
        elif isinstance(result, BaseException):
            raise result
        else:
            calls.extend(result)
    return calls, errors


class TailPoller:
    def __init__(
        self,
        provider_of: Callable[[str], Provider[Any]],
        accounts: Iterable[str],
        query: CallQuery,
        *,
        known: Callable[[str, str], object | None],
        in_progress: Callable[[str, str], bool] = lambda account, call_id: False,
        now: Callable[[], datetime],
        newest: dict[str, datetime | None] | None = None,
        policy: TailPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`query`: the caller's filters (its `since` is the oldest start ever asked for; its
        `until` is ignored: a tail follows the present). `known`: whether the caller holds
        (account, id) already; `in_progress`: whether it holds it as a call still in progress.
        `now`: the wall clock the polls' windows end at. `newest`: the newest start the caller
        holds per account (polls start from there)."""
        self.provider_of = provider_of
        self.query = replace(query, until=None)
        self.known = known
        self.in_progress = in_progress
        self.now = now
        self.policy = policy or TailPolicy()
        self.clock = clock
        self.accounts = {
            name: AccountTail(name, (newest or {}).get(name)) for name in dict.fromkeys(accounts)
        }
        self._seen: dict[tuple[str, str], float] = {}
        """(account, id) returned by earlier polls → start time (pruned past the lookback)."""
        self._open: set[tuple[str, str]] = set()
        """Calls in progress when last seen: their end is looked for."""

    def due(self) -> list[str]:
        t = self.clock()
        return [a.account for a in self.accounts.values() if a.due_at <= t]

    def wait_s(self) -> float:
        """Seconds until the next account is due (0: one is due now)."""
        if not self.accounts:
            return self.policy.interval_s
        nxt = min(a.due_at for a in self.accounts.values())
        return max(0.0, nxt - self.clock())

    def backing_off(self) -> list[AccountTail]:
        """The accounts whose last poll failed."""
        return [a for a in self.accounts.values() if a.failures]

    def window(self, account: str) -> CallQuery:
        """What the next poll of `account` asks for."""
        state = self.accounts[account]
        until = self.now()
        lookback = timedelta(seconds=self.policy.lookback_s)
        start = (state.newest or until) - lookback
        return replace(self.query, since=max(self.query.since, start), until=until)

    async def poll(self, accounts: Iterable[str] | None = None) -> TailBatch:
        """Poll `accounts` (default: those due) concurrently; reschedule each."""
        names = [n for n in (self.due() if accounts is None else accounts) if n in self.accounts]
        batch = TailBatch(polled=names)
        results = await asyncio.gather(*(self._poll_one(n) for n in names), return_exceptions=True)
        for name, result in zip(names, results, strict=True):
            state = self.accounts[name]
            state.polls += 1
            if isinstance(result, ProviderError):
                state.failures += 1
                state.error = result
                batch.errors[name] = result
            elif isinstance(result, BaseException):
                raise result
            else:
                state.failures = 0
                state.error = None
                batch.calls.extend(result[0])
                batch.ended.extend(result[1])
            state.due_at = self.clock() + self.policy.delay(state.failures)
        batch.calls.sort(key=_start, reverse=True)
        self._prune()
        return batch

    async def _poll_one(self, name: str) -> tuple[list[Call], list[Call]]:
        """The new calls of account `name`, and those of its calls in progress that ended."""
        query = self.window(name)
        span = CallQuery(since=query.since, until=query.until)
        state = self.accounts[name]
        new: list[Call] = []
        ended: list[Call] = []
        async for page in newest_pages(self.provider_of(name), query, self.policy.max_pages):
            for c in page.records:
                # A record past the poll's clock (a provider's clock ahead of ours) is left for
                # a later poll: it must not move the window on.
                if not span.matches(c):
                    continue
                assert c.started_at is not None
                if state.newest is None or c.started_at > state.newest:
                    state.newest = c.started_at
                key = (c.account, c.id)
                running = c.outcome is Outcome.IN_PROGRESS
                if key not in self._seen:
                    self._seen[key] = c.started_at.timestamp()
                    if self.known(*key) is None:
                        if query.matches(c):
                            new.append(c)
                            if running:
                                self._open.add(key)
                    elif self.in_progress(*key):
                        if running:
                            self._open.add(key)
                        else:
                            ended.append(c)  # held in progress, over at the first look
                elif key in self._open and not running:
                    self._open.discard(key)
                    ended.append(c)
        return new, ended

    def _prune(self) -> None:
        newest = [a.newest.timestamp() for a in self.accounts.values() if a.newest is not None]
        if not newest:
            return
        floor = min(newest) - 2 * self.policy.lookback_s
        self._seen = {k: t for k, t in self._seen.items() if t >= floor}
        self._open &= self._seen.keys()


def _start(c: Call) -> float:
    return c.started_at.timestamp() if c.started_at is not None else float("-inf")
