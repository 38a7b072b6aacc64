"""The store's column types (calltui.store) and the views built over them: row indices sorted by
a listing column (calltui.columns says how each one sorts).

Views are written to run in a thread: they never hold the GIL in one C call over all rows (a
single `list.sort` of 1M rows would, for ~0.2 s), but sort chunks and merge them in Python, so
the UI thread gets the GIL every few milliseconds.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from calltui.columns import STARTED, SortKey, sort_key

NO_TIME = float("-inf")
NO_INT = -(2**63)
"""What a cell of a time (float) or an int column holds for None (time_cell, int_cell)."""
_INT_MAX = 2**63 - 1
_UTC = timezone.utc
CHUNK = 32_768
"""Rows per C-level step of a view (a sort of this many takes a few ms)."""
BLOCK_BITS = 12
BLOCK = 1 << BLOCK_BITS
BLOCK_MASK = BLOCK - 1
"""Rows per block of a string column (see Strings)."""


def time_cell(t: datetime | None) -> float:
    return NO_TIME if t is None else t.timestamp()


def cell_time(ts: float) -> datetime | None:
    return None if ts == NO_TIME else datetime.fromtimestamp(ts, _UTC)


def int_cell(v: int | None) -> int:
    if v is None:
        return NO_INT
    # No provider reports a duration or code past int64; a hostile one is clamped, not fatal.
    return v if -_INT_MAX <= v <= _INT_MAX else max(-_INT_MAX, min(_INT_MAX, v))


def cell_int(v: int) -> int | None:
    return None if v == NO_INT else v


class Codes:
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


INDEX_BITS = 14
INDEX_MASK = (1 << INDEX_BITS) - 1


class IdIndex:
    """Rows by the hash of their id, in arrays: no Python object per row.

    A dict of id keys kept a str and an int object per row (~110 bytes, more for an id that
    two accounts share) and, made among each page's short-lived parse objects, those small
    objects pinned the interpreter's memory pools that the page's garbage left nearly empty:
    a third of the RSS of a load. Here the hashes and rows of a fixed number of buckets are
    two arrays each (16 bytes a row); a bucket is searched in C (`in`, `index`), never
    rebuilt as the store grows (some 60 rows a bucket at a million). Equal hashes are not
    equal ids: the caller compares the id of each row found (CallStore.find)."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[array[int], array[int]]] = {}

    def add(self, h: int, row: int) -> None:
        bucket = self._buckets.get(h & INDEX_MASK)
        if bucket is None:
            bucket = self._buckets[h & INDEX_MASK] = (array("q"), array("q"))
        bucket[0].append(h)
        bucket[1].append(row)

    def rows(self, h: int) -> Iterator[int]:
        """The rows whose id hashes to `h`, in the order they were added."""
        bucket = self._buckets.get(h & INDEX_MASK)
        if bucket is None:
            return
        hashes, rows = bucket
        if h not in hashes:
            return
        i = hashes.index(h)
        while True:
            yield rows[i]
            try:
                i = hashes.index(h, i + 1)
            except ValueError:
                return


class Packed:
    """A full block of a packed Strings column: its values joined into one str, where each one
    ends in it, and which are None (empty when none is)."""

    __slots__ = ("ends", "nones", "text")

    def __init__(self, values: Sequence[str | None]) -> None:
        ends = array("i")
        total = 0
        for v in values:
            total += 0 if v is None else len(v)
            ends.append(total)
        self.text = "".join([v for v in values if v is not None])
        self.ends = ends
        self.nones = bytes(v is None for v in values) if None in values else b""

    def __getitem__(self, i: int) -> str | None:
        if self.nones and self.nones[i]:
            return None
        ends = self.ends
        return self.text[ends[i - 1] if i else 0 : ends[i]]

    def values(self) -> list[str | None]:
        text, ends = self.text, self.ends
        out: list[str | None] = [
            text[a:b] for a, b in zip(_starts(ends), ends, strict=False)
        ]  # one start more
        if self.nones:
            out = [None if none else v for v, none in zip(out, self.nones, strict=True)]
        return out


def _starts(ends: array[int]) -> Iterator[int]:
    yield 0
    yield from ends


