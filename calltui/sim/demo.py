"""`--demo`: one account per provider, served in-process by the simulator."""

from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from calltui.config import Settings, parse_settings
from calltui.sim.app import SimApp
from calltui.sim.world import PROVIDERS

SIM_HOST = "http://sim.calltui.invalid"

_MODULES = {name: importlib.import_module(f"calltui.sim.{name}") for name in PROVIDERS}
DEMO_ACCOUNTS: dict[str, dict[str, Any]] = {
    f"demo-{name}": module.DEMO_ACCOUNT for name, module in _MODULES.items()
}
"""One account per simulated provider, from its simulator module. Not secrets: their
credentials exist only inside the simulator."""
BASE_PATHS: dict[str, str] = {
    name: getattr(module, "DEMO_BASE_PATH", "") for name, module in _MODULES.items()
}
"""The prefix a simulator module mounts its API under (its DEMO_BASE_PATH, if it has one)."""


def demo_accounts(base: str = SIM_HOST) -> dict[str, dict[str, Any]]:
    """The demo accounts, pointed at `base` (the in-process simulator or a `simulate` socket)."""
    return {
        name: {**acc, "base_url": base + BASE_PATHS[acc["provider"]]}
        for name, acc in DEMO_ACCOUNTS.items()
    }


def demo_settings(base: str = SIM_HOST, **display: Any) -> Settings:
    data: dict[str, Any] = {"accounts": demo_accounts(base)}
    if display:
        data["display"] = display
    return parse_settings(data, Path("<demo>"))


def demo_transport(
    seed: int = 1, now: datetime | None = None, latency_ms: float = 0, faults: str | None = None
) -> tuple[SimApp, httpx.AsyncBaseTransport]:
    app = SimApp(seed=seed, now=now, latency_ms=latency_ms, faults=faults)
    return app, httpx.ASGITransport(app=app)


def handed_on(seed: int, now: datetime, since: datetime) -> frozenset[str]:
    """The ids of the Plivo trunk calls since `since` that failed after being handed on to
    jambonz and a Tmedia box: whole end-to-end calls of the incident, for screenshots and
    tests of the chain."""
    from calltui.sim import plivo

    world = SimApp(seed=seed, now=now).world
    return frozenset(
        plivo.call_uuid(c)
        for c in world.calls("plivo", since)
        if c.link and c.outcome == "failed" and c.end < now
    )
