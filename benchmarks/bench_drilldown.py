"""Drill-down of huge calls, as a user meets it: the real `calltui` on a 120x40 pseudo-terminal
against `calltui simulate --faults bigdetail=0.5` on a loopback socket, where half the calls
(picked by their own key) have a huge drill-down: a jambonz trace of 20,000 spans, a Tmedia
call of 5,000 call-trace steps on each leg.

For each provider the script picks, from the simulator's own world (same seed, same fixed
clock), one answered call with a huge drill-down and one ordinary one, and runs calltui once on
each with `--to` that call's number, so the table holds that call alone. Then, timed on the
terminal's side: from Enter (then `2`, the flow tab, once the detail is up) until the flow
view's first rows are on the screen (a span name of the waterfall, `INVITE` on the ladder);
from `3` until the raw tab's first screen is (`"call": {`); the RSS growth from before Enter to
its peak (read every 20 ms) and once settled (3 s after the last key); and, on the big call,
the key-to-first-byte of cursor-downs in the flow view and of pages down in the raw view, one
press every GAP_S. The same keys on the call table itself (the same account, a day of calls
listed, more fetched as the cursor nears the end, from a second simulator without the big
drill-downs, which the pane would load as the cursor passes) are the scrolling baseline: a big
call's views must answer as fast as the table does to the same keys, each page a scroll.

Each drill-down is asked once by `calltui show` before it is measured, unmeasured: the simulator
makes a huge trace once and keeps it, as Jaeger serves a stored trace; its own time to make it
is not calltui's. `--quick` (or CALLTUI_BENCH_QUICK=1): fewer presses.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from benchmarks.common import finish, report
from benchmarks.terminal import (
    Simulator,
    Terminal,
    calltui_argv,
    child_env,
    config_file,
)
from calltui.sim import jambonz as sim_jambonz
from calltui.sim import tmedia as sim_tmedia
from calltui.sim.asgi import BIG_SPANS, BIG_STEPS, Faults, parse_faults
from calltui.sim.demo import demo_config
from calltui.sim.world import SimCall, World, to_london

QUICK = "--quick" in sys.argv or os.environ.get("CALLTUI_BENCH_QUICK") == "1"
SIZE = (40, 120)
SEED = 7
FAULTS = "bigdetail=0.5"
PRESSES = 30 if QUICK else 60
"""Of each key list: with 12, a p95 was the slowest press, and the table's own moved 7-22 ms."""
GAP_S = 0.25
PAGES = ("pagedown",)
"""Pages down only: in turn with pages up, after the first the table's cursor moved between
the top and the bottom of the rows on screen (two lines drawn), while the raw view scrolled a
page each time; a page that scrolls is compared with a page that scrolls."""
TABLE_SINCE = "24h"
"""The baseline table's window: some 1,700 calls of one account, more than PRESSES pages."""
FLOW_GOAL_S = 1.0
RAW_GOAL_S = 0.5
RSS_GOAL_MB = 100
SCROLL_GOAL = 1.25
"""A big call's p95 key-to-first-byte over the table's, measured alike (a margin for the noise
of a shared machine: the two are tens of milliseconds)."""
TIMEOUT_S = 120.0
ROWS_SEEN = re.compile(rb"\d\d-\d\d \d\d:\d\d:\d\d\s+demo-")
DETAIL_SEEN = re.compile(rb"1 Summary")
RAW_SEEN = re.compile(rb'"call": \{')
FLOW_SEEN = {"jambonz": re.compile(rb"lookupAccountDetails"), "tmedia": re.compile(rb"INVITE")}
SIZES = {"jambonz": f"{BIG_SPANS:,} spans", "tmedia": f"{BIG_STEPS:,} steps per leg"}


class FixedClockSimulator(Simulator):
    """The simulator on a clock standing at `now`, so this script's world is the same as its."""

    now: str = ""

    def start(self) -> Simulator:
        argv = [*calltui_argv("simulate"), "--port", str(self.port), "--seed", str(self.seed)]
        if self.faults:
            argv += ["--faults", self.faults]
        env = child_env({"CALLTUI_SIM_NOW": self.now})
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise SystemExit("calltui simulate did not listen within 30 s")


