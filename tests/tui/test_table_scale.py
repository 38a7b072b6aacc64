"""The call table at scale: 100,000 rows cost a screenful of renders, evicted rows are drawn as
placeholders and fetched again (over HTTP, from the simulator), and a big sort runs in a thread
while the table says so."""

from __future__ import annotations

import gc
from datetime import timedelta, timezone

from textual.app import App, ComposeResult
from textual.worker import Worker

from calltui.model import Call, CallQuery, Outcome, PageRef
from calltui.store import EVICTED, HELD, CallStore, Refetch, Sort
from calltui.tui.idle_gc import IdleGC
from calltui.tui.view_builder import SYNC_ROWS
from calltui.tui.widgets.call_table import CallTable
from tests.conftest import FIXED_NOW
from tests.tui.harness import make_app, settle


def bulk(n: int, account: str = "bulk", page_size: int = 100) -> list[Call]:
    """`n` calls newest first, on pages of `page_size`."""
    out = []
    ref = None
    outcomes = list(Outcome)
    for i in range(n):
        if i % page_size == 0:
            ref = PageRef(account, ("/calls", {"page": i // page_size}))
        out.append(
            Call(
                provider="plivo",
                account=account,
                id=f"{account}-{i:07d}",
                started_at=FIXED_NOW - timedelta(seconds=i),
                outcome=outcomes[i % len(outcomes)],
                raw={"i": i},
                from_=f"+1415555{i % 9999:04d}",
                to=f"+4420{i % 777:07d}",
                duration_s=(i * 37) % 900,
                sip_code=200,
                page=ref,
            )
        )
    return out


def view_workers(app: App[None]) -> list[Worker[None]]:
    return [w for w in app.workers if w.group == "view" and not w.is_finished]


class TableApp(App[None]):
    """Just the table over a store; records the pages it asks for."""

    def __init__(self, store: CallStore) -> None:
        super().__init__()
        self.store = store
        self.wanted: list[Refetch] = []

    def compose(self) -> ComposeResult:
        yield CallTable(self.store, timezone.utc)

    def on_mount(self) -> None:
        table = self.query_one(CallTable)
        table.set_view(self.store.view(), "end of results")
        table.focus()

    def on_call_table_page_wanted(self, event: CallTable.PageWanted) -> None:
        self.wanted.append(event.ticket)


async def test_100k_rows_render_only_the_visible_lines():
    store = CallStore()
    store.extend(bulk(100_000))
    app = TableApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(CallTable)
        assert len(table.view) == 100_000
        body = table.size.height - 1  # the header is not a row
        table._invalidate()
        table.refresh()
        before = table.renders
        await pilot.pause()
        assert 0 < table.renders - before <= body
        for key in ("end", "pagedown", "pageup", "down", "home"):
            before = table.renders
            await pilot.press(key)
            await pilot.pause()
            assert table.renders - before <= body, key
        await pilot.press("end")
        await pilot.pause()
        assert table.current_row == 99_999
        last = table.render_line(table.size.height - 2).text
        assert "bulk" in last and "end of results" not in last


async def test_an_evicted_row_is_a_placeholder_that_asks_for_its_page():
    store = CallStore(max_records=1000)
    calls = bulk(5000)
    store.extend(calls)
    assert store.held <= 1000 and store.state[0] == EVICTED
    app = TableApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(CallTable)
        text = table.render_line(2).text
        assert "fetching again" in text and calls[1].from_ not in text  # type: ignore[operator]
        assert [t.request for t in app.wanted] == [calls[0].page.request]  # type: ignore[union-attr]
        # The page on screen is pinned: adding rows evicts others, never the one shown.
        restored = store.restore(app.wanted[0], calls[:100])
        store.extend(bulk(2000, account="more"))
        assert store.state[0] == HELD and store.held <= 1000
        table.rows_changed(restored)
        await pilot.pause()
        assert calls[1].from_ in table.render_line(2).text  # type: ignore[operator]


async def test_scrolled_back_rows_are_fetched_again_and_equal_the_originals():
    app = make_app(["demo-plivo"], query=CallQuery(since=FIXED_NOW - timedelta(hours=24)))
    # The config allows >= 1000; a small cap keeps the test short.
    app.session.store.max_records = 300
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        on_screen = table.view[: table.size.height - 1]
        first = {row: app.session.store.call(row) for row in on_screen}
        assert len(first) >= 5
        while len(app.session.store) < 1200:
            await pilot.press("G")
            await settle(pilot)
        assert app.session.store.held <= 300
        assert all(app.session.store.state[row] == EVICTED for row in first)
        fetched = app.session.engine.states["demo-plivo"].pages
        await pilot.press("g")
        await settle(pilot)
        await settle(pilot)
        for row, call in first.items():
            assert app.session.store.state[row] == HELD
            again = app.session.store.call(row)
            assert again.to_dict() == call.to_dict()
        assert app.session.store.held <= 300
        assert (
            app.session.engine.states["demo-plivo"].pages == fetched
        )  # refetches are not the stream's


async def test_a_big_sort_runs_in_a_thread_and_keeps_the_cursor_on_its_call():
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        store = app.session.store
        table = app.query_one(CallTable)
        store.extend(bulk(SYNC_ROWS + 5000))
        app.main.rebuild_view()
        await app.workers.wait_for_complete(view_workers(app))
        await pilot.pause()
        table.cursor = 1234
        key = store.key(table.view[1234])
        shown = list(table.view)

        table.sort = Sort("duration", descending=True)
        app.main.rebuild_view()
        # Nothing is swapped yet: the view is being built off the UI thread.
        (worker,) = view_workers(app)
        assert worker._thread_worker  # Textual's flag for @work(thread=True)
        assert table.busy == "sorting…" and list(table.view) == shown
        assert "sorting…" in table.render_line(0).text

        await app.workers.wait_for_complete([worker])
        await pilot.pause()
        assert table.busy == ""
        assert table.view == store.view(Sort("duration", descending=True))
        assert store.key(table.view[table.cursor]) == key


async def test_a_stale_sort_result_is_dropped_when_the_store_was_refilled():
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.session.store.extend(bulk(SYNC_ROWS + 10))
        table = app.query_one(CallTable)
        table.sort = Sort("to")
        app.main.rebuild_view()
        (worker,) = view_workers(app)
        app.main.start_fetch()  # clears the store: the sort's rows mean nothing now
        await app.workers.wait_for_complete([worker])
        await settle(pilot)
        assert len(table.view) == len(app.session.store) < SYNC_ROWS
        assert sorted(table.view) == list(range(len(app.session.store)))


async def test_full_collections_wait_until_the_user_is_idle():
    saved = gc.get_threshold()
    full: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(1)

    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert gc.get_threshold() == (saved[0], saved[1], IdleGC.NEVER)
        gc.collect(1)  # something for a full collection to do
        gc.callbacks.append(seen)
        try:
            await pilot.press("j")
            await pilot.pause(3 * IdleGC.IDLE_S)
        finally:
            gc.callbacks.remove(seen)
        assert full  # the timer ran it once no key came
    assert gc.get_threshold() == saved
