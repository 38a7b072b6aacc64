"""Paging mechanisms, against the simulator with latency: Plivo's pages go out together, never
more than max_concurrency at once nor faster than the account's rate; Bandwidth's listing stays
under its 1 request/s, on a real socket too.

The simulator sits behind a recorder that notes when each request arrives, its status and how
many requests it is serving at once. Nothing here asserts how long anything took: only how the
requests overlapped and how far apart they arrived.

Last, the fast readers of a page's times (benchmarks/bench_parse.py) read what the general
readers read.
"""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from calltui.config import parse_settings
from calltui.engine import Engine
from calltui.model import Call, CallQuery
from calltui.providers import jambonz as pj
from calltui.providers.coerce import iso_time
from calltui.providers.tmedia_box import box_datetime
from calltui.sim import plivo as simplivo
from calltui.sim.app import SimApp
from calltui.sim.demo import SIM_HOST, demo_accounts
from calltui.sim.recorder import Recorder
from calltui.sim.server import serve
from tests.conftest import FAST_RETRY, FIXED_NOW

PLIVO, BANDWIDTH = "demo-plivo", "demo-bandwidth"
PLIVO_LIST = "/Zentrunk/Call/"
BANDWIDTH_LIST = "/calls"


async def collect(
    name: str, transport: httpx.AsyncBaseTransport | None, window: timedelta, **overrides: Any
) -> list[Call]:
    """`calltui calls --account NAME --all` over `window`, with account keys overridden."""
    base = overrides.pop("base", SIM_HOST)
    raw = {**demo_accounts(base)[name], **overrides}
    settings = parse_settings({"accounts": {name: raw}}, Path("<test>"))
    engine = Engine(settings, transport=transport, retry=FAST_RETRY)
    query = CallQuery(since=FIXED_NOW - window, until=FIXED_NOW)
    try:
        calls = await engine.collect([name], query, None)
    finally:
        await engine.aclose()
    assert engine.errors() == []
    return calls


def recorded(latency_ms: float) -> Recorder:
    return Recorder(SimApp(seed=7, now=FIXED_NOW, latency_ms=latency_ms))


def plivo_rows(rec: Recorder) -> int:
    """The rows the simulator holds for the listing's filters: what its pages are cut from (by
    end time, so they are not the calls kept, which started in the window)."""
    first = next(s for s in rec.app.seen if s.path.endswith(PLIVO_LIST))
    params = {k: v for k, v in first.query if k not in simplivo.PAGING}
    return len(simplivo.select(rec.app, simplivo.parse_query(params, False, FIXED_NOW)))


def most_in_any_window(arrivals: list[float], window_s: float) -> int:
    """The most requests that arrived within any `window_s` seconds."""
    most, lo = 0, 0
    for hi, t in enumerate(arrivals):
        while t - arrivals[lo] >= window_s:
            lo += 1
        most = max(most, hi - lo + 1)
    return most


async def test_plivo_pages_are_in_flight_together_up_to_max_concurrency() -> None:
    sequential = recorded(latency_ms=50)
    one_by_one = await collect(
        PLIVO, httpx.ASGITransport(app=sequential), timedelta(hours=4), max_concurrency=1
    )
    concurrent = recorded(latency_ms=50)
    together = await collect(
        PLIVO, httpx.ASGITransport(app=concurrent), timedelta(hours=4), max_concurrency=3
    )
    pages = concurrent.lists(PLIVO_LIST)
    assert len(pages) == math.ceil(len(together) / 20) >= 10
    assert all(status == 200 for _, status in pages)
    assert sequential.max_in_flight == 1
    assert 1 < concurrent.max_in_flight <= 3
    # The same calls, in the same order: concurrency changes when pages arrive, not what is listed.
    assert [c.id for c in together] == [c.id for c in one_by_one]


async def test_concurrent_plivo_pages_keep_the_accounts_rate() -> None:
    """With a rate of 5 requests/s and 4 in flight at most, neither bound is ever passed."""
    sim = recorded(latency_ms=20)
    calls = await collect(
        PLIVO,
        httpx.ASGITransport(app=sim),
        timedelta(hours=1),
        max_concurrency=4,
        rate_limit=5,
        page_size=10,
    )
    arrivals = [t for t, _ in sim.lists(PLIVO_LIST)]
    rows = plivo_rows(sim)
    assert len(arrivals) == math.ceil(rows / 10) >= 8 and 0 < len(calls) <= rows
    assert most_in_any_window(arrivals, 1.0) == 5
    assert 1 < sim.max_in_flight <= 4


