"""The loaded calls, column by column, and views over them (sorted row indices).

A million records must fit in well under a kilobyte each, so nothing per row is a Python object
unless it has to be: times, durations, codes and MOS live in typed arrays (a sentinel stands for
None), provider/account/direction/outcome are small codes into tables, causes are str in tuples
of a block of rows (interned), ids, numbers, SIP Call-IDs and parents are packed a block into
one str (see store_columns.Strings) and ids are found by their hash (store_columns.IdIndex), and
the provider's raw records are kept pickled and zlib-compressed per page, decoded on demand
(store_raw.RawRecords). `call(row)` materializes a full Call; the table reads `brief(row)` and
never touches the raw.

Rows never move: a view is an array of row indices. Past `max_records` rows held, the pages used
least recently lose their heavy parts (phone numbers, SIP Call-ID, parent, cause text and raw)
but keep a skeleton (the id, and the values views sort on), so indices stay valid and records
sent again are still known. The table shows such a row as a placeholder and `claim`s its page,
the app fetches the page again and `restore`s it. A record the provider no longer returns stays
a placeholder marked gone.

`view` and `positions` run in a thread without keeping the UI thread waiting (store_columns).
The store holds only what the engine kept (CallQuery.matches): views sort, they do not filter.
"""

from __future__ import annotations

import math
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, overload

from calltui.columns import STARTED
from calltui.model import Call, Outcome, PageRef
from calltui.store_columns import (
    NO_INT,
    NO_TIME,
    Codes,
    IdIndex,
    Snapshot,
    Strings,
    build_view,
    cell_int,
    cell_time,
    int_cell,
    time_cell,
)
from calltui.store_columns import positions as view_positions
from calltui.store_raw import FLUSH_ROWS, RawRecords, release

LOOSE_ROWS = 4096
"""Records that cannot be fetched again grouped as one page (never evicted) at most."""
_OUTCOMES = tuple(Outcome)
_OUTCOME_CODE = {o: i for i, o in enumerate(_OUTCOMES)}
_OUTCOME_NAMES = tuple(o.value for o in _OUTCOMES)

HELD, EVICTED, GONE = 0, 1, 2
"""Row states. EVICTED: only the skeleton is held, its page can be fetched again. GONE: the page
came back without this record."""
_PAGE_HELD, _PAGE_EVICTED, _PAGE_LOADING = 0, 1, 2


class NotHeld(LookupError):
    """The row is a placeholder: evicted (its page can be fetched again) or gone."""


class Cancelled(Exception):
    """Raised by a `check` callback to stop a view rebuild that is no longer wanted."""


@dataclass(slots=True, frozen=True)
class Sort:
    key: str = STARTED
    """A column of calltui.columns that sorts."""
    descending: bool = True


class Brief(NamedTuple):
    """What the table shows of one row, without the raw record."""

    state: int
    started_at: datetime | None
    account: str
    id: str | None
    from_: str | None
    to: str | None
    direction: str | None
    duration_s: int | None
    outcome: Outcome
    sip_code: int | None
    cause: str | None
    cause_code: int | None
    mos: float | None
    trunk: str | None


@dataclass(slots=True, frozen=True)
class Refetch:
    """A claim on an evicted page: fetch `request` of `account` again, then `restore` it."""

    page: int
    epoch: int
    account: str
    request: tuple[str, dict[str, Any]]


@dataclass(slots=True, eq=False)
class _Page:
    ref: PageRef | None
    rows: array[int] = field(default_factory=lambda: array("l"))
    state: int = _PAGE_HELD
    chunks: list[int] = field(default_factory=list)


class _Calls(Sequence[Call]):
    """`store.calls[i]`: the row materialized as a Call (raises NotHeld for a placeholder)."""

    __slots__ = ("_store",)

    def __init__(self, store: CallStore) -> None:
        self._store = store

    def __len__(self) -> int:
        return len(self._store)

    @overload
    def __getitem__(self, i: int) -> Call: ...
    @overload
    def __getitem__(self, i: slice) -> list[Call]: ...
    def __getitem__(self, i: int | slice) -> Call | list[Call]:
        if isinstance(i, slice):
            return [self._store.call(r) for r in range(len(self._store))[i]]
        if i < 0:
            i += len(self._store)
        if not 0 <= i < len(self._store):
            raise IndexError(i)
        return self._store.call(i)

    def __iter__(self) -> Iterator[Call]:
        return (self._store.call(i) for i in range(len(self._store)))


