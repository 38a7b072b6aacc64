"""Hostile configs, command lines and files (issue 13): what a user's config, environment or
working directory may hold must never reach the terminal raw, redirect a write, or end in a
traceback.

- Account names are data: shown inert in CLI error lines, `config check` and the palette.
- Files the TUI writes (bundle, pcap, F2's CSV) are new files, 0600, never through a link.
- Every subcommand meets every bad input with one line naming the field and the right exit
  code; output into a closed pipe ends quietly.
- `config check` finds what would break later; an account whose secret cannot be read fails
  alone; a config others could read or swap draws a warning on every command.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from calltui import cli_source
from calltui.config import check_proxies, load_settings, parse_settings
from calltui.files import create_private
from calltui.handoff import save_pcap, write_bundle
from calltui.model import Call, CallDetail, CallQuery, Outcome
from calltui.sim.app import SimApp
from calltui.sim.demo import DEMO_ACCOUNTS, demo_accounts, demo_settings
from calltui.tui.app import CallTUI
from calltui.tui.commands import system_commands
from calltui.tui.screens.main import MainScreen
from calltui.tui.widgets.sidebar import Sidebar
from calltui.tui.widgets.status import StatusLine
from tests.conftest import FIXED_NOW, run_cli
from tests.tui.harness import settle

HOSTILE = "a\x1b]0;pwned\x07b\x1b[2J"
"""An account name that would retitle the terminal and clear it."""
SHOWN = "ab"
"""The same name as calltui shows it (calltui.text.inert)."""
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
WINDOW = ("--since", "2026-11-20T13:30:00+00:00", "--until", FIXED_NOW.isoformat())
PLIVO = {"provider": "plivo", "auth_id": "MA1", "auth_token": "tok-123456"}


def toml_value(v: Any) -> str:
    if isinstance(v, str):
        return '"' + "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in v) + '"'
    return str(v).lower() if isinstance(v, bool) else str(v)


def config_of(path: Path, accounts: dict[str, dict[str, Any]], extra: str = "") -> Path:
    lines = [extra]
    for name, acc in accounts.items():
        lines.append(f"[accounts.{toml_value(name)}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in acc.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def to_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimApp]:
    """A config's accounts reach the in-process simulator (on FIXED_NOW)."""
    sim = SimApp(seed=1, now=FIXED_NOW)
    monkeypatch.setattr(cli_source, "CONFIG_TRANSPORT", httpx.ASGITransport(app=sim))
    yield sim


# --- 1. account names are data ---------------------------------------------------------------


def test_an_account_name_with_escapes_is_inert_in_error_lines_and_config_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cli_source,
        "CONFIG_TRANSPORT",
        httpx.ASGITransport(app=SimApp(seed=1, now=FIXED_NOW, faults="401")),
    )
    plivo = demo_accounts()["demo-plivo"]
    config = config_of(tmp_path / "c.toml", {HOSTILE: plivo})
    code, out, err = run_cli(capsys, "calls", "--config", str(config), *WINDOW)
    assert code == 1 and err.startswith(f"calltui: {SHOWN}: HTTP 401") and not RAW.search(err)
    code, out, err = run_cli(capsys, "config", "check", "--config", str(config))
    assert code == 0 and f"  {SHOWN} " in out and not RAW.search(out + err)
    unset = {"provider": "plivo", "auth_id": "MA1", "auth_token_env": "NOPE_UNSET"}
    gone = config_of(tmp_path / "gone.toml", {HOSTILE: unset})
    for argv in (("calls",), ("config", "check"), ()):
        code, out, err = run_cli(capsys, *argv, "--config", str(gone))
        assert code == 2 and f"accounts.{SHOWN}.auth_token_env" in err, argv
        assert not RAW.search(out + err), argv
    typo = config_of(tmp_path / "typo.toml", {HOSTILE: {**PLIVO, "colour": 1}})
    code, _, err = run_cli(capsys, "calls", "--config", str(typo))
    assert code == 2 and f"accounts.{SHOWN}.colour: unknown key" in err and not RAW.search(err)


