"""Many real records in the TUI: the real `calltui` on a pseudo-terminal lists a week of
`calltui simulate` (on a loopback socket) over many accounts, every row of it (`i` twice: the KPI
panel wants the whole window, and hidden again it keeps wanting it), and is measured as a user
meets it:
- records loaded: the status line's "N loaded · ... · complete";
- RSS per record: the app's RSS once loaded, less the RSS of the same app over the same accounts
  with a window that holds no call (the baseline, run first in this script), over N;
- the longest full garbage collection, from start to exit: the app appends each one's duration
  to the file named by CALLTUI_GC_LOG (calltui.tui.idle_gc.IdleGC), since no terminal shows one;
- key-to-first-byte p95 at one press per second (so the idle collector runs between presses);
- ingestion: records per second from the process's start until "complete", against `calltui
  calls --all --format ndjson` over the same accounts and window (its records per second,
  process start to exit; it writes each record as it comes and holds none);
- the longest input block while sorting (`s`) and filtering (`f`): the longest stall of the
  app's event loop (CALLTUI_LAG_LOG, calltui.pacing.lag_probe) from the key until PROBE_FOR_S
  after it, while a cursor key goes every PROBE_S; each cursor key's wait for the first byte
  after it is printed too (after `f` the table is empty until the new rows come, so a key has
  nothing to draw: its wait is the listing's, not a block).

`--quick` (or CALLTUI_BENCH_QUICK=1): five copies of the five demo accounts, about 275,000
records, under three minutes; otherwise twenty copies, about 1,100,000 (several minutes).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import finish, report
from benchmarks.terminal import (
    ESCAPES,
    Terminal,
    calltui_argv,
    child_env,
    config_file,
    simulator,
)
from calltui.sim.demo import demo_config

QUICK = "--quick" in sys.argv[1:] or os.environ.get("CALLTUI_BENCH_QUICK") == "1"
COPIES = 5 if QUICK else 20
MIN_RECORDS = 250_000 if QUICK else 1_000_000
SINCE = "7d"
EMPTY = ("--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02T00:00:00Z")
LOAD_TIMEOUT_S = 240.0 if QUICK else 900.0
PRESSES = 15 if QUICK else 30
POLL_S = 0.25
PROBE_S = 0.025
PROBE_FOR_S = 4.0 if QUICK else 10.0
SIZE = (40, 120)
COMPLETE = re.compile(rb"(\d+) loaded[^\n]*?complete")
LOADED = re.compile(rb"(\d+) loaded")
ROWS = re.compile(rb"\d\d-\d\d \d\d:\d\d:\d\d\s+demo-")


def config_text(base: str) -> str:
    return demo_config(base, copies=COPIES) + "\n[limits]\nmax_records = 2000000\n"


def baseline_rss(config: Path) -> int:
    """KiB of the app over the same accounts, listing a window with no call."""
    with Terminal(calltui_argv("--config", str(config), *EMPTY), SIZE) as term:
        term.wait_for(re.compile(rb"0 loaded[^\n]*complete"), timeout=60)
        load_everything(term)
        term.settle(1.0)
        time.sleep(1.0)  # an idle collection or two, as in the loaded run
        return term.rss_kb()


def load_everything(term: Terminal) -> None:
    """`i` twice: the KPI panel wants every row of the window, and keeps wanting it hidden."""
    term.press("i")
    time.sleep(0.3)
    term.press("i")


def wait_complete(term: Terminal) -> tuple[float, int, list[tuple[int, int]]]:
    """When (s since launch, to POLL_S) the status line said the listing was complete, how many
    records it said were loaded, and (records loaded, RSS KiB) on the way. (Terminal.wait_for
    reads everything written since its start on each chunk: over minutes of output it would
    take a core from the app.)"""
    deadline = time.perf_counter() + LOAD_TIMEOUT_S
    checked = term.now()
    samples: list[tuple[int, int]] = []
    while time.perf_counter() < deadline:
        time.sleep(POLL_S)
        now = term.now()
        text = ESCAPES.sub(b"", term.written(checked - 1.0, now))
        found = COMPLETE.findall(text)
        if found:
            return now, int(found[-1]), samples
        loaded = LOADED.findall(text)
        if loaded:
            samples.append((int(loaded[-1]), term.rss_kb()))
        checked = now
    raise SystemExit(f"the listing was not complete within {LOAD_TIMEOUT_S:.0f} s")


def marginal(samples: list[tuple[int, int]], records: int, rss_kb: int) -> float:
    """Bytes of RSS per record from half-way through the load to its end: what one more record
    costs once the per-account costs (pages in flight, providers' caches) are all there."""
    half = min(samples, key=lambda s: abs(s[0] - records / 2), default=(0, 0))
    return (rss_kb - half[1]) * 1024 / max(1, records - half[0])


def probe(term: Terminal, key: str, seconds: float, lag_log: Path) -> tuple[float, float]:
    """Press `key`, then a cursor key every PROBE_S for `seconds`: the event loop's longest
    stall meanwhile, and the longest wait of a cursor key for the app's next byte (s)."""
    term.settle(0.5)
    began = time.monotonic()
    term.press(key)
    worst = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        time.sleep(PROBE_S)
        t = term.press("down")
        wait = term.first_byte_after(t, timeout=5.0)
        worst = max(worst, 5.0 if wait is None else wait)
    ended = time.monotonic()
    stalls = [
        float(ms) / 1000
        for at, ms in (line.split() for line in lag_log.read_text().splitlines())
        if began <= float(at) <= ended
    ]
    return max(stalls, default=0.0), worst


def cli_rate(config: Path) -> tuple[int, float]:
    """Records and records per second of `calltui calls --all` over `config`'s accounts, its
    lines counted as they come (a million records are gigabytes of NDJSON)."""
    argv = calltui_argv("calls", "--config", str(config), "--since", SINCE, "--all")
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [*argv, "--format", "ndjson"], env=child_env(), stdout=subprocess.PIPE, stderr=err
        )
        out = proc.stdout
        assert out is not None
        n = 0
        while chunk := out.read(1 << 20):
            n += chunk.count(b"\n")
        code = proc.wait()
        wall = time.perf_counter() - t0
        if code != 0:
            err.seek(0)
            raise SystemExit(f"calltui calls failed: {err.read().decode(errors='replace')[-400:]}")
    return n, n / wall