@dataclass
class Pick:
    call: SimCall
    call_id: str
    """The id `calltui show` takes: jambonz's call_sid, Tmedia's incoming leg."""
    to: str
    """The number `--to` is given: the call's own, as the provider lists it."""


def pick(world: World, provider: str, big: bool) -> Pick:
    """An answered call of the last hour's middle, off the London route (the incident would
    change it), whose number no other listed call's starts with."""
    faults = Faults(parse_faults(FAULTS), SEED)
    now = world.now()
    calls = list(world.calls(provider, now - timedelta(hours=1)))
    for c in calls:
        if c.answer is None or not now - timedelta(minutes=45) < c.start < c.end < now:
            continue
        if to_london(c) or faults.big(provider, c.key) != big:
            continue
        if provider == "jambonz":
            f = sim_jambonz.facts(c)
            # The demo account's own: the world's other jambonz account is not configured.
            if f.account_sid != sim_jambonz.DEMO_ACCOUNT_SID:
                continue
            if f.trace_id in (None, sim_jambonz.NO_TRACE) or f.trace_lost or not f.call_sid:
                continue
            call_id, to = f.call_sid, c.to_num.lstrip("+")
        else:
            call_id, to = sim_tmedia.legs_of(c)[0].leg_id, sim_tmedia.digits(c.to_num)
        if sum(o.to_num.lstrip("+").startswith(to.lstrip("+")) for o in calls) == 1:
            return Pick(c, call_id, to)
    raise SystemExit(f"no {'big' if big else 'ordinary'} {provider} call to measure")


def latencies(term: Terminal, *keys: str) -> list[float]:
    """Seconds from each of PRESSES presses of `keys` in turn, GAP_S apart, to the first byte
    after it (a press nothing answers counts as GAP_S)."""
    out: list[float] = []
    for n in range(PRESSES):
        term.settle(0.1, timeout=GAP_S)
        t = term.press(keys[n % len(keys)])
        first = term.first_byte_after(t, timeout=GAP_S)
        out.append(GAP_S if first is None else first)
        time.sleep(max(0.0, GAP_S - (term.now() - t)))
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]


@dataclass
class Drill:
    flow_s: float
    raw_s: float
    rss_mb: float
    """Growth once both tabs are drawn and the idle collection has run."""
    peak_mb: float
    """Highest growth seen on the way (RSS read every 20 ms)."""
    before_mb: float
    """The RSS before Enter."""
    flow_keys: list[float]
    raw_keys: list[float]


