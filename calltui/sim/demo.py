"""`--demo`: one account per provider, served in-process by the simulator."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from calltui.config import Settings, parse_settings
from calltui.sim.app import SimApp

SIM_HOST = "http://sim.calltui.invalid"

# The credentials the simulator accepts. Not secrets: they exist only inside the simulator.
DEMO_ACCOUNTS: dict[str, dict[str, Any]] = {
    "demo-tmedia": {
        "provider": "tmedia",
        "username": "api",
        "password": "demo-tmedia-pass",
        "timezone": "Europe/Moscow",
    },
    "demo-plivo": {
        "provider": "plivo",
        "api": "current",
        "auth_id": "MADEMO0000000000PLIV",
        "auth_token": "demo-plivo-token",
    },
    "demo-bandwidth": {
        "provider": "bandwidth",
        "user_id": "u-demo0000000000000000",
        "api_token": "t-demo-token",
        "api_secret": "demo-bandwidth-secret",
    },
    "demo-restcomm": {
        "provider": "restcomm",
        "account_sid": "ACae6e420f425248d6a26948c17a9e2acf",
        "auth_token": "demo-restcomm-token",
    },
    "demo-jambonz": {
        "provider": "jambonz",
        "account_sid": "9351f46a-678c-43f5-b8a6-d4eb58d131af",
        "api_key": "demo-jambonz-key",
    },
}

BASE_PATHS = {"restcomm": "/restcomm"}


def demo_accounts(base: str = SIM_HOST) -> dict[str, dict[str, Any]]:
    """The demo accounts, pointed at `base` (the in-process simulator or a `simulate` socket)."""
    return {
        name: {**acc, "base_url": base + BASE_PATHS.get(acc["provider"], "")}
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
