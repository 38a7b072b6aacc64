"""The provider's raw records of the store's rows (calltui.store), and how a cleared store lets go
of them. Raw records are the store's heaviest part: they are kept as dicts while they arrive,
then pickled and zlib-compressed, a chunk of one page's rows at a time, and decoded on demand (a
small LRU of decoded chunks); an evicted page's chunks are dropped whole. A cleared store's
containers, raw records and columns, are freed in a thread, in small steps (`release`).
"""

from __future__ import annotations

import pickle
import time
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from calltui.store_columns import Strings

FLUSH_ROWS = 512
"""Raw records kept as dicts until this many wait; then each page's share is compressed. With
4096 waiting (merged from 25 accounts' pages), a load of 276,000 calls ended with 10 MB more
RSS: the interpreter's memory pools the waiting dicts had filled stayed allocated, mostly
empty. With 256, the pages' shares were too small to compress well, and it ended as high."""
CHUNK_ROWS = 512
"""Raw records of one page compressed together at most: pickling and compressing 4096 at once
held the UI thread ~90 ms, 512 take ~11 ms, and compress nearly as well."""
DECODED_CHUNKS = 8
RELEASE_STEP = 256
"""Objects a cleared store's thread frees between hand-overs of the GIL."""


class RawRecords:
    """The raw record of each row: in `pending` (a dict) until flushed, then at `chunk_pos` in
    chunk `chunk_of` (-1: none, the row is evicted). The store appends a row's place to both
    arrays, and its raw record to `pending`, as it adds the row."""

    def __init__(self) -> None:
        self.chunk_of = array("i")
        self.chunk_pos = array("I")
        self.chunks: list[bytes | None] = []
        self.pending: dict[int, dict[str, Any]] = {}
        self.decoded: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()

    def flush(
        self, page: array[int], rows: int | None = None, pages: int | None = None
    ) -> list[tuple[int, int]]:
        """Compress the raw records still kept as dicts (the oldest `rows` of them, of at most
        `pages` pages; all by default), in chunks of at most CHUNK_ROWS of one page (`page`:
        each row's). A chunk costs its compression's set-up (~0.5 ms) however few records it
        holds: 512 records of hundreds of accounts' first pages made 140 chunks, 90 ms in one
        go. The chunks made, each with its page: (page, chunk)."""
        groups: dict[int, list[int]] = {}
        for taken, row in enumerate(self.pending):
            if rows is not None and taken >= rows:
                break
            group = groups.get(page[row])
            if group is None:
                if pages is not None and len(groups) >= pages:
                    break
                group = groups[page[row]] = []
            group.append(row)
        pending = self.pending
        made = []
        for pid, group in groups.items():
            for at in range(0, len(group), CHUNK_ROWS):
                part = group[at : at + CHUNK_ROWS]
                made.append((pid, self.store(part, [pending.pop(r) for r in part])))
        return made

    def store(self, rows: list[int], raws: list[dict[str, Any]]) -> int:
        """`raws`, the raw records of `rows`, compressed as one chunk; its number."""
        # Pickle, not JSON: exact for any value a parser put in `raw`, and twice as fast both
        # ways. Only bytes this store made are ever unpickled.
        cid = len(self.chunks)
        self.chunks.append(zlib.compress(pickle.dumps(raws, protocol=5)))
        for pos, row in enumerate(rows):
            self.chunk_of[row] = cid
            self.chunk_pos[row] = pos
        return cid

    def get(self, row: int) -> dict[str, Any] | None:
        """The raw record of `row`; None where it is not held: evicted (by the UI thread, perhaps,
        while a worker reads)."""
        pending = self.pending.get(row)
        if pending is not None:
            return pending
        cid = self.chunk_of[row]
        if cid < 0:
            return None
        decoded = self.decoded.get(cid)
        if decoded is None:
            blob = self.chunks[cid]
            if blob is None:  # evicted by the UI thread while a worker read
                return None
            decoded = self.decoded[cid] = pickle.loads(zlib.decompress(blob))
            if len(self.decoded) > DECODED_CHUNKS:
                self.decoded.popitem(last=False)
        else:
            self.decoded.move_to_end(cid)
        return decoded[self.chunk_pos[row]]

    def drop(self, rows: Iterable[int], chunks: Iterable[int]) -> None:
        """The raw records of an evicted page: its `rows`, and the `chunks` that hold them."""
        for row in rows:
            self.pending.pop(row, None)
            self.chunk_of[row] = -1
        for cid in chunks:
            self.chunks[cid] = None
            self.decoded.pop(cid, None)


def release(parts: list[Any]) -> None:
    """Free the containers of a cleared store in small steps, in a thread: dropped at once, the
    objects of a million rows held the UI thread for ~0.5 s. Each container's items are first
    taken into one list, so the container goes without freeing them, then they are dropped one
    by one (a block of a string column, 4096 str, is the biggest), and the GIL passes to the UI
    thread in between. A view thread still reading an old column keeps what it reads alive:
    that goes when it ends."""
    items: list[Any] = []
    while parts:
        part = parts.pop()
        if isinstance(part, RawRecords):
            parts += vars(part).values()  # its containers, each freed as the store's are
        elif isinstance(part, Strings):
            items += part.blocks
            items.append(part.tail)
        elif isinstance(part, dict):
            items += part.values()
            items += part.keys()
        elif isinstance(part, list):
            items += part
        del part
        while items:
            items.pop()
            if len(items) % RELEASE_STEP == 0:
                # Hand the GIL over now rather than when the interpreter forces it: forced,
                # each hand-over kept the UI thread waiting its 5 ms switch interval.
                time.sleep(0)