def main() -> int:
    # Copies of an account share its credentials, and so the simulator's rate limits: lifted,
    # or the copies would wait on each other's 429s.
    with simulator(rate_limits=False) as sim, config_file(config_text(sim.base)) as config:
        base_kb = baseline_rss(config)
        with tempfile.TemporaryDirectory(prefix="calltui-gc-") as d:
            gc_log = Path(d) / "gc.log"
            lag_log = Path(d) / "lag.log"
            argv = calltui_argv("--config", str(config), "--since", SINCE)
            env = {"CALLTUI_GC_LOG": str(gc_log), "CALLTUI_LAG_LOG": str(lag_log)}
            with Terminal(argv, SIZE, env=env) as term:
                term.wait_for(ROWS, timeout=60)
                load_everything(term)
                done, records, samples = wait_complete(term)
                tui_rate = records / done
                term.settle(1.0)
                time.sleep(1.0)
                rss_kb = term.rss_kb()
                waits = []
                for _ in range(PRESSES):
                    time.sleep(1.0)
                    t = term.press("down")
                    wait = term.first_byte_after(t)
                    waits.append(5.0 if wait is None else wait)
                sort_block, sort_key = probe(term, "s", PROBE_FOR_S, lag_log)
                filter_block, filter_key = probe(term, "f", PROBE_FOR_S, lag_log)
            lines = gc_log.read_text().splitlines() if gc_log.exists() else []
            pauses = [tuple(float(x) for x in line.split()) for line in lines]
        cli_records, cli_per_s = cli_rate(config)

    per_record = (rss_kb - base_kb) * 1024 / max(1, records)
    p95 = statistics.quantiles(waits, n=20)[-1] * 1000
    size = "quick" if QUICK else "full"
    report(
        f"records loaded in the TUI ({size}: {COPIES}x5 accounts, {SINCE})",
        records,
        MIN_RECORDS,
        "",
        higher_is_better=True,
        detail=f"in {done:.0f} s",
    )
    report(
        "RSS per record, raw included (less the app with 0 records)",
        per_record,
        700,
        "B",
        detail=f"{rss_kb / 1024:.0f} MiB loaded, {base_kb / 1024:.0f} MiB baseline; from half "
        f"loaded to the end {marginal(samples, records, rss_kb):.0f} B per record",
    )
    walls = sorted(wall for wall, _ in pauses)
    report(
        "longest full garbage collection, launch to exit",
        walls[-1] if walls else 0.0,
        20,
        "ms",
        detail=f"{len(pauses)} full collections, {sum(w > 20 for w in walls)} over 20 ms, "
        f"median {statistics.median(walls) if walls else 0:.1f} ms; longest CPU time "
        f"{max((cpu for _, cpu in pauses), default=0.0):.1f} ms",
    )
    report(
        f"key-to-first-byte p95, one press a second ({PRESSES} presses)",
        p95,
        25,
        "ms",
        detail=f"median {statistics.median(waits) * 1000:.1f} ms",
    )
    report(
        "TUI ingestion / `calltui calls --all`, records per second",
        tui_rate / cli_per_s,
        0.8,
        "x",
        higher_is_better=True,
        detail=f"{tui_rate:,.0f}/s vs {cli_per_s:,.0f}/s ({cli_records:,} records, {SINCE})",
    )
    report(
        "longest input block while sorting (s): event-loop stall",
        sort_block * 1000,
        50,
        "ms",
        detail=f"a cursor key's longest wait for a byte {sort_key * 1000:.0f} ms",
    )
    report(
        "longest input block while filtering (f): event-loop stall",
        filter_block * 1000,
        50,
        "ms",
        detail=f"a cursor key's longest wait for a byte {filter_key * 1000:.0f} ms (the "
        "table is empty until the new listing's rows come)",
    )
    return finish()


if __name__ == "__main__":
    sys.exit(main())