class CallStore:
    def __init__(self, max_records: int = 1_000_000) -> None:
        self.max_records = max_records
        self.epoch = 0
        """Bumped by clear(): rows, pages and claims of an older epoch mean nothing any more."""
        self._reset()

    def _reset(self) -> None:
        # Every container is replaced, never emptied in place: a view rebuild running in a
        # thread keeps reading the columns it started on.
        self.started = array("d")
        self.answered = array("d")
        self.ended = array("d")
        self.duration = array("q")
        self.billed = array("q")
        self.sip = array("q")
        self.cause_code = array("q")
        self.mos = array("d")
        self.provider = array("B")
        self.account = array("H")
        self.trunk = array("H")
        self.direction = array("B")
        self.outcome = array("B")
        self.state = array("B")
        # 4-byte ints where no value can pass 2**31: page and chunk numbers, places in a chunk.
        self.page = array("i")
        self.ids = Strings(packed=True)
        self.parent_id = Strings(packed=True)
        self.sip_call_id = Strings(packed=True)
        self.from_ = Strings(packed=True)
        self.to = Strings(packed=True)
        self.cause = Strings()  # a few distinct causes, interned
        self._providers = Codes()
        self._accounts = Codes()
        self._directions = Codes()
        self._trunks = Codes()
        self._raw = RawRecords()
        self._index = IdIndex()
        """Every row by its id (and the account's: two accounts may hold the same id)."""
        self._pages: list[_Page] = []
        self._page_of: dict[PageRef, int] = {}
        self._loose: int | None = None
        self._lru: OrderedDict[int, None] = OrderedDict()
        """Held pages that could be evicted, least recently used (read or added to) first."""
        self._pinned: frozenset[int] = frozenset()
        self.held = 0
        self.newest_first = True
        """Rows were added in non-increasing start order: the default view is the row order."""
        self._last_page = -1
        self.calls = _Calls(self)

    def __len__(self) -> int:
        return len(self.state)

    def clear(self) -> None:
        self.epoch += 1
        old = list(vars(self).values())
        self._reset()
        threading.Thread(target=release, args=(old,), name="store-release", daemon=True).start()

    # --- adding -------------------------------------------------------------------------------
    def extend(self, calls: Iterable[Call], flush: bool = True) -> range:
        """Append calls not already held (same account and id); the new rows' indices. Past
        FLUSH_ROWS raw records waiting, they are compressed now, unless `flush` is False: the
        caller then compresses them a chunk at a time (`flush(CHUNK_ROWS)`) between other
        work."""
        first = len(self)
        # Bound methods and locals: this loop runs once per record loaded, and attribute
        # look-ups were most of its cost.
        find, page_for, index = self.find, self._page_for, self._index.add
        started_col, pages, pending = self.started, self._pages, self._raw.pending
        answered, ended = self.answered.append, self.ended.append
        duration, billed = self.duration.append, self.billed.append
        sip, cause_code, mos = self.sip.append, self.cause_code.append, self.mos.append
        provider, account = self.provider.append, self.account.append
        trunk, direction = self.trunk.append, self.direction.append
        outcome, page, state = self.outcome.append, self.page.append, self.state.append
        ids, parent_id = self.ids.append, self.parent_id.append
        sip_call_id, from_, to = self.sip_call_id.append, self.from_.append, self.to.append
        cause = self.cause.append
        chunk_of, chunk_pos = self._raw.chunk_of.append, self._raw.chunk_pos.append
        providers, accounts = self._providers.code, self._accounts.code
        trunks, directions = self._trunks.code, self._directions.code
        row = first
        last = started_col[row - 1] if row else NO_TIME
        for c in calls:
            if find(c.account, c.id) is not None:
                continue
            pid = page_for(c.page)
            started = time_cell(c.started_at)
            if row and started > last:
                self.newest_first = False
            last = started
            started_col.append(started)
            answered(time_cell(c.answered_at))
            ended(time_cell(c.ended_at))
            duration(int_cell(c.duration_s))
            billed(int_cell(c.billed_s))
            sip(int_cell(c.sip_code))
            cause_code(int_cell(c.cause_code))
            mos(math.nan if c.mos is None else c.mos)
            provider(providers(c.provider))
            account(accounts(c.account))
            trunk(trunks(c.trunk))
            direction(directions(c.direction))
            outcome(_OUTCOME_CODE[c.outcome])
            page(pid)
            ids(c.id)
            parent_id(c.parent_id)
            sip_call_id(c.sip_call_id)
            from_(c.from_)
            to(c.to)
            cause(_intern(c.cause))
            chunk_of(-1)
            chunk_pos(0)
            state(HELD)  # last: len(self) counts only rows with every column
            pending[row] = c.raw
            pages[pid].rows.append(row)
            index(hash(c.id), row)
            if pid != self._last_page:
                self._last_page = pid
                if pid in self._lru:
                    self._lru.move_to_end(pid)
            row += 1
        added = len(self) - first
        self.held += added
        if flush and len(self._raw.pending) >= FLUSH_ROWS:
            self.flush()
        self._enforce_cap()
        return range(first, len(self))

    def _page_for(self, ref: PageRef | None) -> int:
        if ref is None or ref.request is None:
            # Not fetchable again: grouped for compression, never evicted.
            pid = self._loose
            if pid is None or len(self._pages[pid].rows) >= LOOSE_ROWS:
                pid = self._loose = self._new_page(None)
            return pid
        pid = self._page_of.get(ref)
        if pid is None or self._pages[pid].state != _PAGE_HELD:
            # A record of an evicted page arriving late starts a page of its own.
            pid = self._page_of[ref] = self._new_page(ref)
            self._lru[pid] = None
        return pid

    def _new_page(self, ref: PageRef | None) -> int:
        self._pages.append(_Page(ref))
        return len(self._pages) - 1

    @property
    def pending(self) -> int:
        """Raw records still kept as dicts."""
        return len(self._raw.pending)

    def flush(self, rows: int | None = None, pages: int | None = None) -> None:
        """Compress the raw records still kept as dicts (the oldest `rows` of them, of at most
        `pages` pages; all by default): calltui.store_raw.RawRecords.flush."""
        for pid, cid in self._raw.flush(self.page, rows, pages):
            self._pages[pid].chunks.append(cid)

    # --- reading ------------------------------------------------------------------------------
    def find(self, account: str | None, call_id: str) -> int | None:
        """The row of (account, id), held or not; any account's when `account` is None (the
        first added)."""
        ids, codes, names = self.ids, self.account, self._accounts.values
        for row in self._index.rows(hash(call_id)):
            if ids[row] == call_id and (account is None or names[codes[row]] == account):
                return row
        return None

    def is_held(self, row: int) -> bool:
        return self.state[row] == HELD

    def account_of(self, row: int) -> str:
        return self._accounts.values[self.account[row]] or ""

    def key(self, row: int) -> tuple[str, str]:
        """(account, id) of any row, a placeholder's included."""
        call_id = self.ids[row]
        assert call_id is not None  # ids are part of the skeleton: never dropped
        return self.account_of(row), call_id

    def touch(self, row: int) -> None:
        """The row is on screen: its page becomes the last to be evicted."""
        pid = self.page[row]
        if pid in self._lru:
            self._lru.move_to_end(pid)

    def pin(self, rows: Iterable[int]) -> None:
        """The rows on screen: their pages are not evicted until other rows are pinned (a
        page evicted while shown would be fetched again at once, and evict another)."""
        page = self.page
        self._pinned = frozenset(page[r] for r in rows)

    def brief(self, row: int) -> Brief:
        return Brief(
            self.state[row],
            cell_time(self.started[row]),
            self.account_of(row),
            self.ids[row],
            self.from_[row],
            self.to[row],
            self._directions.values[self.direction[row]],
            cell_int(self.duration[row]),
            _OUTCOMES[self.outcome[row]],
            cell_int(self.sip[row]),
            self.cause[row],
            cell_int(self.cause_code[row]),
            None if math.isnan(self.mos[row]) else self.mos[row],
            self._trunks.values[self.trunk[row]],
        )

    def call(self, row: int, *, raw: bool = True) -> Call:
        """The full record of a held row, its raw record included unless `raw` is False (then
        `raw` is {}: for bulk reads that never look at it, such as KPIs over a whole view; it
        saves decompressing every page).

        Safe from a thread: a row evicted meanwhile raises NotHeld, never half a record. Reading
        does not count as use for eviction (the table's touch() does: it is what is shown)."""
        call_id = self.ids[row]
        if call_id is None or self.state[row] != HELD:
            raise NotHeld(row)
        call = Call(
            provider=self._providers.values[self.provider[row]] or "",
            account=self.account_of(row),
            id=call_id,
            started_at=cell_time(self.started[row]),
            outcome=_OUTCOMES[self.outcome[row]],
            raw=self.raw(row) if raw else {},
            parent_id=self.parent_id[row],
            sip_call_id=self.sip_call_id[row],
            from_=self.from_[row],
            to=self.to[row],
            direction=self._directions.values[self.direction[row]],
            answered_at=cell_time(self.answered[row]),
            ended_at=cell_time(self.ended[row]),
            duration_s=cell_int(self.duration[row]),
            billed_s=cell_int(self.billed[row]),
            sip_code=cell_int(self.sip[row]),
            cause=self.cause[row],
            cause_code=cell_int(self.cause_code[row]),
            mos=None if math.isnan(self.mos[row]) else self.mos[row],
            trunk=self._trunks.values[self.trunk[row]],
            page=self._pages[self.page[row]].ref,
        )
        if self.state[row] != HELD:  # evicted while it was read (state goes first)
            raise NotHeld(row)
        return call

    def raw(self, row: int) -> dict[str, Any]:
        raw = self._raw.get(row)
        if raw is None:
            raise NotHeld(row)
        return raw

    # --- eviction and refetch -----------------------------------------------------------------
    def _enforce_cap(self) -> None:
        for _ in range(len(self._lru)):
            if self.held <= self.max_records:
                return
            pid = next(iter(self._lru))
            if pid in self._pinned:
                self._lru.move_to_end(pid)  # on screen: the next one goes first
                continue
            self._evict(pid)

    def _evict(self, pid: int) -> None:
        page = self._pages[pid]
        del self._lru[pid]
        if page.ref is not None and self._page_of.get(page.ref) == pid:
            del self._page_of[page.ref]
        for row in page.rows:
            if self.state[row] == HELD:
                self.held -= 1
            self.state[row] = EVICTED
        self._raw.drop(page.rows, page.chunks)
        # The id stays (with its key): the page is matched by ids when it comes back, and a
        # record sent again by the stream meanwhile is still known.
        nothing = [None] * len(page.rows)
        for col in (self.parent_id, self.sip_call_id, self.from_, self.to, self.cause):
            col.set_rows(page.rows, nothing)
        page.chunks = []
        page.state = _PAGE_EVICTED

    def claim(self, row: int) -> Refetch | None:
        """The fetch that brings an evicted row back, once per page (None: nothing to do)."""
        page = self._pages[self.page[row]]
        if page.state != _PAGE_EVICTED or page.ref is None or page.ref.request is None:
            return None
        page.state = _PAGE_LOADING
        return Refetch(self.page[row], self.epoch, page.ref.account, page.ref.request)

    def release(self, ticket: Refetch) -> None:
        """The refetch failed: the page may be claimed again."""
        if ticket.epoch == self.epoch and self._pages[ticket.page].state == _PAGE_LOADING:
            self._pages[ticket.page].state = _PAGE_EVICTED

    def restore(self, ticket: Refetch, calls: Iterable[Call]) -> list[int]:
        """Put a refetched page back, matching records by (account, id); rows the provider no
        longer returns become GONE. The rows restored."""
        if ticket.epoch != self.epoch:
            return []
        page = self._pages[ticket.page]
        if page.state != _PAGE_LOADING:
            return []
        wanted = {self.ids[row]: row for row in page.rows}
        restored: list[int] = []
        back: list[Call] = []
        for c in calls:
            row = wanted.pop(c.id, None) if c.account == ticket.account else None
            if row is None:
                continue  # not of this page
            self._fill(row, c)
            restored.append(row)
            back.append(c)
        self._fill_strings(restored, back)
        if restored:
            page.chunks.append(self._raw.store(restored, [c.raw for c in back]))
        for row in restored:
            self.state[row] = HELD  # last: a thread reading the row sees it whole or not at all
        for row in wanted.values():
            self.state[row] = GONE
        page.state = _PAGE_HELD
        self.held += len(restored)
        self._lru[ticket.page] = None  # the most recent: it is wanted on screen
        self._enforce_cap()
        return restored

    def update(self, calls: Iterable[Call]) -> list[int]:
        """Held calls as their provider lists them now (a live tail saw calls in progress end):
        each row takes the new record, raw included. A row not held is left alone: its page,
        fetched again, brings the new record. The rows updated."""
        rows: list[int] = []
        fresh: list[Call] = []
        for c in calls:
            row = self.find(c.account, c.id)
            if row is None or self.state[row] != HELD:
                continue
            self._fill(row, c)
            # Its old raw stays in its page's chunk, unread: the next flush stores this one.
            self._raw.pending[row] = c.raw
            rows.append(row)
            fresh.append(c)
        self._fill_strings(rows, fresh)
        return rows

    def _fill_strings(self, rows: list[int], calls: list[Call]) -> None:
        self.parent_id.set_rows(rows, [c.parent_id for c in calls])
        self.sip_call_id.set_rows(rows, [c.sip_call_id for c in calls])
        self.from_.set_rows(rows, [c.from_ for c in calls])
        self.to.set_rows(rows, [c.to for c in calls])
        self.cause.set_rows(rows, [_intern(c.cause) for c in calls])

    def _fill(self, row: int, c: Call) -> None:
        """A record fetched again: the provider's current data (a call in progress may have
        ended since). The row stays where views put it until they are rebuilt. (Its strings
        are set by _fill_strings, for all rows at once.)"""
        started = time_cell(c.started_at)
        if started != self.started[row]:
            self.newest_first = False
        self.started[row] = started
        self.answered[row] = time_cell(c.answered_at)
        self.ended[row] = time_cell(c.ended_at)
        self.duration[row] = int_cell(c.duration_s)
        self.billed[row] = int_cell(c.billed_s)
        self.sip[row] = int_cell(c.sip_code)
        self.cause_code[row] = int_cell(c.cause_code)
        self.mos[row] = math.nan if c.mos is None else c.mos
        self.direction[row] = self._directions.code(c.direction)
        self.trunk[row] = self._trunks.code(c.trunk)
        self.outcome[row] = _OUTCOME_CODE[c.outcome]

    # --- views --------------------------------------------------------------------------------
    def view(
        self,
        sort: Sort = Sort(),
        *,
        rows: Iterable[int] | None = None,
        check: Callable[[], None] = lambda: None,
    ) -> array[int]:
        """Row indices sorted by `sort` (calltui.store_columns.build_view); ties keep newest
        first. `check` is called between steps: raise Cancelled there to stop.

        Safe in a thread while the UI thread adds, evicts or clears: it reads the columns it
        found on entry (clear() replaces them), over the rows there were then. Views are
        arrays, not lists: a list of 1M rows is 1M int objects, and dropping it (when the next
        view replaces it, on the UI thread) frees them all in one ~30 ms call."""
        snap = Snapshot(
            numbers={
                "started_at": (self.started, NO_TIME),
                "duration_s": (self.duration, NO_INT),
                "sip_code": (self.sip, NO_INT),
                "cause_code": (self.cause_code, NO_INT),
                "mos": (self.mos, math.nan),
            },
            names={
                "account": (self.account, self._accounts.values),
                "direction": (self.direction, self._directions.values),
                "trunk": (self.trunk, self._trunks.values),
                "outcome": (self.outcome, _OUTCOME_NAMES),
            },
            strings={"from_": self.from_, "to": self.to},
            # Last: a row's state is added after its other columns, and clear() replaces them
            # all, so every column read above has at least this many rows.
            rows=len(self.state),
        )
        return build_view(snap, sort.key, sort.descending, rows, self.newest_first, check)

    def positions(
        self, view: Sequence[int], check: Callable[[], None] = lambda: None
    ) -> array[int]:
        """Each row's index in `view` (-1 where absent), built in steps for a thread."""
        return view_positions(view, check)


def _intern(s: str | None) -> str | None:
    # Causes repeat across calls: one str object for each distinct value.
    return sys.intern(s) if type(s) is str else s
