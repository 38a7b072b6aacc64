"""The compact store: every field and raw record round-trips, (account, id) dedup, views that
sort as a plain implementation over Call objects does, eviction under a cap, and evicted pages
fetched again over real HTTP from the simulator."""

from __future__ import annotations

import gc
import random
import sys
import threading
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from calltui import store_columns
from calltui.columns import COLUMNS
from calltui.engine import Engine
from calltui.model import Call, CallQuery, Outcome, PageRef
from calltui.sim.demo import demo_settings
from calltui.store import EVICTED, GONE, HELD, CallStore, Cancelled, NotHeld, Sort
from tests.conftest import FAST_RETRY, FIXED_NOW


async def sim_calls(sim, hours: int = 2) -> list[Call]:
    engine = Engine(demo_settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=hours))
    try:
        return await engine.collect(engine.account_names, query, None)
    finally:
        await engine.aclose()


def made_up(n: int, seed: int = 3, page_size: int = 10) -> list[Call]:
    """Calls with many ties and Nones, on pages of `page_size`, not in start order."""
    rnd = random.Random(seed)
    accounts = ["b-acct", "a-acct", "c-acct"]
    numbers = ["+14155550100", "14155550199", "sip:+4420", "+44207", None, ""]
    calls: list[Call] = []
    ref = None
    for i in range(n):
        account = accounts[i // page_size % len(accounts)]
        if i % page_size == 0:
            ref = PageRef(account, ("/calls", {"page": i // page_size}))
        started = FIXED_NOW - timedelta(seconds=rnd.randrange(0, 4000))
        calls.append(
            Call(
                provider="plivo",
                account=account,
                id=f"id-{i}-{rnd.choice('abcXYZ')}",
                started_at=None if i % 97 == 5 else started,
                outcome=rnd.choice(list(Outcome)),
                raw={"n": i, "nested": {"l": [1, 2.5, None, "ü"]}, "t": (i, "tuple")},
                parent_id=rnd.choice([None, f"p-{i % 7}"]),
                sip_call_id=rnd.choice([None, f"{i}@host"]),
                from_=rnd.choice(numbers),
                to=rnd.choice(numbers),
                direction=rnd.choice(["inbound", "outbound", None]),
                answered_at=rnd.choice([None, started + timedelta(seconds=3)]),
                ended_at=rnd.choice([None, started + timedelta(seconds=90, microseconds=7)]),
                duration_s=rnd.choice([None, 0, 5, 5, 60, 3600]),
                billed_s=rnd.choice([None, 60]),
                sip_code=rnd.choice([None, 200, 486, 503]),
                cause=rnd.choice([None, "NORMAL_CLEARING", "User busy"]),
                cause_code=rnd.choice([None, 0, 16, 4010]),
                mos=rnd.choice([None, 4.1, 3.999, 1.0]),
                trunk=(None, "NAP_B", "NAP_A", "nap_a")[i % 4],
                page=ref,
            )
        )
    return calls


def same(a: Call, b: Call) -> bool:
    return a.to_dict() == b.to_dict() and a.started_at == b.started_at and a.raw == b.raw


async def test_every_field_and_raw_round_trip_exactly(sim):
    calls = await sim_calls(sim)
    assert {c.provider for c in calls} == {"tmedia", "plivo", "bandwidth", "restcomm", "jambonz"}
    calls += made_up(5000)  # past one block of the string columns
    store = CallStore()
    rows = store.extend(calls)
    assert len(rows) == len(calls) == len(store) == store.held
    held_as_dicts = [store.call(i) for i in rows]  # some raws still wait to be compressed
    store.flush()
    for c, before, i in zip(calls, held_as_dicts, rows, strict=True):
        assert same(store.call(i), c), c.id
        assert same(before, c)
        assert store.calls[i].page is c.page
        assert store.key(i) == (c.account, c.id)
    assert [c.id for c in store.calls] == [c.id for c in calls]


def test_a_packed_column_keeps_every_value_and_no_str_object_per_row():
    values = [None, "", "+14155550100", "sip:ü@host", "x" * 300, "+4420"] * 2000
    packed = store_columns.Strings(packed=True)
    for v in values:
        packed.append(v)
    assert len(packed) == len(values) > 2 * store_columns.BLOCK
    assert [packed[i] for i in range(len(values))] == values
    assert packed.values(len(values)) == values
    assert packed.values(5) == values[:5]
    # A sealed block is its values joined into one str, with where each ends: nothing per row
    # for the collector to scan, no str object's header per row.
    block = packed.blocks[0]
    assert isinstance(block, store_columns.Packed)
    held = [r for r in gc.get_referents(block) if r is not store_columns.Packed]
    assert sorted(type(r).__name__ for r in held) == ["array", "bytes", "str"]
    assert block.text == "".join(v for v in values[: store_columns.BLOCK] if v)
    rows = [0, 1, 5, store_columns.BLOCK + 2, len(values) - 1]
    packed.set_rows(rows, ["now", None, "", "ü", None])
    for row, v in zip(rows, ["now", None, "", "ü", None], strict=True):
        values[row] = v
    assert [packed[i] for i in range(len(values))] == values
    assert isinstance(packed.blocks[0], store_columns.Packed)


def test_clear_frees_the_old_rows_in_a_thread_of_its_own():
    # Freeing a million rows took the UI thread ~0.5 s: a new listing must not wait for it.
    freed_in: list[str] = []

    class Witness:
        def __del__(self) -> None:
            freed_in.append(threading.current_thread().name)

    calls = made_up(3000)
    calls[-1].raw = {"witness": Witness()}  # not compressed (flush=False): held as is
    store = CallStore()
    store.extend(calls, flush=False)
    del calls
    store.clear()
    assert len(store) == 0 and store.find(None, "id-0-a") is None
    for _ in range(500):
        if freed_in:
            break
        threading.Event().wait(0.01)
    assert freed_in and freed_in != [threading.current_thread().name]


def test_raw_records_spread_over_many_pages_are_compressed_a_few_pages_at_a_time():
    # Each page's share is a chunk of its own, and a chunk costs its compression's set-up however
    # few records it holds: hundreds of accounts' first pages of a few calls each are packed a
    # few pages per turn of the loop, oldest first, not 140 chunks at once.
    calls = made_up(120, page_size=4)
    store = CallStore()
    store.extend(calls, flush=False)
    assert store.pending == 120
    store.flush(512, pages=3)
    assert store.pending == 120 - 3 * 4
    assert [store.raw(row) for row in range(len(store))] == [c.raw for c in calls]
    store.flush(8)  # rows bound alone: the oldest 8 waiting, whatever their pages
    assert store.pending == 120 - 3 * 4 - 8
    store.flush()
    assert store.pending == 0
    assert [store.raw(row) for row in range(len(store))] == [c.raw for c in calls]


def test_an_int_past_int64_is_clamped_not_fatal():
    (c,) = made_up(1)
    c.duration_s = 10**30
    store = CallStore()
    store.extend([c])
    assert store.call(0).duration_s == 2**63 - 1


def test_dedup_by_account_and_id():
    a, b, c = made_up(3)
    b.id = a.id
    b.account = "other"
    c.id, c.account = a.id, a.account
    store = CallStore()
    assert list(store.extend([a, b, c])) == [0, 1]
    assert list(store.extend([a, b])) == []
    assert store.find(a.account, a.id) == 0
    assert store.find("other", a.id) == 1
    assert store.find("nobody", a.id) is None
    assert len(store) == 2


def test_ids_are_found_among_many_rows_by_their_hash(monkeypatch):
    """Ids are found by their hash (store_columns.IdIndex); in one bucket (forced here by a
    bucket count of 1), the rows of each hash are found in the order they came."""
    calls = made_up(3 * store_columns.BLOCK)
    store = CallStore()
    store.extend(calls)
    assert all(store.find(c.account, c.id) == i for i, c in enumerate(calls))
    assert store.find(None, calls[7].id) == 7
    assert store.find(calls[7].account, calls[7].id + "x") is None

    monkeypatch.setattr(store_columns, "INDEX_MASK", 0)
    narrow = store_columns.IdIndex()
    for row in range(50):
        narrow.add(row & 7, row)
    assert list(narrow.rows(3)) == [3, 11, 19, 27, 35, 43]
    assert list(narrow.rows(8)) == []


def test_the_store_keeps_no_str_object_of_its_ids():
    """Sealed blocks of ids are packed and the index holds arrays: once the calls that
    brought them are gone, none of their id strs is kept (a str and an int per row, in a
    dict, pinned a third of a load's memory)."""
    calls = made_up(store_columns.BLOCK + 10)
    ids = [c.id for c in calls[: store_columns.BLOCK]]
    before = [sys.getrefcount(x) for x in ids]
    for c in calls:
        c.raw = {}
    store = CallStore()
    store.extend(calls)
    store.flush()
    del calls, c
    assert [sys.getrefcount(x) for x in ids] == [n - 1 for n in before]
    assert store.find(store.account_of(5), ids[5]) == 5


SORT_KEYS = [c.key for c in COLUMNS.values() if c.sort is not None]


def reference_view(calls: list[Call], sort: Sort) -> list[int]:
    """What the store did when it held Call objects: order by start (newest first), then a
    stable sort by the column."""

    def column(c: Call) -> object:
        return {
            "account": c.account,
            "from": c.from_ or "",
            "to": c.to or "",
            "trunk": c.trunk or "",
            "direction": c.direction or "",
            "duration": -1 if c.duration_s is None else c.duration_s,
            "outcome": c.outcome.value,
            "code": c.sip_code if c.sip_code is not None else (c.cause_code or 0),
            "mos": -1.0 if c.mos is None else c.mos,
        }[sort.key]

    def started(i: int) -> float:
        t = calls[i].started_at
        return t.timestamp() if t else 0.0

    idx = sorted(range(len(calls)), key=started, reverse=True)
    if sort.key != "started":
        idx.sort(key=lambda i: column(calls[i]), reverse=sort.descending)  # type: ignore[arg-type, return-value]
    elif not sort.descending:
        idx.reverse()
    return idx


@pytest.mark.parametrize("chunk", [7, 100_000])
def test_views_sort_like_the_reference(monkeypatch, chunk):
    # A small chunk makes the chunked sort merge many runs, as it does for 1M rows.
    monkeypatch.setattr(store_columns, "CHUNK", chunk)
    calls = made_up(5000)
    store = CallStore()
    store.extend(calls)
    assert not store.newest_first
    assert set(SORT_KEYS) == {
        "started",
        "account",
        "from",
        "to",
        "trunk",
        "direction",
        "duration",
        "outcome",
        "code",
        "mos",
    }
    for key in SORT_KEYS:
        for descending in (True, False):
            sort = Sort(key, descending)
            assert list(store.view(sort)) == reference_view(calls, sort), sort


def test_a_column_that_does_not_sort_is_refused():
    store = CallStore()
    store.extend(made_up(20))
    for key in ("id", "nonsense"):
        with pytest.raises(ValueError, match=key):
            store.view(Sort(key))


def test_the_default_view_of_rows_added_newest_first_is_the_row_order():
    calls = sorted(made_up(200), key=lambda c: c.started_at or FIXED_NOW, reverse=True)
    calls = [c for c in calls if c.started_at is not None]
    store = CallStore()
    store.extend(calls)
    assert store.newest_first
    assert list(store.view()) == list(range(len(calls))) == reference_view(calls, Sort())


def test_positions_and_cancel():
    store = CallStore()
    store.extend(made_up(50))
    view = store.view(Sort("mos"))
    pos = store.positions(view)
    assert all(view[pos[r]] == r for r in range(len(store)))

    def stop() -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        store.view(Sort("duration"), check=stop)


def test_eviction_keeps_held_rows_under_the_cap_and_the_skeleton_in_views():
    calls = made_up(10_000, page_size=20)
    store = CallStore(max_records=1000)
    for start in range(0, len(calls), 50):
        store.extend(calls[start : start + 50])
        assert store.held <= 1000
    assert len(store) == 10_000
    evicted = [r for r in range(len(store)) if store.state[r] == EVICTED]
    assert len(evicted) == 10_000 - store.held >= 9000
    for r in range(len(store)):
        if store.state[r] == EVICTED:
            assert store.from_[r] is store.to[r] is store.sip_call_id[r] is None
        else:
            assert (store.from_[r], store.to[r]) == (calls[r].from_, calls[r].to)
    r = evicted[0]
    b = store.brief(r)
    assert (b.started_at, b.outcome, b.duration_s) == (
        calls[r].started_at,
        calls[r].outcome,
        calls[r].duration_s,
    )
    assert b.from_ is None and b.cause is None and b.id == calls[r].id
    assert store.key(r) == (calls[r].account, calls[r].id)
    with pytest.raises(NotHeld):
        store.call(r)
    # Views still cover every row: nothing moved.
    assert sorted(store.view(Sort("duration"))) == list(range(10_000))
    assert store.find(None, calls[r].id) == r
    assert list(store.extend([calls[r]])) == []  # an evicted record is still known
    # A page in a full block of the string columns comes back whole.
    ticket = store.claim(r)
    assert ticket is not None
    restored = store.restore(ticket, [c for c in calls if c.page is calls[r].page])
    assert r in restored and len(restored) == 20
    assert all(same(store.call(i), calls[i]) for i in restored)
    assert store.held <= 1000


def test_a_claimed_page_comes_back_and_a_missing_record_stays_gone():
    calls = made_up(200, page_size=20)
    store = CallStore(max_records=60)
    store.extend(calls)
    assert store.held <= 60
    row = 0
    ticket = store.claim(row)
    assert ticket is not None and ticket.request == calls[0].page.request  # type: ignore[union-attr]
    assert store.claim(row) is None  # once per page
    store.release(ticket)
    ticket = store.claim(row)
    assert ticket is not None
    page_rows = [i for i, c in enumerate(calls) if c.page is calls[0].page]
    back = [calls[i] for i in page_rows[1:]]  # the provider lost the first one
    restored = store.restore(ticket, back)
    assert restored == page_rows[1:]
    for i in restored:
        assert store.state[i] == HELD and same(store.call(i), calls[i])
    assert store.state[row] == GONE and store.brief(row).id == calls[row].id
    assert store.claim(row) is None
    assert store.held <= 60
    store.clear()
    assert store.restore(ticket, back) == []  # a claim from before clear() means nothing


def test_an_update_replaces_held_records_raw_included_and_leaves_evicted_rows_alone():
    calls = made_up(200, page_size=20)
    store = CallStore(max_records=100)
    store.extend(calls)
    store.flush()  # every raw compressed into its page's chunk
    held = next(i for i in range(len(calls)) if store.state[i] == HELD)
    evicted = next(i for i in range(len(calls)) if store.state[i] == EVICTED)
    ended = [
        replace(calls[i], outcome=Outcome.ANSWERED, duration_s=77, mos=4.4, raw={"v": 2})
        for i in (held, evicted)
    ]
    ended[0].from_ = "+15550001"
    assert store.update(ended) == [held]
    now = store.call(held)
    assert (now.outcome, now.duration_s, now.mos, now.from_) == (
        Outcome.ANSWERED,
        77,
        4.4,
        "+15550001",
    )
    assert store.raw(held) == {"v": 2}
    store.flush()  # the new raw goes into a chunk of its own: still the one read
    assert store.call(held).raw == {"v": 2} and same(store.call(held), ended[0])
    assert store.state[evicted] == EVICTED
    assert store.update([replace(calls[held], id="not-held")]) == []


async def test_evicted_pages_are_fetched_again_over_http(sim):
    engine = Engine(demo_settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=24))
    try:
        calls = await engine.collect(["demo-plivo", "demo-restcomm"], query, 400)
        store = CallStore(max_records=120)
        for start in range(0, len(calls), 50):
            store.extend(calls[start : start + 50])
            assert store.held <= 120
        evicted = [r for r in range(len(store)) if store.state[r] == EVICTED]
        assert len(evicted) >= 200
        seen = 0
        for r in evicted:
            ticket = store.claim(r)
            if ticket is None:
                continue
            again = await engine.refetch(ticket.account, ticket.request)
            for i in store.restore(ticket, again):
                assert same(store.call(i), calls[i])
                seen += 1
            assert store.held <= 120
        assert seen >= 200
        assert not [r for r in range(len(store)) if store.state[r] == GONE]
    finally:
        await engine.aclose()


def test_the_page_read_last_is_evicted_last_and_a_pinned_one_not_at_all():
    calls = made_up(80, page_size=10)
    store = CallStore(max_records=50)
    store.extend(calls[:50])  # pages 0..4
    store.touch(0)  # page 0 read: now the most recently used
    store.extend(calls[50:60])
    assert store.held == 50
    assert store.state[0] == HELD and store.state[10] == EVICTED
    store.pin([20])  # page 2 is on screen: the least recently used, but it stays
    store.extend(calls[60:70])
    assert store.state[20] == HELD and store.state[30] == EVICTED


def test_views_in_a_thread_survive_rows_added_evicted_and_cleared_meanwhile():
    calls = made_up(40_000, page_size=50)
    store = CallStore(max_records=10_000)
    store.extend(calls[:20_000])
    errors: list[Exception] = []
    built: list[int] = []

    def work() -> None:
        try:
            for key in ("to", "duration", "account", "started"):
                view = store.view(Sort(key))
                store.positions(view)
                built.append(len(view))
        except Exception as e:  # any exception is the failure this test looks for
            errors.append(e)

    thread = threading.Thread(target=work)
    thread.start()
    for start in range(20_000, 40_000, 500):
        store.extend(calls[start : start + 500])
    store.clear()
    store.extend(calls[:100])
    thread.join()
    assert not errors and len(built) == 4
