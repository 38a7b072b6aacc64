"""Start-up: `calltui --demo` until call rows are on the screen, against a bare Textual app until
its one line is.

What a user sees is a terminal, so both programs run the way a user runs them: a fresh Python
process on a pseudo-terminal (120x40, TERM=xterm-256color), timed from just before the process
is started to the moment the bytes it has written to the terminal, escape sequences removed,
show the awaited text: for the bare app its line, for calltui a table row (a `MM-DD HH:MM:SS`
start time followed by a `demo-` account name, which only the call table prints). That covers
the interpreter's start, every import, Textual's set-up, the in-process simulator, the first
fetch from the five demo accounts and the frame that draws the rows; a headless `run_test` would
leave out the terminal driver and the real frame. The simulator runs on a fixed clock
(CALLTUI_SIM_NOW), so every run shows the same calls. The two programs alternate, several runs
each, and the medians are compared.

A third program, timed alike, is the floor the fixed stack sets: the bare app after importing
pydantic (it validates the config, before anything can be fetched) and httpx (it makes every
request). It is printed beside the goal as a reference, not judged.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time

from benchmarks.common import finish, report

RUNS = 7
GOAL = 1.5
TIMEOUT_S = 30.0
SIZE = (40, 120)  # rows, columns
ENV = {"TERM": "xterm-256color", "CALLTUI_SIM_NOW": "2026-11-20T14:00:00Z"}
UNSET = ("NO_COLOR", "PYTHONDONTWRITEBYTECODE")

BARE_APP = """
from textual.app import App
from textual.widgets import Static


class Bare(App[None]):
    def compose(self):
        yield Static("bare textual app: ready")


Bare().run()
"""
STACK_APP = "import httpx, pydantic\n" + BARE_APP
CALLTUI = "import sys; from calltui.cli import main; sys.argv[0] = 'calltui'; main()"

# CSI, OSC, DCS/SOS/PM/APC strings and two-byte escapes.
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_].*?\x1b\\|\x1b[@-Z\\-_]",
    re.DOTALL,
)
BARE_SEEN = re.compile(rb"bare textual app: ready")
ROW_SEEN = re.compile(rb"\d\d-\d\d \d\d:\d\d:\d\d\s+demo-")
SHELL_SEEN = re.compile(rb"TIME\S*\s+ACCOUNT\s+FROM")  # the call table's header


def time_to_screen(
    argv: list[str], seen: re.Pattern[bytes], shell: re.Pattern[bytes] | None = None
) -> tuple[float, float | None]:
    """Seconds from starting `argv` on a new pseudo-terminal until its screen shows `seen`, and
    until it showed `shell` (if given: what is drawn before any data)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *SIZE, 0, 0))
    # The user's NO_COLOR would change the theme; CI's environment is no terminal's. Python
    # keeps compiled modules as it does on a user's machine: with PYTHONDONTWRITEBYTECODE (set
    # in some sandboxes) every run would compile calltui's source again, while Textual's
    # modules come compiled by pip, and the two programs would not be compared alike.
    env = {k: v for k, v in os.environ.items() if k not in UNSET} | ENV
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    written, shell_at = b"", None
    try:
        while time.perf_counter() - t0 < TIMEOUT_S:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # the program ended
                break
            written += chunk
            screen = _ESCAPES.sub(b"", written)
            if shell_at is None and shell is not None and shell.search(screen):
                shell_at = time.perf_counter() - t0
            if seen.search(screen):
                return time.perf_counter() - t0, shell_at
        tail = _ESCAPES.sub(b"", written)[-400:].decode(errors="replace")
        raise SystemExit(f"bench_startup: {argv[-1]!r} never showed {seen.pattern!r}: {tail!r}")
    finally:
        _stop(proc)
        os.close(master)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(5)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> None:
    bare_argv = [sys.executable, "-c", BARE_APP]
    stack_argv = [sys.executable, "-c", STACK_APP]
    demo_argv = [sys.executable, "-c", CALLTUI, "--demo"]
    # One of each first, unmeasured: the files they import come into the OS cache, and
    # calltui's compiled modules are written.
    time_to_screen(bare_argv, BARE_SEEN)
    time_to_screen(stack_argv, BARE_SEEN)
    time_to_screen(demo_argv, ROW_SEEN)
    bare: list[float] = []
    stack: list[float] = []
    demo: list[tuple[float, float | None]] = []
    for _ in range(RUNS):
        bare.append(time_to_screen(bare_argv, BARE_SEEN)[0])
        stack.append(time_to_screen(stack_argv, BARE_SEEN)[0])
        demo.append(time_to_screen(demo_argv, ROW_SEEN, SHELL_SEEN))
    b = statistics.median(bare)
    floor = statistics.median(stack)
    rows = statistics.median(t for t, _ in demo)
    shells = [s for _, s in demo if s is not None]
    shell = f"{statistics.median(shells) * 1000:.0f} ms" if shells else "not seen"
    print(
        f"# median of {RUNS}: bare Textual app {b * 1000:.0f} ms to its line; calltui --demo "
        f"{shell} to its empty table, {rows * 1000:.0f} ms to rows "
        f"(runs {min(t for t, _ in demo) * 1000:.0f}-{max(t for t, _ in demo) * 1000:.0f} ms)\n"
        f"# the same bare app after importing pydantic and httpx: {floor * 1000:.0f} ms, "
        f"{floor / b:.2f}x the bare app before calltui does anything",
        flush=True,
    )
    report("start-up: calltui --demo to rows / bare Textual app", rows / b, GOAL)


if __name__ == "__main__":
    main()
    sys.exit(finish())