async def test_bandwidth_listing_never_trips_its_1_request_per_second() -> None:
    sim = recorded(latency_ms=20)
    await collect(BANDWIDTH, httpx.ASGITransport(app=sim), timedelta(hours=1), page_size=25)
    lists = sim.lists(BANDWIDTH_LIST)
    assert len(lists) >= 3
    assert [status for _, status in lists] == [200] * len(lists)
    assert all(b - a >= 1.0 for (a, _), (b, _) in pairwise(lists))


class SlowFirstRequest(httpx.AsyncBaseTransport):
    """Real HTTP whose first request leaves `delay_s` late, as one opening a TLS connection to a
    distant server does: it reaches the server later after its rate-limit slot than the
    requests that follow on the open connection."""

    def __init__(self, delay_s: float) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.delay_s: float | None = delay_s

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.delay_s is not None:
            delay, self.delay_s = self.delay_s, None
            await asyncio.sleep(delay)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def socket_sim() -> AsyncIterator[tuple[str, Recorder]]:
    """The recorded simulator on a real loopback socket."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sim = recorded(latency_ms=20)
    ready = asyncio.Event()
    server = asyncio.create_task(serve(sim, "127.0.0.1", port, ready))
    await ready.wait()
    yield f"http://127.0.0.1:{port}", sim
    server.cancel()
    await asyncio.gather(server, return_exceptions=True)


async def test_a_slow_first_connection_does_not_trip_bandwidths_limit(
    socket_sim: tuple[str, Recorder],
) -> None:
    """The second request leaves a window after the first one's slot, but the first reached the
    server 30 ms after it: the limiter's guard keeps the second out of the server's window."""
    base, sim = socket_sim
    transport = SlowFirstRequest(delay_s=0.03)
    await collect(BANDWIDTH, transport, timedelta(hours=1), base=base, page_size=25)
    lists = sim.lists(BANDWIDTH_LIST)
    assert len(lists) >= 3
    assert [status for _, status in lists] == [200] * len(lists)


# --- reading a page's times fast ----------------------------------------------------------------
# Each adapter reads the common time shapes through fromisoformat (bench_parse) and everything
# else through its general reader. A leading space keeps a string off the fast path, so each
# pair below compares the two readers on the same time.

_ZONE = ZoneInfo("Europe/Moscow")
# Times a record can carry: from 1972 (1970 is the "never" placeholder) to 2099 (coerce.LATEST).
_times = st.datetimes(min_value=datetime(1972, 1, 2), max_value=datetime(2099, 12, 30))
_offsets = st.one_of(
    st.none(),
    st.just("Z"),
    st.tuples(st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)),
)


def _offset(o: Any, colon: bool) -> str:
    if o is None or o == "Z":
        return o or ""
    sign, h, m = o
    return f"{sign}{h:02d}{':' if colon else ''}{m:02d}"


@given(_times, st.sampled_from("T "), st.text("0123456789", min_size=0, max_size=9), _offsets)
def test_iso_times_read_fast_as_the_general_readers_do(
    t: datetime, sep: str, fraction: str, offset: Any
) -> None:
    s = t.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + (f".{fraction}" if fraction else "")
    s += _offset(offset, colon=True)
    fast = iso_time(s, _ZONE)
    assert fast is not None
    assert fast == iso_time(" " + s, _ZONE) == pj.parse_time(" " + s, _ZONE)
    assert pj.parse_time(s, _ZONE) == fast


@given(_times, st.sampled_from("/-"), _offsets.filter(lambda o: o != "Z"))
def test_box_times_read_fast_as_strptime_does(t: datetime, sep: str, offset: Any) -> None:
    s = t.strftime(f"%Y{sep}%m{sep}%d %H:%M:%S") + (" " + _offset(offset, False) if offset else "")
    fast = box_datetime(s, _ZONE)
    assert fast is not None
    assert fast == box_datetime(" " + s, _ZONE)
