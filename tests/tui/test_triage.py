"""NOC triage in the TUI, driven by keys over the simulator: the verdict, the KPI panel, the
live tail, related calls, marks and export, the handoff (bundle, curl, pcap), compare."""

from __future__ import annotations

import csv
import json
import os
import stat
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList, RadioButton, Static

from calltui.analysis import cause, kpi
from calltui.analysis.correlate import related
from calltui.analysis.legs import calls_not_legs
from calltui.analysis.onset import timeline
from calltui.analysis.verdict import verdict
from calltui.model import FAILED_OUTCOMES, Call, CallQuery, Outcome, number_key
from calltui.session import Session
from calltui.sim.app import SimApp
from calltui.sim.demo import DEMO_ACCOUNTS, demo_settings, demo_transport
from calltui.tail import TailPolicy
from calltui.tui.app import CallTUI
from calltui.tui.screens.compare import DIFFER, CompareScreen, table
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.screens.export import ExportScreen, OpenWithScreen
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.kpi_panel import ONSET_MARK, KpiPanel, timeline_text
from tests.analysis.test_onset import T0, WINDOW, step
from tests.conftest import FIXED_NOW
from tests.test_handoff import read_pcap
from tests.test_session import linked_plivo_call as linked_call
from tests.tui.harness import make_app, screen_text, settle, view_calls


def table_of(app: CallTUI) -> CallTable:
    return app.query_one(CallTable)


def status(app: CallTUI) -> str:
    return str(app.query_one("#status", Static).render())


async def until(pilot: Pilot[None], ok: Callable[[], bool], what: str, tries: int = 500) -> None:
    """Pause until `ok()` holds (workers and timers run meanwhile)."""
    for _ in range(tries):
        if ok():
            return
        await pilot.pause(0.02)
    pytest.fail(f"never happened: {what}")


def put_cursor(app: CallTUI, pick: Callable[[Call], bool]) -> Call:
    table = table_of(app)
    table.cursor = next(i for i, r in enumerate(table.view) if pick(app.session.store.calls[r]))
    return app.session.store.calls[table.view[table.cursor]]


# --- verdict ---------------------------------------------------------------------------------


async def test_a_failed_calls_verdict_tops_the_pane_and_the_detail_screen():
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        call = put_cursor(app, lambda c: c.outcome is Outcome.FAILED and c.cause_code is not None)
        await settle(pilot)
        pane = str(app.query_one("#pane-body", Static).render())
        line = verdict(call).line
        assert line.startswith("Failed") and line in pane.replace("\n", " ")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.detail is not None
        shown = str(screen.query_one("#verdict", Static).render()).strip()
        assert shown == verdict(screen.detail).line
        assert f"hangup {call.cause_code}" in shown


# --- KPIs ------------------------------------------------------------------------------------


def expected_kpis(app: CallTUI) -> tuple[kpi.Kpis, dict[str, kpi.Kpis]]:
    q = app.main.query_
    return kpi.summarize(
        view_calls(app),
        since=q.since,
        until=q.until or app.session.now(),
        accounts=app.main.accounts,
    )


async def kpis_settled(pilot: Pilot[None], panel: KpiPanel, after: int) -> None:
    await until(pilot, lambda: panel.computed > after and not panel.computing, "KPIs computed")


async def test_kpi_panel_shows_the_kpis_of_the_view_and_follows_the_filter():
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app.query(KpiPanel)  # made when first asked for
        await pilot.press("i")
        panel = app.query_one(KpiPanel)
        assert panel.display
        await kpis_settled(pilot, panel, 0)
        merged, per = expected_kpis(app)
        assert panel.result is not None
        assert panel.result.merged.to_dict() == merged.to_dict()
        assert {k: v.to_dict() for k, v in panel.result.per_account.items()} == {
            k: v.to_dict() for k, v in per.items()
        }
        assert set(per) == set(app.session.engine.account_names)
        shown = str(panel.query_one("#kpi-head", Static).render())
        assert f"{merged.attempts} attempts" in shown and f"ASR {merged.asr:.1f}%" in shown
        causes = " ".join(str(o.prompt) for o in panel.query_one("#kpi-causes", OptionList).options)
        assert merged.causes and merged.causes[0][0][:20] in causes and "█" in causes

        before = panel.computed
        await pilot.press("f")
        await settle(pilot)
        await kpis_settled(pilot, panel, before)
        failed, _ = expected_kpis(app)
        assert panel.result.merged.to_dict() == failed.to_dict()
        assert failed.to_dict() != merged.to_dict()
        calls = calls_not_legs(view_calls(app))  # a Tmedia call's two legs count once
        assert failed.attempts == len(calls) - failed.in_progress

        await pilot.press("i")
        assert not panel.display and app.query_one("#pane").display


