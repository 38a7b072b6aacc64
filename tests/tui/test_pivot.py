"""The pivot (`v`): the view's calls grouped, most failures first, with the numbers of
`stats --by`, and a second level under each group (`n`); the change against the window before
once it is loaded; Enter filters the table to the group under the cursor as query terms (a
sub-group's with its group's); Esc goes back."""

from __future__ import annotations

import threading
from typing import Any

from calltui.analysis.groups import group, reader
from calltui.tui.screens.pivot import PivotScreen
from tests.tui.harness import make_app, settle, view_calls


async def test_the_pivot_groups_the_view_and_enter_filters_to_a_group():
    app = make_app([])
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("i")  # the whole window, as the KPIs are
        await settle(pilot)
        calls = view_calls(app)
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PivotScreen)
        assert not screen.loading_previous and screen.previous is not None
        q = app.main.query_
        expected = group(
            calls, ["cause"], since=q.since, until=screen.until, previous=screen.previous
        )
        assert screen.report is not None
        assert [g.to_dict() for g in screen.report.groups] == [g.to_dict() for g in expected.groups]
        failures = [g.failed for g in screen.report.groups]
        assert failures == sorted(failures, reverse=True)
        assert sum(g.attempts for g in screen.report.groups) == screen.report.attempts
        assert any(g.asr_delta is not None for g in screen.report.groups)

        await pilot.press("b")  # cause → sip
        await settle(pilot)
        assert screen.by() == ["sip"]
        await pilot.press("b")  # → trunk
        await settle(pilot)
        assert screen.by() == ["trunk"]
        top = next(g for g in screen.report.groups if g.key["trunk"] is not None)
        index = next(i for i, (g, _) in enumerate(screen.rows) if g is top)
        screen.query_one("#groups").highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, PivotScreen)
        assert str(app.main.query_.terms) == f"trunk:{top.key['trunk']}"
        shown = view_calls(app)
        assert shown and all(reader("trunk")(c) == top.key["trunk"] for c in shown)


async def test_esc_leaves_the_query_as_it_was():
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        before = app.main.query_
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, PivotScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.main.query_ == before


async def test_the_calls_are_gathered_and_grouped_off_the_ui_thread(monkeypatch):
    """A million calls take seconds to group: the keys must answer meanwhile."""
    from calltui.tui.screens import pivot

    threads: list[int] = []

    def group_here(*args: Any, **kw: Any) -> Any:
        threads.append(threading.get_ident())
        return group(*args, **kw)

    monkeypatch.setattr(pivot, "group", group_here)
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PivotScreen) and screen.report is not None
        assert screen.report.by == ["sip"] and screen.calls == view_calls(app)
        assert len(threads) >= 2 and threading.main_thread().ident not in threads


async def test_a_second_level_splits_each_group_and_enter_on_a_sub_group_filters_to_both():
    app = make_app([])
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("i")  # the whole window
        await settle(pilot)
        await pilot.press("v", "b", "b", "n", "n")  # trunk, then sip under it
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PivotScreen) and screen.by() == ["trunk", "sip"]
        assert screen.report is not None
        for top in screen.report.groups:
            assert top.groups and sum(g.attempts for g in top.groups) == top.attempts
        index, (sub, chain) = next(
            (i, row)
            for i, row in enumerate(screen.rows)
            if len(row[1]) == 2 and None not in (v for _, v in row[1])
        )
        (_, trunk), (_, sip) = chain
        assert sub.key == {"sip": sip}
        screen.query_one("#groups").highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, PivotScreen)
        assert str(app.main.query_.terms) == f"trunk:{trunk} sip:{sip}"
        shown = view_calls(app)
        assert len(shown) == sub.attempts
        assert all(reader("trunk")(c) == trunk and reader("sip")(c) == sip for c in shown)
