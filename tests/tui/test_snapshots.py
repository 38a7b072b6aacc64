"""Snapshots of what users see: the main screen, each provider's detail view, help, 80x24 and
200x50, NO_COLOR and the 16-colour theme (each also at 80x24 and 200x50), ASCII mode at 80x24,
the Tmedia ladder at 80x24, and triage: the verdict, related calls, the KPI panel, compare.
Regenerate with `pytest tests/tui/test_snapshots.py --snapshot-update` after an intended change,
and look at the report before committing."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from calltui.analysis.correlate import related
from calltui.model import Call, Outcome
from calltui.tui.widgets.call_table import CallTable
from tests.tui.harness import make_app, screen_text, settle


def _pick(pilot: Pilot[None], want: str) -> None:
    app = pilot.app
    table = app.query_one(CallTable)
    checks = {
        "answered": lambda c: c.outcome is Outcome.ANSWERED,
        "failed": lambda c: c.failed,
        "traced": lambda c: bool(str(c.raw.get("trace_id") or "").strip("0")),
        "linked": lambda c: c.provider == "plivo" and len(related(c, loaded)) >= 2,
    }
    loaded = [app.session.store.calls[r] for r in table.view]

    def ok(c: Call) -> bool:
        return checks[want](c)

    table.cursor = next(i for i, r in enumerate(table.view) if ok(app.session.store.calls[r]))  # type: ignore[attr-defined]


def test_main_screen(snap_compare):
    async def before(pilot):
        await settle(pilot)

    assert snap_compare(make_app([]), run_before=before, terminal_size=(120, 36))


def test_main_screen_at_80x24(snap_compare):
    async def before(pilot):
        await settle(pilot)

    assert snap_compare(make_app([]), run_before=before, terminal_size=(80, 24))


def test_main_screen_at_200x50(snap_compare):
    async def before(pilot):
        await settle(pilot)

    assert snap_compare(make_app([]), run_before=before, terminal_size=(200, 50))


def test_no_color(snap_compare, monkeypatch):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)

    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(make_app([]), run_before=before, terminal_size=(120, 36))


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_no_color_main_screen(snap_compare, monkeypatch, size):
    async def before(pilot):
        await settle(pilot)

    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(make_app([]), run_before=before, terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_sixteen_colour_main_screen(snap_compare, size):
    async def before(pilot):
        await settle(pilot)

    assert snap_compare(make_app([], theme="calltui-16"), run_before=before, terminal_size=size)


def test_ascii_main_screen_at_80x24(snap_compare):
    async def before(pilot):
        await settle(pilot)
        text = screen_text(pilot.app)
        assert "demo-" in text and {c for c in text if ord(c) > 127} == set()

    app = make_app([], glyphs="ascii")
    assert snap_compare(app, run_before=before, terminal_size=(80, 24))


def test_tmedia_ladder_at_80x24(snap_compare):
    async def before(pilot):
        await settle(pilot)
        _pick(pilot, "failed")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(make_app(["demo-tmedia"]), run_before=before, terminal_size=(80, 24))


def test_sixteen_colour_theme(snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)

    app = make_app([], theme="calltui-16")
    assert snap_compare(app, run_before=before, terminal_size=(100, 30))


def test_help(snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app([]), run_before=before, terminal_size=(120, 40))


@pytest.mark.parametrize(
    ("account", "want"),
    [
        ("demo-tmedia", "answered"),
        ("demo-plivo", "failed"),
        ("demo-bandwidth", "answered"),
        ("demo-restcomm", "failed"),
        ("demo-jambonz", "traced"),
    ],
)
def test_provider_detail_view(snap_compare, account, want):
    async def before(pilot):
        await settle(pilot)
        _pick(pilot, want)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(make_app([account]), run_before=before, terminal_size=(120, 36))


def test_verdict_atop_a_failed_calls_detail(snap_compare):
    async def before(pilot):
        await settle(pilot)
        _pick(pilot, "failed")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(["demo-plivo"]), run_before=before, terminal_size=(120, 36))


def test_related_calls_of_a_plivo_call(snap_compare):
    async def before(pilot):
        await settle(pilot)
        _pick(pilot, "linked")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(make_app([]), run_before=before, terminal_size=(120, 36))


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_kpi_panel(snap_compare, size):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)

    assert snap_compare(make_app([]), run_before=before, terminal_size=size)


def test_compare_two_marked_calls(snap_compare):
    async def before(pilot):
        await settle(pilot)
        _pick(pilot, "answered")
        await pilot.press("space")
        _pick(pilot, "failed")
        await pilot.press("space", "d")
        await settle(pilot)

    assert snap_compare(make_app(["demo-plivo"]), run_before=before, terminal_size=(120, 36))
