"""A small ASGI layer for the simulator: requests, responses, routing, auth helpers, faults
(FAULT_KINDS says what each `--faults` kind does; each provider module's `error_answer` gives
the error bodies).

Our own code rather than a web framework: the simulator needs exact control over status lines,
headers and byte-level bodies (truncated JSON, HTML error pages, bodies that drip), and nothing
else a framework offers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field, replace
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
    chunk: int = 0
    """Send the body in parts of this many bytes (0: at once)."""
    drip_s: float = 0.0
    """Seconds between the parts (the `slow` and `drip` faults)."""

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


HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
"""What the reverse proxy in front of an API sends when the API behind it is down (nginx's
built-in page; jambonz deployments and most appliances sit behind one)."""

ErrorAnswer = Callable[[Request, int, float | None], Response]
"""A provider's own answer for an error status: (request, status, seconds a 429 asks to wait,
or None for a 429 that says nothing about when to retry)."""

RATE_LIMIT_WAIT_S = 1.0
HUGE_BYTES = 20 * 1024 * 1024
BIG_SPANS = 20_000
BIG_STEPS = 5_000
"""The size of a drill-down under `--faults bigdetail`: spans of a jambonz trace, and
call_traces steps of each Tmedia leg."""
DRIP_BYTES, DRIP_S = 16, 0.2

FAULT_KINDS: dict[str, str] = {
    "timeout": "never answers: the client's timeout must fire",
    "slow": "the body in 20 parts 0.5 s apart (about 10 s in all)",
    "drip": f"the body {DRIP_BYTES} bytes every {DRIP_S:g} s: each read is quick, the whole body "
    "takes longer than any timeout",
    "401": "the provider's own answer to bad credentials (body, content type, headers)",
    "403": "the provider's own answer to a forbidden resource",
    "404": "the provider's own answer to an unknown resource",
    "429": f"the provider's rate-limit answer with its reset header ({RATE_LIMIT_WAIT_S:g} s)",
    "429noreset": "the provider's rate-limit answer without any header saying when to retry",
    "500": "the provider's own internal-error answer (JSON where the provider sends JSON)",
    "502": "a reverse proxy's HTML 502 page",
    "html": "the same as 502",
    "malformed": "200 with JSON cut inside a token",
    "truncated": "200 with the real body cut in half",
    "empty": "200 with no body at all",
    "wrongtypes": "200 with well-formed JSON of the wrong types: objects become lists, lists "
    "objects, strings numbers and numbers strings",
    "huge": f"200 with the real body padded with JSON whitespace to {HUGE_BYTES // 2**20} MB "
    "(still valid JSON), sent in 64 KB parts",
    "hostile": "every call carries the hostile corpus (calltui.sim.hostile) in its numbers, SIP "
    "reason and Call-ID: a mode of the data, for every provider and every answer",
    "bigdetail": "not a fault of answers but a mode of the data: a call's drill-down is huge, a "
    f"jambonz trace of {BIG_SPANS:,} spans, a Tmedia leg asked by id of {BIG_STEPS:,} "
    "call_traces steps (listings stay as they are); `=RATE` is the share of calls, picked by "
    "the call's own key so that a call is big on every request",
    "echo": "200 whose call records carry what the request's Authorization header holds (the "
    "header, its credentials decoded, each secret alone and in base64) in their number fields "
    "and in added echo_* fields, as a server that copies its input into its records",
}
"""Every fault `--faults` knows, and what it does to an answer the simulator would have sent
with a status below 400 (errors the provider itself sends are left alone). wrongtypes and huge
change JSON bodies only: a pcap or an XML answer goes out as it was."""
DATA_MODES = ("hostile", "bigdetail")
"""Kinds that change the data served, not an answer: `pick` never draws them."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    provider: str | None = None
    rate: float = 1.0


