"""Full garbage collections only while the user is idle, and what a load leaves frozen out of
the collector's sight (IdleGC); the C heap's free memory given back once a load is over."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

from textual.app import App
from textual.strip import Strip

_textual_divide = Strip.divide


def _divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    """Strip.divide, but a strip cut only at its end comes back in a new list, not one it
    keeps: Textual caches `[self]` in the strip itself, a reference cycle that only a full
    collection frees, and the compositor divides every line it draws."""
    length = self.cell_length
    kept = [cut for cut in cuts if cut <= length]
    return [self] if kept == [length] else _textual_divide(self, kept)


def give_back_free_memory() -> None:
    """The C heap's free memory back to the system, where the C library can (glibc's
    malloc_trim): a load frees the pages it parsed, in two threads' heaps, and glibc keeps most
    of it (25 MB of 330 after 276,000 records, in 3 ms). Elsewhere, nothing."""
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


class IdleGC:
    """Full (generation 2) garbage collections only while the user is idle.

    Textual makes reference cycles as it draws (a Strip may cache itself), so the oldest
    generation fills steadily, and Python collects it whenever it is due: in the middle of a key
    press, for tens of milliseconds (15 to 80 ms measured here, more with more loaded). Here the
    automatic full collection is off while the app runs, and a timer runs it once no input has
    come for IDLE_S seconds (young generations are still collected as usual, in well under a
    millisecond). What exists at start (modules, classes, settings) is frozen out of the
    collector's sight: it lives as long as the app, and scanning it made the first idle
    collection, half a second in, stall the arrival of the first rows by tens of milliseconds.
    The command line turns the collector off before it imports the TUI (a full collection among
    the imports cost 20 ms and found nothing to free); start() turns it on. The thresholds are
    restored on stop().

    Once a load is over, the C heap's free memory goes back to the system
    (give_back_free_memory). While calls are loading, what survives each idle collection is
    frozen too: the store's pages, the providers' caches of recent calls and the pages on their
    way live on (scanning them on every idle collection took 0.4 to 0.85 s with 800,000 calls
    loaded, and even the ~20,000 objects of the pages in flight took 20 to 80 ms), so each
    collection scans only what was made since the last one; and they run every LOADING_S rather
    than IDLE_S, each over a fifth as much (the pages of a hundred accounts in flight made
    ~20,000 objects every half second). What is frozen is freed as usual when its last
    reference goes; only a reference cycle that becomes garbage after being frozen is never
    collected: a cost of a load, for collections that do not grow with the calls loaded. Most
    such cycles were the lines on screen, each cached inside itself as it was drawn (96,000
    objects, 12 MB, after a load of 276,000 calls); while the app runs, a line drawn whole keeps
    no such cycle (_divide), so reference counting frees it. Loading is told by the accounts
    being fetched as much as by the rows: hundreds of accounts spend seconds on their first
    pages before the merge shows a row, and unfrozen, their clients and the modules their
    requests import made each of those collections 50 to 80 ms. Once no account is being
    fetched and rows stop coming, nothing more is frozen.
    """

    IDLE_S = 0.5
    LOADING_S = 0.1
    NEVER = 2**31 - 1
    LOG_ENV = "CALLTUI_GC_LOG"
    """A file the app appends each full collection's duration to, one line each: wall and CPU
    milliseconds (on a busy machine the first includes waiting for a core). How the benchmarks
    see collector pauses, which no terminal shows. Unset: nothing is timed."""

    def __init__(
        self,
        progress: Callable[[], int] = lambda: 0,
        busy: Callable[[], bool] = lambda: False,
        release: Callable[[], None] = give_back_free_memory,
    ) -> None:
        """`progress`: a count that moves while calls load (the rows held, the pages fetched);
        `busy`: whether accounts are being fetched; `release`: what gives the free memory
        back once a load is over."""
        self._progress = progress
        self._busy = busy
        self._release = release
        self._frozen_at = 0
        self._loading = False
        self._last_input = 0.0
        self._last_collection = 0.0
        self._saved: tuple[int, int, int] | None = None
        self._log: TextIO | None = None
        self._began = self._began_cpu = 0.0

    def start(self, app: App[Any]) -> None:
        self._saved = gc.get_threshold()
        gc.set_threshold(self._saved[0], self._saved[1], self.NEVER)
        setattr(Strip, "divide", _divide)  # noqa: B010 (mypy: no assigning to a method)
        gc.freeze()
        gc.enable()
        log = os.environ.get(self.LOG_ENV)
        if log:
            self._log = open(log, "a", buffering=1)  # noqa: SIM115 (closed by stop())
            gc.callbacks.append(self._timed)
        app.set_interval(self.LOADING_S, self._tick)

    def _timed(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2 or self._log is None:
            return
        if phase == "start":
            self._began, self._began_cpu = time.perf_counter(), time.thread_time()
        else:
            wall = (time.perf_counter() - self._began) * 1000
            cpu = (time.thread_time() - self._began_cpu) * 1000
            self._log.write(f"{wall:.3f} {cpu:.3f}\n")

    def input(self) -> None:
        self._last_input = time.monotonic()

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._last_input < self.IDLE_S:
            return
        progress = self._progress()
        loading = progress != self._frozen_at or self._busy()
        # get_count()[2]: young collections since the last full one, i.e. anything to do.
        if loading or (now - self._last_collection >= self.IDLE_S and gc.get_count()[2]):
            gc.collect()
            self._last_collection = now
        if loading:
            gc.freeze()  # after the collection: only what survived it
            self._frozen_at = progress
        elif self._loading:
            self._release()
        self._loading = loading

    def stop(self) -> None:
        if self._log is not None:
            gc.callbacks.remove(self._timed)
            self._log.close()
            self._log = None
        if self._saved is not None:
            setattr(Strip, "divide", _textual_divide)  # noqa: B010
            gc.unfreeze()
            gc.set_threshold(*self._saved)
            self._saved = None