async def test_enter_on_a_kpi_cause_or_account_lists_those_calls():
    app = make_app([])
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        panel = app.query_one(KpiPanel)
        await kpis_settled(pilot, panel, 0)
        assert panel.result is not None
        top_cause = panel.result.merged.causes[0][0]
        causes = panel.query_one("#kpi-causes", OptionList)
        causes.focus()
        causes.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        listed = view_calls(app)
        assert listed and app.main.query_.terms is not None
        assert {cause.label(c) for c in listed} == {top_cause}

        before = panel.computed
        app.main.set_query(replace(app.main.query_, terms=None))  # back to every call
        await settle(pilot)
        await kpis_settled(pilot, panel, before)
        accounts = panel.query_one("#kpi-accounts", OptionList)
        accounts.focus()
        accounts.highlighted = 1
        name = list(panel.result.per_account)[1]
        await pilot.press("enter")
        await settle(pilot)
        assert str(app.main.query_.terms) == f"account:{name}"
        assert view_calls(app) and {c.account for c in view_calls(app)} == {name}


async def test_kpi_panel_is_readable_at_80x24():
    app = make_app([])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        panel = app.query_one(KpiPanel)
        await kpis_settled(pilot, panel, 0)
        assert panel.has_class("stacked")
        assert panel.size.height >= 8 and table_of(app).size.height >= 4
        head = str(panel.query_one("#kpi-head", Static).render())
        assert all(len(line) <= panel.size.width for line in head.splitlines())


# --- live tail -------------------------------------------------------------------------------


def tail_app(sim: SimApp, accounts: list[str], query: CallQuery | None = None) -> CallTUI:
    def now() -> datetime:
        assert sim.world.fixed_now is not None
        return sim.world.fixed_now

    app = CallTUI(
        demo_settings(timezone="UTC"),
        transport=httpx.ASGITransport(app=sim),
        query=query or CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        accounts=accounts,
        now=now,
        tail=TailPolicy(interval_s=0.05),
    )
    return app


async def polled_twice(pilot: Pilot[None], app: CallTUI) -> None:
    """Every account polled twice more: at least once wholly after the clock last moved."""
    assert app.main.tailing.poller is not None
    before = {name: a.polls for name, a in app.main.tailing.poller.accounts.items()}
    await until(
        pilot,
        lambda: (
            app.main.tailing.poller is not None
            and all(a.polls >= before[n] + 2 for n, a in app.main.tailing.poller.accounts.items())
        ),
        "every account polled again",
    )


