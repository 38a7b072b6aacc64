"""One user's session with the accounts: what the TUI's screens share, headless.

A Session holds the settings, the engine (one adapter per account), the store of listed calls,
the clock, the display zone, and every call's drill-down once loaded (or why it failed). Its
`related(call)` is the one way calls related to a call are found, so everything that shows or
hands over related calls (the detail's Related tab, the redacted bundle from the table or from
the detail) shows the same set:
- the held calls near the call, or sharing one of its ids (`loaded_candidates`: a scan of the
  store's columns, run in a thread),
- the legs its drill-down gives,
- and, for accounts the table does not list, their calls around the call's start
  (calltui.tail.around), asked for once per call and remembered.
Its `chain(call)` orders that set into the end-to-end call (calltui.analysis.chain), and
`twin(call)` finds the answered call most like one that did not answer among the account's
calls around it (calltui.analysis.twin).

A drill-down can say more than the listing did: a Bandwidth list record carries no cause, its
hangup event does (a `rejected` call is busy once it says USER_BUSY). Where the drill-down's
record differs from the held one in outcome or cause, the store takes it (the table, KPIs and
exports read the store) and `on_refined` is told the rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

import httpx

from calltui.config import Settings
from calltui.engine import Engine
from calltui.http import ProviderError, RetryPolicy, open_sockets
from calltui.model import Call, CallDetail, CallQuery, Outcome
from calltui.render import display_zone
from calltui.store import CallStore
from calltui.tail import around

# The analyses behind the detail's tabs are imported when first asked for: the first frame
# does not wait on them.
if TYPE_CHECKING:
    from calltui.analysis import chain as chains
    from calltui.analysis import twin as twins
    from calltui.analysis.correlate import Relation

Key = tuple[str, str]
"""A call's (account, id)."""

NEAR_S = 600.0
"""Loaded calls that started this close to the call are correlation candidates (besides any
that share one of its ids, whenever they started)."""
AROUND_S = 30.0
"""The window asked of accounts the table does not show."""
TWIN_PAGES = 3
"""The pages of each of twin.SPANS asked for a call's twin, narrowest first: the nearest calls
come first, and a busy account's hour is not read when its next minutes hold one."""


@dataclass(slots=True)
class Related:
    """The calls related to one call, and the accounts that could not be asked."""

    relations: list[Relation]
    errors: dict[str, ProviderError] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    """The accounts outside the listing that were asked for calls around this one."""


def loaded_candidates(store: CallStore, call: Call, near_s: float = NEAR_S) -> list[Call]:
    """The held calls of `store` that may relate to `call`: started within `near_s` of it, or
    sharing one of its ids. Reads the columns as they are on entry (safe in a thread while the
    UI thread adds rows: a row that goes away meanwhile is skipped)."""
    started = store.started
    n = len(store.state)  # a row's state is added last: every column has this many rows
    rows: set[int] = set()
    if call.started_at is not None:
        t = call.started_at.timestamp()
        rows = {r for r in range(n) if t - near_s <= started[r] <= t + near_s}
    mine = {v for v in (call.id, call.sip_call_id) if v}
    links = {v for v in (call.sip_call_id, call.parent_id) if v}
    # The id columns as plain lists (copied a block at a time): a scan of a million rows.
    for column, wanted in (
        (store.parent_id, mine),
        (store.sip_call_id, links),
        (store.ids, links),
    ):
        if wanted:
            rows.update(r for r, v in enumerate(column.values(n)) if v in wanted)
    out = []
    for r in sorted(rows):
        try:
            out.append(store.call(r))
        except LookupError:  # evicted (NotHeld), or the store was refilled meanwhile
            continue
    return out


