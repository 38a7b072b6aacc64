"""Many accounts: `calltui` with ACCOUNTS accounts behind a simulator that answers each request
after LATENCY_MS, from launch until every account is idle.

`calltui simulate --latency 60` on a loopback socket; the config holds the five demo accounts
ACCOUNTS / 5 times over (`demo-plivo`, `demo-plivo-2`, ...). The copies share their demo
credentials, which the simulator would rate-limit as one account, so it runs with
`--no-rate-limits`. calltui runs on a pseudo-terminal (120x40) with CALLTUI_LAG_LOG set: a
timer on its event loop every 5 ms notes each wake-up more than 5 ms late (calltui.pacing
lag_probe), which is how long a key pressed then would have waited before the app could even
read it. The worst of those from the app's mount until every account is idle (the terminal
quiet for QUIET_S after the first rows) is the figure judged.

RSS per account is what an account costs besides its calls: the resident set once idle with
ACCOUNTS accounts less that with the five demo accounts, over the accounts added, both run on
a window of the simulator that holds no calls (EMPTY: every account asks for its page and gets
an empty one). With calls, each account's first pages of records (tens of calls each, held by
the merge until the table wants them) are in the resident set too: that figure, from the runs
above, is printed beside it, not judged, as calls cost what they cost whoever holds them.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import finish, report
from benchmarks.terminal import Terminal, calltui_argv, config_file, simulator
from calltui.sim.demo import demo_config

QUICK = "--quick" in sys.argv or bool(os.environ.get("CALLTUI_BENCH_QUICK"))
ACCOUNTS = 100 if QUICK else 300
LATENCY_MS = 60
QUIET_S = 1.5
LAG_GOAL_MS = 50
RSS_GOAL_KB = 300
ROW_SEEN = re.compile(rb"\d\d-\d\d \d\d:\d\d:\d\d\s+demo-")
EMPTY = ("--since", "2099-01-01T00:00:00Z", "--until", "2099-01-01T00:10:00Z")
"""A window after every call of the simulator: one request per account, answered empty."""
NONE_SEEN = re.compile("end of results · 0 calls".encode())


def run(
    base: str, copies: int, window: tuple[str, ...] = ()
) -> tuple[float, float, float, list[tuple[float, float]], int]:
    """Seconds to the first rows (with `window`: to the end of the results) and to idle, the
    probe's start, the late wake-ups (seconds since start, ms late), and the RSS in KiB once
    idle."""
    with config_file(demo_config(base, copies)) as config, tempfile.TemporaryDirectory() as d:
        lag_log = Path(d) / "lag.log"
        # time.monotonic() and perf_counter() are two clocks: the probe writes the first.
        offset = time.monotonic() - time.perf_counter()
        with Terminal(
            calltui_argv("--config", str(config), *window), env={"CALLTUI_LAG_LOG": str(lag_log)}
        ) as term:
            rows = term.wait_for(NONE_SEEN if window else ROW_SEEN, timeout=60)
            term.settle(QUIET_S, timeout=120)
            idle = term.now() - QUIET_S
            rss = term.rss_kb()
        start = term.started + offset
        lines = [line.split() for line in lag_log.read_text().splitlines()]
    marks = [(float(t) - start, float(ms)) for t, ms in lines]
    return rows, idle, marks[0][0], marks[1:], rss


def main() -> None:
    with simulator(latency_ms=LATENCY_MS, rate_limits=False) as sim:
        run(sim.base, 1)  # warm: the OS cache, compiled modules
        rows5, idle5, _, _, rss5 = run(sim.base, 1)
        rows, idle, mounted, late, rss = run(sim.base, ACCOUNTS // 5)
        bare5 = run(sim.base, 1, EMPTY)[4]
        bare = run(sim.base, ACCOUNTS // 5, EMPTY)[4]
    worst = max((ms for t, ms in late if t <= idle), default=0.0)
    over = sorted((round(ms), round(t, 2)) for t, ms in late if t <= idle and ms > LAG_GOAL_MS)
    per_account = (bare - bare5) / (ACCOUNTS - 5)
    with_calls = (rss - rss5) / (ACCOUNTS - 5)
    print(
        f"# {ACCOUNTS} accounts at {LATENCY_MS} ms: mounted at {mounted * 1000:.0f} ms, rows at "
        f"{rows * 1000:.0f} ms, idle at {idle:.1f} s, RSS {rss / 1024:.0f} MiB; "
        f"5 accounts: rows at {rows5 * 1000:.0f} ms, idle at {idle5:.1f} s, "
        f"RSS {rss5 / 1024:.0f} MiB",
        flush=True,
    )
    print(
        f"# RSS per account with its first pages of calls (not judged): {with_calls:.0f} KB; "
        f"on an empty window: {ACCOUNTS} accounts {bare / 1024:.0f} MiB, "
        f"5 accounts {bare5 / 1024:.0f} MiB",
        flush=True,
    )
    if over:
        print(f"# wake-ups later than {LAG_GOAL_MS} ms (ms, s since start): {over[-8:]}")
    report(
        f"{ACCOUNTS} accounts: longest UI-loop stall, mount to idle",
        worst,
        LAG_GOAL_MS,
        " ms",
    )
    report(
        f"{ACCOUNTS} accounts: RSS per account without calls, over 5",
        per_account,
        RSS_GOAL_KB,
        " KB",
    )


if __name__ == "__main__":
    main()
    sys.exit(finish())
