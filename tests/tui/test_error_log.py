"""An account's whole error: the status line has room for the beginning of each failed
account's error; `E` opens the error log with every failed account's full last error, the URL
it came from (its secrets masked), when it happened and when it is tried again."""

from __future__ import annotations

from datetime import timedelta

import httpx
from textual.widgets import Static

from calltui.model import CallQuery
from calltui.sim.app import SimApp
from calltui.sim.demo import DEMO_ACCOUNTS, demo_settings
from calltui.tui.app import CallTUI
from calltui.tui.screens.errors import ErrorLogScreen
from tests.conftest import FIXED_NOW
from tests.tui.harness import settle


async def test_e_shows_each_failed_accounts_whole_error():
    sim = SimApp(seed=1, now=FIXED_NOW, faults="401@plivo,500@restcomm")
    app = CallTUI(
        demo_settings(timezone="UTC"),
        transport=httpx.ASGITransport(app=sim),
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        now=FIXED_NOW,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        status = str(app.query_one("#status", Static).render())
        assert "demo-plivo" in status and "E: the whole error" in status
        await pilot.press("E")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, ErrorLogScreen)
        text = str(screen.query_one("#errors", Static).render())
        plivo = app.session.engine.states["demo-plivo"].error
        restcomm = app.session.engine.states["demo-restcomm"].error
        assert plivo is not None and restcomm is not None
        for error in (plivo, restcomm):
            assert error.message in text  # whole, not cut as in the status line
            assert error.url is not None and error.url in text
        assert "HTTP 401" in text and "HTTP 500" in text
        assert text.count("when    2026-11-20 14:00:00") == 2
        assert "not by itself" in text  # a 401 needs the config changed
        assert "retry   in " in text  # a 500 is tried again by itself
        for account in DEMO_ACCOUNTS.values():
            for secret in ("password", "auth_token", "api_secret", "api_key"):
                if secret in account:
                    assert account[secret] not in text
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert not isinstance(app.screen, ErrorLogScreen)


async def test_e_with_nothing_failed_says_so():
    sim = SimApp(seed=1, now=FIXED_NOW)
    app = CallTUI(
        demo_settings(timezone="UTC"),
        transport=httpx.ASGITransport(app=sim),
        query=CallQuery(since=FIXED_NOW - timedelta(hours=1)),
        now=FIXED_NOW,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ErrorLogScreen)
        assert "No account has failed." in str(app.screen.query_one("#errors", Static).render())
