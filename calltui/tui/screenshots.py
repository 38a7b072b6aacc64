"""`make screenshots`: SVGs of the demo on a fixed clock, for the README."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from textual.pilot import Pilot

from calltui.model import Call, CallQuery, Outcome
from calltui.sim.demo import demo_settings, demo_transport
from calltui.tui.app import CallTUI
from calltui.tui.widgets.call_table import CallTable

FIXED_NOW = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)


def _traced(c: Call) -> bool:
    return bool(str(c.raw.get("trace_id") or "").strip("0"))


def _answered(c: Call) -> bool:
    return c.outcome is Outcome.ANSWERED


def _failed_with_code(c: Call) -> bool:
    return c.outcome is Outcome.FAILED and c.cause_code is not None


# name, accounts, the first row to put the cursor on, keys
SHOTS: list[tuple[str, list[str], Callable[[Call], bool] | None, tuple[str, ...]]] = [
    ("main", [], None, ()),
    ("failed-only", [], None, ("f",)),
    ("tmedia-ladder", ["demo-tmedia"], _answered, ("enter", "2")),
    ("jambonz-waterfall", ["demo-jambonz"], _traced, ("enter", "2")),
    ("verdict", ["demo-plivo"], _failed_with_code, ("enter",)),
    ("kpi-panel", [], None, ("i",)),
    ("pivot", [], None, ("i", "v", "b", "b", "n")),
    ("compare", ["demo-plivo"], _failed_with_code, ("space", "j", "space", "d")),
    ("help", [], None, ("question_mark",)),
]


def demo_app(
    accounts: list[str],
    seed: int = 1,
    theme: str = "calltui-dark",
    query: CallQuery | None = None,
) -> CallTUI:
    """The demo on the fixed clock, listing `accounts` (none: all) with `query` (by default,
    the last hour)."""
    settings = demo_settings(timezone="UTC", theme=theme, glyphs="unicode")
    _, transport = demo_transport(seed=seed, now=FIXED_NOW)
    query = query or CallQuery(since=FIXED_NOW - timedelta(hours=1))
    return CallTUI(
        settings,
        transport=transport,
        query=query,
        accounts=accounts,
        now=FIXED_NOW,
        remember=False,
    )


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the app has settled (CallTUI.settled), at most 8 s."""
    app = pilot.app
    assert isinstance(app, CallTUI)
    for _ in range(400):
        await pilot.pause(0.02)
        if app.settled():
            break
    await pilot.pause(0.05)


async def shoot(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, accounts, pick, keys in SHOTS:
        app = demo_app(accounts)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            if pick is not None:
                table = app.query_one(CallTable)
                store = app.session.store
                table.cursor = next(i for i, row in enumerate(table.view) if pick(store.calls[row]))
                await settle(pilot)
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            path = out_dir / f"{name}.svg"
            path.write_text(app.export_screenshot(title=f"calltui — {name}"), encoding="utf-8")
            written.append(path)
    return written


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    for path in asyncio.run(shoot(out)):
        print(path)


if __name__ == "__main__":
    main()
