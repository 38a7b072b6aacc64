"""Shared fixtures: the simulator on a fixed clock, adapters over real HTTP to it, and the
recorded fixtures in ../shared/fixtures (tests that need them skip where the folder is absent)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from calltui.cli import main
from calltui.config import parse_settings
from calltui.engine import Recovery
from calltui.http import RetryPolicy
from calltui.providers.base import Provider, open_provider
from calltui.sim.app import SimApp
from calltui.sim.demo import SIM_HOST, demo_accounts
from calltui.sim.world import World

FIXED_NOW = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
FAST_RETRY = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.02)


def shared_fixture(*parts: str) -> Path:
    """A recorded response from ../shared/fixtures; skips the test where it is absent."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"recorded fixture {path} is absent (is ../shared/fixtures beside the repo?)")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`calltui ARGV` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(e.value.code or 0), out, err


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo simulator's clock stopped at FIXED_NOW (CALLTUI_SIM_NOW)."""
    monkeypatch.setenv("CALLTUI_SIM_NOW", FIXED_NOW.isoformat())


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config or theme leaks into a test, nor the terminal the tests run in: a UTF-8
    terminal unless a test says otherwise (`[display] glyphs = "auto"` reads TERM and LANG)."""
    monkeypatch.setenv("CALLTUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("CALLTUI_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)


@pytest.fixture
def sim() -> SimApp:
    return SimApp(seed=7, now=FIXED_NOW)


def sim_mid_call(provider: str) -> SimApp:
    """The `sim` world with its clock stopped in the middle of a long answered call of
    `provider` in the hour before FIXED_NOW: at least that call is still up."""
    world = World(7, FIXED_NOW)
    long = next(
        c
        for c in world.calls(provider, FIXED_NOW - timedelta(hours=1))
        if c.answer is not None and c.end - c.start > timedelta(minutes=2)
    )
    return SimApp(seed=7, now=long.start + (long.end - long.start) / 2)


OpenDemo = Callable[..., Awaitable[Provider[Any]]]


@pytest.fixture
async def open_demo(sim: SimApp) -> AsyncIterator[OpenDemo]:
    """`await open_demo("demo-plivo", page_size=5)`: that demo account's adapter talking real
    HTTP to the in-process simulator, with any account keys overridden."""
    opened: list[Provider[Any]] = []

    async def make(name: str, app: SimApp | None = None, **overrides: Any) -> Provider[Any]:
        raw = {**demo_accounts(SIM_HOST)[name], **overrides}
        settings = parse_settings({"accounts": {name: raw}}, Path("<test>"))
        transport = httpx.ASGITransport(app=app or sim)
        p = open_provider(settings.accounts[name], transport=transport, retry=FAST_RETRY)
        opened.append(p)
        return p

    yield make
    for p in opened:
        await p.aclose()


class FakeClock:
    """The recovery's clock: its waits last until the test advances the time past them."""

    def __init__(self) -> None:
        self.t = 0.0
        self.waits: list[float] = []
        self._moved = asyncio.Event()

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        end = self.t + seconds
        while self.t < end:
            self._moved.clear()
            await self._moved.wait()

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self._moved.set()

    def recovery(self) -> Recovery:
        return Recovery(sleep=self.sleep, clock=self.now)