class Session:
    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        now: datetime | Callable[[], datetime] | None = None,
    ) -> None:
        """`now`: a fixed clock, or a function of one (tests move it with the simulator's);
        the wall clock by default."""
        self.settings = settings
        self.transport = transport
        self.engine = Engine(settings, transport=transport, retry=retry)
        self.store = CallStore(settings.limits.max_records)
        self.zone: tzinfo | None = display_zone(settings.display.timezone)
        self._clock: Callable[[], datetime] | None = (
            now if callable(now) else None if now is None else (lambda: now)
        )
        self.details: dict[Key, CallDetail] = {}
        self.detail_errors: dict[Key, ProviderError] = {}
        """Why the last drill-down of a call failed (shown where the call is shown)."""
        self._around: dict[Key, dict[str, list[Call]]] = {}
        """Per call, each account's calls around it, from the accounts that answered (one that
        failed is asked again next time; a wider scope asks only the accounts not held)."""
        self.on_refined: Callable[[list[int]], None] | None = None
        """Told the store rows a drill-down refined, once the store holds the new record."""

    @property
    def account_names(self) -> list[str]:
        return self.engine.account_names

    def progress(self) -> int:
        """A count that moves while calls load: the rows held and the pages fetched."""
        return len(self.store) + sum(s.pages for s in self.engine.states.values())

    def busy(self) -> bool:
        """Whether an account is being fetched."""
        return any(s.status == "loading" for s in self.engine.states.values())

    def now(self) -> datetime:
        return self._clock() if self._clock is not None else datetime.now(timezone.utc)

    def open_network(self) -> None:
        """Starts making the network stack ready before the first request
        (calltui.http.open_sockets): a screen opening calls it as it mounts."""
        open_sockets(self.transport)

    async def aclose(self) -> None:
        await self.engine.aclose()

    async def window_before(
        self, accounts: list[str], query: CallQuery, until: datetime
    ) -> list[Call] | None:
        """The calls `query` keeps in the window of the same length just before its own (which
        ends at `until`), for the change of a pivot's numbers; None when an account failed.
        Listed by an engine of its own: the accounts' fetch state is the main listing's."""
        before = replace(query, since=query.since - (until - query.since), until=query.since)
        engine = Engine(self.settings, transport=self.transport)
        try:
            calls = await engine.collect(accounts, before, None)
        finally:
            await engine.aclose()
        return None if engine.errors() else calls

    # --- drill-down -------------------------------------------------------------------------
    def cached(self, call: Call) -> CallDetail | None:
        return self.details.get((call.account, call.id))

    async def detail(self, call: Call) -> CallDetail:
        """The call's drill-down (fetched once), its record taken by the store where it says
        more (`_refine`); raises ProviderError, remembered as the call's detail error until a
        drill-down succeeds."""
        key = (call.account, call.id)
        detail = self.details.get(key)
        if detail is None:
            try:
                detail = await self.engine.detail(call.account, call.id)
            except ProviderError as e:
                self.detail_errors[key] = e
                raise
            self.detail_errors.pop(key, None)
            self.details[key] = detail
        # Again for a drill-down held: the row may have been listed anew since (a refetched
        # page brings the list record back).
        self._refine(detail.call)
        return detail

    def _refine(self, call: Call) -> None:
        """The held row of `call` takes the drill-down's record where it says more of how the
        call ended."""
        store = self.store
        row = store.find(call.account, call.id)
        if row is None or not store.is_held(row):
            return
        held = store.brief(row)
        if (held.outcome, held.cause) == (call.outcome, call.cause):
            return
        rows = store.update([call])
        if rows and self.on_refined is not None:
            self.on_refined(rows)

    def detail_error(self, call: Call) -> ProviderError | None:
        return self.detail_errors.get((call.account, call.id))

    def forget(self, calls: Iterable[Call] | None = None) -> None:
        """Drill-downs and related calls dropped: of `calls` (they changed), or of all."""
        if calls is None:
            self.details.clear()
            self._around.clear()
            return
        for c in calls:
            self.details.pop((c.account, c.id), None)
            self._around.pop((c.account, c.id), None)

    # --- related calls ----------------------------------------------------------------------
    async def related(
        self,
        call: Call,
        listed: Iterable[str] | None = None,
        on_asking: Callable[[list[str]], None] | None = None,
        scope: Iterable[str] | None = None,
    ) -> Related:
        """The calls related to `call`: among the loaded calls, its drill-down's legs (when
        loaded) and, for the accounts of `scope` (None: every configured one) not in `listed`
        (the accounts the listing shows; None: all of them), their calls around its start.
        `on_asking` is told which accounts are being asked before they answer."""
        candidates = await asyncio.to_thread(loaded_candidates, self.store, call)
        detail = self.cached(call)
        if detail is not None:
            candidates += detail.legs
        shown = set(self.account_names if listed is None else listed)
        wide = self.account_names if scope is None else list(scope)
        others = [a for a in wide if a not in shown]
        errors: dict[str, ProviderError] = {}
        if others and call.started_at is not None:
            held = self._around.setdefault((call.account, call.id), {})
            ask = [a for a in others if a not in held]
            if ask:
                if on_asking is not None:
                    on_asking(ask)
                window = timedelta(seconds=AROUND_S)
                span = CallQuery(since=call.started_at - window, until=call.started_at + window)
                more, errors = await around(self.engine.provider, ask, span)
                for name in ask:
                    if name not in errors:
                        held[name] = [c for c in more if c.account == name]
            candidates = candidates + [c for a in others for c in held.get(a, ())]
        else:
            others = []
        from calltui.analysis.correlate import related

        relations = await asyncio.to_thread(related, call, candidates)
        return Related(relations, dict(errors), others)

    # --- the end-to-end call and the good twin ----------------------------------------------
    async def chain(
        self,
        call: Call,
        listed: Iterable[str] | None = None,
        scope: Iterable[str] | None = None,
        steps: bool = False,
    ) -> tuple[chains.Chain, Related]:
        """The end-to-end call `call` belongs to, from its related calls (asked as `related`
        asks), and those calls. With `steps`, each hop's drill-down is fetched where no
        drill-down already covers it (a Tmedia leg's holds its other leg), for its own steps;
        a hop whose drill-down fails keeps the record's start and end."""
        from calltui.analysis import chain as chains

        found = await self.related(call, listed, scope=scope)
        chain = chains.build(call, found.relations)
        if steps:
            missing = [h.call for h in chain.hops if not self._covered(h.call, chain)]
            fetched = await asyncio.gather(
                *(self.detail(c) for c in missing), return_exceptions=True
            )
            for result in fetched:
                if isinstance(result, BaseException) and not isinstance(result, ProviderError):
                    raise result
            details = [d for h in chain.hops if (d := self.cached(h.call)) is not None]
            chain = chains.build(call, found.relations, details)
        return chain, found

    def _covered(self, call: Call, chain: chains.Chain) -> bool:
        if self.cached(call) is not None:
            return True
        for h in chain.hops:
            d = self.cached(h.call)
            if d is not None and any(leg.id == call.id for leg in d.legs):
                return True
        return False

    async def twin(self, call: Call) -> twins.Twin | None:
        """The good twin of `call` (calltui.analysis.twin) among the held calls of its account
        and its account's answered calls to the same prefix around it, asked window by window
        (twin.SPANS) until the twin is settled (one on its trunk); None for a call that
        answered, or where none is found. The twin's drill-down is fetched for the comparison
        (its records alone where that fails); raises ProviderError when the account could not
        be listed."""
        from calltui.analysis import twin as twins

        if not twins.wanted(call) or call.started_at is None:
            return None
        prefix = twins.digits(call.to)[: twins.MIN_PREFIX]
        if len(prefix) < twins.MIN_PREFIX:
            return None
        widest = twins.WINDOW.total_seconds()
        held = await asyncio.to_thread(loaded_candidates, self.store, call, widest)
        found = [c for c in held if c.account == call.account]
        best = None
        for span in twins.SPANS:
            query = CallQuery(
                since=call.started_at - span,
                until=call.started_at + span,
                to=prefix,
                outcomes=frozenset({Outcome.ANSWERED}),
            )
            more, errors = await around(self.engine.provider, [call.account], query, TWIN_PAGES)
            if errors:
                raise errors[call.account]
            found += more
            best = twins.pick(call, found)
            if twins.settled(call, best, span):
                break
        if best is None:
            return None
        try:
            twin_detail: CallDetail | Call = await self.detail(best)
        except ProviderError:
            twin_detail = best
        return twins.compare(self.cached(call) or call, twin_detail)
