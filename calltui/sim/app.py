"""The simulator: one ASGI app serving all five APIs (their paths do not collide).

In-process through `httpx.ASGITransport` for `--demo` and the tests; on a socket for
`calltui simulate` (calltui.sim.server, plain or TLS). Latency and faults are injected here,
around every provider's handlers: `faults` is a spec `KIND[@PROVIDER][=RATE],...` (for example
`429@plivo=0.3,html=0.05,timeout@tmedia=0.01`) over the kinds of calltui.sim.asgi.FAULT_KINDS:

- timeout: never answers; slow: the body in 20 parts 0.5 s apart; drip: the body 16 bytes every
  0.2 s, so that each read is quick and the whole takes longer than any timeout;
- 401, 403, 404, 500: that provider's own error answer, as its server or docs give it (Plivo
  `{"api_id", "error"}`, Bandwidth `{category, code, message, details}`, Restcomm's empty
  bodies and negotiated JSON/XML, jambonz's plain `Unauthorized`/`Not Found` and `{"msg"}`,
  the Tmedia portal's Rails answers);
- 429: the provider's rate-limit answer with its reset header (asking 1 s); 429noreset: the
  same without any header saying when to retry;
- 502 (or html): a reverse proxy's HTML page;
- malformed, truncated, empty, wrongtypes: a 200 whose JSON is cut inside a token, cut in half,
  absent, or well formed with every type wrong;
- huge: a 200 whose real body is padded with JSON whitespace to 20 MB;
- echo: a 200 whose call records carry the request's credentials (the Authorization header,
  decoded, each secret alone and in base64), as a server that copies its input into its data;
- hostile: not a fault of answers but a mode of the data: every call carries the hostile corpus
  (calltui.sim.hostile) in its numbers, SIP reason and Call-ID (`@PROVIDER`, `=RATE` ignored).

A connection refused is no fault of a running server: point an account at a closed port.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime

from calltui.sim.asgi import (
    ErrorAnswer,
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
        self.faults = Faults(parse_faults(faults), seed)
        self.world = World(seed, now, hostile=self.faults.hostile())
        self.latency_s = latency_ms / 1000
        self.enforce_rate_limits = enforce_rate_limits
        self.seen: list[Seen] = []
        self._windows: dict[str, deque[float]] = defaultdict(deque)
        self.routes: list[Route] = []
        self.error_answers: dict[str, ErrorAnswer] = {}
        for name in PROVIDERS:
            module = importlib.import_module(f"calltui.sim.{name}")
            self.routes.extend(module.routes(self))
            self.error_answers[name] = module.error_answer

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
                faulty = Faults.apply(kind, resp, req, self.error_answers[provider])
                if faulty is None:
                    await asyncio.sleep(3600)
                    return
                resp = faulty
        await send_response(send, resp)
