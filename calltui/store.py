"""The loaded calls, column by column, and views over them (filtered, sorted row indices).

A million records must fit in well under a kilobyte each, so nothing per row is a Python object
unless it has to be: times, durations, codes and MOS live in typed arrays (a sentinel stands for
None), provider/account/direction/outcome are small codes into tables, the strings (ids, numbers,
cause) are plain str in blocks of tuples (see _Strings) with repeated values interned, and the
provider's raw records are kept pickled and zlib-compressed per page, decoded on demand (a small
LRU of decoded chunks). `call(row)` materializes a full Call; the table reads `brief(row)` and
never touches the raw.

Rows never move: a view is an array of row indices. Past `max_records` rows held, the pages used
least recently lose their heavy parts (phone numbers, SIP Call-ID, parent, cause text and raw)
but keep a skeleton (the id, and the values views sort and filter on), so indices stay valid
and records sent again are still known. The table shows such a row as a placeholder and
`claim`s its page, the app fetches the page again and `restore`s it. A record the provider no
longer returns stays a placeholder marked gone.

`view` and `positions` are written to run in a thread: they never hold the GIL in one C call over
all rows (a single `list.sort` of 1M rows would, for ~0.2 s), but sort chunks and merge them in
Python, so the UI thread gets the GIL every few milliseconds.
"""

from __future__ import annotations

import heapq
import math
import pickle
import sys
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple, overload

from calltui.model import Call, CallQuery, Outcome, PageRef, number_key

SORT_KEYS = ("started", "account", "from", "to", "direction", "duration", "outcome", "code", "mos")
NO_TIME = float("-inf")
NO_INT = -(2**63)
_INT_MAX = 2**63 - 1
CHUNK = 32_768
"""Rows per C-level step in `view`/`positions` (a sort of this many takes a few ms)."""
BLOCK_BITS = 12
BLOCK = 1 << BLOCK_BITS
BLOCK_MASK = BLOCK - 1
"""Rows per block of a string column (see _Strings)."""
FLUSH_ROWS = 4096
"""Raw records kept as dicts until this many wait; then each page's share is compressed."""
DECODED_CHUNKS = 8
_OUTCOMES = tuple(Outcome)
_OUTCOME_CODE = {o: i for i, o in enumerate(_OUTCOMES)}
_UTC = timezone.utc

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
    key: str = "started"
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


class _Codes:
    """Small-int codes for a column with few distinct values; code 0 is None."""

    __slots__ = ("_code", "values")

    def __init__(self) -> None:
        self.values: list[str | None] = [None]
        self._code: dict[str | None, int] = {None: 0}

    def code(self, value: str | None) -> int:
        c = self._code.get(value)
        if c is None:
            c = self._code[value] = len(self.values)
            self.values.append(value)
        return c

    def find(self, value: str | None) -> int | None:
        return self._code.get(value)

    def ranks(self) -> list[int]:
        """Each code's position in the sorted values (None as "")."""
        order = sorted(range(len(self.values)), key=lambda c: self.values[c] or "")
        ranks = [0] * len(order)
        for rank, c in enumerate(order):
            ranks[c] = rank
        return ranks


