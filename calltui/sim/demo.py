"""`--demo`: one account per provider, served in-process by the simulator."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
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


def demo_config(base: str, copies: int = 1, providers: Iterable[str] | None = None) -> str:
    """A config (TOML) of the demo accounts pointed at `base` (a `simulate` socket): `copies` of
    each (named `demo-NAME` for the first, `demo-NAME-2`... after), all providers unless
    `providers` says which."""
    wanted = set(providers) if providers is not None else None
    lines: list[str] = []
    for name, acc in demo_accounts(base).items():
        if wanted is not None and acc["provider"] not in wanted:
            continue
        for n in range(copies):
            key = name if n == 0 else f"{name}-{n + 1}"
            lines.append(f'[accounts."{key}"]')
            for k, v in acc.items():
                lines.append(f"{k} = {_toml(v)}")
            lines.append("")
    return "\n".join(lines)


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    raise TypeError(f"no TOML for {v!r}")


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
