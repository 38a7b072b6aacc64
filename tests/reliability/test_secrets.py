"""No secret reaches any output: every channel calltui writes to is collected while five accounts
with secrets (given as values, `_env` and `_cmd`) talk to the simulator on a socket, and each is
scanned for every secret, its base64 form alone and as HTTP Basic credentials.

Channels: the CLI's stdout and stderr (calls in every format, show, stats, config check and path),
its error messages (wrong secrets; the simulator's 401, 403, 404, 429, 500, HTML, malformed,
truncated and empty answers; a server that echoes the credentials it got), the request log
(CALLTUI_LOG) and Python logging at DEBUG, exports (CSV, JSON, NDJSON; the redacted bundle),
screenshots (`make screenshots` and the TUI on these accounts: main, detail, help, errors),
copy-as-curl (handoff.curl_for and the detail screen's `c`), and the settings' own reprs.
A `_cmd` that fails is reported without its output.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from calltui import cli, export, handoff
from calltui.config import Settings, load_settings
from calltui.engine import Engine
from calltui.model import CallQuery
from calltui.sim.app import SimApp
from calltui.sim.demo import DEMO_ACCOUNTS, demo_accounts
from tests.conftest import FIXED_NOW
from tests.reliability.test_hostile import WINDOW, serving, write_config

# The simulator accepts only its demo credentials: they are the secrets, given every way a
# config may give them.
ENV = {
    "CALLTUI_TEST_TMEDIA_PASSWORD": DEMO_ACCOUNTS["demo-tmedia"]["password"],
    "CALLTUI_TEST_RESTCOMM_TOKEN": DEMO_ACCOUNTS["demo-restcomm"]["auth_token"],
}
HOW = {
    "demo-tmedia": {"password_env": "CALLTUI_TEST_TMEDIA_PASSWORD"},
    "demo-plivo": {"auth_token_cmd": f"printf %s {DEMO_ACCOUNTS['demo-plivo']['auth_token']}"},
    "demo-bandwidth": {
        "api_token": DEMO_ACCOUNTS["demo-bandwidth"]["api_token"],
        "api_secret_cmd": f"echo {DEMO_ACCOUNTS['demo-bandwidth']['api_secret']}",
    },
    "demo-restcomm": {"auth_token_env": "CALLTUI_TEST_RESTCOMM_TOKEN"},
    "demo-jambonz": {"api_key": DEMO_ACCOUNTS["demo-jambonz"]["api_key"]},
}
SECRET_KEYS = ("password", "auth_token", "api_token", "api_secret", "api_key")
# Wrong ones, for the error paths: distinctive, and never accepted.
WRONG = {
    "demo-tmedia": {"password": "S3cr3t-tmedia-WRONG-7a1"},
    "demo-plivo": {"auth_token": "S3cr3t-plivo-WRONG-7a2"},
    "demo-bandwidth": {"api_token": "S3cr3t-bw-token-WRONG", "api_secret": "S3cr3t-bw-WRONG-7a3"},
    "demo-restcomm": {"auth_token": "S3cr3t-restcomm-WRONG-7a4"},
    "demo-jambonz": {"api_key": "S3cr3t-jambonz-WRONG-7a5"},
}
BASIC_USER = {"tmedia": "username", "plivo": "auth_id", "bandwidth": "api_token"}
BASIC_USER |= {"restcomm": "account_sid"}
CMD_OUTPUT = ("leaked-by-stdout-5f2", "leaked-by-stderr-5f3")


def accounts_with(base: str, secrets: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    out = {}
    for name, acc in demo_accounts(base).items():
        plain = {k: v for k, v in acc.items() if k not in SECRET_KEYS}
        out[name] = {**plain, **(secrets or HOW)[name], "rate_limit": 100}
    return out


def forms(settings: Settings) -> list[str]:
    """Every secret of `settings`, alone, in base64, and as the HTTP Basic credentials."""
    out = []
    for acc in settings.accounts.values():
        for secret in acc.secrets():
            out += [secret, _b64(secret)]
        user_key = BASIC_USER.get(acc.provider)
        if user_key is not None:
            user = getattr(acc, user_key)
            user = user.get_secret_value() if hasattr(user, "get_secret_value") else user
            password = acc.secrets()[-1]
            out.append(_b64(f"{user}:{password}"))
    return out


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


# --- collecting every channel -------------------------------------------------------------------


def cli_run(*argv: str) -> tuple[str, str]:
    """stdout and stderr of `calltui ARGV`."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit):
        cli.main(list(argv))
    return out.getvalue(), err.getvalue()


class Channels(dict[str, str]):
    """Text written to each channel, by name."""

    def add(self, name: str, *texts: str) -> None:
        self[name] = self.get(name, "") + "".join(texts)


