"""How an account's requests are paced: at most so many in any window (the provider's documented
limit, or the account's `rate_limit`), and a bounded number of attempts with backoff. Used by
calltui.http, which re-exports these names. And how late the event loop itself runs
(`lag_probe`, with CALLTUI_LAG_LOG set), which is what a key press waits for."""

from __future__ import annotations

import asyncio
import os
import random
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from calltui.files import create_private


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `requests` requests in any window of `per_s` seconds."""

    requests: int
    per_s: float

    @classmethod
    def per_second(cls, rate: float) -> RateLimit:
        return cls(max(1, round(rate)), 1.0) if rate >= 1 else cls(1, 1.0 / rate)


@dataclass(slots=True)
class Slot:
    """One request's place in the window: when it left, as far as we know."""

    at: float


class RateLimiter:
    """A sliding-window limiter: a token bucket would let a full burst through at the window's
    edge and break limits stated as 'N per window' (Plivo's 300 per 5 s).

    The server counts requests when they arrive, and we only know when we let one go: a request
    that opens a connection (TCP, TLS) arrives later after its slot than one that reuses it, so
    the next request, sent exactly a window later, can land inside the server's window. Each
    window is therefore held `GUARD_S` longer (at most 5% of it), which costs a 1 request/s
    listing 5% of its pace where a 429 would cost it a whole reset period. And the slot given
    by `acquire` is dated again by `sent` as the request really leaves: between the two the
    request waits for its task to run, which on a busy event loop (the TUI drawing its first
    frame) can take longer than the guard."""

    GUARD_S = 0.05

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._sent: deque[Slot] = deque()
        self._lock = asyncio.Lock()
        self._blocked_until = 0.0
        self._window = limit.per_s + min(self.GUARD_S, limit.per_s / 20)

    def block_until(self, t: float) -> None:
        """The server said to wait (429): nobody on this account sends before `t`."""
        self._blocked_until = max(self._blocked_until, t)

    async def acquire(self) -> Slot:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._blocked_until:
                    await asyncio.sleep(self._blocked_until - now)
                    continue
                while self._sent and now - self._sent[0].at >= self._window:
                    self._sent.popleft()
                if len(self._sent) < self.limit.requests:
                    slot = Slot(now)
                    self._sent.append(slot)
                    return slot
                await asyncio.sleep(self._window - (now - self._sent[0].at))

    def sent(self, slot: Slot) -> None:
        """The request of `slot` leaves now: its place in the window starts now."""
        slot.at = max(slot.at, self._clock())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_s: float = 0.5
    cap_s: float = 8.0
    max_wait_s: float = 30.0
    """A 429 whose server asks for a longer wait than this fails at once (jambonz's limiter asks
    for the rest of a 5-minute window): retrying must stay bounded."""

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so that accounts retrying together spread out."""
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


ENV_LAG_LOG = "CALLTUI_LAG_LOG"
LAG_PERIOD_S = 0.005
LAG_SHOWN_MS = 5.0


def lag_probe() -> asyncio.Task[None] | None:
    """With CALLTUI_LAG_LOG naming a new file, a task on the running loop that sleeps
    LAG_PERIOD_S at a time and writes one line, `MONOTONIC_S LAG_MS`, for every wake-up later
    than LAG_SHOWN_MS (and a first line with a lag of 0 as it starts): the time the loop spent
    on other work (a callback, a frame, a burst of account set-up) before it could run a timer,
    which is what a key press waits for too. The times are time.monotonic(), the clock a
    benchmark on the same machine reads. Without the variable, None and no cost."""
    path = os.environ.get(ENV_LAG_LOG, "").strip()
    if not path:
        return None
    _, out = create_private(Path(path))
    return asyncio.get_running_loop().create_task(_watch_lag(out))


async def _watch_lag(out: BinaryIO) -> None:
    with out:
        last = time.monotonic()
        out.write(f"{last:.4f} 0.0\n".encode())
        out.flush()
        while True:
            await asyncio.sleep(LAG_PERIOD_S)
            now = time.monotonic()
            lag_ms = (now - last - LAG_PERIOD_S) * 1000
            if lag_ms > LAG_SHOWN_MS:
                out.write(f"{now:.4f} {lag_ms:.1f}\n".encode())
                out.flush()
            last = now


TURN_BUDGET_S = 0.004
"""How long the chunks of work let through by `share_turn` may run in one turn of the loop. The
same turn also runs what cannot wait its turn (the sockets' callbacks of every exchange under
way, a frame, the messages), and a timer due or a key read waits a turn or two: with 300
accounts loading, a budget of 20 ms left turns of 100 to 250 ms; of 8 ms, turns of 20-25 ms
and stalls of 44-71 ms; of 4 ms, 37-60 ms, and the first rows came no later."""

LET_GO_MAX = 64
"""Chunks waiting let go in one turn at most, however short the turns before (a burst of
chunks may follow a quiet spell)."""


class _Turns:
    """One loop's chunks of work: when this turn's began (None: none yet), and those waiting
    for a later turn, first come first served.

    The waiting are let go a few a turn, as many as the turns allow: their number halves after
    a turn longer than TURN_BUDGET_S (frames and sockets count too) and grows after a shorter
    one. Each waiting chunk had tried again every turn until the budget let it through: with
    the hundreds of requests of 300 accounts waiting, their tries (a task step each, through
    the awaits above them) were a turn's first 6 to 8 ms, and a timer due, or a key, waited
    two or three such turns (50 to 60 ms)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.began: float | None = None
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.let_go = 4
        self.released: float | None = None
        """When `release` last ran (None: it is not due)."""

    def end(self) -> None:
        self.began = None

    def admit(self) -> bool:
        now = time.perf_counter()
        if self.began is None:
            self.began = now
            self.loop.call_soon(self.end)  # runs first in the next turn: the budget starts anew
        return not self.waiting and now - self.began < TURN_BUDGET_S

    def wait(self) -> asyncio.Future[None]:
        turn = self.loop.create_future()
        self.waiting.append(turn)
        if self.released is None:
            self.released = time.perf_counter()
            self.loop.call_soon(self.release)
        return turn

    def release(self) -> None:
        """Let go this turn's share of the waiting; they run in the next turn, before this
        runs again and sees how long that turn took."""
        now = time.perf_counter()
        assert self.released is not None
        if now - self.released > TURN_BUDGET_S:
            self.let_go = max(1, self.let_go // 2)
        else:
            self.let_go = min(LET_GO_MAX, self.let_go + 1 + self.let_go // 2)
        n = self.let_go
        while n and self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():  # else its task was cancelled meanwhile
                turn.set_result(None)
                n -= 1
        if self.waiting:
            self.released = now
            self.loop.call_soon(self.release)
        else:
            self.released = None


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = weakref.WeakKeyDictionary()


async def share_turn() -> None:
    """Wait, if need be, so that the chunk of work the caller does next does not keep the event
    loop from everything else: hundreds of accounts' pages answered together would otherwise
    all be parsed in one turn of the loop (seconds, with 300 accounts) while a key press and
    the next frame wait. The chunks of one turn go ahead until they have taken TURN_BUDGET_S;
    the others then wait for later turns (_Turns), after the input and the timers that came
    meanwhile."""
    loop = asyncio.get_running_loop()
    turns = _turns.get(loop)
    if turns is None:
        turns = _turns[loop] = _Turns(loop)
    if not turns.admit():
        await turns.wait()
