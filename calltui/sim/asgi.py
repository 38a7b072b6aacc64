"""A small ASGI layer for the simulator: requests, responses, routing, auth helpers, faults.

Our own code rather than a web framework: the simulator needs exact control over status lines,
headers and byte-level bodies (truncated JSON, HTML error pages, bodies that drip), and nothing
else a framework offers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]

    @property
    def params(self) -> dict[str, str]:
        """The first value of each query parameter (as the real servers read them)."""
        out: dict[str, str] = {}
        for k, v in self.query:
            out.setdefault(k, v)
        return out

    def basic_auth(self) -> tuple[str, str] | None:
        h = self.headers.get("authorization", "")
        if not h.lower().startswith("basic "):
            return None
        try:
            user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, pw

    def bearer(self) -> str | None:
        h = self.headers.get("authorization", "")
        return h[7:].strip() if h.lower().startswith("bearer ") else None


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drip_s: float = 0.0
    """Send the body in small chunks this many seconds apart (the `slow` fault)."""

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()
    ) -> Response:
        body = json.dumps(data, separators=(",", ":")).encode()
        return cls(status, body, [("content-type", "application/json"), *headers])

    @classmethod
    def text(cls, text: str, status: int, ctype: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode(), [("content-type", ctype)])

    @classmethod
    def empty(cls, status: int) -> Response:
        return cls(status, b"", [])


Handler = Callable[..., Response]


@dataclass(slots=True)
class Route:
    pattern: re.Pattern[str]
    handler: Handler
    provider: str


def route(provider: str, regex: str, handler: Handler) -> Route:
    return Route(re.compile(regex + r"\Z"), handler, provider)


HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>The proxy server received an invalid response.</p>"
    "</body></html>"
)

FAULT_KINDS = (
    "timeout",
    "slow",
    "401",
    "403",
    "404",
    "429",
    "500",
    "502",
    "html",
    "malformed",
    "truncated",
    "empty",
    "hostile",
)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    provider: str | None = None
    rate: float = 1.0


def parse_faults(spec: str | None) -> tuple[Fault, ...]:
    """`KIND[@PROVIDER][=RATE],...`, e.g. `429@plivo=0.3,html=0.05,hostile`."""
    if not spec:
        return ()
    out = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        head, _, rate = part.partition("=")
        kind, _, provider = head.partition("@")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        try:
            r = float(rate) if rate else 1.0
        except ValueError:
            raise ValueError(f"fault {kind!r}: rate {rate!r} is not a number") from None
        if not 0 <= r <= 1:
            raise ValueError(f"fault {kind!r}: rate must be between 0 and 1")
        out.append(Fault(kind, provider or None, r))
    return tuple(out)


class Faults:
    def __init__(self, faults: tuple[Fault, ...], seed: int) -> None:
        self.faults = faults
        self._rng = random.Random(f"faults/{seed}")

    def pick(self, provider: str) -> str | None:
        for f in self.faults:
            if f.kind == "hostile" or (f.provider and f.provider != provider):
                continue
            if self._rng.random() < f.rate:
                return f.kind
        return None

    def hostile(self) -> bool:
        return any(f.kind == "hostile" for f in self.faults)

    @staticmethod
    def apply(kind: str, resp: Response, provider: str) -> Response | None:
        """The faulty answer for `kind`, or None for 'timeout' (the caller never answers)."""
        if kind == "timeout":
            return None
        if kind == "slow":
            return Response(resp.status, resp.body, resp.headers, drip_s=0.5)
        if kind in ("401", "403", "404", "500"):
            return Response.json({"message": f"simulated {kind}"}, status=int(kind))
        if kind == "429":
            return Response.json({"message": "simulated rate limit"}, 429, [("retry-after", "1")])
        if kind in ("502", "html"):
            return Response.text(HTML_ERROR, 502, "text/html")
        if kind == "malformed":
            return Response(200, b'{"objects": [ {"call_uuid": ', resp.headers)
        if kind == "truncated":
            return Response(200, resp.body[: max(1, len(resp.body) // 2)], resp.headers)
        if kind == "empty":
            return Response(200, b"", resp.headers)
        return resp


async def send_response(send: Send, resp: Response) -> None:
    headers = [(k.encode(), v.encode()) for k, v in resp.headers]
    headers.append((b"content-length", str(len(resp.body)).encode()))
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    if resp.drip_s <= 0:
        await send({"type": "http.response.body", "body": resp.body})
        return
    step = max(1, len(resp.body) // 20)
    for i in range(0, len(resp.body), step):
        await send(
            {"type": "http.response.body", "body": resp.body[i : i + step], "more_body": True}
        )
        await asyncio.sleep(resp.drip_s)
    await send({"type": "http.response.body", "body": b""})


def read_request(scope: Scope) -> Request:
    raw_qs = scope.get("query_string", b"").decode("latin-1")
    return Request(
        method=scope["method"],
        path=scope["path"],
        query=parse_qsl(raw_qs, keep_blank_values=True),
        headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
    )
