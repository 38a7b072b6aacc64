"""Headless listing: `calltui calls --all` against a plain httpx + json.loads loop over the same
URLs.

`calltui simulate --no-rate-limits` on a loopback socket serves the five demo accounts (each
account's own `rate_limit` lifted too, so neither side waits on pacing). calltui lists the last
SINCE of every account as a user's script would (`calls --all --format ndjson`, the output to
/dev/null), with CALLTUI_LOG set: the request log gives every URL it fetched. The baseline, a
fresh Python process too, fetches those URLs one after the other with one httpx.Client and the
accounts' own Authorization headers, and json.loads each body; it parses nothing into records,
merges nothing and writes nothing, so it is the floor of the transport and JSON alone. Both are
timed from the start of their process to its end, several runs each, alternating; the medians
are compared as throughput (baseline time / calltui time).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import finish, report
from benchmarks.terminal import calltui_argv, child_env, config_file, simulator
from calltui.sim.demo import demo_config

GOAL = 0.5
QUICK = "--quick" in sys.argv or bool(os.environ.get("CALLTUI_BENCH_QUICK"))
RUNS = 3 if QUICK else 5
SINCE = "6h" if QUICK else "24h"
URL = re.compile(r'url="?([^" ]+)"?')

BASELINE = """
import json, sys, httpx
plan = json.load(open(sys.argv[1]))
records = 0
with httpx.Client(timeout=60) as client:
    for account, url in plan["urls"]:
        body = json.loads(client.get(url, headers=plan["headers"][account]).content)
        records += 1 if body else 0
print(records)
"""


def authorization(config: Path) -> dict[str, dict[str, str]]:
    """Each account's request headers (its Authorization), as calltui sends them."""
    import httpx

    from calltui.config import load_settings
    from calltui.providers import registry

    out: dict[str, dict[str, str]] = {}
    for name, account in load_settings(config).accounts.items():
        auth, headers = registry.get(account.provider).auth(account)
        request = httpx.Request("GET", "http://calltui.invalid/", headers=headers)
        if auth is not None:
            request = next(auth.sync_auth_flow(request))
        out[name] = {"Accept": "application/json", **dict(request.headers)}
        out[name].pop("host", None)
    return out


def run(argv: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        argv, env=child_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True
    )
    return time.perf_counter() - t0


def main() -> None:
    with simulator(rate_limits=False) as sim:
        toml = demo_config(sim.base).replace(
            'provider = "', 'rate_limit = 100000.0\nprovider = "', -1
        )
        with config_file(toml) as config, tempfile.TemporaryDirectory() as d:
            log = Path(d) / "requests.log"
            listing = calltui_argv(
                "calls", "--config", str(config), "--all", "--since", SINCE, "--format", "ndjson"
            )
            run(listing, {"CALLTUI_LOG": str(log)})
            urls = []
            for line in log.read_text().splitlines():
                account = re.search(r"account=(\S+)", line)
                url = URL.search(line)
                if account and url and "status=200" in line:
                    urls.append((account.group(1), url.group(1)))
            plan = Path(d) / "plan.json"
            plan.write_text(json.dumps({"urls": urls, "headers": authorization(config)}))
            count = subprocess.run(
                calltui_argv(
                    "calls", "--config", str(config), "--all", "--since", SINCE, "--format", "csv"
                ),
                env=child_env(),
                capture_output=True,
                check=True,
            ).stdout.count(b"\n")
            base_argv = [sys.executable, "-c", BASELINE, str(plan)]
            run(base_argv)  # warm: the OS cache, the simulator's pages
            mine: list[float] = []
            base: list[float] = []
            for _ in range(RUNS):
                base.append(run(base_argv))
                mine.append(run(listing))
    b, m = statistics.median(base), statistics.median(mine)
    print(
        f"# {len(urls)} requests, {count - 1} calls (5 accounts, last {SINCE}), medians of "
        f"{RUNS}: plain httpx + json.loads {b:.2f} s, calltui calls --all {m:.2f} s",
        flush=True,
    )
    report("headless listing: httpx loop time / calltui's", b / m, GOAL, higher_is_better=True)


if __name__ == "__main__":
    main()
    sys.exit(finish())
