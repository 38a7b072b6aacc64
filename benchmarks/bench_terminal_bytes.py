"""Bytes to the terminal, as a user on a thin SSH link pays for them: the real `calltui` on a
200x60 pseudo-terminal against `calltui simulate` on a loopback socket, bytes counted on the
terminal's side.

Holding cursor-down: KEYS presses 1/30 s apart (a keyboard's auto-repeat), then nothing until
the program has been quiet for a while; every byte it wrote from the first press until then
(the pane following the cursor once the keys settle included), divided by the keys. The same
burst goes to a plain Textual DataTable app with as many rows and as many columns, in the same
script: what Textual itself writes for a cursor moving one row.

Live tail with nothing new: the simulator runs on a clock fixed at the moment it starts, so the
accounts' window (the last hour of the real clock) lists the calls of the hour before it, and
every poll of the tail (each account every 5 s) finds nothing new and nothing ended. After `t`
and its toast, the bytes written over TAIL_S seconds. Then, informational, the same with the
simulator on the real clock, where new calls do arrive (how many, read from the status line,
is printed beside): what the tail writes when it has something to show.

`--quick` (or CALLTUI_BENCH_QUICK=1): fewer keys, a shorter tail window.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timezone

from benchmarks.common import finish, report
from benchmarks.terminal import (
    Simulator,
    Terminal,
    calltui_argv,
    child_env,
    config_file,
)
from calltui.sim.demo import demo_config

QUICK = "--quick" in sys.argv or os.environ.get("CALLTUI_BENCH_QUICK") == "1"
SIZE = (60, 200)
KEYS = 30 if QUICK else 90
KEY_GAP_S = 1 / 30
QUIET_S = 1.0
"""Nothing written for this long: the burst, and what follows it, is over."""
TAIL_S = 6.0 if QUICK else 15.0
KEY_GOAL_B = 8 * 1024
TAIL_GOAL_BPS = 1024
ROWS_SEEN = re.compile(rb"\d\d-\d\d \d\d:\d\d:\d\d\s+demo-")
LOADED = re.compile(r"(\d+) loaded")

DATATABLE_APP = """
import sys
from textual.app import App
from textual.widgets import DataTable

ROWS = int(sys.argv[1])


class Plain(App[None]):
    def compose(self):
        yield DataTable(cursor_type="row")

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("TIME", "ACCOUNT", "FROM", "TO", "DIR", "DUR", "OUTCOME", "SIP",
                          "MOS", "TRUNK", "CAUSE")
        for i in range(ROWS):
            table.add_row(f"11-20 13:{i % 60:02d}:{i * 7 % 60:02d}", f"demo-acct-{i % 5}",
                          f"+1202555{i:04d}", f"+4420790{i:04d}", "out", f"{i % 900}s",
                          "answered", "200", "4.1", "trunk-a", "Normal call clearing")
        table.focus()
        self.notify("ready", timeout=0.5)


Plain().run()
"""


@dataclass
class FixedClockSimulator(Simulator):
    """The simulator on a clock that stands still at `now` (ISO, UTC): it never has a new call,
    and a call in progress at `now` never ends."""

    now: str = ""

    def start(self) -> Simulator:
        argv = [*calltui_argv("simulate"), "--port", str(self.port), "--seed", str(self.seed)]
        env = child_env({"CALLTUI_SIM_NOW": self.now})
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            time.sleep(0.05)
        raise SystemExit("calltui simulate did not listen within 30 s")


def hold_down(term: Terminal, keys: int) -> float:
    """Bytes per key of `keys` cursor-downs 1/30 s apart, up to the quiet after them."""
    term.settle(QUIET_S)
    since = term.now()
    for n in range(keys):
        due = since + n * KEY_GAP_S
        time.sleep(max(0.0, due - term.now()))
        term.press("down")
    term.settle(QUIET_S)
    return len(term.written(since)) / keys


def datatable_bytes(rows: int) -> float:
    with Terminal([sys.executable, "-c", DATATABLE_APP, str(rows)], size=SIZE) as term:
        term.wait_for(re.compile(rb"ready"))
        time.sleep(1.0)  # the toast goes
        return hold_down(term, KEYS)


def loaded(term: Terminal) -> int:
    """The calls loaded, as the status line last said."""
    found = LOADED.findall(term.screen())
    return int(found[-1]) if found else 0


def calltui_run(sim: Simulator) -> tuple[int, float, float, int]:
    """(rows loaded, bytes per held cursor-down, bytes per second of the live tail, calls the
    tail brought meanwhile)."""
    with config_file(demo_config(sim.base)) as path:
        argv = calltui_argv("--config", str(path))
        with Terminal(argv, size=SIZE) as term:
            term.wait_for(ROWS_SEEN)
            term.settle(QUIET_S, timeout=60)
            rows = loaded(term)
            per_key = hold_down(term, KEYS)
            term.press("home")
            term.press("t")
            time.sleep(3.0)  # the toast ("tail on") goes after 2 s
            term.settle(QUIET_S)
            before = loaded(term)
            since = term.now()
            time.sleep(TAIL_S)
            per_s = len(term.written(since)) / (term.now() - since)
            return rows, per_key, per_s, loaded(term) - before


def main() -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    fixed = FixedClockSimulator(now=now)
    fixed.start()
    try:
        rows, per_key, tail_bps, still = calltui_run(fixed)
    finally:
        fixed.stop()
    baseline = datatable_bytes(rows)
    print(
        f"# {SIZE[1]}x{SIZE[0]}, {KEYS} cursor-downs 1/30 s apart, {rows} rows; "
        f"a DataTable app with {rows} rows: {baseline:.0f} B per key",
        flush=True,
    )
    report(
        "held cursor-down at 30 keys/s, 200x60: bytes per key",
        per_key / 1024,
        KEY_GOAL_B / 1024,
        "KB",
        detail=f"{per_key / max(1.0, baseline):.1f}x the DataTable app's {baseline:.0f} B",
    )
    report(
        "live tail, nothing new (fixed-clock simulator): bytes/s",
        tail_bps,
        TAIL_GOAL_BPS,
        "B",
        detail=f"over {TAIL_S:g} s, {still} new calls",
    )
    with_new = Simulator().start()
    try:
        _, _, live_bps, new = calltui_run(with_new)
    finally:
        with_new.stop()
    print(
        f"# live tail on the real clock: {live_bps:.0f} B/s over {TAIL_S:g} s with {new} new "
        f"calls arriving (not judged: each shifts the rows below it, a whole table redrawn)",
        flush=True,
    )


if __name__ == "__main__":
    main()
    sys.exit(finish())