async def test_tail_inserts_new_calls_at_the_top_and_pauses_while_the_cursor_is_away():
    sim = SimApp(seed=1, now=FIXED_NOW)
    app = tail_app(sim, ["demo-plivo", "demo-jambonz", "demo-tmedia"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = table_of(app)
        top = app.session.store.key(table.view[0])
        loaded = len(table.view)
        await pilot.press("t")
        assert app.main.tailing.poller is not None and "tail on" in status(app)
        await polled_twice(pilot, app)
        assert app.session.store.key(table.view[0]) == top  # nothing new on a stopped clock
        assert len(table.view) == loaded

        assert sim.world.fixed_now is not None
        sim.world.fixed_now += timedelta(minutes=3)
        await polled_twice(pilot, app)
        newest = app.session.store.calls[table.view[0]]
        assert (newest.account, newest.id) != top
        assert newest.started_at is not None and newest.started_at > FIXED_NOW
        assert table.cursor == 0 and table.current_row == table.view[0]
        assert table.view[0] in table.fresh
        starts = [c.started_at for c in view_calls(app)]
        assert starts == sorted(starts, reverse=True)

        # Away from the top, the tail holds new calls back and says how many wait.
        await pilot.press("j")
        shown = list(table.view)
        sim.world.fixed_now += timedelta(minutes=3)
        await polled_twice(pilot, app)
        assert app.main.tailing.pending and list(table.view) == shown and table.cursor == 1
        assert "tail paused" in status(app) and f"{len(app.main.tailing.pending)} new" in status(
            app
        )

        waiting = {(c.account, c.id) for c in app.main.tailing.pending}
        await pilot.press("g")
        await until(pilot, lambda: not app.main.tailing.pending, "held calls shown")
        keys = [app.session.store.key(r) for r in table.view]
        # Placed by start time: the newest on top; a record listed late (jambonz lists a call
        # once it has ended) lands among the calls of its time.
        assert waiting <= set(keys) and len(keys) == len(shown) + len(waiting)
        assert keys[0] in waiting and table.cursor == 0 and table.view[0] in table.fresh
        starts = [c.started_at for c in view_calls(app)]
        assert starts == sorted(starts, reverse=True)

        await pilot.press("t")
        await pilot.pause(0.05)
        assert app.main.tailing.poller is None and not any(
            w.group == "tail" and not w.is_finished for w in app.workers
        )


async def test_tail_shows_calls_in_progress_end_in_the_table_and_the_pane():
    sim = SimApp(seed=3, now=FIXED_NOW)
    app = tail_app(sim, ["demo-tmedia"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = table_of(app)
        calls = view_calls(app)
        # Away from the top: new calls wait there ("N new"), an ended call changes in place.
        running = [i for i, c in enumerate(calls) if i and c.outcome is Outcome.IN_PROGRESS]
        assert running, "no call in progress to watch"
        at = running[0]
        watched = app.session.store.key(table.view[at])
        table.cursor = at
        await settle(pilot)
        pane = app.query_one("#pane-body", Static)
        assert "in progress" in str(pane.render()).lower()
        await pilot.press("t")
        assert sim.world.fixed_now is not None
        sim.world.fixed_now += timedelta(minutes=10)
        await polled_twice(pilot, app)
        row = app.session.store.find(*watched)
        assert row is not None and row == table.current_row
        now = app.session.store.call(row)
        assert now.outcome is not Outcome.IN_PROGRESS and now.ended_at is not None
        shown = table.render_line(table.cursor + 1 - int(table.scroll_y)).text
        assert now.outcome.value in shown and "in_progress" not in shown
        await until(
            pilot, lambda: "in progress" not in str(pane.render()).lower(), "the pane updated"
        )
        # New calls held back while the cursor is away are held as they are now.
        waiting: set[tuple[str, str]] = set()
        for _ in range(15):
            sim.world.fixed_now += timedelta(minutes=1)
            await polled_twice(pilot, app)
            waiting = {
                (c.account, c.id)
                for c in app.main.tailing.pending
                if c.outcome is Outcome.IN_PROGRESS
            }
            if waiting:
                break
        assert waiting, "no new call in progress in a quarter of an hour"
        sim.world.fixed_now += timedelta(minutes=5)
        await polled_twice(pilot, app)
        pending = {(c.account, c.id): c for c in app.main.tailing.pending}
        assert any(pending[k].outcome is not Outcome.IN_PROGRESS for k in waiting)


# --- related calls ---------------------------------------------------------------------------


def linked_plivo_call(app: CallTUI) -> Call:
    loaded = view_calls(app)
    for c in loaded:
        if c.provider == "plivo" and {r.call.provider for r in related(c, loaded)} >= {
            "jambonz",
            "tmedia",
        }:
            return c
    pytest.fail("no Plivo call of the hour was handed on to jambonz and Tmedia")


async def test_related_calls_list_a_plivo_calls_relatives_and_enter_jumps_to_one():
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        call = linked_plivo_call(app)
        put_cursor(app, lambda c: c.id == call.id)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.related_done, "related calls found")
        assert {r.call.provider for r in screen.relations} >= {"jambonz", "tmedia"}
        assert all(r.reason and 0 < r.confidence <= 1 for r in screen.relations)
        await pilot.press("4")
        options = screen.query_one("#related", OptionList)
        assert options.option_count == len(screen.relations)
        target = screen.relations[0].call
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, DetailScreen)
        row = table_of(app).current_row
        assert row is not None and app.session.store.key(row) == (target.account, target.id)


async def test_a_relative_on_an_account_not_shown_is_fetched_and_jumped_to():
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        everything = make_app([])
        async with everything.run_test(size=(120, 40)) as other:
            await settle(other)
            call = linked_plivo_call(everything)
        put_cursor(app, lambda c: c.id == call.id)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.related_done, "related calls found")
        jambonz = next(r for r in screen.relations if r.call.provider == "jambonz")
        await pilot.press("4")
        screen.query_one("#related", OptionList).highlighted = screen.relations.index(jambonz)
        await pilot.press("enter")
        await settle(pilot)
        row = table_of(app).current_row
        assert row is not None and app.session.store.key(row) == (
            jambonz.call.account,
            jambonz.call.id,
        )
        assert "demo-jambonz" in app.main.accounts


# --- marks, export, compare ------------------------------------------------------------------


async def mark_rows(pilot: Pilot[None], app: CallTUI, positions: list[int]) -> list[Call]:
    table = table_of(app)
    marked = []
    for p in positions:
        table.cursor = p
        await pilot.press("space")
        marked.append(app.session.store.calls[table.view[p]])
    return marked


async def test_space_marks_and_export_writes_exactly_the_marked_rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        marked = await mark_rows(pilot, app, [0, 3, 5])
        await pilot.press("space")  # the row under the cursor again: unmarked
        marked.pop()
        table = table_of(app)
        assert set(table.marks) == {(c.account, c.id) for c in marked}
        assert "2 marked" in status(app)
        assert "●" in table.render_line(1).text and "●" not in table.render_line(2).text

        await pilot.press("x")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, ExportScreen) and screen.scope == "marked"
        screen.query_one("#fmt-ndjson", RadioButton).value = True
        await pilot.pause(0.05)
        await pilot.press("ctrl+s")
        await settle(pilot)
        (path,) = tmp_path.glob("calltui-*.ndjson")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert [(d["account"], d["id"]) for d in lines] == [(c.account, c.id) for c in marked]

        await pilot.press("x")
        await pilot.pause(0.1)
        app.screen.query_one("#scope-view", RadioButton).value = True
        await pilot.pause(0.05)
        await pilot.press("ctrl+s")
        await settle(pilot)
        (whole,) = tmp_path.glob("calltui-*.csv")
        with whole.open() as f:
            rows = list(csv.reader(f))
        assert len(rows) == len(table.view) + 1