async def test_an_account_name_with_escapes_is_inert_in_the_palette_and_sidebar() -> None:
    accounts = demo_accounts()
    settings = parse_settings(
        {"accounts": {"demo-plivo": accounts["demo-plivo"], HOSTILE: accounts["demo-jambonz"]}},
        Path("<test>"),
    )
    sim = SimApp(seed=1, now=FIXED_NOW)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1))
    app = CallTUI(settings, transport=httpx.ASGITransport(app=sim), query=query, now=FIXED_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        entries = list(system_commands(app, screen, app.keymap))
        titles = [str(e.title) for e in entries] + [str(e.help) for e in entries]
        assert f"Accounts: {SHOWN}" in titles and f"List calls of {SHOWN} only" in titles
        assert not any(RAW.search(t) for t in titles)
        sidebar = screen.query_one(Sidebar)
        prompts = [sidebar.label(i).plain for i in range(sidebar.count)]
        assert any(p.endswith(SHOWN) for p in prompts) and not any(RAW.search(p) for p in prompts)


# --- 2. files written by the TUI ---------------------------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_create_private_is_new_0600_and_never_through_a_link(tmp_path: Path, umask_022: None):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    with pytest.raises(FileExistsError):
        create_private(link)
    (tmp_path / "dangling.json").symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):
        create_private(tmp_path / "dangling.json")
    assert not (tmp_path / "nowhere").exists() and victim.read_text() == "keep"
    path, f = create_private(link, free_name=True)
    with f:
        f.write(b"data")
    assert path == tmp_path / "out-1.json" and stat.S_IMODE(path.stat().st_mode) == 0o600
    path, f = create_private(link, free_name=True)
    f.close()
    assert path == tmp_path / "out-2.json"


class _Capture:
    """An adapter that serves a capture (a PcapSource), as jambonz does."""

    name = "jambonz"

    async def pcap(self, sip_call_id: str) -> bytes:
        return b"\xd4\xc3\xb2\xa1capture"


async def test_bundle_and_pcap_never_write_through_a_link_planted_under_the_call_id(
    tmp_path: Path, umask_022: None
) -> None:
    victim = tmp_path / "authorized_keys"
    victim.write_text("keep")
    call = Call("jambonz", "acc", "c-1", FIXED_NOW, Outcome.FAILED, {}, sip_call_id="sip-1")
    (tmp_path / "calltui-jambonz-c-1.json").symlink_to(victim)
    (tmp_path / "callid-sip-1.pcap").symlink_to(victim)
    settings = demo_settings()
    bundle = write_bundle(CallDetail(call), tmp_path, settings=settings, now=FIXED_NOW)
    pcap = await save_pcap(_Capture(), call, tmp_path)  # type: ignore[arg-type]
    assert victim.read_text() == "keep"
    assert (bundle.name, pcap.name) == ("calltui-jambonz-c-1-1.json", "callid-sip-1-1.pcap")
    again = write_bundle(CallDetail(call), tmp_path, settings=settings, now=FIXED_NOW)
    assert again.name == "calltui-jambonz-c-1-2.json" and bundle.read_text() == again.read_text()
    for path in (bundle, pcap, again):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):  # a file named by the caller is never replaced
        write_bundle(CallDetail(call), bundle, settings=settings, now=FIXED_NOW)


async def test_f2_saves_a_private_csv_and_a_second_save_beside_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_022: None
) -> None:
    from tests.tui.harness import make_app

    monkeypatch.chdir(tmp_path)
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await pilot.press("f2")
        await pilot.pause(0.1)
    saved = sorted(tmp_path.glob("calltui-*.csv"))
    assert [p.name for p in saved] == [
        "calltui-20261120-140000-1.csv",
        "calltui-20261120-140000.csv",
    ]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in saved)
    assert saved[0].read_text() == saved[1].read_text()