class Strings:
    """A column of optional str, in blocks of BLOCK rows; the last, growing block is a list.

    A full block is sealed. Packed (`packed=True`, for values mostly distinct: numbers, SIP
    Call-IDs): one str of all its values and an array of where each ends, so a row costs its
    characters and 4 bytes, not a pointer and a str object (~50 bytes of header), and a block
    is two objects for the cyclic GC to scan, not thousands. Otherwise a tuple of the
    values (for values repeated and interned, or held elsewhere anyway, like ids): the GC stops
    walking a tuple of str after its first look, while it walks every item of a list on each
    full collection."""

    __slots__ = ("blocks", "packed", "tail")

    def __init__(self, packed: bool = False) -> None:
        self.blocks: list[Packed | tuple[str | None, ...]] = []
        self.tail: list[str | None] = []
        self.packed = packed

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
            self.blocks.append(self._seal(self.tail))
            self.tail = []

    def _seal(self, values: list[str | None]) -> Packed | tuple[str | None, ...]:
        return Packed(values) if self.packed else tuple(values)

    def set_rows(self, rows: Sequence[int], values: Sequence[str | None]) -> None:
        """Many rows at once: each block they touch is copied once."""
        by_block: dict[int, list[tuple[int, str | None]]] = {}
        for row, value in zip(rows, values, strict=True):
            by_block.setdefault(row >> BLOCK_BITS, []).append((row & BLOCK_MASK, value))
        for b, changes in by_block.items():
            if b < len(self.blocks):
                block = _unsealed(self.blocks[b])
                for i, value in changes:
                    block[i] = value
                self.blocks[b] = self._seal(block)
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
            out.extend(_unsealed(block))
        if len(out) < n:
            out.extend(tail)
        del out[n:]
        return out


def _unsealed(block: Packed | tuple[str | None, ...]) -> list[str | None]:
    return block.values() if isinstance(block, Packed) else list(block)


@dataclass(slots=True, frozen=True)
class Snapshot:
    """The columns a view sorts by, as they were when it started (the store replaces them on
    clear), keyed by the Call attribute each one holds."""

    numbers: Mapping[str, tuple[array[Any], float]]
    """Typed arrays, each with the value that stands for None (NaN for a float column)."""
    names: Mapping[str, tuple[array[int], Sequence[str | None]]]
    """Codes into a table of names."""
    strings: Mapping[str, Strings]
    rows: int
    """How many rows every column above has."""

    def keys(self, key: SortKey, check: Callable[[], None]) -> Sequence[Any]:
        """Each row's sort key by `key`, indexed by row."""
        n, missing = self.rows, key.missing
        name = self.names.get(key.fields[0])
        if name is not None:
            codes, table = name
            order = sorted(range(len(table)), key=lambda c: _or(table[c], missing))
            rank = [0] * len(order)
            for r, c in enumerate(order):
                rank[c] = r
            return _mapped(codes[:n], rank.__getitem__, check)
        strings = self.strings.get(key.fields[0])
        if strings is not None:
            return _mapped(strings.values(n), lambda s: missing if s is None else s, check)
        cols = [self.numbers[f] for f in key.fields]
        typecode = cols[0][0].typecode
        if len(cols) == 1:
            col, none = cols[0]
            if none == missing:
                return col  # its None already sorts where missing values go
            if none != none:
                return _mapped(col[:n], lambda v: missing if v != v else v, check, typecode)
            return _mapped(col[:n], lambda v: missing if v == none else v, check, typecode)
        firsts = [(col[:n], none) for col, none in cols]

        def first(r: int) -> Any:
            for col, none in firsts:
                v = col[r]
                if v == v and v != none:
                    return v
            return missing

        return _mapped(range(n), first, check, typecode)


def _or(value: str | None, missing: str | float) -> str | float:
    return missing if value is None else value


def build_view(
    snap: Snapshot,
    key: str,
    descending: bool,
    rows: Iterable[int] | None,
    newest_first: bool,
    check: Callable[[], None],
) -> array[int]:
    """`rows` (None: all of them) by the column `key`, ties newest first. Rows are first put
    newest first (unless `newest_first` says they were added so); by start time itself,
    ascending is that order reversed."""
    by = sort_key(key)
    n = snap.rows
    base = _steps(range(n) if rows is None else [r for r in rows if r < n], check)
    start = sort_key(STARTED)
    if rows is None and newest_first:
        idx = base
    else:
        idx = _sorted(base, snap.keys(start, check).__getitem__, True, check)
    if by == start:
        if not descending:
            idx.reverse()
        return idx
    return _sorted(idx, snap.keys(by, check).__getitem__, descending, check)


def positions(view: Sequence[int], check: Callable[[], None]) -> array[int]:
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