async def test_compare_two_marked_calls_highlights_the_fields_that_differ():
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        view = view_calls(app)
        a = next(i for i, c in enumerate(view) if c.outcome is Outcome.ANSWERED)
        b = next(i for i, c in enumerate(view) if c.outcome is Outcome.FAILED)
        a_call, b_call = await mark_rows(pilot, app, [a, b])
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen) and not screen.fetching
        differing = {r.field for r in screen.differing}
        assert {"id", "outcome", "cause code", "verdict"} <= differing
        assert not {"provider", "account", "direction"} & differing
        console = Console(width=160, record=True, color_system=None)
        console.print(table(screen.a, screen.b, screen.rows, False, "bold"))
        lines = console.export_text().splitlines()
        outcome = next(line for line in lines if " outcome " in line)
        provider = next(line for line in lines if " provider " in line)
        assert outcome.lstrip().startswith(DIFFER) and not provider.lstrip().startswith(DIFFER)
        shown = screen_text(app)
        assert "post-dial delay" in shown and a_call.id in shown and b_call.id in shown
        await pilot.press("o")
        assert screen.only_differences
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, CompareScreen)


async def test_compare_needs_two_calls():
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, CompareScreen)
        assert "compare takes two calls" in screen_text(app)


# --- handoff ---------------------------------------------------------------------------------