def test_the_debug_log_is_never_written_through_a_link(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CALLTUI_LOG is appended to, so it may exist; but a link planted under its name is
    refused in one line, and what it points at stays as it was."""
    target = tmp_path / "target"
    target.write_text("keep\n")
    (tmp_path / "calltui.log").symlink_to(target)
    monkeypatch.setenv("CALLTUI_LOG", str(tmp_path / "calltui.log"))
    code, _, err = run_cli(capsys, "calls", "--demo", "--limit", "1")
    assert code == 2 and err.startswith("calltui: CALLTUI_LOG: cannot open the log: "), err
    assert err.count("\n") == 1
    assert target.read_text() == "keep\n"


# --- 3. no tracebacks, ever --------------------------------------------------------------------

SOCKS_MISSING = importlib.util.find_spec("socksio") is None
BAD_CONFIGS: dict[str, tuple[str, dict[str, str], str]] = {
    # name: (the account's extra TOML, environment, what the one line names)
    "cmd prints bytes that are not UTF-8": (
        "auth_token_cmd = \"printf '\\\\377\\\\376'\"",
        {},
        "accounts.a.auth_token_cmd: the command printed what is not UTF-8 text",
    ),
    "cmd prints the secret and notes": (
        "auth_token_cmd = \"printf 'tok\\\\nnotes'\"",
        {},
        "accounts.a.auth_token_cmd: the secret holds a line break",
    ),
    "cmd holds a NUL": ('auth_token_cmd = "a\\u0000b"', {}, "accounts.a.auth_token_cmd"),
    "base_url with CRLF": (
        'auth_token = "t"\nbase_url = "https://h.example\\r\\nX-Injected: 1"',
        {},
        "accounts.a.base_url: must not hold spaces",
    ),
    "base_url with %40 in the host": (
        'auth_token = "t"\nbase_url = "https://user%40h.example"',
        {},
        "accounts.a.base_url: 'user%40h.example' is not a host name",
    ),
    "port 99999": (
        'auth_token = "t"\nbase_url = "https://h.example:99999"',
        {},
        "accounts.a.base_url: the port must be a number from 1 to 65535",
    ),
    "rate_limit = inf": ('auth_token = "t"\nrate_limit = inf', {}, "accounts.a.rate_limit"),
    "timeout_s = nan": ('auth_token = "t"\ntimeout_s = nan', {}, "accounts.a.timeout_s"),
    "misspelt secret key": ('auth_tokn_env = "X"', {}, "accounts.a.auth_tokn_env: unknown key"),
    "a secret given twice": (
        'auth_token = "t"\nauth_token_env = "HOME"',
        {},
        "accounts.a.auth_token_env: give one of auth_token and auth_token_env",
    ),
    "a file: proxy": ('auth_token = "t"', {"HTTPS_PROXY": "file:/etc/passwd"}, "HTTPS_PROXY"),
    "a socks4:// proxy": ('auth_token = "t"', {"all_proxy": "socks4://10.0.0.1:1080"}, "all_proxy"),
    "a proxy on port 99999": ('auth_token = "t"', {"HTTP_PROXY": "proxy:99999"}, "HTTP_PROXY"),
}
if SOCKS_MISSING:
    BAD_CONFIGS["a socks5:// proxy without socksio"] = (
        'auth_token = "t"',
        {"ALL_PROXY": "socks5://127.0.0.1:1080"},
        "ALL_PROXY (environment): a SOCKS proxy needs the socksio package",
    )
EVERY_COMMAND = {
    "calls": ("calls",),
    "show": ("show", "--account", "a", "some-id"),
    "stats": ("stats",),
    "config check": ("config", "check"),
    "the TUI": (),
}


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", EVERY_COMMAND)
@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_every_command_meets_a_bad_config_with_one_line_naming_the_field(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    command: str,
) -> None:
    extra, env, named = BAD_CONFIGS[case]
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    config = tmp_path / "config.toml"
    config.write_text(f'[accounts.a]\nprovider = "plivo"\nauth_id = "MA1"\n{extra}\n')
    config.chmod(0o600)
    code, _, err = run_cli(capsys, *EVERY_COMMAND[command], "--config", str(config))
    assert code == 2
    assert named in one_line(err)


def test_a_config_file_that_is_not_utf8_is_one_line(capsys, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'[display]\ntheme = "\xff\xfe"\n')
    for argv in EVERY_COMMAND.values():
        code, _, err = run_cli(capsys, *argv, "--config", str(config))
        assert code == 2 and "not UTF-8" in one_line(err)


def _busy_port() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


@pytest.mark.parametrize(
    ("argv", "code", "named"),
    [
        (("simulate", "--port", "99999"), 2, "--port: '99999' is not a port number"),
        (("simulate", "--port", "0"), 2, "--port"),
        (("simulate", "--host", "no-such-host.invalid"), 2, "cannot listen on no-such-host"),
        (("calls", "--config", "/nonexistent/calltui.toml"), 2, "no such file"),
        (("calls", "--demo", "--limit", "x"), 2, "--limit"),
        # Not on a terminal (capsys stands for a file): no screen drawn into it.
        (("--demo",), 2, "the TUI needs a terminal; for scripts: calltui calls, stats or show"),
    ],
)
def test_other_bad_command_lines_are_one_line(capsys, argv, code, named) -> None:
    got, _, err = run_cli(capsys, *argv)
    assert got == code and named in err.strip().splitlines()[-1] and "Traceback" not in err


def test_simulate_on_a_port_in_use_is_one_line(capsys) -> None:
    with _busy_port() as s:
        port = s.getsockname()[1]
        code, _, err = run_cli(capsys, "simulate", "--port", str(port))
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}: " in one_line(err)


def test_config_init_over_a_dangling_link_is_refused(capsys, tmp_path: Path) -> None:
    link = tmp_path / "config.toml"
    link.symlink_to(tmp_path / "elsewhere.toml")
    code, _, err = run_cli(capsys, "config", "init", "--config", str(link))
    assert code == 2 and "already exists" in one_line(err)
    assert not (tmp_path / "elsewhere.toml").exists()


def test_show_of_an_id_with_control_characters_prints_no_traceback(capsys, fixed_clock) -> None:
    code, _, err = run_cli(
        capsys, "show", "--demo", "--account", "demo-tmedia", "\x1b[2J0x1\r\n", "--format", "text"
    )
    assert "Traceback" not in err and code in (0, 1, 2) and not RAW.search(err)


def test_proxies_the_http_client_can_use_pass() -> None:
    for value in (
        "http://proxy:3128",
        "proxy.corp:3128",
        "https://u:p@proxy:443",
        "http://[::1]:8",
    ):
        check_proxies({"HTTPS_PROXY": value})


def _into_closed_pipe(args: list[str], read_lines: int) -> tuple[int, bytes]:
    env = {**os.environ, "CALLTUI_SIM_NOW": FIXED_NOW.isoformat()}
    p = subprocess.Popen(
        [sys.executable, "-m", "calltui.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert p.stdout is not None and p.stderr is not None
    for _ in range(read_lines):
        assert p.stdout.readline()
    p.stdout.close()  # `| head -N` has what it wanted and exits
    err = p.stderr.read()
    return p.wait(timeout=120), err


@pytest.mark.parametrize(
    ("args", "read_lines"),
    [
        (["calls", "--demo", "--limit", "3000", "--format", "ndjson"], 1),
        (["stats", "--demo"], 0),
        (["--demo", "calls", "--limit", "50", "--format", "csv"], 0),
    ],
)
def test_output_into_a_closed_pipe_ends_quietly_as_yes_does(args: list[str], read_lines: int):
    code, err = _into_closed_pipe(args, read_lines)
    assert (err, code) == (b"", 141)  # 128 + SIGPIPE: what the shell reports of `yes | head`


# --- 4. config check finds what breaks later ----------------------------------------------------


def test_global_options_come_before_the_subcommand(capsys, tmp_path: Path, fixed_clock) -> None:
    config = config_of(tmp_path / "c.toml", {"p": PLIVO})
    code, out, _ = run_cli(capsys, "--config", str(config), "config", "check")
    assert code == 0 and "ok, 1 account(s)" in out
    code, out, _ = run_cli(capsys, "--demo", "calls", "--limit", "2", "--format", "ndjson")
    assert code == 0 and out.count("\n") == 2


def test_config_check_reports_theme_keys_and_clashes(capsys, tmp_path: Path) -> None:
    extra = '[display]\ntheme = "calltui-drak"\n[keys]\nfailed_only = "q"\nfaild_only = "z"\n'
    config = config_of(tmp_path / "c.toml", {"p": PLIVO}, extra)
    code, out, err = run_cli(capsys, "config", "check", "--config", str(config))
    assert code == 2 and "3 problem(s)" in out
    where = f"calltui: {config}: "
    assert err.splitlines() == [
        where + "display.theme: no theme 'calltui-drak' (did you mean calltui-dark?)",
        where + "keys.faild_only: no binding has this id (did you mean failed_only?)",
        where + "keys.failed_only: 'q' is also the key of quit",
    ]
    # A remap onto a free key, and the defaults' own overlaps (q goes back in the detail), pass.
    fine = config_of(tmp_path / "ok.toml", {"p": PLIVO}, '[keys]\nfailed_only = "f,ctrl+z"\n')
    code, out, err = run_cli(capsys, "config", "check", "--config", str(fine))
    assert (code, err) == (0, "") and "ok, 1 account(s)" in out


def test_one_account_with_a_missing_secret_fails_alone_in_the_cli(
    capsys, tmp_path: Path, to_sim: SimApp
) -> None:
    gone = {"provider": "plivo", "auth_id": "MA1", "auth_token_env": "NOPE_UNSET"}
    config = config_of(tmp_path / "c.toml", {"gone": gone, **demo_accounts()})
    named = f"calltui: {config}: accounts.gone.auth_token_env: environment variable NOPE_UNSET"
    code, out, err = run_cli(
        capsys, "calls", "--config", str(config), *WINDOW, "--format", "ndjson"
    )
    assert code == 1 and err.splitlines() == [named + " is not set"]
    assert out.count("\n") == 100 and '"account":"gone"' not in out
    code, out, err = run_cli(capsys, "stats", "--config", str(config), *WINDOW, "--format", "json")
    assert code == 1 and err.startswith(named) and '"gone"' not in out
    for argv in (("calls", "--account", "gone"), ("show", "--account", "gone", "x")):
        code, _, err = run_cli(capsys, *argv, "--config", str(config))
        assert code == 2 and one_line(err).startswith(named), argv
    code, out, err = run_cli(capsys, "config", "check", "--config", str(config))
    assert code == 2 and one_line(err).startswith(named) and "1 problem(s)" in out
    assert re.search(r"^  gone +plivo .* secret unreadable$", out, re.M)


async def test_one_account_with_a_missing_secret_fails_alone_in_the_tui(tmp_path: Path) -> None:
    gone = {"provider": "plivo", "auth_id": "MA1", "auth_token_cmd": "exit 4"}
    settings = load_settings(config_of(tmp_path / "c.toml", {"gone": gone, **demo_accounts()}))
    sim = SimApp(seed=1, now=FIXED_NOW)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1))
    app = CallTUI(settings, transport=httpx.ASGITransport(app=sim), query=query, now=FIXED_NOW)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        states = screen.session.engine.states
        assert states["gone"].status == "error"
        assert all(states[name].status == "ok" for name in DEMO_ACCOUNTS)
        assert len(screen.session.store) > 0
        line = str(screen.query_one(StatusLine).render())
        assert "✖ gone: accounts.gone.auth_token_cmd: the command failed with exit status 4" in line
        sidebar = screen.query_one(Sidebar)
        prompts = [sidebar.label(i).plain for i in range(sidebar.count)]
        assert "✖ gone" in prompts
        await pilot.press("R")  # tried again on demand: fails the same way, nothing sent
        await settle(pilot)
        assert states["gone"].status == "error"


# --- 5. warnings the README promises -----------------------------------------------------------


COMMANDS = (
    ("calls", *WINDOW, "--limit", "1"),
    ("stats", *WINDOW),
    ("show", "--account", "demo-plivo", "no-such-call"),
    ("config", "check"),
)
"""One of each kind of command: each reads the config first."""


def test_a_config_others_can_read_warns_on_every_command(
    capsys, tmp_path: Path, to_sim: SimApp
) -> None:
    config = config_of(tmp_path / "c.toml", {"demo-plivo": demo_accounts()["demo-plivo"]})
    config.chmod(0o640)
    for argv in COMMANDS:
        _, _, err = run_cli(capsys, *argv, "--config", str(config))
        assert "calltui: warning: " in err and f"chmod 600 {config}" in err, argv


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o707, 0o720, 0o702])
def test_a_config_in_a_folder_others_can_write_warns(
    capsys, tmp_path: Path, to_sim: SimApp, mode: int
) -> None:
    """On every command, whoever may write: the group, the others or both."""
    shared = tmp_path / "shared"
    shared.mkdir()
    config = config_of(shared / "c.toml", {"demo-plivo": demo_accounts()["demo-plivo"]})
    shared.chmod(mode)
    for argv in COMMANDS:
        _, _, err = run_cli(capsys, *argv, "--config", str(config))
        assert f"calltui: warning: {shared}: writable by group or others" in err, argv
        assert "replace c.toml and the commands it runs" in err, argv
    shared.chmod(mode | 0o1000)  # sticky, as /tmp: others cannot replace the file
    assert run_cli(capsys, "config", "check", "--config", str(config))[2] == ""
