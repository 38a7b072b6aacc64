"""The TUI under test: the demo on the fixed clock, and a wait until it has settled."""

from __future__ import annotations

from datetime import timedelta

from textual.pilot import Pilot

from calltui.model import CallQuery
from calltui.sim.demo import demo_settings, demo_transport
from calltui.tui.app import CallTUI
from tests.conftest import FIXED_NOW


def make_app(
    accounts: list[str],
    seed: int = 1,
    theme: str = "calltui-dark",
    query: CallQuery | None = None,
) -> CallTUI:
    """The demo app on FIXED_NOW listing `accounts` (none: all) with `query` (by default, the
    last hour)."""
    settings = demo_settings(timezone="UTC", theme=theme)
    _, transport = demo_transport(seed=seed, now=FIXED_NOW)
    query = query or CallQuery(since=FIXED_NOW - timedelta(hours=1))
    return CallTUI(settings, transport=transport, query=query, accounts=accounts, now=FIXED_NOW)


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the app has settled (CallTUI.settled), at most 8 s."""
    app = pilot.app
    assert isinstance(app, CallTUI)
    for _ in range(400):
        await pilot.pause(0.02)
        if app.settled():
            break
    await pilot.pause(0.05)