async def test_bundle_of_the_call_under_the_cursor_holds_no_full_number(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        call = put_cursor(app, lambda c: c.failed)
        await pilot.press("B")
        await settle(pilot)
        (path,) = tmp_path.glob("calltui-plivo-*.json")
        text = path.read_text()
        doc = json.loads(text)
        assert doc["call"]["id"] == call.id and doc["verdict"]["line"]
        for number in (call.from_, call.to):
            digits = "".join(ch for ch in number_key(number) if ch.isdigit())
            assert digits not in text and digits[-4:] in text
        assert DEMO_ACCOUNTS["demo-plivo"]["auth_token"] not in text


async def test_bundle_from_the_table_and_from_the_detail_hold_the_same_related_calls(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    _, transport = demo_transport(seed=1, now=FIXED_NOW)
    probe = Session(demo_settings(timezone="UTC"), transport=transport, now=FIXED_NOW)
    call = await linked_call(probe)
    await probe.aclose()
    app = make_app(["demo-plivo"])  # the others are asked for calls around it
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        put_cursor(app, lambda c: c.id == call.id)
        await pilot.press("B")
        await settle(pilot)
        (from_table,) = tmp_path.glob("calltui-plivo-*.json")
        table_doc = json.loads(from_table.read_text())
        from_table.rename(tmp_path / "from-table.json")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.related_done, "related calls found")
        await pilot.press("B")
        await settle(pilot)
        (from_detail,) = tmp_path.glob("calltui-plivo-*.json")
        detail_doc = json.loads(from_detail.read_text())
    providers = {r["account"] for r in table_doc["related"]}
    assert {"demo-jambonz", "demo-tmedia"} <= providers
    assert table_doc["related"] == detail_doc["related"]
    assert len(screen.relations) == len(table_doc["related"])


async def test_curl_on_the_clipboard_has_placeholders_and_no_secret():
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        call = view_calls(app)[0]
        await pilot.press("c")
        text = app.clipboard
        assert text.startswith("curl ") and call.id in text
        assert f"{DEMO_ACCOUNTS['demo-plivo']['auth_id']}:$PLIVO_AUTH_TOKEN" in text
        assert DEMO_ACCOUNTS["demo-plivo"]["auth_token"] not in text
        assert "\n" not in text and "\x1b" not in text


async def test_pcap_is_saved_parsed_back_and_offered_to_a_viewer(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    app = make_app(["demo-jambonz"])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        call = put_cursor(app, lambda c: bool(c.sip_call_id))
        await pilot.press("p")
        await settle(pilot)
        (path,) = work.glob("callid-*.pcap")
        packets = read_pcap(path.read_bytes())
        assert packets[0][2].startswith("INVITE sip:")
        assert all(f"Call-ID: {call.sip_call_id}" in text for _, _, text in packets)
        assert not isinstance(app.screen, OpenWithScreen)  # no viewer on PATH

        viewer = bin_dir / "sngrep"
        viewer.write_text("#!/bin/sh\nexit 0\n")
        viewer.chmod(0o755)
        path.unlink()
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, OpenWithScreen), "asked to open it")
        assert os.path.exists(path)
        await pilot.press("enter")
        await settle(pilot)
        # The test terminal cannot be handed over: the command to run is shown instead.
        text = screen_text(app)
        assert "cannot be handed over" in text and "sngrep -I" in text


async def test_failed_only_query_still_drives_the_tail_filter():
    sim = SimApp(seed=1, now=FIXED_NOW)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1), outcomes=FAILED_OUTCOMES)
    app = tail_app(sim, ["demo-jambonz"], query)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        top = app.session.store.key(table_of(app).view[0])
        await pilot.press("t")
        assert sim.world.fixed_now is not None
        sim.world.fixed_now += timedelta(minutes=20)
        await until(
            pilot, lambda: app.session.store.key(table_of(app).view[0]) != top, "a new call"
        )
        assert all(c.outcome in FAILED_OUTCOMES for c in view_calls(app))
        await pilot.press("t")


def test_export_file_is_never_overwritten(tmp_path: Path):
    from calltui.tui.screens.export import write_calls

    path = tmp_path / "x.csv"
    path.write_text("keep")
    with pytest.raises(FileExistsError):
        write_calls([], "csv", path)
    assert path.read_text() == "keep"


async def test_the_palette_offers_the_triage_commands_for_the_screen_it_opens_over(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-kitty")  # a terminal known to take OSC 52: no copy dialog
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        call = view_calls(app)[0]
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"copy as curl")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.clipboard.startswith("curl ") and call.id in app.clipboard

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("colon")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"related calls")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen.query_one("#tabs").active == "tab-related"  # type: ignore[attr-defined]


@pytest.mark.parametrize("at_bucket", [30, 75])
def test_the_kpi_panel_marks_the_onset_under_its_column_of_the_bars(at_bucket: int):
    t = timeline(step(at_bucket), T0, T0 + WINDOW)
    assert t.onset is not None
    bars, mark, line = timeline_text(t, timezone.utc, 100).plain.split("\n")
    per_col = -(-len(t.buckets) // 60)  # 120 buckets in at most 60 columns: 2 a column
    head = bars.index("per 2min ") + len("per 2min ")
    found = next(i for i, b in enumerate(t.buckets) if b.start == t.onset.at)
    assert mark.index(ONSET_MARK) - head == found // per_col
    assert abs(found - at_bucket) <= 1 and "failures up since" in line
    quiet = timeline(step(200), T0, T0 + WINDOW)  # every bucket before the step
    assert (
        quiet.onset is None and len(timeline_text(quiet, timezone.utc, 100).plain.split("\n")) == 2
    )
