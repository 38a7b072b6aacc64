"""The reliability harness: a guard that counts uncaught exceptions in every test (asyncio's
'exception was never retrieved' and the like, unraisable exceptions, exceptions in threads) and
fails the test on any; the simulator on a real loopback socket, plain or TLS with a certificate
from a CA the test makes (trustme); accounts pointed at it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import socket
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from calltui.config import Settings, parse_settings
from calltui.http import RetryPolicy
from calltui.sim.app import SimApp
from calltui.sim.demo import DEMO_ACCOUNTS, demo_accounts
from calltui.sim.server import SimServer, start

TIMEOUT_S = 1.0
RETRY = RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02, max_wait_s=5.0)
"""Bounded and fast: every retryable fault is tried exactly twice."""


@pytest.fixture(autouse=True)
def uncaught(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every exception nobody caught during the test; the test fails unless there are none."""
    caught: list[str] = []
    default_handler = asyncio.BaseEventLoop.default_exception_handler

    def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        caught.append(f"asyncio: {context.get('message')}: {context.get('exception')!r}")
        default_handler(loop, context)  # type: ignore[arg-type]

    def on_unraisable(u: Any) -> None:
        caught.append(f"unraisable: {u.exc_value!r} in {u.object!r}")

    def on_thread_error(args: Any) -> None:
        caught.append(f"thread {args.thread}: {args.exc_value!r}")

    monkeypatch.setattr(asyncio.BaseEventLoop, "default_exception_handler", on_loop_error)
    monkeypatch.setattr(sys, "unraisablehook", on_unraisable)
    monkeypatch.setattr(threading, "excepthook", on_thread_error)
    yield caught
    gc.collect()
    assert caught == [], "uncaught exceptions"


def secrets_of(provider: str) -> list[str]:
    """The demo account's secrets, also as they travel in a Basic header."""
    account = DEMO_ACCOUNTS[f"demo-{provider}"]
    keys = ("password", "auth_token", "api_token", "api_secret", "api_key")
    out = [account[k] for k in keys if k in account]
    user = account.get("username") or account.get("auth_id") or account.get("api_token")
    user = user or account.get("account_sid")
    out += [base64.b64encode(f"{user}:{s}".encode()).decode() for s in out]
    return out


def settings_for(provider: str, base: str, **overrides: Any) -> Settings:
    """The demo account of `provider`, pointed at `base`, with any key overridden."""
    name = f"demo-{provider}"
    raw = {**demo_accounts(base)[name], "timeout_s": TIMEOUT_S, **overrides}
    return parse_settings({"accounts": {name: raw}}, Path("<test>"))


class LocalCA:
    """A certificate authority made for the test, and a server certificate for localhost."""

    def __init__(self, tmp: Path) -> None:
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("localhost", "127.0.0.1")
        self.server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.server_context)
        self.bundle = tmp / "test-ca.pem"
        self.bundle.write_bytes(self.ca.cert_pem.bytes())


@pytest.fixture
def local_ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path)


ServeSim = Callable[..., Awaitable[SimServer]]


@pytest.fixture
async def serve_sim() -> AsyncIterator[ServeSim]:
    """`await serve_sim(app, tls=ctx)`: the simulator on a loopback port of this test's loop."""
    servers: list[SimServer] = []

    async def make(app: SimApp, tls: ssl.SSLContext | None = None) -> SimServer:
        server = await start(app, tls=tls)
        servers.append(server)
        return server

    yield make
    for s in servers:
        await s.close()


@contextlib.contextmanager
def sim_in_thread(app: SimApp, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """The simulator on a loopback port, served by a thread of its own: the CLI under test runs
    its own event loop (asyncio.run) in the test's thread. Yields the port."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, SimServer] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        box["server"] = loop.run_until_complete(start(app, tls=tls))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="sim", daemon=True)
    thread.start()
    assert ready.wait(10), "the simulator did not start"
    try:
        yield box["server"].port
    finally:
        asyncio.run_coroutine_threadsafe(box["server"].close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
