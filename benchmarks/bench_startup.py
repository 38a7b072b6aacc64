"""Start-up: the real `calltui` until call rows are on the screen, against plain Textual apps
until their first frame is.

What a user sees is a terminal, so every program runs the way a user runs it: a fresh Python
process on a pseudo-terminal (120x40, TERM=xterm-256color; benchmarks.terminal), timed from just
before the process is started to the moment the bytes it has written to the terminal, escape
sequences removed, show the awaited text. That covers the interpreter's start, every import,
Textual's set-up, the first fetch and the frame that draws the rows; a headless `run_test`
would leave out the terminal driver and the real frame. The programs alternate, RUNS runs each,
and the medians are compared.

Judged: calltui with the five demo accounts of a config pointed at `calltui simulate` on a
loopback socket (started once, on the real clock), against TREE_APP: a plain Textual app with
the widget tree of calltui's main screen (a sidebar of the accounts, a filter bar line, a
ScrollView table, a detail pane, a status line, a footer of keys) after importing httpx and
pydantic, which calltui cannot start without (pydantic validates the config, httpx makes every
request). Imported for real: `import pydantic` alone loads a stub that imports its parts when a
name is first used (2 ms); its model machinery, the cost of the stack that any program
validating with it pays, comes with `from pydantic import BaseModel` (45-50 ms here). Until
2026-12-03 the baseline imported the stub only. Two ratios: calltui's first frame (the table's
empty shell, its header) and its first rows (a `MM-DD HH:MM:SS` start time followed by a `demo-`
account name, which only the call table prints), each over the tree app's first frame.

Printed, not judged: the bare one-line Textual app, the same after importing httpx and pydantic
(the floor the fixed stack sets), and `calltui --demo` (the simulator in-process, on a fixed
clock: CALLTUI_SIM_NOW) to its rows.

`--quick` (or CALLTUI_BENCH_QUICK=1): fewer runs.
"""

from __future__ import annotations

import os
import re
import statistics
import sys

from benchmarks.common import finish, report
from benchmarks.terminal import CALLTUI, Terminal, calltui_argv, config_file, simulator
from calltui.sim.demo import demo_config

QUICK = "--quick" in sys.argv or os.environ.get("CALLTUI_BENCH_QUICK") == "1"
RUNS = 3 if QUICK else 15  # the ratios of single runs move by a third on a shared machine
ROWS_GOAL = 1.6
FRAME_GOAL = 1.25
TIMEOUT_S = 30.0
SIZE = (40, 120)  # rows, columns
DEMO_ENV = {"CALLTUI_SIM_NOW": "2026-11-20T14:00:00Z"}

BARE_APP = """
from textual.app import App
from textual.widgets import Static


class Bare(App[None]):
    def compose(self):
        yield Static("bare textual app: ready")


Bare().run()
"""
STACK = "import httpx, pydantic\nfrom pydantic import BaseModel  # noqa: F401\n"
STACK_APP = STACK + BARE_APP
TREE_APP = (
    STACK
    + """
from rich.segment import Segment
from textual.app import App
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, OptionList, Static

HEADER = "TIME            ACCOUNT       FROM            TO              DUR  OUTCOME"
KEYS = [
    ("q", "Quit"), ("slash", "Search"), ("f", "Filters"), ("r", "Refresh"), ("t", "Tail"),
    ("i", "KPIs"), ("x", "Export"), ("s", "Sort"), ("enter", "Open"), ("space", "Mark"),
]


class Table(ScrollView):
    def on_mount(self):
        self.virtual_size = Size(len(HEADER), 2)

    def render_line(self, y):
        text = HEADER if y == 0 else ("loading…" if y == 1 else "")
        return Strip([Segment(text.ljust(self.size.width))], self.size.width)


class Tree(App[None]):
    CSS = (
        "#body { height: 1fr; }"
        "#sidebar { width: 22; border-right: vkey $panel; }"
        "#main { width: 1fr; }"
        "#filterbar { height: 1; background: $panel; }"
        "#table { height: 1fr; min-height: 4; }"
        "#pane { height: 40%; min-height: 3; border-top: hkey $panel; padding: 0 1; }"
        "#status { height: 1; background: $panel; }"
    )
    BINDINGS = [(key, "bell", label) for key, label in KEYS]

    def compose(self):
        names = ["All accounts"] + [
            "· demo-" + p for p in ("tmedia", "plivo", "bandwidth", "restcomm", "jambonz")
        ]
        with Horizontal(id="body"):
            yield OptionList(*names, id="sidebar")
            with Vertical(id="main"):
                yield Static(" All accounts · 13:00 → now", id="filterbar")
                yield Table(id="table")
                with VerticalScroll(id="pane"):
                    yield Static("no call selected")
        yield Static(" tree app: ready", id="status")
        yield Footer()


Tree().run()
"""
)

