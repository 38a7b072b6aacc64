"""How an account's requests are paced: at most so many in any window (the provider's documented
limit, or the account's `rate_limit`), and a bounded number of attempts with backoff. Used by
calltui.http, which re-exports these names. And how late the event loop itself runs
(`lag_probe`, with CALLTUI_LAG_LOG set), which is what a key press waits for."""

from __future__ import annotations

import asyncio
import os
import random
import time
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


TURN_BUDGET_S = 0.008
"""How long the chunks of work let through by `share_turn` may run in one turn of the loop. The
same turn also runs what cannot wait its turn (the sockets' callbacks of every exchange under
way, a frame, the messages): with 300 accounts loading, a budget of 20 ms left turns of 100 to
250 ms; with 8 ms, about half that, and the first rows came no later."""


class _Turn:
    """When the current turn's chunks began (None: none yet), on which loop."""

    loop: asyncio.AbstractEventLoop | None = None
    began: float | None = None

    def end(self) -> None:
        self.began = None


_turn = _Turn()


async def share_turn() -> None:
    """Wait, if need be, so that the chunk of work the caller does next does not keep the event
    loop from everything else: hundreds of accounts' pages answered together would otherwise
    all be parsed in one turn of the loop (seconds, with 300 accounts) while a key press and
    the next frame wait. The chunks of one turn go ahead until they have taken TURN_BUDGET_S;
    the others then wait for the next turn, after the input and the timers that came
    meanwhile."""
    loop = asyncio.get_running_loop()
    while True:
        now = time.perf_counter()
        if _turn.loop is not loop or _turn.began is None:
            _turn.loop, _turn.began = loop, now
            loop.call_soon(_turn.end)  # runs first in the next turn: the budget starts anew
            return
        if now - _turn.began < TURN_BUDGET_S:
            return
        await asyncio.sleep(0)
