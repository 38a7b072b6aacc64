"""The simulator: one ASGI app serving all five APIs (their paths do not collide).

In-process through `httpx.ASGITransport` for `--demo` and the tests; on a socket for
`calltui simulate`. Latency and faults are injected here, around every provider's handlers.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime

from calltui.sim.asgi import (
    Faults,
    Receive,
    Request,
    Response,
    Route,
    Scope,
    Send,
    parse_faults,
    read_request,
    send_response,
)
from calltui.sim.world import PROVIDERS, World


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the simulator received it (tests read these)."""

    provider: str | None
    method: str
    path: str
    query: tuple[tuple[str, str], ...]


class SimApp:
    def __init__(
        self,
        seed: int = 1,
        now: datetime | None = None,
        latency_ms: float = 0.0,
        faults: str | None = None,
        enforce_rate_limits: bool = True,
    ) -> None:
        self.world = World(seed, now)
        self.latency_s = latency_ms / 1000
        self.faults = Faults(parse_faults(faults), seed)
        self.hostile = self.faults.hostile()
        self.enforce_rate_limits = enforce_rate_limits
        self.seen: list[Seen] = []
        self._windows: dict[str, deque[float]] = defaultdict(deque)
        self.routes: list[Route] = []
        for name in PROVIDERS:
            module = importlib.import_module(f"calltui.sim.{name}")
            self.routes.extend(module.routes(self))

    def over_limit(self, key: str, requests: int, per_s: float) -> float | None:
        """Count a request against `requests` per `per_s` window for `key`; if over, the seconds
        until the window frees a place."""
        if not self.enforce_rate_limits:
            return None
        now = time.monotonic()
        window = self._windows[key]
        while window and now - window[0] >= per_s:
            window.popleft()
        if len(window) >= requests:
            return per_s - (now - window[0])
        window.append(now)
        return None

    def dispatch(self, req: Request) -> tuple[str | None, Response]:
        for r in self.routes:
            m = r.pattern.match(req.path)
            if m:
                if req.method != "GET":
                    return r.provider, Response.text("Method Not Allowed", 405)
                return r.provider, r.handler(req, **m.groupdict())
        return None, Response.text("Not Found", 404)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        req = read_request(scope)
        provider, resp = self.dispatch(req)
        self.seen.append(Seen(provider, req.method, req.path, tuple(req.query)))
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if provider is not None and resp.status < 400:
            kind = self.faults.pick(provider)
            if kind is not None:
                faulty = Faults.apply(kind, resp, provider)
                if faulty is None:
                    await asyncio.sleep(3600)
                    return
                resp = faulty
        await send_response(send, resp)
