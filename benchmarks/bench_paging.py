"""Paging over the network: Plivo's pages in flight together, Bandwidth's 1 request/s kept.

The simulator serves on a real loopback socket (calltui.sim.server) from a thread with its own
event loop, so requests go through TCP and the server's latency (an asyncio sleep per response,
which lets concurrent requests overlap) is real waiting. Each run gets a fresh SimApp, so no
server rate-limit window carries over from one run to the next. The client is the production
path of `calltui calls --all`: Engine.collect over the account's adapter.

Plivo: one range of P pages of 20, listed with max_concurrency 1 (sequential) and with the
default. Extra wall time = the run at 60 ms latency minus the same run at 0 ms (what the work
itself costs), so the ratio compares only what waiting on the network costs.

Lower bound of the concurrent extra time, with latency L, concurrency c and a sliding window of
R requests per W seconds:
- the first page must come back before the rest are asked for (it holds meta.total_count), and
  the other P-1 go at most c at a time: L * (1 + ceil((P-1)/c));
- at most R requests start in any W seconds, and the last must still come back:
  L + floor((P-1)/R) * W.
The bound is the larger of the two, against P * L for sequential paging. Sustained over a long
listing the rate alone allows R/W requests a second (60 for Plivo, under c/L = 66 at 60 ms), but
Plivo's window admits a burst of 300, so for fewer pages the concurrency term decides. The bound
counts waiting only: a concurrent run can come in a little under it, because the work it does
anyway (parsing a page, the server rendering the next) overlaps the waiting there, while the
zero-latency run it is measured against does that work on its own.

Bandwidth: `--all` over a range of several pages at its documented 1 request/s; the simulator
answers 429 (with X-RateLimit-Reset) to any request inside its window, and the goal counts them.
"""

from __future__ import annotations

import asyncio
import math
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks.common import FIXED_NOW, finish, report
from calltui.config import parse_settings
from calltui.engine import Engine
from calltui.model import CallQuery
from calltui.providers.bandwidth import Bandwidth
from calltui.providers.plivo import Plivo
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_accounts
from calltui.sim.recorder import Recorder
from calltui.sim.server import serve

LATENCY_MS = 60.0
PLIVO_RANGE = timedelta(hours=8)  # about 50 pages of 20 in the simulator's afternoon
BANDWIDTH_RANGE = timedelta(hours=4)
BANDWIDTH_PAGE = 50  # 4 or 5 pages: a few seconds at 1 request/s
ZERO_RUNS, LATENCY_RUNS = 3, 2


