"""The fault matrix: for each of the five providers, every way its API can fail (connection
refused, timeout, a certificate the client does not trust, 401, 403, 404, 429 with and without
a reset header, 500, a 502 HTML page, 200 with malformed, truncated, empty or wrongly typed
JSON, a body that drips slower than the timeout) and two ways it can succeed the hard way (TLS
with the account's ca_bundle, a 20 MB body), run through the engine, the path the CLI takes,
over real HTTP to the simulator: in-process where that is enough, on a loopback socket where the
fault lives in the socket (refused, TLS, drip).

Each failure is one ProviderError of the right type naming the account and the HTTP status or
the cause, holding no secret, after exactly the attempts the retry policy allows. The CLI runs
every fault too (spread over the providers): exit 1 and one stderr line, no traceback, the
attempts counted in the request log. The harness (conftest) fails any test that leaves an
uncaught exception behind.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import tracemalloc
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from calltui.cli import main
from calltui.config import ConfigError, Settings
from calltui.engine import Engine
from calltui.http import (
    AuthError,
    BadResponseError,
    NetworkError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TimeoutError_,
    TLSError,
)
from calltui.model import PROVIDERS, Call, CallQuery
from calltui.sim.app import SimApp
from calltui.sim.asgi import HUGE_BYTES
from calltui.sim.demo import SIM_HOST, demo_accounts
from tests.conftest import FIXED_NOW
from tests.reliability.conftest import (
    RETRY,
    TIMEOUT_S,
    LocalCA,
    ServeSim,
    closed_port,
    secrets_of,
    settings_for,
    sim_in_thread,
)

QUERY = CallQuery(since=FIXED_NOW - timedelta(minutes=3), until=FIXED_NOW)
"""A window that fits one page of every provider: the huge body is sent once per listing."""


@dataclass(frozen=True, slots=True)
class Case:
    error: type[ProviderError] | None
    """The exact error type; None: the listing succeeds, as it does without the fault."""
    says: str
    """What the message holds besides the account."""
    retried: bool = False
    """Retried up to the policy's attempts (else sent once)."""
    via: str = "asgi"
    """asgi: in-process; socket: a loopback socket; closed: a port nobody listens on; tls: https
    checked against the system's CAs; tls-ca: https checked against the account's ca_bundle."""


CASES: dict[str, Case] = {
    "refused": Case(NetworkError, "connection refused", retried=True, via="closed"),
    "timeout": Case(TimeoutError_, f"timed out: no response within {TIMEOUT_S:g} s"),
    "tls": Case(TLSError, "TLS certificate verification failed", via="tls"),
    "tls-ca": Case(None, "", via="tls-ca"),
    "401": Case(AuthError, "HTTP 401: "),
    "403": Case(AuthError, "HTTP 403: "),
    "404": Case(NotFoundError, "HTTP 404: "),
    "429": Case(RateLimitedError, "HTTP 429: ", retried=True),
    "429noreset": Case(RateLimitedError, "HTTP 429: ", retried=True),
    "500": Case(ServerError, "HTTP 500: ", retried=True),
    "502": Case(
        ServerError, 'HTTP 502: an HTML page ("502 Bad Gateway") instead of JSON', retried=True
    ),
    "malformed": Case(BadResponseError, "malformed JSON"),
    "truncated": Case(BadResponseError, "malformed JSON"),
    "empty": Case(BadResponseError, "empty body"),
    "wrongtypes": Case(BadResponseError, "unexpected data"),
    "huge": Case(None, ""),
    "drip": Case(
        TimeoutError_,
        f"timed out: the body was still arriving after {TIMEOUT_S:g} s",
        via="socket",
    ),
}
NOT_SIMULATED = ("refused", "tls", "tls-ca")
"""Faults of the network or of the client's trust, not answers of the simulator."""


def sim_for(fault: str | None, provider: str) -> SimApp:
    spec = None if fault is None or fault in NOT_SIMULATED else f"{fault}@{provider}"
    # The provider's own limits would add 429s of their own to the count.
    return SimApp(seed=7, now=FIXED_NOW, faults=spec, enforce_rate_limits=False)