@contextmanager
def debug_logging(into: io.StringIO) -> Iterator[None]:
    handler = logging.StreamHandler(into)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger("calltui")
    saved = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> tuple[Channels, list[str]]:
    """Every output of a session with the secret accounts, and the secrets (all forms)."""
    tmp = tmp_path_factory.mktemp("secrets")
    ch = Channels()
    logged = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, debug_logging(logged):
        for k, v in ENV.items():
            mp.setenv(k, v)
        mp.setenv("CALLTUI_LOG", str(tmp / "requests.log"))
        with serving(SimApp(seed=1, now=FIXED_NOW, enforce_rate_limits=False)) as base:
            config = write_config(tmp / "config.toml", accounts_with(base), timezone="UTC")
            settings = load_settings(config)
            secrets = forms(settings)
            _cli(ch, config)
            _exports(ch, settings, tmp)
            _tui(ch, settings)
            wrong = write_config(tmp / "wrong.toml", accounts_with(base, WRONG))
            secrets += forms(load_settings(wrong))
            for argv in (
                ("calls", *WINDOW, "--format", "table"),
                ("calls", *WINDOW, "--format", "json"),
                ("show", "--account", "demo-plivo", "x"),
                ("show", "--account", "demo-tmedia", "0x00000010"),
            ):
                ch.add("cli errors: wrong secrets", *cli_run(*argv, "--config", str(wrong)))
        for i, faults in enumerate(FAULTS):
            with serving(SimApp(seed=1, now=FIXED_NOW, faults=faults)) as base:
                config = write_config(tmp / f"faults{i}.toml", accounts_with(base))
                ch.add("cli errors: faults", *cli_run("calls", "--config", str(config), *WINDOW))
        ch.add(
            "error messages (engine, as the TUI shows them): an echoing server",
            _echoing_server(settings),
        )
        ch.add("debug log (CALLTUI_LOG)", (tmp / "requests.log").read_text(encoding="utf-8"))
    ch.add("debug log (Python logging)", logged.getvalue())
    ch.add("screenshots (make screenshots)", _make_screenshots(tmp / "shots"))
    ch.add("settings reprs", "\n".join((repr(settings), str(settings), settings.model_dump_json())))
    return ch, secrets


# Each run gives each account another fault (the first of each account's retries included).
FAULTS = (
    "401@tmedia,403@plivo,404@bandwidth,malformed@restcomm,truncated@jambonz",
    "500@tmedia,html@plivo,429@bandwidth,empty@restcomm,403@jambonz",
)


def _cli(ch: Channels, config: Path) -> None:
    c = ("--config", str(config))
    for fmt in ("table", "csv", "json", "ndjson"):
        ch.add(
            f"cli calls --format {fmt}", *cli_run("calls", *c, *WINDOW, "--all", "--format", fmt)
        )
    ndjson = ch["cli calls --format ndjson"].splitlines()
    listing = [json.loads(line) for line in ndjson if line.startswith("{")]
    for account in demo_accounts():
        call_id = next(r["id"] for r in listing if r["account"] == account)
        for fmt in ("text", "json"):
            argv = ("show", *c, "--account", account, call_id, "--format", fmt)
            ch.add(f"cli show --format {fmt}", *cli_run(*argv))
    if "stats" in cli.SUBCOMMANDS:
        for fmt in ("table", "json"):
            ch.add(f"cli stats --format {fmt}", *cli_run("stats", *c, *WINDOW, "--format", fmt))
    ch.add("cli config check", *cli_run("config", "check", *c))
    ch.add("cli config path", *cli_run("config", "path", *c))


def _exports(ch: Channels, settings: Settings, tmp: Path) -> None:
    async def run() -> None:
        engine = Engine(settings)
        try:
            query = CallQuery(since=FIXED_NOW - timedelta(hours=1), until=FIXED_NOW)
            records = await engine.collect(list(settings.accounts), query, 200)
            for fn in (export.to_csv, export.to_json, export.to_ndjson):
                out = io.StringIO()
                fn(records, out)
                ch.add("exports (csv, json, ndjson)", out.getvalue())
            for account in settings.accounts:
                call = next(c for c in records if c.account == account)
                ch.add("copy-as-curl", handoff.curl_for(engine.provider(account), call) + "\n")
                detail = await engine.detail(account, call.id)
                path = handoff.write_bundle(detail, tmp, settings=settings)
                ch.add("exports (redacted bundle)", path.read_text(encoding="utf-8"))
        finally:
            await engine.aclose()

    asyncio.run(run())


