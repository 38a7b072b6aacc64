"""Store: memory per record at 1,000,000 records, and how long the UI thread can be kept waiting
while 1,000,000 rows are sorted and filtered in a thread.

Memory is measured in fresh processes (one per side, so neither inherits the other's freed
memory): resident set size after filling, minus before, over the number of records. The store
side holds everything the detail's raw view needs (the raw records, compressed per page); the
baseline is the plain list of Call objects with their raw dicts, as the store held them before.
Records are the benchmark's synthetic ones (benchmarks.common.synthetic_calls), in pages of 500
per account, as the engine delivers them.

The cap: the same records into a store that may hold 100,000 of them; the rest keep a skeleton
(the id and the sortable values), whose size is shown.

The wait: the main thread runs an asyncio loop ticking every millisecond (as Textual's loop waits
for keys) while a thread builds views of the 1M rows (sort by duration; refine by outcome and
number, then sort by callee; each with its position map). The longest gap between ticks is how
long a key could wait. The baseline does the same sorts as one `sorted()` call each, which holds
the GIL from start to end.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

from benchmarks.common import finish, report, synthetic_calls
from calltui.model import Call, PageRef
from calltui.store import CallStore, Sort

N = 1_000_000
CAP = 100_000
PAGE = 500
RSS_GOAL_B = 1024
WAIT_GOAL_MS = 50


def rss() -> int:
    """Resident set size of this process, in bytes (Linux /proc; elsewhere the peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def pages(n: int) -> Iterator[list[Call]]:
    """Synthetic records in pages of PAGE per account, each page tagged as the engine does."""
    calls = synthetic_calls(n)
    number = itertools.count()
    while True:
        chunk = list(itertools.islice(calls, PAGE * 5))
        if not chunk:
            return
        by_account: dict[str, PageRef] = {}
        for c in chunk:
            ref = by_account.get(c.account)
            if ref is None:
                ref = by_account[c.account] = PageRef(c.account, ("/calls", {"p": next(number)}))
            c.page = ref
        yield chunk


def max_wait(work: Callable[[], object]) -> tuple[float, float]:
    """(longest gap between 1 ms ticks of the main thread's loop, seconds `work` took) while
    `work` runs in a thread."""

    async def run() -> tuple[float, float]:
        done = threading.Event()
        took = 0.0

        def target() -> None:
            nonlocal took
            t0 = time.perf_counter()
            work()
            took = time.perf_counter() - t0
            done.set()

        thread = threading.Thread(target=target)
        longest = 0.0
        last = time.perf_counter()
        thread.start()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            longest, last = max(longest, now - last), now
        thread.join()
        return longest, took

    return asyncio.run(run())


def child_store() -> dict[str, float]:
    store = CallStore(max_records=N)
    gc.collect()
    before = rss()
    for page in pages(N):
        store.extend(page)
    store.flush()
    del page
    gc.collect()
    per_record = (rss() - before) / len(store)
    assert len(store) == N and store.held == N

    def chunked() -> None:
        store.positions(store.view(Sort("duration")))
        store.positions(store.view(Sort("to", descending=False)))

    def naive() -> None:
        n = len(store)
        duration, to = store.duration, store.to
        sorted(range(n), key=duration.__getitem__, reverse=True)
        sorted(range(n), key=lambda r: to[r] or "")

    wait, took = max_wait(chunked)
    naive_wait, naive_took = max_wait(naive)
    return {
        "per_record": per_record,
        "wait": wait,
        "took": took,
        "naive_wait": naive_wait,
        "naive_took": naive_took,
    }


def child_capped() -> dict[str, float]:
    store = CallStore(max_records=CAP)
    gc.collect()
    before = rss()
    for page in pages(N):
        store.extend(page)
        assert store.held <= CAP
    store.flush()
    del page
    gc.collect()
    return {"per_record": (rss() - before) / len(store), "held": store.held}


def child_plain() -> dict[str, float]:
    gc.collect()
    before = rss()
    held: list[Call] = []
    for page in pages(N):
        held.extend(page)
    del page
    gc.collect()
    return {"per_record": (rss() - before) / len(held)}


def in_child(kind: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_store", "--child", kind],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    store = in_child("store")
    capped = in_child("capped")
    plain = in_child("plain")
    report(
        "store: RSS per record, 1,000,000 records with raw",
        store["per_record"],
        RSS_GOAL_B,
        "B",
        detail=f"baseline plain Call objects with raw dicts: {plain['per_record']:.0f} B/record "
        f"(ratio {store['per_record'] / plain['per_record']:.3f})",
    )
    skeleton = (capped["per_record"] * N - store["per_record"] * CAP) / (N - CAP)
    report(
        f"store: rows held with a cap of {CAP:,}, {N:,} added",
        capped["held"],
        CAP,
        "",
        detail=f"the {N - CAP:,} evicted keep a skeleton of ~{skeleton:.0f} B each "
        f"(RSS {capped['per_record'] * N / 2**20:.0f} MiB in all)",
    )
    report(
        "store: longest UI-thread wait, 1M rows sorted+filtered in a thread",
        store["wait"] * 1000,
        WAIT_GOAL_MS,
        "ms",
        detail=f"baseline one sorted() per sort: {store['naive_wait'] * 1000:.0f} ms "
        f"(ratio {store['wait'] / store['naive_wait']:.3f}); the work took "
        f"{store['took']:.2f} s chunked, {store['naive_took']:.2f} s naive",
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child = {"store": child_store, "capped": child_capped, "plain": child_plain}
        result = child[sys.argv[2]]()
        print(json.dumps(result))
        sys.exit(0)
    main()
    sys.exit(finish())
