"""The command line: listing (formats, limits, merge), show, simulate, config, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from calltui.cli import main
from calltui.model import RECORD_KEYS
from calltui.sim.demo import SIM_HOST, demo_accounts
from tests.conftest import FIXED_NOW, run_cli

SIM_NOW = FIXED_NOW.isoformat()


pytestmark = pytest.mark.usefixtures("fixed_clock")


def test_calls_ndjson_prints_exact_records_newest_first(capsys):
    code, out, _ = run_cli(
        capsys, "calls", "--demo", "--account", "demo-plivo", "--limit", "250", "--format", "ndjson"
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 250
    assert all(list(r) == list(RECORD_KEYS) for r in records)
    starts = [r["started_at"] for r in records]
    assert starts == sorted(starts, reverse=True)
    assert {r["provider"] for r in records} == {"plivo"}
    assert len({r["id"] for r in records}) == 250


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_ndjson_and_csv_are_written_as_the_records_come(monkeypatch, fmt):
    """A script reads the first records while the later pages are still being fetched, and
    nothing is held for the whole window."""
    served = 0
    handle = httpx.ASGITransport.handle_async_request

    async def counted(self: httpx.ASGITransport, request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        return await handle(self, request)

    monkeypatch.setattr(httpx.ASGITransport, "handle_async_request", counted)

    class Out(io.StringIO):
        served_at_first_line: int | None = None

        def write(self, text: str) -> int:
            if self.served_at_first_line is None:
                self.served_at_first_line = served
            return super().write(text)

    out = Out()
    monkeypatch.setattr(sys, "stdout", out)
    with pytest.raises(SystemExit) as e:
        main(["calls", "--demo", "--since", "2d", "--all", "--format", fmt])
    assert e.value.code in (0, None)
    lines = out.getvalue().splitlines()
    assert len(lines) > 5000
    assert out.served_at_first_line is not None and out.served_at_first_line < served / 2


@pytest.mark.parametrize("account", sorted(demo_accounts()))
def test_each_provider_lists_through_the_cli(capsys, account):
    code, out, err = run_cli(
        capsys, "calls", "--demo", "--account", account, "--limit", "120", "--format", "json"
    )
    assert code == 0, err
    records = json.loads(out)
    assert len(records) == 120
    assert {r["account"] for r in records} == {account}


def test_demo_without_account_merges_all_five(capsys):
    code, out, _ = run_cli(
        capsys, "calls", "--demo", "--since", "2h", "--all", "--format", "ndjson"
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert {r["provider"] for r in records} == {
        "tmedia",
        "plivo",
        "bandwidth",
        "restcomm",
        "jambonz",
    }
    starts = [r["started_at"] for r in records]
    assert starts == sorted(starts, reverse=True)


def test_filters_apply_to_the_listing(capsys):
    code, out, _ = run_cli(
        capsys,
        "calls",
        "--demo",
        "--failed",
        "--direction",
        "inbound",
        "--since",
        "3h",
        "--format",
        "json",
    )
    assert code == 0
    records = json.loads(out)
    assert records
    assert all(r["outcome"] not in ("answered", "in_progress") for r in records)
    assert all(r["direction"] == "inbound" for r in records)


def test_table_and_csv_formats(capsys):
    code, out, _ = run_cli(capsys, "calls", "--demo", "--limit", "5")
    assert code == 0 and out.splitlines()[0].startswith("STARTED") and len(out.splitlines()) == 6
    code, out, _ = run_cli(capsys, "calls", "--demo", "--limit", "5", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:3] == ["provider", "account", "id"] and len(rows) == 6


def test_show_json_and_text(capsys):
    _, out, _ = run_cli(
        capsys, "calls", "--demo", "--account", "demo-tmedia", "--limit", "1", "--format", "json"
    )
    leg = json.loads(out)[0]
    code, out, _ = run_cli(capsys, "show", "--demo", "--account", "demo-tmedia", leg["id"])
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {
        "call",
        "legs",
        "trace",
        "events",
        "recordings",
        "notifications",
        "explanation",
        "verdict",
        "related",
        "chain",
        "twin",
    }
    assert doc["call"]["id"] == leg["id"]
    assert len(doc["legs"]) == 2 and doc["events"]
    code, out, _ = run_cli(
        capsys, "show", "--demo", "--account", "demo-tmedia", leg["id"], "--format", "text"
    )
    assert code == 0 and "EVENTS" in out


def _incident_plivo_call() -> str:
    """A Plivo call of the demo's incident that was handed on to jambonz and the Tmedia box."""
    from calltui.cli_source import DEMO_SEED
    from calltui.sim import plivo as sim_plivo
    from calltui.sim.app import SimApp
    from calltui.sim.world import INCIDENT_LEAD

    world = SimApp(seed=DEMO_SEED, now=FIXED_NOW).world
    since = FIXED_NOW - INCIDENT_LEAD
    first = next(c for c in world.calls("plivo", since)
                 if c.link and c.sip_code == 503 and c.end < FIXED_NOW)  # fmt: skip
    return sim_plivo.call_uuid(first)