def _tui(ch: Channels, settings: Settings) -> None:
    """The TUI on the secret accounts: each screen's screenshot, and what `c` copies."""
    from calltui.tui.app import CallTUI
    from tests.tui.harness import settle

    async def run() -> None:
        for accounts in ([], *([a] for a in settings.accounts)):
            app = CallTUI(
                settings,
                query=CallQuery(since=FIXED_NOW - timedelta(hours=1), until=FIXED_NOW),
                accounts=accounts,
                now=FIXED_NOW,
            )
            async with app.run_test(size=(140, 40), notifications=True) as pilot:
                await settle(pilot)
                ch.add("screenshots (TUI)", app.export_screenshot())
                if not accounts:
                    await pilot.press("question_mark")
                    await pilot.pause(0.1)
                    ch.add("screenshots (TUI)", app.export_screenshot())
                    continue
                await pilot.press("enter")
                await settle(pilot)
                for key in ("1", "2", "3"):
                    await pilot.press(key)
                    await settle(pilot)
                    ch.add("screenshots (TUI)", app.export_screenshot())
                await pilot.press("c")
                await pilot.pause(0.1)
                ch.add("copy-as-curl", app.clipboard + "\n")
                ch.add("screenshots (TUI)", app.export_screenshot())

    asyncio.run(run())


def _echoing_server(settings: Settings) -> str:
    """Errors from a server that puts the credentials it received in its error body."""

    def echo(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        decoded = base64.b64decode(value).decode() if scheme.lower() == "basic" else value
        text = f"bad credentials {auth} ({decoded})"
        return httpx.Response(401, json={"message": text, "msg": text, "error": text})

    async def run() -> str:
        engine = Engine(settings, transport=httpx.MockTransport(echo))
        try:
            query = CallQuery(since=FIXED_NOW - timedelta(hours=1), until=FIXED_NOW)
            await engine.collect(list(settings.accounts), query, 10)
            return "\n".join(str(e) for e in engine.errors())
        finally:
            await engine.aclose()

    return asyncio.run(run())


def _make_screenshots(out: Path) -> str:
    """`make screenshots`: the demo, whose accounts carry the simulator's credentials."""
    from tests.tui.screenshots import shoot

    return "".join(p.read_text(encoding="utf-8") for p in asyncio.run(shoot(out)))


# --- the tests ----------------------------------------------------------------------------------

CHANNELS = [
    *(f"cli calls --format {f}" for f in ("table", "csv", "json", "ndjson")),
    "cli show --format text",
    "cli show --format json",
    "cli stats --format table",
    "cli stats --format json",
    "cli config check",
    "cli config path",
    "cli errors: wrong secrets",
    "cli errors: faults",
    "error messages (engine, as the TUI shows them): an echoing server",
    "debug log (CALLTUI_LOG)",
    "debug log (Python logging)",
    "exports (csv, json, ndjson)",
    "exports (redacted bundle)",
    "screenshots (TUI)",
    "screenshots (make screenshots)",
    "copy-as-curl",
    "settings reprs",
]


@pytest.mark.parametrize("channel", CHANNELS)
def test_no_secret_in(channel: str, channels: tuple[Channels, list[str]]) -> None:
    ch, secrets = channels
    if channel.startswith("cli stats") and "stats" not in cli.SUBCOMMANDS:
        pytest.skip("calltui stats does not exist in this build")
    text = ch[channel]
    assert text.strip(), f"{channel}: nothing was collected (the test would prove nothing)"
    leaked = sorted({s for s in secrets if s in text})
    assert leaked == [], f"{channel} holds {leaked}"


def test_the_channels_saw_real_traffic(channels: tuple[Channels, list[str]]) -> None:
    """The scans are meaningful: calls were listed, errors happened, requests were logged."""
    ch, secrets = channels
    assert len(secrets) >= 20
    assert ch["cli calls --format ndjson"].count("\n") > 400
    errors = ch["cli errors: wrong secrets"] + ch["cli errors: faults"]
    assert "HTTP 401" in errors and "HTTP 403" in errors and "HTTP 429" in errors
    assert (
        ch["error messages (engine, as the TUI shows them): an echoing server"].count("HTTP 401")
        == 5
    )
    assert "status=200" in ch["debug log (CALLTUI_LOG)"]
    assert " -> 200 " in ch["debug log (Python logging)"]
    assert ch["copy-as-curl"].count("curl ") >= 10


def test_a_failing_secret_command_is_reported_without_its_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cmd = f"echo {CMD_OUTPUT[0]}; echo {CMD_OUTPUT[1]} >&2; exit 3"
    config = write_config(
        tmp_path / "config.toml",
        {"a": {"provider": "plivo", "auth_id": "MA1", "auth_token_cmd": cmd}},
    )
    (error,) = load_settings(config).accounts["a"].secret_errors()
    assert "exit status 3" in str(error)
    for argv in (("config", "check"), ("calls",), ("stats",), ("show", "--account", "a", "x")):
        if argv[0] not in cli.SUBCOMMANDS:
            continue
        with pytest.raises(SystemExit) as done:
            cli.main([*argv, "--config", str(config)])
        out, err = capsys.readouterr()
        assert done.value.code == 2
        assert "accounts.a.auth_token_cmd" in err and "exit status 3" in err
        for fragment in CMD_OUTPUT:
            assert fragment not in out + err + str(error), argv