def parse_faults(spec: str | None) -> tuple[Fault, ...]:
    """`KIND[@PROVIDER][=RATE],...`, e.g. `429@plivo=0.3,html=0.05,hostile`: each answer of
    that provider (of any without `@`) gets the fault with that probability (1 without `=`);
    the first fault drawn wins. The kinds are FAULT_KINDS."""
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

    def hostile(self) -> bool:
        """Whether the world is in hostile mode (calltui.sim.world): not a fault of answers."""
        return any(f.kind == "hostile" for f in self.faults)

    def big(self, provider: str, key: str) -> bool:
        """Whether the call of `key` has a huge drill-down (`bigdetail`): decided by the key
        alone, so the same call is big on every request and in every process."""
        draw = int(hashlib.blake2b(f"bigdetail/{key}".encode(), digest_size=4).hexdigest(), 16)
        return any(
            f.kind == "bigdetail" and f.provider in (None, provider) and draw < f.rate * 2**32
            for f in self.faults
        )

    def pick(self, provider: str) -> str | None:
        for f in self.faults:
            if f.kind in DATA_MODES or (f.provider and f.provider != provider):
                continue
            if self._rng.random() < f.rate:
                return f.kind
        return None

    @staticmethod
    def apply(kind: str, resp: Response, req: Request, error: ErrorAnswer) -> Response | None:
        """The faulty answer for `kind` in place of `resp`, or None for 'timeout' (the caller
        never answers). `error` is the provider's own error answer."""
        if kind == "timeout":
            return None
        if kind == "slow":
            return replace(resp, drip_s=0.5, chunk=max(1, len(resp.body) // 20))
        if kind == "drip":
            return replace(resp, drip_s=DRIP_S, chunk=DRIP_BYTES)
        if kind in ("401", "403", "404", "500"):
            return error(req, int(kind), None)
        if kind in ("429", "429noreset"):
            return error(req, 429, RATE_LIMIT_WAIT_S if kind == "429" else None)
        if kind in ("502", "html"):
            return Response.text(HTML_502, 502, "text/html")
        if kind == "malformed":
            return replace(resp, body=b'{"objects": [ {"call_uuid": ')
        if kind == "truncated":
            return replace(resp, body=resp.body[: max(1, len(resp.body) // 2)])
        if kind == "empty":
            return replace(resp, body=b"")
        data = _json_of(resp)
        if data is _NOT_JSON:
            return resp
        if kind == "wrongtypes":
            return replace(resp, body=json.dumps(_wrong_types(data)).encode())
        if kind == "echo":
            return replace(resp, body=json.dumps(_echoed(data, _echoes(req))).encode())
        if kind == "huge":
            # Whitespace after the opening bracket: a parser must read all of it to get anywhere.
            pad = b" " * max(0, HUGE_BYTES - len(resp.body))
            return replace(resp, body=resp.body[:1] + pad + resp.body[1:], chunk=64 * 1024)
        return resp


_NOT_JSON = object()


def _json_of(resp: Response) -> Any:
    ctype = dict(resp.headers).get("content-type", "")
    if "json" not in ctype:
        return _NOT_JSON
    try:
        return json.loads(resp.body)
    except ValueError:
        return _NOT_JSON


ECHO_FIELDS = {
    "from": "echo_authorization",
    "calling": "echo_authorization",
    "from_number": "echo_authorization",
    "to": "echo_secret",
    "called": "echo_secret",
    "to_number": "echo_secret",
}
"""The number fields of the five providers' records, and the echo each is replaced with."""


def _echoes(req: Request) -> dict[str, str]:
    header = req.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    out = {"echo_authorization": header, "echo_credentials": value, "echo_secret": value}
    basic = req.basic_auth() if scheme.lower() == "basic" else None
    if basic is not None:
        user, out["echo_secret"] = basic
        out |= {"echo_decoded": f"{user}:{basic[1]}", "echo_user": user}
    for key in ("echo_secret", "echo_user"):
        if key in out:
            out[key + "_base64"] = base64.b64encode(out[key].encode()).decode()
    return out


def _echoed(v: Any, echoes: dict[str, str]) -> Any:
    if isinstance(v, list):
        return [_echoed(x, echoes) for x in v]
    if not isinstance(v, dict):
        return v
    out = {k: _echoed(x, echoes) for k, x in v.items()}
    fields = [k for k in out if k in ECHO_FIELDS]
    for k in fields:
        out[k] = echoes[ECHO_FIELDS[k]]
    return out | echoes if fields else out


def _wrong_types(v: Any) -> Any:
    if isinstance(v, dict):
        return [_wrong_types(x) for x in v.values()]
    if isinstance(v, list):
        return {str(i): _wrong_types(x) for i, x in enumerate(v)}
    if isinstance(v, str):
        return len(v)
    if v is None:
        return {}
    return str(v)


async def send_response(send: Send, resp: Response) -> None:
    headers = [(k.encode(), v.encode()) for k, v in resp.headers]
    headers.append((b"content-length", str(len(resp.body)).encode()))
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    if resp.chunk <= 0:
        await send({"type": "http.response.body", "body": resp.body})
        return
    for i in range(0, len(resp.body), resp.chunk):
        part = resp.body[i : i + resp.chunk]
        await send({"type": "http.response.body", "body": part, "more_body": True})
        if resp.drip_s:
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
