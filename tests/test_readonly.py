"""Read-only by construction: over every code path that sends requests (listing every page of
each provider and each API variant, fetching a listed page again, every drill-down with its
sub-requests, the pcap), only GET reaches the server, and only parameters the provider's
allowlist names; Tmedia's allowlist makes `drop_call` impossible. No module but the HTTP layer
(calltui.http, and calltui.http_env where its client is made) opens an HTTP client, so there is
no other road out."""

from __future__ import annotations

import inspect
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import calltui
from calltui.config import parse_settings
from calltui.engine import Engine
from calltui.model import PROVIDERS, CallQuery
from calltui.providers import registry
from calltui.sim import jambonz as sim_jambonz
from calltui.sim.app import SimApp
from calltui.sim.demo import SIM_HOST, demo_accounts
from tests.conftest import FAST_RETRY, FIXED_NOW

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "plivo-legacy": ("demo-plivo", {"api": "legacy", "timezone": "Asia/Kolkata"}),
    "jambonz-sp": (
        "demo-jambonz",
        {"account_sid": None, "service_provider_sid": sim_jambonz.SERVICE_PROVIDER_SID},
    ),
}
EXERCISED = {"pages", "fetch_page", "detail", "trace", "pcap", "aclose"}
"""The coroutine methods of an adapter this test drives (`trace` through jambonz's detail)."""


def all_accounts() -> dict[str, dict[str, Any]]:
    # The simulator's limits are off here: so are the client's (Bandwidth's is 1 request/s).
    demo = {k: {**v, "rate_limit": 1000} for k, v in demo_accounts(SIM_HOST).items()}
    out = dict(demo)
    for name, (base, overrides) in VARIANTS.items():
        raw = {**demo[base], **overrides}
        out[name] = {k: v for k, v in raw.items() if v is not None}
    return out


async def test_only_get_and_only_allowlisted_parameters_ever_reach_a_server() -> None:
    sim = SimApp(seed=3, now=FIXED_NOW, enforce_rate_limits=False)
    settings = parse_settings({"accounts": all_accounts()}, Path("<test>"))
    engine = Engine(settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=1), from_="+4", direction="inbound")
    pcaps = 0
    try:
        for name in engine.account_names:
            provider = engine.provider(name)
            calls = []
            async for page in provider.pages(query):
                calls += page.records
                assert page.request is not None
                again = await provider.fetch_page(page.request)
                assert {c.id for c in again} == {c.id for c in page.records}
            assert calls, name
            for call in calls[:3]:
                await engine.detail(name, call.id)
            pcap = getattr(provider, "pcap", None)
            if pcap is not None:
                with_sip = next(c for c in calls if c.sip_call_id)
                assert with_sip.sip_call_id is not None
                await pcap(with_sip.sip_call_id)
                pcaps += 1
    finally:
        await engine.aclose()
    assert pcaps == 2, "both jambonz mounts fetched a pcap"
    assert {s.provider for s in sim.seen} == set(PROVIDERS)
    assert {s.method for s in sim.seen} == {"GET"}
    for seen in sim.seen:
        assert seen.provider is not None, seen
        allowed = registry.get(seen.provider).PARAMS
        assert {k for k, _ in seen.query} <= allowed, seen


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_test_above_drives_every_request_an_adapter_can_make(provider: str) -> None:
    cls = registry.get(provider)
    methods = {
        name
        for name, f in inspect.getmembers(cls)
        if not name.startswith("_")
        and (inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f))
    }
    assert methods <= EXERCISED, f"a new request path to cover: {methods - EXERCISED}"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_allowlist_holds_a_parameter_that_changes_anything(provider: str) -> None:
    params = registry.get(provider).PARAMS
    assert "drop_call" not in params
    assert not {"method", "_method", "Status", "delete"} & set(params)


_OTHER_ROADS = re.compile(
    r"httpx\.(Async)?Client\(|httpx\.(get|post|put|patch|delete|request|stream)\(|"
    r"urllib\.request|http\.client|\bimport requests|\brequests\.(get|Session|request)\(|"
    r"aiohttp|\bsocket\.socket\(|open_connection\("
)


def test_no_module_but_the_http_layer_opens_a_connection() -> None:
    root = Path(calltui.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        # The HTTP layer itself, and the simulator, which serves and never sends.
        if rel in ("http.py", "http_env.py") or rel.startswith("sim/"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _OTHER_ROADS.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
