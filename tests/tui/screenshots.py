"""`make screenshots`: SVGs of the demo on the tests' fixed clock, for the README; the tests'
snapshots are of the same app (tests.tui.harness.make_app), so they show what the README does."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from calltui.model import Call, Outcome
from calltui.sim.demo import handed_on
from calltui.tui.widgets.call_table import CallTable
from tests.conftest import FIXED_NOW
from tests.tui.harness import make_app, settle


def _traced(c: Call) -> bool:
    return bool(str(c.raw.get("trace_id") or "").strip("0"))


def _answered(c: Call) -> bool:
    return c.outcome is Outcome.ANSWERED


def _failed_with_code(c: Call) -> bool:
    return c.outcome is Outcome.FAILED and c.cause_code is not None


@functools.cache
def _handed_on_ids() -> frozenset[str]:
    return handed_on(1, FIXED_NOW, FIXED_NOW - timedelta(hours=1))


def _handed_on(c: Call) -> bool:
    return c.id in _handed_on_ids()


def _failed_on_peer(c: Call) -> bool:
    return c.outcome is Outcome.FAILED and c.trunk == "NAP_PEER_LON"


def _typed(text: str) -> tuple[str, ...]:
    """The keys that type `text`."""
    names = {":": "colon", " ": "space"}
    return tuple(names.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class Shot:
    """One screenshot: the demo listing `accounts` (none: all), the cursor put on the first
    row `pick` accepts, then `keys`; in a terminal of `size`, with NO_COLOR set or not, the
    simulator serving `faults`."""

    name: str
    accounts: list[str] = field(default_factory=list)
    pick: Callable[[Call], bool] | None = None
    keys: tuple[str, ...] = ()
    size: tuple[int, int] = (120, 36)
    no_color: bool = False
    faults: str | None = None


SHOTS: list[Shot] = [
    Shot("main"),
    Shot("main-80x24", size=(80, 24)),
    Shot("no-color", no_color=True),
    Shot("failed-only", keys=("f",)),
    Shot("error-log", faults="401@plivo", keys=("E",)),
    Shot("filter-form", keys=("f7",)),
    Shot("query", keys=("slash", *_typed("country:GB sip:5xx"), "enter")),
    Shot("tmedia-ladder", ["demo-tmedia"], _failed_with_code, ("enter", "2")),
    Shot("jambonz-waterfall", ["demo-jambonz"], _traced, ("enter", "2")),
    Shot("verdict", ["demo-plivo"], _failed_with_code, ("enter",)),
    Shot("kpi-panel", keys=("i",)),
    Shot("pivot", keys=("i", "v", "b", "b", "n")),
    Shot("compare", ["demo-plivo"], _failed_with_code, ("space", "j", "space", "d")),
    Shot("chain-ladder", [], _handed_on, ("enter", "5")),
    Shot("good-twin", ["demo-tmedia"], _failed_on_peer, ("enter", "w")),
    Shot("help", keys=("question_mark",)),
]


async def shoot(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for shot in SHOTS:
        # NO_COLOR is read as the app starts, as in a terminal.
        saved = os.environ.pop("NO_COLOR", None)
        if shot.no_color:
            os.environ["NO_COLOR"] = "1"
        try:
            app = make_app(shot.accounts, faults=shot.faults)
        finally:
            os.environ.pop("NO_COLOR", None)
            if saved is not None:
                os.environ["NO_COLOR"] = saved
        async with app.run_test(size=shot.size) as pilot:
            await settle(pilot)
            if shot.pick is not None:
                table = app.query_one(CallTable)
                store = app.session.store
                table.cursor = next(
                    i for i, row in enumerate(table.view) if shot.pick(store.calls[row])
                )
                await settle(pilot)
            for key in shot.keys:
                await pilot.press(key)
                await settle(pilot)
            path = out_dir / f"{shot.name}.svg"
            path.write_text(app.export_screenshot(title=f"calltui — {shot.name}"), encoding="utf-8")
            written.append(path)
    return written


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    for path in asyncio.run(shoot(out)):
        print(path)


if __name__ == "__main__":
    main()
