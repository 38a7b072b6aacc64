"""`make bench`: every benchmarks/bench_*.py in turn, each in a process of its own (no import,
cache or garbage of one run weighs on the next), their lines printed as they come. Exits 1 if
any script failed a goal, crashed or ran past its time.

`--quick` (what `make bench` runs; `make bench-full` does not) is passed on to every script:
smaller sizes, each script saying which, so that the whole run stays within 15 minutes. The
full run (a million records, 300 accounts) takes about an hour.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = "--quick" in sys.argv[1:]
SCRIPT_TIMEOUT_S = 300 if QUICK else 1800


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    failed: list[str] = []
    started = time.perf_counter()
    for script in scripts:
        name = script.stem
        print(f"## {name}", flush=True)
        t0 = time.perf_counter()
        try:
            code = subprocess.run(
                [sys.executable, "-m", f"benchmarks.{name}", *(["--quick"] if QUICK else [])],
                cwd=HERE.parent,
                timeout=SCRIPT_TIMEOUT_S,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            print(f"{name}: still running after {SCRIPT_TIMEOUT_S} s, stopped", flush=True)
            code = -1
        if code != 0:
            failed.append(name)
        print(f"## {name}: {'ok' if code == 0 else 'FAILED'} in {time.perf_counter() - t0:.0f} s")
    total = time.perf_counter() - started
    print(f"## {len(scripts)} scripts in {total:.0f} s; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