class _Strings:
    """A column of optional str. Full blocks are tuples: the cyclic GC stops walking a tuple of
    str after its first look, while it walks every item of a list on each full collection: six
    1M-item lists add 30 ms or more to every full collection (measured: 6 ms with blocks). The
    last, growing block is a list."""

    __slots__ = ("blocks", "tail")

    def __init__(self) -> None:
        self.blocks: list[tuple[str | None, ...]] = []
        self.tail: list[str | None] = []

    def __len__(self) -> int:
        return len(self.blocks) * BLOCK + len(self.tail)

    def __getitem__(self, row: int) -> str | None:
        # The tail first: a view thread may read while append() turns the tail into a block
        # (and starts a new tail); the old tail stays intact.
        tail = self.tail
        b = row >> BLOCK_BITS
        if b < len(self.blocks):
            return self.blocks[b][row & BLOCK_MASK]
        return tail[row & BLOCK_MASK]

    def append(self, value: str | None) -> None:
        self.tail.append(value)
        if len(self.tail) == BLOCK:
            self.blocks.append(tuple(self.tail))
            self.tail = []

    def set_rows(self, rows: Sequence[int], values: Sequence[str | None]) -> None:
        """Many rows at once: each block they touch is copied once."""
        by_block: dict[int, list[tuple[int, str | None]]] = {}
        for row, value in zip(rows, values, strict=True):
            by_block.setdefault(row >> BLOCK_BITS, []).append((row & BLOCK_MASK, value))
        for b, changes in by_block.items():
            if b < len(self.blocks):
                block = list(self.blocks[b])
                for i, value in changes:
                    block[i] = value
                self.blocks[b] = tuple(block)
            else:
                for i, value in changes:
                    self.tail[i] = value

    def values(self, n: int) -> list[str | None]:
        """The first `n` values as one list (for a view: a copy, a block at a time)."""
        tail = self.tail  # first, as in __getitem__
        out: list[str | None] = []
        for block in self.blocks:
            if len(out) >= n:
                break
            out.extend(block)
        if len(out) < n:
            out.extend(tail)
        del out[n:]
        return out


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
        self.direction = array("B")
        self.outcome = array("B")
        self.state = array("B")
        self.page = array("l")
        self.ids = _Strings()
        self.parent_id = _Strings()
        self.sip_call_id = _Strings()
        self.from_ = _Strings()
        self.to = _Strings()
        self.cause = _Strings()
        self._providers = _Codes()
        self._accounts = _Codes()
        self._directions = _Codes()
        self._chunk_of = array("l")
        self._chunk_pos = array("L")
        self._chunks: list[bytes | None] = []
        self._pending: dict[int, dict[str, Any]] = {}
        self._decoded: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self._by_id: dict[str, int] = {}
        self._twins: dict[tuple[str, str], int] = {}
        """Rows whose id another account's row already holds in _by_id (ids rarely collide)."""
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
        self._reset()

    # --- adding -------------------------------------------------------------------------------
    def extend(self, calls: Iterable[Call]) -> range:
        """Append calls not already held (same account and id); the new rows' indices."""
        first = len(self)
        for c in calls:
            if self.find(c.account, c.id) is not None:
                continue
            row = len(self)
            pid = self._page_for(c.page)
            started = _ts(c.started_at)
            if row and started > self.started[row - 1]:
                self.newest_first = False
            self.started.append(started)
            self.answered.append(_ts(c.answered_at))
            self.ended.append(_ts(c.ended_at))
            self.duration.append(_int(c.duration_s))
            self.billed.append(_int(c.billed_s))
            self.sip.append(_int(c.sip_code))
            self.cause_code.append(_int(c.cause_code))
            self.mos.append(math.nan if c.mos is None else c.mos)
            self.provider.append(self._providers.code(c.provider))
            self.account.append(self._accounts.code(c.account))
            self.direction.append(self._directions.code(c.direction))
            self.outcome.append(_OUTCOME_CODE[c.outcome])
            self.page.append(pid)
            self.ids.append(c.id)
            self.parent_id.append(c.parent_id)
            self.sip_call_id.append(c.sip_call_id)
            self.from_.append(_intern(c.from_))
            self.to.append(_intern(c.to))
            self.cause.append(_intern(c.cause))
            self._chunk_of.append(-1)
            self._chunk_pos.append(0)
            self.state.append(HELD)  # last: len(self) counts only rows with every column
            self._pending[row] = c.raw
            self._pages[pid].rows.append(row)
            self._add_key(c.account, c.id, row)
            if pid != self._last_page:
                self._last_page = pid
                if pid in self._lru:
                    self._lru.move_to_end(pid)
        added = len(self) - first
        self.held += added
        if len(self._pending) >= FLUSH_ROWS:
            self.flush()
        self._enforce_cap()
        return range(first, len(self))

    def _page_for(self, ref: PageRef | None) -> int:
        if ref is None or ref.request is None:
            # Not fetchable again: grouped for compression, never evicted.
            pid = self._loose
            if pid is None or len(self._pages[pid].rows) >= FLUSH_ROWS:
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

    def _add_key(self, account: str, call_id: str, row: int) -> None:
        if self._by_id.setdefault(call_id, row) != row:
            self._twins[(account, call_id)] = row

    def flush(self) -> None:
        """Compress the raw records still kept as dicts, one chunk per page."""
        groups: dict[int, list[int]] = {}
        page = self.page
        for row in self._pending:
            groups.setdefault(page[row], []).append(row)
        for pid, rows in groups.items():
            self._store_chunk(pid, rows, [self._pending[r] for r in rows])
        self._pending = {}

    def _store_chunk(self, pid: int, rows: list[int], raws: list[dict[str, Any]]) -> None:
        # Pickle, not JSON: exact for any value a parser put in `raw`, and twice as fast both
        # ways. Only bytes this store made are ever unpickled.
        cid = len(self._chunks)
        self._chunks.append(zlib.compress(pickle.dumps(raws, protocol=5)))
        for pos, row in enumerate(rows):
            self._chunk_of[row] = cid
            self._chunk_pos[row] = pos
        self._pages[pid].chunks.append(cid)

    # --- reading ------------------------------------------------------------------------------
    def find(self, account: str | None, call_id: str) -> int | None:
        """The row of (account, id), held or not; any account's when `account` is None."""
        row = self._by_id.get(call_id)
        if row is None or account is None:
            return row
        if self._accounts.values[self.account[row]] == account:
            return row
        return self._twins.get((account, call_id))

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
            _dt(self.started[row]),
            self.account_of(row),
            self.ids[row],
            self.from_[row],
            self.to[row],
            self._directions.values[self.direction[row]],
            _none(self.duration[row]),
            _OUTCOMES[self.outcome[row]],
            _none(self.sip[row]),
            self.cause[row],
            _none(self.cause_code[row]),
            None if math.isnan(self.mos[row]) else self.mos[row],
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
            started_at=_dt(self.started[row]),
            outcome=_OUTCOMES[self.outcome[row]],
            raw=self.raw(row) if raw else {},
            parent_id=self.parent_id[row],
            sip_call_id=self.sip_call_id[row],
            from_=self.from_[row],
            to=self.to[row],
            direction=self._directions.values[self.direction[row]],
            answered_at=_dt(self.answered[row]),
            ended_at=_dt(self.ended[row]),
            duration_s=_none(self.duration[row]),
            billed_s=_none(self.billed[row]),
            sip_code=_none(self.sip[row]),
            cause=self.cause[row],
            cause_code=_none(self.cause_code[row]),
            mos=None if math.isnan(self.mos[row]) else self.mos[row],
            page=self._pages[self.page[row]].ref,
        )
        if self.state[row] != HELD:  # evicted while it was read (state goes first)
            raise NotHeld(row)
        return call

    def raw(self, row: int) -> dict[str, Any]:
        pending = self._pending.get(row)
        if pending is not None:
            return pending
        cid = self._chunk_of[row]
        if cid < 0:
            raise NotHeld(row)
        decoded = self._decoded.get(cid)
        if decoded is None:
            blob = self._chunks[cid]
            if blob is None:  # evicted by the UI thread while a worker read
                raise NotHeld(row)
            decoded = self._decoded[cid] = pickle.loads(zlib.decompress(blob))
            if len(self._decoded) > DECODED_CHUNKS:
                self._decoded.popitem(last=False)
        else:
            self._decoded.move_to_end(cid)
        return decoded[self._chunk_pos[row]]

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
            self._pending.pop(row, None)
            self._chunk_of[row] = -1
        # The id stays (with its key): the page is matched by ids when it comes back, and a
        # record sent again by the stream meanwhile is still known.
        nothing = [None] * len(page.rows)
        for col in (self.parent_id, self.sip_call_id, self.from_, self.to, self.cause):
            col.set_rows(page.rows, nothing)
        for cid in page.chunks:
            self._chunks[cid] = None
            self._decoded.pop(cid, None)
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
            self._store_chunk(ticket.page, restored, [c.raw for c in back])
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
            self._pending[row] = c.raw
            rows.append(row)
            fresh.append(c)
        self._fill_strings(rows, fresh)
        return rows

    def _fill_strings(self, rows: list[int], calls: list[Call]) -> None:
        self.parent_id.set_rows(rows, [c.parent_id for c in calls])
        self.sip_call_id.set_rows(rows, [c.sip_call_id for c in calls])
        self.from_.set_rows(rows, [_intern(c.from_) for c in calls])
        self.to.set_rows(rows, [_intern(c.to) for c in calls])
        self.cause.set_rows(rows, [_intern(c.cause) for c in calls])

    def _fill(self, row: int, c: Call) -> None:
        """A record fetched again: the provider's current data (a call in progress may have
        ended since). The row stays where views put it until they are rebuilt. (Its strings
        are set by _fill_strings, for all rows at once.)"""
        started = _ts(c.started_at)
        if started != self.started[row]:
            self.newest_first = False
        self.started[row] = started
        self.answered[row] = _ts(c.answered_at)
        self.ended[row] = _ts(c.ended_at)
        self.duration[row] = _int(c.duration_s)
        self.billed[row] = _int(c.billed_s)
        self.sip[row] = _int(c.sip_code)
        self.cause_code[row] = _int(c.cause_code)
        self.mos[row] = math.nan if c.mos is None else c.mos
        self.direction[row] = self._directions.code(c.direction)
        self.outcome[row] = _OUTCOME_CODE[c.outcome]

    # --- views --------------------------------------------------------------------------------
    def view(
        self,
        sort: Sort = Sort(),
        query: CallQuery | None = None,
        rows: Iterable[int] | None = None,
        check: Callable[[], None] = lambda: None,
    ) -> array[int]:
        """Row indices, refined by `query` (as CallQuery.matches would) and sorted; ties keep
        newest first. `check` is called between steps: raise Cancelled there to stop.

        Safe in a thread while the UI thread adds, evicts or clears: it reads the columns it
        found on entry (clear() replaces them), over the rows there were then. Views are
        arrays, not lists: a list of 1M rows is 1M int objects, and dropping it (when the next
        view replaces it, on the UI thread) frees them all in one ~30 ms call."""
        cols = _Columns.of(self)
        n = len(cols.state)  # a row's state is added last: every column has this many rows
        base = _steps(range(n) if rows is None else [r for r in rows if r < n], check)
        if rows is None and self.newest_first:
            idx = base
        else:
            idx = _sorted(base, cols.started.__getitem__, True, check)
        if query is not None:
            idx = cols.refine(idx, query, check)
        if sort.key == "started":
            if not sort.descending:
                idx.reverse()
            return idx
        keys = cols.sort_keys(sort.key, n, check)
        return _sorted(idx, keys.__getitem__, sort.descending, check)

    def positions(
        self, view: Sequence[int], check: Callable[[], None] = lambda: None
    ) -> array[int]:
        """Each row's index in `view` (-1 where absent), built in steps for a thread."""
        size = 0
        for start in range(0, len(view), CHUNK):
            size = max(size, max(view[start : start + CHUNK]) + 1)
        pos = array("l", [-1]) * size
        for start in range(0, len(view), CHUNK):
            check()
            for p in range(start, min(start + CHUNK, len(view))):
                pos[view[p]] = p
        return pos