def test_show_json_has_the_chain_and_the_twin(capsys):
    cid = _incident_plivo_call()
    code, out, err = run_cli(capsys, "show", "--demo", "--account", "demo-plivo", cid)
    assert code == 0, err
    doc = json.loads(out)
    chain = doc["chain"]
    assert set(chain) == {"hops", "failed_hop"}
    hop_keys = {"account", "id", "provider", "started_at", "ended_at", "outcome", "sip_code",
                "confidence"}  # fmt: skip
    assert all(set(h) == hop_keys for h in chain["hops"])
    assert [h["provider"] for h in chain["hops"]] == ["plivo", "jambonz", "tmedia", "tmedia"]
    assert chain["hops"][0] == {**chain["hops"][0], "id": cid, "confidence": 1.0}
    assert chain["failed_hop"] == 3 and chain["hops"][3]["sip_code"] == 503
    # `related` keeps to the account asked for.
    assert {r["account"] for r in doc["related"]} <= {"demo-plivo"}
    twin = doc["twin"]
    assert set(twin) == {"account", "id", "differences"} and twin["account"] == "demo-plivo"
    assert twin["id"] != cid and twin["differences"]
    assert all(isinstance(v, list) and len(v) == 2 for v in twin["differences"].values())


def test_show_text_prints_the_ladder_after_the_verdict_and_detail(capsys):
    cid = _incident_plivo_call()
    code, out, err = run_cli(
        capsys, "show", "--demo", "--account", "demo-plivo", cid, "--format", "text"
    )
    assert code == 0, err
    assert out.index("CALL") < out.index("CHAIN") < out.index("LADDER") < out.index("TWIN")
    assert "the 503 came from NAP_PEER_LON; jambonz and plivo passed it on" in out
    assert "<< the failure began here" in out
    assert "same SIP Call-ID" in out and "Routing: " in out


def test_show_jambonz_prints_the_span_tree(capsys):
    _, out, _ = run_cli(
        capsys, "calls", "--demo", "--account", "demo-jambonz", "--limit", "50", "--format", "json"
    )
    calls = [c for c in json.loads(out) if (c["raw"].get("trace_id") or "0").strip("0")]
    assert calls, "the simulator serves traces for jambonz calls"
    code, out, _ = run_cli(capsys, "show", "--demo", "--account", "demo-jambonz", calls[0]["id"])
    assert code == 0
    spans = json.loads(out)["trace"]["spans"]
    assert spans and all(
        set(s) == {"span_id", "parent_id", "name", "start_ns", "end_ns", "attributes"}
        for s in spans
    )
    code, out, _ = run_cli(
        capsys, "show", "--demo", "--account", "demo-jambonz", calls[0]["id"], "--format", "text"
    )
    assert "TRACE" in out


def test_unknown_account_and_bad_filter_exit_2_naming_the_field(capsys):
    code, _, err = run_cli(capsys, "calls", "--demo", "--account", "nope")
    assert code == 2 and "--account" in err and "nope" in err
    code, _, err = run_cli(capsys, "calls", "--demo", "--since", "yesterday")
    assert code == 2 and "since:" in err


