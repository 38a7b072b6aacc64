"""A small first page: what the TUI asks of every provider so that its first screen of rows does
not wait for a page of 1000 (Provider.pages(query, first)). The listing is the same calls in the
same order as with full pages; only the first few requests are smaller."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice
from typing import Any

import pytest

from calltui.model import CallQuery
from calltui.providers.base import Provider, page_sizes
from calltui.sim.app import SimApp
from tests.conftest import FIXED_NOW, OpenDemo

# Per provider: the list path's tail and the request's (page number, page size) parameters.
PAGED_BY_NUMBER = {
    "demo-bandwidth": ("/calls", "page", "size"),
    "demo-tmedia": ("/call_trace", "page", "nb_result"),
    "demo-jambonz": ("/RecentCalls", "page", "count"),
    "demo-restcomm": ("/Calls.json", "Page", "PageSize"),
}


def test_sizes_halve_to_the_first_page_then_double_back() -> None:
    assert list(islice(page_sizes(1000, 100), 7)) == [125, 125, 250, 500, 1000, 1000, 1000]
    assert list(islice(page_sizes(500, 100), 5)) == [125, 125, 250, 500, 500]
    assert list(islice(page_sizes(400, 100), 5)) == [100, 100, 200, 400, 400]


@pytest.mark.parametrize(("size", "first"), [(1000, None), (20, 100), (100, 100), (999, 10)])
def test_sizes_stay_whole_when_no_smaller_page_is_wanted_or_possible(
    size: int, first: int | None
) -> None:
    assert list(islice(page_sizes(size, first), 4)) == [size] * 4


@pytest.mark.parametrize(("size", "first"), [(1000, 100), (500, 100), (960, 50), (1000, 1)])
def test_every_page_starts_at_a_multiple_of_its_own_size(size: int, first: int) -> None:
    offset = 0
    for n in islice(page_sizes(size, first), 12):
        assert offset % n == 0
        offset += n


def _requests(app: SimApp, tail: str, page: str, size: str) -> list[tuple[int, int]]:
    queries = [dict(s.query) for s in app.seen if s.path.endswith(tail)]
    return [(int(q[page]), int(q[size])) for q in queries if page in q]


async def _listing(p: Provider[Any], query: CallQuery, first: int | None) -> list[str]:
    return [c.id async for page in p.pages(query, first) for c in page.records]


@pytest.mark.parametrize("account", sorted(PAGED_BY_NUMBER))
async def test_a_small_first_page_lists_the_same_calls(open_demo: OpenDemo, account: str) -> None:
    tail, page, size = PAGED_BY_NUMBER[account]
    query = CallQuery(since=FIXED_NOW - timedelta(hours=36))
    whole_app = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    ramp_app = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    whole = await open_demo(account, app=whole_app, rate_limit=1000, page_size=400)
    ramp = await open_demo(account, app=ramp_app, rate_limit=1000, page_size=400)
    expected = await _listing(whole, query, None)
    got = await _listing(ramp, query, 100)
    assert len(expected) > 1000  # past the ramp: pages of 400 in the end
    assert got == expected
    sent = _requests(ramp_app, tail, page, size)
    assert [n for _, n in sent[:5]] == [100, 100, 200, 400, 400]
    # Pages numbered from 0 (Bandwidth, Restcomm) or 1 (Tmedia, jambonz): 0-99, 100-199,
    # 200-399, 400-799, 800-1199.
    base = sent[0][0]
    assert [p - base for p, _ in sent[:5]] == [0, 1, 1, 1, 2]
    assert [n for _, n in _requests(whole_app, tail, page, size)][:3] == [400, 400, 400]