@dataclass(slots=True, frozen=True)
class _Columns:
    """The columns a view reads, as they were when it started."""

    started: array[float]
    duration: array[int]
    sip: array[int]
    cause_code: array[int]
    mos: array[float]
    account: array[int]
    direction: array[int]
    outcome: array[int]
    state: array[int]
    ids: _Strings
    sip_call_id: _Strings
    parent_id: _Strings
    from_: _Strings
    to: _Strings
    accounts: _Codes
    directions: _Codes

    @classmethod
    def of(cls, s: CallStore) -> _Columns:
        return cls(
            s.started,
            s.duration,
            s.sip,
            s.cause_code,
            s.mos,
            s.account,
            s.direction,
            s.outcome,
            s.state,
            s.ids,
            s.sip_call_id,
            s.parent_id,
            s.from_,
            s.to,
            s._accounts,
            s._directions,
        )

    def sort_keys(self, key: str, n: int, check: Callable[[], None]) -> Sequence[Any]:
        """The column `key` as sort keys, None mapped as the table always sorted it."""
        if key == "account":
            return _mapped(self.account[:n], self.accounts.ranks().__getitem__, check)
        if key == "direction":
            return _mapped(self.direction[:n], self.directions.ranks().__getitem__, check)
        if key == "outcome":
            by_value = sorted(range(len(_OUTCOMES)), key=lambda c: _OUTCOMES[c].value)
            rank_of = [by_value.index(c) for c in range(len(_OUTCOMES))]
            return _mapped(self.outcome[:n], rank_of.__getitem__, check)
        if key in ("from", "to"):
            col = self.from_ if key == "from" else self.to
            return _mapped(col.values(n), lambda s: s or "", check)
        if key == "duration":
            return _mapped(self.duration[:n], lambda d: -1 if d == NO_INT else d, check, "q")
        if key == "mos":
            return _mapped(self.mos[:n], lambda m: -1.0 if m != m else m, check, "d")
        if key == "code":
            sip, cause = self.sip[:n], self.cause_code[:n]

            def code(r: int) -> int:
                if sip[r] != NO_INT:
                    return sip[r]
                return 0 if cause[r] == NO_INT else cause[r]

            return _mapped(range(n), code, check, "q")
        raise ValueError(f"unknown sort key {key!r}")

    def refine(self, idx: array[int], q: CallQuery, check: Callable[[], None]) -> array[int]:
        """The rows CallQuery.matches would keep, read from the columns. A placeholder's text
        criteria (numbers, ids) cannot be told: it stays, and is refined when held again."""
        since = q.since.timestamp()
        until = math.inf if q.until is None else q.until.timestamp()
        started, duration, state = self.started, self.duration, self.state
        direction = self.directions.find(q.direction) if q.direction else None
        directions = self.direction
        outcomes = {_OUTCOME_CODE[o] for o in q.outcomes}
        outcome = self.outcome
        lo = -math.inf if q.min_duration is None else q.min_duration
        hi = math.inf if q.max_duration is None else q.max_duration
        by_duration = q.min_duration is not None or q.max_duration is not None
        from_key, to_key = number_key(q.from_), number_key(q.to)
        needle = (q.text or "").lower()
        hay = (self.ids, self.sip_call_id, self.parent_id, self.from_, self.to)
        from_, to = self.from_, self.to

        def keep(r: int) -> bool:
            s = started[r]
            if s == NO_TIME or s < since or s > until:
                return False
            if q.direction and directions[r] != direction:
                return False
            if outcomes and outcome[r] not in outcomes:
                return False
            if by_duration:
                d = duration[r]
                d = 0 if d == NO_INT else d
                if d < lo or d > hi:
                    return False
            if state[r] == EVICTED:
                return True
            if from_key and not number_key(from_[r]).startswith(from_key):
                return False
            if to_key and not number_key(to[r]).startswith(to_key):
                return False
            if needle:
                return any(needle in v.lower() for v in (col[r] for col in hay) if v)
            return True

        out = array("l")
        for start in range(0, len(idx), CHUNK):
            check()
            out.extend([r for r in idx[start : start + CHUNK] if keep(r)])
        return out