BARE_SEEN = re.compile(rb"bare textual app: ready")
TREE_SEEN = re.compile(rb"tree app: ready")
ROW_SEEN = re.compile(rb"\d\d-\d\d \d\d:\d\d:\d\d\s+demo-")
SHELL_SEEN = re.compile(rb"TIME\S*\s+ACCOUNT\s+FROM")  # the call table's header


def time_to_screen(
    argv: list[str],
    seen: re.Pattern[bytes],
    shell: re.Pattern[bytes] | None = None,
    env: dict[str, str] | None = None,
) -> tuple[float, float | None]:
    """Seconds from starting `argv` on a new pseudo-terminal until its screen shows `seen`, and
    until it showed `shell` (if given: what is drawn before any data)."""
    with Terminal(argv, size=SIZE, env=env) as term:
        shell_at = term.wait_for(shell, TIMEOUT_S) if shell is not None else None
        return term.wait_for(seen, TIMEOUT_S), shell_at


def main() -> None:
    bare_argv = [sys.executable, "-c", BARE_APP]
    stack_argv = [sys.executable, "-c", STACK_APP]
    tree_argv = [sys.executable, "-c", TREE_APP]
    demo_argv = [sys.executable, "-c", CALLTUI, "--demo"]
    with simulator() as sim, config_file(demo_config(sim.base)) as config:
        real_argv = calltui_argv("--config", str(config))
        # One of each first, unmeasured: the files they import come into the OS cache, and
        # calltui's compiled modules are written.
        time_to_screen(bare_argv, BARE_SEEN)
        time_to_screen(stack_argv, BARE_SEEN)
        time_to_screen(tree_argv, TREE_SEEN)
        time_to_screen(demo_argv, ROW_SEEN, env=DEMO_ENV)
        time_to_screen(real_argv, ROW_SEEN)
        bare: list[float] = []
        stack: list[float] = []
        tree: list[float] = []
        demo: list[float] = []
        real: list[tuple[float, float | None]] = []
        for _ in range(RUNS):
            bare.append(time_to_screen(bare_argv, BARE_SEEN)[0])
            stack.append(time_to_screen(stack_argv, BARE_SEEN)[0])
            tree.append(time_to_screen(tree_argv, TREE_SEEN)[0])
            demo.append(time_to_screen(demo_argv, ROW_SEEN, env=DEMO_ENV)[0])
            real.append(time_to_screen(real_argv, ROW_SEEN, SHELL_SEEN))
    b, floor, t = statistics.median(bare), statistics.median(stack), statistics.median(tree)
    rows = statistics.median(r for r, _ in real)
    frame = statistics.median(r if f is None else f for r, f in real)
    d = statistics.median(demo)
    print(
        f"# median of {RUNS}: bare Textual app {b * 1000:.0f} ms to its line; after importing "
        f"httpx and pydantic {floor * 1000:.0f} ms ({floor / b:.2f}x); with calltui's widget "
        f"tree as well (the baseline) {t * 1000:.0f} ms ({t / b:.2f}x)\n"
        f"# calltui, 5 accounts on a local socket: first frame {frame * 1000:.0f} ms, rows "
        f"{rows * 1000:.0f} ms (runs {min(r for r, _ in real) * 1000:.0f}-"
        f"{max(r for r, _ in real) * 1000:.0f} ms); calltui --demo to rows {d * 1000:.0f} ms "
        f"({d / b:.2f}x the bare app)",
        flush=True,
    )
    report("start-up, socket: calltui's first frame / tree app", frame / t, FRAME_GOAL)
    report("start-up, socket: calltui to rows / tree app", rows / t, ROWS_GOAL)


if __name__ == "__main__":
    main()
    sys.exit(finish())
