"""Alerts in live tail, as the user meets them: `[alerts]` from the config decides what is watched,
a group whose ASR fell shows as a banner in the status line with one line of what changed, the
terminal bell rings once per new alert unless `bell = false`, and `a` opens the pivot of that
group: its changes against that group's own calls of the window before, and Enter's query terms
starting with the group's. The simulator's incident (503s on the London trunks from 20 minutes
before its clock) is what makes the ASR fall."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Static

from calltui.analysis.cause import answered, label
from calltui.analysis.groups import attempts_of, reader
from calltui.config import parse_settings
from calltui.model import Call, CallQuery
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_accounts
from calltui.tail import TailPolicy
from calltui.tui.app import CallTUI
from calltui.tui.screens.pivot import PivotScreen
from calltui.tui.widgets.footer import KeyFooter
from tests.conftest import FIXED_NOW
from tests.tui.harness import settle, view_calls

LONDON = {"NAP_PEER_LON", "58306119427730941.zt.plivo.com", "peer-lon"}
"""The incident's trunk on Tmedia, Plivo and jambonz."""


def alerting_app(
    accounts: tuple[str, ...] = ("demo-tmedia", "demo-plivo", "demo-jambonz"), **alerts: Any
) -> CallTUI:
    settings = parse_settings(
        {"display": {"timezone": "UTC"}, "alerts": alerts, "accounts": demo_accounts()},
        Path("<test>"),
    )
    return CallTUI(
        settings,
        transport=httpx.ASGITransport(app=SimApp(seed=1, now=FIXED_NOW)),
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        accounts=list(accounts),
        now=FIXED_NOW,
        tail=TailPolicy(interval_s=0.05),
    )


def status(app: CallTUI) -> str:
    return str(app.query_one("#status", Static).render())


async def banner_of(app: CallTUI, pilot: Any) -> str:
    for _ in range(500):
        if "⚠" in status(app):
            return status(app)
        await pilot.pause(0.02)
    pytest.fail(f"no alert banner; status: {status(app)!r}")


@pytest.fixture
def bells(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each terminal bell the app rings."""
    rung: list[int] = []
    monkeypatch.setattr(CallTUI, "bell", lambda self: rung.append(1))
    return rung


async def test_the_incident_trunk_alerts_with_a_banner_a_bell_and_a_key_to_its_pivot(bells):
    app = alerting_app(min_attempts=5, by=["trunk"])
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert "⚠" not in status(app) and not bells  # alerts belong to the live tail
        assert "alert_pivot" not in {p.hint.action for p in app.screen.query_one(KeyFooter).placed}
        await pilot.press("t")
        banner = await banner_of(app, pilot)
        alerts = app.main.tailing.alerts
        assert alerts and all(a.field == "trunk" for a in alerts)
        assert {a.value for a in alerts} & LONDON
        first = alerts[0]
        assert f"trunk {first.value}" in banner and "ASR" in banner and "a: pivot" in banner
        await pilot.pause(0.1)
        assert "alert_pivot" in {p.hint.action for p in app.screen.query_one(KeyFooter).placed}
        assert first.after < first.before
        assert len(bells) == 1
        keys = {a.key for a in alerts}
        for _ in range(20):  # more polls, the same alerts: no more bells
            await pilot.pause(0.05)
        assert {a.key for a in app.main.tailing.alerts} == keys and len(bells) == 1
        await pilot.press("a")
        await pilot.pause(0.1)
        pivot = app.screen
        assert isinstance(pivot, PivotScreen)
        read = reader("trunk")
        assert pivot.calls and all(read(c) == first.value for c in pivot.calls)


def by_cause(calls: list[Call]) -> dict[str, tuple[int, float]]:
    """Each cause label's attempts and ASR, counted from the calls."""
    counts: dict[str, list[int]] = {}
    for c in attempts_of(calls, legs=False):
        n = counts.setdefault(label(c), [0, 0])
        n[0] += 1
        n[1] += answered(c)
    return {k: (n, 100.0 * a / n) for k, (n, a) in counts.items()}


async def test_the_alert_pivot_compares_the_group_with_its_own_past_and_filters_to_it(bells):
    app = alerting_app(min_attempts=5, by=["trunk"])
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await banner_of(app, pilot)
        first = app.main.tailing.alerts[0]
        query, accounts = app.main.query_, app.main.accounts
        await pilot.press("a")
        pivot = app.screen
        assert isinstance(pivot, PivotScreen)
        for _ in range(500):
            report = pivot.report
            if report and report.groups and report.groups[0].attempts_delta is not None:
                break
            await pilot.pause(0.02)
        assert pivot.report is not None and pivot.calls
        read = reader("trunk")
        window_before = await app.session.window_before(accounts, query, pivot.until)
        assert window_before is not None
        own_before = [c for c in window_before if read(c) == first.value]
        now, then = by_cause(pivot.calls), by_cause(own_before)
        whole_then = by_cause(window_before)
        differs = False
        for g in pivot.report.groups:
            cause = str(g.key["cause"])
            attempts, asr = now[cause]
            if cause in then:
                assert g.attempts_delta == attempts - then[cause][0], cause
                assert g.asr_delta == pytest.approx(asr - then[cause][1]), cause
            else:  # none before: no ASR to compare with
                assert g.attempts_delta == attempts and g.asr_delta is None, cause
            differs |= g.attempts_delta != attempts - whole_then.get(cause, (0, 0.0))[0]
        assert differs  # the group's own window before is not the whole window before

        top = pivot.report.groups[0]
        pivot.query_one("#groups").highlighted = next(
            i for i, (g, _) in enumerate(pivot.rows) if g is top
        )
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, PivotScreen)
        terms = str(app.main.query_.terms)
        assert terms.startswith(f"trunk:{first.value} ") and len(terms.split()) >= 2
        shown = view_calls(app)
        assert shown and all(read(c) == first.value for c in shown)
        assert all(label(c) == top.key["cause"] for c in attempts_of(shown, legs=False))


async def test_bell_false_keeps_the_banner_and_rings_nothing(bells):
    app = alerting_app(min_attempts=5, by=["trunk"], bell=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await banner_of(app, pilot)
        assert bells == []


async def test_an_account_split_alerts_on_accounts_only(bells):
    app = alerting_app(min_attempts=5, by=["account"], asr_drop_points=5)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        banner = await banner_of(app, pilot)
        alerts = app.main.tailing.alerts
        assert alerts and {a.field for a in alerts} == {"account"}
        assert f"account {alerts[0].value}" in banner


async def test_the_tail_lists_the_windows_its_alerts_compare_whole(bells):
    """With the default policy, as `calltui --demo` starts: the first screenful of rows is not
    the last 30 minutes, and the tail asks for those whole before it alerts on them."""
    app = alerting_app(accounts=())  # every account
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        oldest = min(c.started_at for c in view_calls(app) if c.started_at is not None)
        assert oldest > FIXED_NOW - timedelta(minutes=30)  # the rows shown do not reach back
        await pilot.press("t")
        banner = await banner_of(app, pilot)
        assert "ASR" in banner and len(bells) == 1
        oldest = min(c.started_at for c in view_calls(app) if c.started_at is not None)
        assert oldest <= FIXED_NOW - timedelta(minutes=30)
