"""Views you can hand over, in the TUI: `Y` copies the spec of the view shown, which `calls
--view` lists exactly as the table showed it and `calltui --view` opens again (accounts, filters,
window, sort, the call under the cursor; flags beside it override its parts); `[` and `]` step
through this session's views; a `[views.NAME]` opens from the palette; the redacted bundle
carries the spec and the whole call as a ladder, and no secret."""

from __future__ import annotations

import asyncio
import json
import stat
from datetime import timedelta
from pathlib import Path

from calltui.cli import apply_view, build_parser, open_source, query_from, sim_now
from calltui.config import parse_settings
from calltui.model import FAILED_OUTCOMES, CallQuery
from calltui.sim.demo import DEMO_ACCOUNTS, demo_accounts, demo_transport
from calltui.tui.app import CallTUI
from calltui.viewspec import ViewSpec, iso, parse
from tests.conftest import FIXED_NOW, run_cli
from tests.tui.harness import make_app, settle, view_calls


def app_on(view: ViewSpec | None = None, **config: object) -> CallTUI:
    settings = parse_settings(
        {"display": {"timezone": "UTC"}, "accounts": demo_accounts(), **config}, Path("<t>")
    )
    _, transport = demo_transport(seed=1, now=FIXED_NOW)
    return CallTUI(settings, transport=transport, now=FIXED_NOW, view=view)


async def test_the_copied_spec_lists_in_the_cli_what_the_table_shows(capsys, fixed_clock):
    app = make_app(["demo-plivo", "demo-jambonz"])
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")  # failed only
        await settle(pilot)
        await pilot.press("i")  # the whole window, as `calls --all` lists it
        await settle(pilot)
        app.main.table.cursor = 3
        await pilot.press("Y")
        await pilot.pause(0.1)
        spec = parse(app.clipboard)
        shown = [(c.account, c.id) for c in view_calls(app)]
    assert spec.accounts == ("demo-plivo", "demo-jambonz") and spec.call == shown[3]
    assert spec.q is not None and "outcome:" in spec.q
    listing = ["--view", str(spec), "--all", "--format", "ndjson"]
    code, out, err = await asyncio.to_thread(run_cli, capsys, "calls", "--demo", *listing)
    assert code == 0, err
    listed = [(d["account"], d["id"]) for d in map(json.loads, out.splitlines())]
    assert listed == shown and len(listed) > 20


async def test_calltui_view_opens_the_view_sorted_with_the_cursor_on_its_call():
    probe = make_app(["demo-tmedia"])
    async with probe.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        target = view_calls(probe)[30]
    spec = ViewSpec(
        accounts=("demo-tmedia",),
        q="dur:>=0",
        since=iso(FIXED_NOW.replace(hour=13)),
        sort="to",
        descending=False,
        call=(target.account, target.id),
    )
    app = app_on(spec)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        main = app.main
        assert main.selected == ["demo-tmedia"] and main.table.sort.key == "to"
        assert not main.table.sort.descending
        calls = view_calls(app)
        assert [c.to or "" for c in calls] == sorted(c.to or "" for c in calls)
        current = main.table.current_row
        assert current is not None and main.store.key(current) == (target.account, target.id)


async def test_calltui_view_with_flags_beside_it_opens_the_view_they_override(fixed_clock):
    """`calltui --view SPEC --account demo-tmedia --failed --since T`: the accounts, the
    filters and the window of the flags over the spec's; its sort and its call hold."""
    half_past = FIXED_NOW.replace(hour=12, minute=30)
    probe = make_app(["demo-tmedia"])
    async with probe.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        target = next(c for c in view_calls(probe) if c.outcome in FAILED_OUTCOMES)
    spec = ViewSpec(
        accounts=("demo-plivo",),
        q="dur:>=0",
        since=iso(FIXED_NOW.replace(hour=13)),
        sort="to",
        descending=True,
        call=(target.account, target.id),
    )
    argv = ["--demo", "--view", str(spec), "--account", "demo-tmedia", "--failed"]
    args = build_parser(None).parse_args([*argv, "--since", iso(half_past)])
    # What `calltui` hands the app (cli._tui): the flags merged over the spec, and the spec.
    settings, transport = open_source(args)
    view = apply_view(args, settings)
    query = query_from(args, timedelta(hours=1))
    app = CallTUI(
        settings, transport=transport, query=query, accounts=args.account, now=sim_now(), view=view
    )
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")  # the whole window
        await settle(pilot)
        main = app.main
        assert main.selected == ["demo-tmedia"] and main.query_.since == half_past
        assert main.query_.outcomes == FAILED_OUTCOMES and str(main.query_.terms) == "dur:>=0"
        calls = view_calls(app)
        assert calls and {c.account for c in calls} == {"demo-tmedia"}
        assert all(c.outcome in FAILED_OUTCOMES for c in calls)
        assert min(c.started_at for c in calls if c.started_at) < FIXED_NOW.replace(hour=13)
        assert main.table.sort.key == "to" and main.table.sort.descending
        assert [c.to or "" for c in calls] == sorted((c.to or "" for c in calls), reverse=True)
        current = main.table.current_row
        assert current is not None and main.store.key(current) == (target.account, target.id)