class SimServer:
    """The simulator on 127.0.0.1 in a thread of its own; `use()` swaps in a fresh app."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.tap = Recorder(SimApp(now=FIXED_NOW))
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def use(self, app: SimApp) -> Recorder:
        self.tap = Recorder(app)
        return self.tap

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        await self.tap(scope, receive, send)

    def _run(self) -> None:
        async def main() -> None:
            ready = asyncio.Event()
            server = asyncio.ensure_future(serve(self._app, "127.0.0.1", self.port, ready))
            await ready.wait()
            self._ready.set()
            await server

        self._main = self._loop.create_task(main())
        with suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._main)
        self._loop.close()

    @contextmanager
    def running(self) -> Iterator[SimServer]:
        self._thread.start()
        self._ready.wait()
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(self._main.cancel)
            self._thread.join(5)


@dataclass
class Run:
    seconds: float
    records: int
    pages: int
    max_in_flight: int
    statuses: list[int]
    arrivals: list[float]


async def listing(
    server: SimServer, account: str, window: timedelta, latency_ms: float, **overrides: Any
) -> Run:
    """`calltui calls --account ACCOUNT --all` over `window`, against a fresh simulator."""
    tap = server.use(SimApp(now=FIXED_NOW, latency_ms=latency_ms))
    raw = {**demo_accounts(server.base)[account], **overrides}
    settings = parse_settings({"accounts": {account: raw}}, Path("<bench>"))
    engine = Engine(settings)
    query = CallQuery(since=FIXED_NOW - window, until=FIXED_NOW)
    t0 = time.perf_counter()
    try:
        records = await engine.collect([account], query, None)
    finally:
        seconds = time.perf_counter() - t0
        await engine.aclose()
    errors = engine.errors()
    if errors:
        raise SystemExit(f"bench_paging: {errors[0]}")
    lists = [(t, status) for t, path, status in tap.log if _is_list(path)]
    return Run(
        seconds,
        len(records),
        len(lists),
        tap.max_in_flight,
        [s for _, s in lists],
        sorted(t for t, _ in lists),
    )


def _is_list(path: str) -> bool:
    return path.endswith(("/Zentrunk/Call/", "/calls"))


async def best(runs: int, *args: Any, **kwargs: Any) -> Run:
    done = [await listing(*args, **kwargs) for _ in range(runs)]
    return min(done, key=lambda r: r.seconds)


def lower_bound(pages: int, latency: float, concurrency: int, requests: int, per_s: float) -> float:
    """The least extra wall time concurrent paging can take (see the module docstring)."""
    rest = pages - 1
    by_concurrency = latency * (1 + math.ceil(rest / concurrency))
    by_rate = latency + (rest // requests) * per_s
    return max(by_concurrency, by_rate)


async def plivo(server: SimServer) -> None:
    account = "demo-plivo"
    default_c = (
        parse_settings(
            {"accounts": {account: demo_accounts(server.base)[account]}}, Path("<bench>")
        )
        .accounts[account]
        .max_concurrency
    )
    await listing(server, account, PLIVO_RANGE, 0)  # warm-up: imports, the simulator's hours
    runs: dict[int, tuple[Run, Run]] = {}
    for c in (1, default_c):
        zero = await best(ZERO_RUNS, server, account, PLIVO_RANGE, 0, max_concurrency=c)
        slow = await best(LATENCY_RUNS, server, account, PLIVO_RANGE, LATENCY_MS, max_concurrency=c)
        runs[c] = zero, slow
    (seq0, seq), (con0, con) = runs[1], runs[default_c]
    pages, latency = con.pages, LATENCY_MS / 1000
    if len({seq.records, con.records, seq0.records, con0.records}) != 1 or seq.pages != pages:
        raise SystemExit("bench_paging: the runs listed different calls")
    extra_seq, extra_con = seq.seconds - seq0.seconds, con.seconds - con0.seconds
    rate = Plivo.DEFAULT_RATE
    bound = lower_bound(pages, latency, default_c, rate.requests, rate.per_s)
    print(
        f"# Plivo: {pages} pages of 20 ({con.records} calls), {LATENCY_MS:g} ms latency, "
        f"rate {rate.requests}/{rate.per_s:g} s, loopback socket",
        flush=True,
    )
    for label, zero, slow in (("sequential", seq0, seq), ("concurrent", con0, con)):
        print(
            f"#   {label}: max {slow.max_in_flight} in flight, {slow.seconds:.3f} s "
            f"({zero.seconds:.3f} s at 0 ms): extra {slow.seconds - zero.seconds:.3f} s",
            flush=True,
        )
    sustained = min(default_c / latency, rate.requests / rate.per_s)
    print(
        f"#   bound: max(L*(1+ceil((P-1)/c)), L+floor((P-1)/R)*W) = {bound:.3f} s "
        f"against P*L = {pages * latency:.3f} s; sustained past R pages: {sustained:.1f} pages/s",
        flush=True,
    )
    ratio, bound_ratio = extra_con / extra_seq, bound / (pages * latency)
    report(
        f"paging: Plivo extra wall time, max_concurrency {default_c} / 1",
        ratio,
        0.4,
        detail=f"bound {bound_ratio:.3f}x; this run's extra is {extra_con / bound:.2f}x the bound",
    )


async def bandwidth(server: SimServer) -> None:
    run = await listing(
        server, "demo-bandwidth", BANDWIDTH_RANGE, LATENCY_MS, page_size=BANDWIDTH_PAGE
    )
    rejected = run.statuses.count(429)
    gaps = [b - a for a, b in pairwise(run.arrivals)]
    rate = Bandwidth.DEFAULT_RATE
    print(
        f"# Bandwidth: {run.pages} requests for {run.records} calls in {run.seconds:.2f} s at "
        f"{rate.requests}/{rate.per_s:g} s; closest arrivals {min(gaps, default=0):.3f} s apart",
        flush=True,
    )
    report(
        "paging: Bandwidth --all, 429s from the simulator",
        rejected,
        1,
        "",
        detail=f"over {run.pages} requests (ideal 0)",
    )


async def main() -> None:
    with SimServer().running() as server:
        await plivo(server)
        await bandwidth(server)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(finish())
