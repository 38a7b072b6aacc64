"""Parsing list pages: the adapter's whole parse against `json.loads` of the same bytes.

The bodies are real-shaped pages fetched from the simulator (in-process) by each adapter's own
first request at its largest page: Tmedia nb_result=1000 (recursive=yes, legs with their call
flows), jambonz count=500, and, for information, Bandwidth size=1000, Restcomm PageSize=1000 and
Plivo limit=20. The parse is what production does with a body: HttpClient.parse_json (the JSON
decode and its checks) and the adapter's parse_list (bytes → list[Call]). Both sides are timed
as the best of many runs, taken in turn, so the ratio is the adapter's cost in units of a JSON
decode on the same machine at the same moment.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import FIXED_NOW, finish, report
from calltui.config import parse_settings
from calltui.model import CallQuery
from calltui.providers.base import Provider, open_provider
from calltui.sim.app import SimApp
from calltui.sim.demo import SIM_HOST, demo_accounts

GOAL = 5.0
# account, the page it asks for, whether the goal applies (the others are shown for information)
CASES = (
    ("demo-tmedia", 1000, True),
    ("demo-jambonz", 500, True),
    ("demo-bandwidth", 1000, False),
    ("demo-restcomm", 1000, False),
    ("demo-plivo", 20, False),
)
WINDOW = timedelta(days=3)  # enough calls for a full page everywhere
BUDGET_S, MIN_PAIRS = 1.5, 10


@dataclass
class Body:
    """The first list response an adapter received."""

    url: str
    content: bytes
    headers: list[tuple[bytes, bytes]]


class FirstBody:
    """ASGI wrapper keeping the body of the first successful response."""

    def __init__(self, app: SimApp) -> None:
        self.app = app
        self.body: Body | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        chunks: list[bytes] = []
        headers: list[tuple[bytes, bytes]] = []
        status = 0

        async def keep(message: Any) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        if self.body is None and status == 200 and scope["type"] == "http":
            url = SIM_HOST + scope["path"] + "?" + scope["query_string"].decode()
            self.body = Body(url, b"".join(chunks), headers)


async def first_page(name: str, size: int) -> tuple[Provider[Any], Body]:
    tap = FirstBody(SimApp(now=FIXED_NOW, enforce_rate_limits=False))
    raw = {**demo_accounts(SIM_HOST)[name], "page_size": size}
    account = parse_settings({"accounts": {name: raw}}, Path("<bench>")).accounts[name]
    provider = open_provider(account, transport=httpx.ASGITransport(app=tap))
    pages = provider.pages(CallQuery(since=FIXED_NOW - WINDOW, until=FIXED_NOW))
    try:
        page = await pages.__anext__()
    finally:
        await pages.aclose()  # type: ignore[attr-defined]
    if tap.body is None or len(page.records) != size:
        raise SystemExit(f"bench_parse: {name} did not fill a page of {size}")
    return provider, tap.body


def best_of_pairs(a: Callable[[], object], b: Callable[[], object]) -> tuple[float, float]:
    """The best single-call time of `a` and of `b`, run in turn for BUDGET_S (at least MIN_PAIRS
    times) so that both meet the same machine; the best run is the one a busy machine (other
    processes, a collection of older garbage) disturbed least."""
    best_a = best_b = float("inf")
    pairs, deadline = 0, time.perf_counter() + BUDGET_S
    while pairs < MIN_PAIRS or time.perf_counter() < deadline:
        t0 = time.perf_counter()
        a()
        t1 = time.perf_counter()
        b()
        t2 = time.perf_counter()
        best_a, best_b = min(best_a, t1 - t0), min(best_b, t2 - t1)
        pairs += 1
    return best_a, best_b


async def main() -> None:
    for name, size, goal in CASES:
        provider, body = await first_page(name, size)
        response = httpx.Response(
            200,
            headers=body.headers,
            content=body.content,
            request=httpx.Request("GET", body.url),
        )

        def full(p: Provider[Any] = provider, r: httpx.Response = response) -> object:
            return p.parse_list(p.http.parse_json(r))

        records = full()
        assert isinstance(records, list) and len(records) == size
        decode, parse = best_of_pairs(lambda b=body.content: json.loads(b), full)
        await provider.aclose()
        label = f"parse: {name.removeprefix('demo-')} page of {size}, adapter / json.loads"
        detail = (
            f"{len(body.content) / 1024:.0f} KiB: {parse * 1000:.2f} ms against "
            f"{decode * 1000:.2f} ms"
        )
        if goal:
            report(label, parse / decode, GOAL, detail=detail)
        else:
            print(f"# {label}: {parse / decode:.2f}x ({detail})", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(finish())