async def listing(
    settings: Settings, transport: httpx.AsyncBaseTransport | None, retry: RetryPolicy = RETRY
) -> tuple[list[Call], list[ProviderError], int]:
    """The account's calls in QUERY through the engine, its errors, and the requests it sent."""
    engine = Engine(settings, transport=transport, retry=retry)
    name = next(iter(settings.accounts))
    try:
        records = await engine.collect([name], QUERY, None)
        return records, engine.errors(), engine.provider(name).http.requests_sent
    finally:
        await engine.aclose()


async def clean_listing(provider: str) -> tuple[list[Call], int]:
    sim = sim_for(None, provider)
    settings = settings_for(provider, SIM_HOST)
    records, errors, sent = await listing(settings, httpx.ASGITransport(app=sim))
    assert not errors and records, "the window holds calls of every provider"
    return records, sent


def ids(records: list[Call]) -> list[tuple[str, str]]:
    return [(c.id, str(c.started_at)) for c in records]


def assert_one_clear_error(
    errors: list[ProviderError], case: Case, provider: str, fault: str
) -> ProviderError:
    assert len(errors) == 1, errors
    err = errors[0]
    assert type(err) is case.error, f"{fault}: {type(err).__name__}: {err}"
    message = str(err)
    assert err.account == f"demo-{provider}"
    assert message.startswith(f"demo-{provider}: "), message
    assert case.says in message, message
    assert "\n" not in message
    for secret in secrets_of(provider):
        assert secret not in message
    return err


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", list(CASES))
async def test_fault_matrix(
    fault: str, provider: str, serve_sim: ServeSim, local_ca: LocalCA
) -> None:
    case = CASES[fault]
    sim = sim_for(fault, provider)
    transport: httpx.AsyncBaseTransport | None = None
    overrides: dict[str, Any] = {}
    if case.via == "asgi":
        base = SIM_HOST
        transport = httpx.ASGITransport(app=sim)
    elif case.via == "closed":
        base = f"http://127.0.0.1:{closed_port()}"
    elif case.via == "socket":
        base = f"http://127.0.0.1:{(await serve_sim(sim)).port}"
    else:
        server = await serve_sim(sim, tls=local_ca.server_context)
        base = f"https://127.0.0.1:{server.port}"
        if case.via == "tls-ca":
            overrides["ca_bundle"] = str(local_ca.bundle)
    settings = settings_for(provider, base, **overrides)

    started = time.monotonic()
    records, errors, sent = await listing(settings, transport)
    elapsed = time.monotonic() - started

    if case.error is None:
        clean, clean_sent = await clean_listing(provider)
        assert errors == []
        assert ids(records) == ids(clean)
        assert sent == clean_sent
        return
    assert records == []
    assert_one_clear_error(errors, case, provider, fault)
    expected = RETRY.attempts if case.retried else 1
    assert sent == expected
    reached = 0 if case.via in ("closed", "tls") else expected
    assert len(sim.seen) == reached
    # A guard against hangs, not a measurement: attempts are what is asserted above.
    assert elapsed < TIMEOUT_S * expected + 5


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_drill_down_fails_the_same_way(provider: str) -> None:
    """`show` takes the same road: a 500 on every request is one ServerError after retries."""
    clean, _ = await clean_listing(provider)
    sim = sim_for("500", provider)
    engine = Engine(
        settings_for(provider, SIM_HOST), transport=httpx.ASGITransport(app=sim), retry=RETRY
    )
    try:
        with pytest.raises(ServerError) as e:
            await engine.detail(f"demo-{provider}", clean[0].id)
    finally:
        await engine.aclose()
    assert_one_clear_error([e.value], CASES["500"], provider, "500")
    assert len(sim.seen) == RETRY.attempts


async def test_a_20_mb_body_is_parsed_in_bounded_memory() -> None:
    """Valid JSON under the client's cap (64 MB) is read and parsed: holding it costs a few
    copies of its size at most, not more."""
    sim = sim_for("huge", "jambonz")
    settings = settings_for("jambonz", SIM_HOST)
    tracemalloc.start()
    try:
        records, errors, _ = await listing(settings, httpx.ASGITransport(app=sim))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert records and not errors
    assert peak < 5 * HUGE_BYTES