def ids(app: CallTUI) -> list[tuple[str, str]]:
    return [(c.account, c.id) for c in view_calls(app)]


async def test_brackets_step_back_and_forth_through_the_views():
    app = make_app([])
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        everything = ids(app)
        await pilot.press("f")
        await settle(pilot)
        assert app.main.query_.outcomes == FAILED_OUTCOMES
        failed = ids(app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert ids(app) == everything
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert ids(app) == failed != everything
        await pilot.press("right_square_bracket")
        await pilot.pause(0.05)
        assert any("no view after" in n.message for n in app._notifications)


async def test_a_saved_view_opens_from_the_palette():
    saved = str(ViewSpec(("demo-jambonz",), "sip:503", iso(FIXED_NOW.replace(hour=13))))
    app = app_on(views={"london": {"spec": saved}})
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Views: london"].callback()
        await settle(pilot)
        calls = view_calls(app)
        assert calls and {c.account for c in calls} == {"demo-jambonz"}
        assert all(c.sip_code == 503 for c in calls)


async def test_the_bundle_holds_the_view_spec_and_the_chain_as_a_ladder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app([])
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.main.table
        store = app.session.store
        table.cursor = next(
            i
            for i, r in enumerate(table.view)
            if store.calls[r].account == "demo-plivo"
            and store.calls[r].failed
            and (store.calls[r].to or "").startswith("+4420")
        )
        await pilot.press("B")
        await settle(pilot)
        (path,) = tmp_path.glob("calltui-plivo-*.json")
        text = path.read_text()
        doc = json.loads(text)
        spec = parse(doc["view"])
        assert spec.call == app.main.store.key(table.view[table.cursor])
        assert doc["chain"]["hops"][0]["id"] == spec.call[1] and "LADDER" in doc["text"]
        for account in DEMO_ACCOUNTS.values():
            for key in ("password", "auth_token", "api_secret", "api_key"):
                if key in account:
                    assert account[key] not in text


def demo_app_remembering() -> CallTUI:
    _, transport = demo_transport(seed=1, now=FIXED_NOW)
    settings = parse_settings(
        {"display": {"timezone": "UTC"}, "accounts": demo_accounts()}, Path("<t>")
    )
    return CallTUI(
        settings,
        transport=transport,
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        now=FIXED_NOW,
    )


async def test_marks_the_last_view_and_searches_survive_a_restart(tmp_path, monkeypatch):
    path = tmp_path / "kept" / "state.json"
    monkeypatch.setenv("CALLTUI_STATE", str(path))
    first = demo_app_remembering()
    async with first.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = first.main.table
        for row in (2, 5):
            table.cursor = row
            await pilot.press("space")
        marked = list(table.marks)
        await pilot.press("slash")
        await pilot.pause(0.2)
        first.screen.query_one("#query").value = "sip:503"
        await pilot.press("ctrl+s")
        await settle(pilot)
        ended_on = first.main.history.spec_of(call=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = demo_app_remembering()
    async with second.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert list(second.main.table.marks) == marked  # their calls are listed again
        assert second.main.state.searches == ["sip:503"]
        assert second.main.history.views[0].startswith(ended_on + "&call=")  # and the cursor's call
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert str(second.main.query_.terms) == "sip:503"
        await pilot.press("slash")
        await pilot.pause(0.2)
        box = second.screen.query_one("#query")
        assert box.suggester is not None
        assert await box.suggester.get_suggestion("sip") == "sip:503"