def test_provider_error_exits_1_with_one_line_naming_the_account(capsys, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(
        '[accounts.dead]\nprovider = "restcomm"\nbase_url = "http://127.0.0.1:9/restcomm"\n'
        'account_sid = "AC1"\nauth_token = "secret-token-xyz"\ntimeout_s = 2\n'
    )
    config.chmod(0o600)
    code, out, err = run_cli(capsys, "calls", "--config", str(config))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calltui: dead: ") and "refused" in lines[0]
    assert "secret-token-xyz" not in err + out


def test_config_init_check_path(capsys, tmp_path):
    path = tmp_path / "cfg" / "config.toml"
    assert run_cli(capsys, "config", "path", "--config", str(path))[1].strip() == str(path)
    code, out, _ = run_cli(capsys, "config", "init", "--config", str(path))
    assert code == 0 and os.stat(path).st_mode & 0o777 == 0o600
    code, out, _ = run_cli(capsys, "config", "check", "--config", str(path))
    assert code == 0 and "ok, 0 account(s)" in out
    assert run_cli(capsys, "config", "init", "--config", str(path))[0] == 2


def test_no_config_suggests_the_demo_too(capsys, tmp_path):
    code, _, err = run_cli(capsys, "calls", "--config", str(tmp_path / "absent.toml"))
    assert code == 2 and len(err.splitlines()) == 1
    assert "calltui config init" in err and "calltui --demo" in err


def test_demo_keeps_the_users_display_and_alerts_and_never_reads_their_accounts(
    capsys, tmp_path, fixed_clock
):
    marker = tmp_path / "secret-command-ran"
    config = tmp_path / "mine.toml"
    config.write_text(
        '[display]\ntimezone = "Asia/Tokyo"\n[keys]\nfailed_only = "z"\n'
        "[alerts]\nmin_attempts = 3\n"
        f'[accounts.real]\nprovider = "tmedia"\nbase_url = "https://h"\nusername = "u"\n'
        f'password_cmd = "touch {marker}"\n'
    )
    config.chmod(0o600)
    code, out, _ = run_cli(
        capsys, "--demo", "--config", str(config), "calls", "--limit", "1", "--format", "table"
    )
    _, utc, _ = run_cli(capsys, "--demo", "calls", "--limit", "1", "--format", "table")
    assert code == 0 and "real" not in out and not marker.exists()
    tokyo_hour = int(out.splitlines()[1].split()[1][:2])
    utc_hour = int(utc.splitlines()[1].split()[1][:2])
    assert tokyo_hour == (utc_hour + 9) % 24

    from calltui.config import with_accounts
    from calltui.sim.demo import demo_accounts

    settings = with_accounts(config, demo_accounts())
    assert settings.keys == {"failed_only": "z"} and settings.alerts.min_attempts == 3
    assert set(settings.accounts) == set(demo_accounts()) and not marker.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readmes_config_for_calltui_simulate_serves_what_demo_serves(tmp_path, capsys):
    from calltui.sim.demo import demo_config

    port = _free_port()
    env = {**os.environ, "CALLTUI_SIM_NOW": SIM_NOW}
    server = subprocess.Popen(
        [sys.executable, "-m", "calltui.cli", "simulate", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert "serving" in server.stdout.readline()
        # It prints a config of its demo accounts, pointed at itself.
        printed = demo_config(f"http://127.0.0.1:{port}")
        lines = [server.stdout.readline() for _ in range(2 + printed.count("\n") + 1)]
        assert "as a config" in lines[0] and "".join(lines[2:]).strip() == printed.strip()
        # The README's own config for the simulator: what it tells a newcomer works.
        readme = (Path(__file__).parents[1] / "README.md").read_text()
        block = next(b for b in readme.split("```toml")[1:] if "[accounts.sim-tmedia]" in b)
        accounts = block.split("```")[0].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        config = tmp_path / "config.toml"
        config.write_text('[display]\ntimezone = "UTC"\n' + accounts)
        config.chmod(0o600)
        window = ["--since", "2026-11-20T12:30:00+00:00", "--until", SIM_NOW]
        args = ["calls", *window, "--all", "--format", "ndjson"]
        code, over_socket, err = run_cli(capsys, *args, "--config", str(config))
        assert code == 0, err
        code, in_process, _ = run_cli(capsys, *args, "--demo")
        assert code == 0
        # Records that carry resource URLs name the host they were fetched from.
        over_socket = over_socket.replace(f"http://127.0.0.1:{port}", SIM_HOST)
        over_socket = over_socket.replace('"account":"sim-', '"account":"demo-')
        assert over_socket == in_process and over_socket.count("\n") > 100
        config.write_text('[display]\ntimezone = "UTC"\n' + printed)
        code, printed_lists, _ = run_cli(capsys, *args, "--config", str(config))
        assert code == 0
        assert printed_lists.replace(f"http://127.0.0.1:{port}", SIM_HOST) == in_process
    finally:
        server.terminate()
        server.wait(timeout=5)


def test_version(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.startswith("calltui ")


COLLECTIONS_WHILE_IMPORTING = """
import gc, sys
seen = []
started = False
def note(phase, info):
    if phase == "start" and started:
        cli = sys.modules.get("calltui.cli")
        seen.append("during" if cli is None or not hasattr(cli, "main") else "after")
gc.callbacks.append(note)
sys.argv = ["calltui", "--version"]
from calltui.__main__ import main
started = True
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
import gc as again
import os
# pydantic reads it as each model is built: "__all__" is none of its plugins at all.
plugins = "no plugins" if os.environ.get("PYDANTIC_DISABLE_PLUGINS") == "__all__" else "plugins"
print("collecting" if again.isenabled() else "off", seen.count("during"), plugins)
"""


def test_the_command_imports_its_modules_with_the_collector_off_and_no_pydantic_plugin():
    # Some hundred collections set off by the imports found nothing to free; a command itself
    # (here --version) runs with the collector on as always. A pydantic plugin would be handed
    # the config's secrets as they are validated.
    done = subprocess.run(
        [sys.executable, "-c", COLLECTIONS_WHILE_IMPORTING],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines()[-1] == "collecting 0 no plugins"


def test_the_installed_command_is_the_entry_point_that_keeps_the_collector_off():
    scripts = tomllib.loads(Path("pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"calltui": "calltui.__main__:main"}