def _sorted(
    rows: array[int], key: Callable[[int], Any], reverse: bool, check: Callable[[], None]
) -> array[int]:
    """A stable sort of `rows` that holds the GIL for one chunk's sort at most."""
    if len(rows) <= CHUNK:
        return array("l", sorted(rows, key=key, reverse=reverse))
    runs = []
    for start in range(0, len(rows), CHUNK):
        check()
        run = rows[start : start + CHUNK].tolist()
        run.sort(key=key, reverse=reverse)
        runs.append(array("l", run))  # its int objects are freed here, a chunk at a time
    check()
    out = array("l")
    append = out.append
    # heapq.merge is a Python generator: the interpreter can switch threads between items.
    # It is stable: of equal keys, the earlier run's come first, as in one big sort.
    for n, row in enumerate(heapq.merge(*runs, key=key, reverse=reverse)):
        append(row)
        if not n & 0xFFFF:
            check()
    return out


def _steps(values: Sequence[int], check: Callable[[], None]) -> array[int]:
    """array(values), a chunk at a time."""
    out = array("l")
    for start in range(0, len(values), CHUNK):
        check()
        out.extend(values[start : start + CHUNK])
    return out


def _mapped(
    values: Sequence[Any], fn: Callable[[Any], Any], check: Callable[[], None], typecode: str = ""
) -> MutableSequence[Any]:
    """[fn(v) for v in values] in steps; a typed array when `typecode` is given (a list of 1M
    non-small ints or floats is 1M objects to free at once)."""
    out: MutableSequence[Any] = array(typecode) if typecode else []
    for start in range(0, len(values), CHUNK):
        check()
        out.extend([fn(v) for v in values[start : start + CHUNK]])
    return out


def _ts(t: datetime | None) -> float:
    return NO_TIME if t is None else t.timestamp()


def _dt(ts: float) -> datetime | None:
    return None if ts == NO_TIME else datetime.fromtimestamp(ts, _UTC)


def _int(v: int | None) -> int:
    if v is None:
        return NO_INT
    # No provider reports a duration or code past int64; a hostile one is clamped, not fatal.
    return v if -_INT_MAX <= v <= _INT_MAX else max(-_INT_MAX, min(_INT_MAX, v))


def _none(v: int) -> int | None:
    return None if v == NO_INT else v


def _intern(s: str | None) -> str | None:
    # Numbers and causes repeat across calls: one str object for each distinct value.
    return sys.intern(s) if type(s) is str else s
