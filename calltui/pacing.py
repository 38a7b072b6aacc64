"""How an account's requests are paced: at most so many in any window (the provider's documented
limit, or the account's `rate_limit`), and a bounded number of attempts with backoff. Used by
calltui.http, which re-exports these names."""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `requests` requests in any window of `per_s` seconds."""

    requests: int
    per_s: float

    @classmethod
    def per_second(cls, rate: float) -> RateLimit:
        return cls(max(1, round(rate)), 1.0) if rate >= 1 else cls(1, 1.0 / rate)


class RateLimiter:
    """A sliding-window limiter: a token bucket would let a full burst through at the window's
    edge and break limits stated as 'N per window' (Plivo's 300 per 5 s).

    The server counts requests when they arrive, and we only know when we let one go: a request
    that opens a connection (TCP, TLS) arrives later after its slot than one that reuses it, so
    the next request, sent exactly a window later, can land inside the server's window. Each
    window is therefore held `GUARD_S` longer (at most 5% of it), which costs a 1 request/s
    listing 5% of its pace where a 429 would cost it a whole reset period."""

    GUARD_S = 0.05

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._blocked_until = 0.0
        self._window = limit.per_s + min(self.GUARD_S, limit.per_s / 20)

    def block_until(self, t: float) -> None:
        """The server said to wait (429): nobody on this account sends before `t`."""
        self._blocked_until = max(self._blocked_until, t)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._blocked_until:
                    await asyncio.sleep(self._blocked_until - now)
                    continue
                while self._sent and now - self._sent[0] >= self._window:
                    self._sent.popleft()
                if len(self._sent) < self.limit.requests:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._window - (now - self._sent[0]))


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
