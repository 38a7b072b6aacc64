"""Read-only by construction: over every code path that sends requests (listing every page of
each provider, every drill-down, the pcap), only GET reaches the server, and only parameters the
provider's allowlist names; Tmedia's allowlist makes `drop_call` impossible."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from calltui.engine import Engine
from calltui.model import PROVIDERS, CallQuery
from calltui.providers import registry
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_settings
from tests.conftest import FAST_RETRY, FIXED_NOW


async def test_only_get_and_only_allowlisted_parameters_ever_reach_a_server():
    sim = SimApp(seed=3, now=FIXED_NOW, enforce_rate_limits=False)
    settings = demo_settings()
    engine = Engine(settings, transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
    query = CallQuery(since=FIXED_NOW - timedelta(hours=3), from_="+4", direction="inbound")
    for name in engine.account_names:
        calls = await engine.collect([name], query, None)
        for call in calls[:3]:
            await engine.detail(name, call.id)
        provider = engine.provider(name)
        pcap = getattr(provider, "pcap", None)
        if pcap is not None and calls and calls[0].sip_call_id:
            await pcap(calls[0].sip_call_id)
    await engine.aclose()
    assert {s.provider for s in sim.seen} == set(PROVIDERS)
    assert {s.method for s in sim.seen} == {"GET"}
    for seen in sim.seen:
        allowed = registry.get(seen.provider).PARAMS
        assert {k for k, _ in seen.query} <= allowed, seen


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_allowlist_holds_a_parameter_that_changes_anything(provider):
    params = registry.get(provider).PARAMS
    assert "drop_call" not in params
    assert not {"method", "_method", "Status", "delete"} & set(params)