async def test_a_server_wait_beyond_the_bound_fails_at_once() -> None:
    """jambonz's limiter asks for the rest of its 5-minute window: no client waits that."""
    sim = sim_for("429", "jambonz")
    settings = settings_for("jambonz", SIM_HOST)
    impatient = RetryPolicy(attempts=4, base_s=0.01, cap_s=0.02, max_wait_s=0.5)
    _, errors, sent = await listing(settings, httpx.ASGITransport(app=sim), impatient)
    err = assert_one_clear_error(errors, CASES["429"], "jambonz", "429")
    assert sent == 1 and "the server asks to wait 1 s" in str(err)


# --- the command line ----------------------------------------------------------------------

CLI_RUNS = [
    ("refused", "plivo"),
    ("timeout", "bandwidth"),
    ("tls", "tmedia"),
    ("tls-ca", "jambonz"),
    ("401", "restcomm"),
    ("403", "jambonz"),
    ("404", "tmedia"),
    ("429", "jambonz"),
    ("429noreset", "plivo"),
    ("500", "restcomm"),
    ("502", "bandwidth"),
    ("malformed", "jambonz"),
    ("truncated", "tmedia"),
    ("empty", "plivo"),
    ("wrongtypes", "restcomm"),
    ("huge", "bandwidth"),
    ("drip", "plivo"),
]


def write_config(path: Path, provider: str, base: str, **extra: Any) -> None:
    name = f"demo-{provider}"
    raw = {**demo_accounts(base)[name], "timeout_s": TIMEOUT_S, **extra}
    lines = [f"[accounts.{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in raw.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(e.value.code or 0), out, err


@pytest.mark.parametrize(("fault", "provider"), CLI_RUNS)
def test_cli_exits_1_with_one_line_naming_the_account_and_the_cause(
    fault: str,
    provider: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    local_ca: LocalCA,
) -> None:
    case = CASES[fault]
    log = tmp_path / "requests.log"
    monkeypatch.setenv("CALLTUI_LOG", str(log))
    config = tmp_path / "config.toml"
    window = ["--since", QUERY.since.isoformat(), "--until", FIXED_NOW.isoformat()]
    argv = ["calls", "--config", str(config), *window, "--all", "--format", "ndjson"]
    if case.via == "closed":
        write_config(config, provider, f"http://127.0.0.1:{closed_port()}")
        code, out, err = run_cli(capsys, *argv)
    else:
        tls = local_ca.server_context if case.via.startswith("tls") else None
        extra = {"ca_bundle": str(local_ca.bundle)} if case.via == "tls-ca" else {}
        with sim_in_thread(sim_for(fault, provider), tls=tls) as port:
            scheme = "https" if tls else "http"
            write_config(config, provider, f"{scheme}://127.0.0.1:{port}", **extra)
            code, out, err = run_cli(capsys, *argv)

    attempts = [line for line in log.read_text().splitlines() if f"account=demo-{provider}" in line]
    for secret in secrets_of(provider):
        assert secret not in out + err + log.read_text()
    assert "Traceback" not in err
    if case.error is None:
        assert code == 0, err
        assert err == "" and out.count("\n") > 0
        return
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"calltui: demo-{provider}: "), lines[0]
    assert case.says in lines[0]
    assert len(attempts) == (RetryPolicy().attempts if case.retried else 1), attempts


def test_cli_show_reports_a_failed_drill_down_the_same_way(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    with sim_in_thread(sim_for("404", "jambonz")) as port:
        write_config(config, "jambonz", f"http://127.0.0.1:{port}")
        code, out, err = run_cli(
            capsys, "show", "--config", str(config), "--account", "demo-jambonz", "no-such-call"
        )
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("calltui: demo-jambonz: HTTP 404: Not Found")


def test_a_ca_bundle_that_holds_no_certificate_is_a_config_error(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    with pytest.raises(ConfigError) as e:
        settings_for("tmedia", "https://127.0.0.1:1", ca_bundle=str(bundle))
    assert e.value.where == "accounts.demo-tmedia.ca_bundle"
    assert "holds no PEM certificate" in str(e.value)


async def test_the_harness_counts_what_nobody_caught(uncaught: list[str]) -> None:
    """The guard every test here relies on (conftest `uncaught`) does catch a lost exception."""

    async def lost() -> None:
        raise RuntimeError("nobody reads this")

    task = asyncio.create_task(lost())
    await asyncio.wait({task})
    del task
    gc.collect()
    assert any("nobody reads this" in c for c in uncaught)
    uncaught.clear()