class Peak:
    """The highest RSS of a terminal's program, read every 20 ms on a thread of its own."""

    def __init__(self, term: Terminal) -> None:
        self.term, self.kb, self._stop = term, term.rss_kb(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.kb = max(self.kb, self.term.rss_kb())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.kb


def drill(sim: FixedClockSimulator, provider: str, p: Pick, keys: bool = True) -> Drill:
    """The measures of one drill-down; `keys`: scroll its views too (an ordinary call's views
    are too short to scroll through PRESSES keys)."""
    with config_file(demo_config(sim.base, providers=[provider])) as path:
        # Unmeasured: the simulator makes the drill-down once.
        subprocess.run(
            calltui_argv("show", "--config", str(path), "--account", f"demo-{provider}", p.call_id),
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TIMEOUT_S,
            check=True,
        )
        # The simulator's last hour, whatever the hour it stands at (measurable_now).
        until = datetime.strptime(sim.now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        since = (until - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        argv = calltui_argv(
            "--config", str(path), "--to", p.to, "--since", since, "--until", sim.now
        )
        with Terminal(argv, size=SIZE) as term:
            term.wait_for(ROWS_SEEN, timeout=TIMEOUT_S)
            term.settle(1.0)
            before = term.rss_kb()
            peak = Peak(term)
            t = term.press("enter")
            term.wait_for(DETAIL_SEEN, TIMEOUT_S, since=t)  # a key before it goes to the table
            term.press("2")
            flow_s = term.wait_for(FLOW_SEEN[provider], TIMEOUT_S, since=t) - t
            term.settle(0.5, TIMEOUT_S)
            flow_keys = latencies(term, "down") if keys else []
            t = term.press("3")
            raw_s = term.wait_for(RAW_SEEN, TIMEOUT_S, since=t) - t
            term.settle(0.5, TIMEOUT_S)
            raw_keys = latencies(term, *PAGES) if keys else []
            time.sleep(3.0)  # the rest of the raw lines are made, the idle collection runs
            after = term.rss_kb()
            top = peak.stop()
            return Drill(
                flow_s,
                raw_s,
                (after - before) / 1024,
                (top - before) / 1024,
                before / 1024,
                flow_keys,
                raw_keys,
            )


def table_keys(sim: Simulator, provider: str) -> tuple[list[float], list[float]]:
    """Cursor-downs, then pages down, on the call table of the same account, a day of calls
    listed."""
    with (
        config_file(demo_config(sim.base, providers=[provider])) as path,
        Terminal(calltui_argv("--config", str(path), "--since", TABLE_SINCE), size=SIZE) as term,
    ):
        term.wait_for(ROWS_SEEN, timeout=TIMEOUT_S)
        term.settle(1.0, TIMEOUT_S)
        return latencies(term, "down"), latencies(term, *PAGES)


def ms(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:.0f} ms, p95 {p95(xs) * 1000:.0f} ms"


def measurable_now() -> datetime:
    """The latest whole hour (of the last two days) at which the simulator's last hour holds
    an ordinary and a big call of each provider to measure: at about one hour in five, one
    of them has none (its clock is fixed to the time chosen)."""
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    for back in range(48):
        now = hour - timedelta(hours=back)
        world = World(SEED, now)
        try:
            for provider in ("jambonz", "tmedia"):
                pick(world, provider, big=False)
                pick(world, provider, big=True)
        except SystemExit:
            continue
        return now
    raise SystemExit("no hour of the last two days has calls to measure")


def main() -> None:
    now = measurable_now()
    sim = FixedClockSimulator(seed=SEED, faults=FAULTS)
    # The table's baseline on ordinary data: on the big one the pane's drill-down of each
    # highlighted call would be measured too.
    plain = FixedClockSimulator(seed=SEED)
    sim.now = plain.now = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    world = World(SEED, now)
    sim.start()
    plain.start()
    try:
        for provider in ("jambonz", "tmedia"):
            table, table_pages = table_keys(plain, provider)
            ordinary = drill(sim, provider, pick(world, provider, big=False), keys=False)
            big = drill(sim, provider, pick(world, provider, big=True))
            name = f"{provider} {SIZES[provider]}"
            print(
                f"# {provider}, {SIZE[1]}x{SIZE[0]}, {PRESSES} presses {GAP_S:g} s apart: "
                f"table cursor-down {ms(table)}, pages {ms(table_pages)}; ordinary call: flow "
                f"{ordinary.flow_s:.2f} s, raw {ordinary.raw_s:.2f} s, "
                f"{ordinary.rss_mb:+.0f} MB (peak {ordinary.peak_mb:+.0f} MB)",
                flush=True,
            )
            report(
                f"{name}: Enter to the flow view",
                big.flow_s,
                FLOW_GOAL_S,
                "s",
                detail=f"ordinary call {ordinary.flow_s:.2f} s",
            )
            report(
                f"{name}: raw tab to its first screen",
                big.raw_s,
                RAW_GOAL_S,
                "s",
                detail=f"ordinary call {ordinary.raw_s:.2f} s",
            )
            report(
                f"{name}: RSS growth of the drill-down, at its peak",
                big.peak_mb,
                RSS_GOAL_MB,
                "MB",
                detail=f"from {big.before_mb:.0f} MB, {big.rss_mb:+.0f} MB once settled; "
                f"ordinary call {ordinary.peak_mb:+.0f} MB from {ordinary.before_mb:.0f} MB",
            )
            for view, keys, base in (
                ("flow", big.flow_keys, table),
                ("raw", big.raw_keys, table_pages),
            ):
                report(
                    f"{name}: {view} scrolling p95 key-to-byte / table's",
                    p95(keys) / max(p95(base), 1e-3),
                    SCROLL_GOAL,
                    detail=f"{ms(keys)}; table {ms(base)}",
                )
    finally:
        sim.stop()
        plain.stop()


if __name__ == "__main__":
    main()
    sys.exit(finish())
