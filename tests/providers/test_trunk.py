"""`trunk` in the normalized record: the carrier side the call used. Tmedia the
leg's `nap`; Plivo `trunk_id`, else `trunk_domain`; jambonz `trunk`; Restcomm and Bandwidth
give none."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calltui.model import CallQuery
from tests.conftest import FIXED_NOW, OpenDemo

HOUR = CallQuery(since=FIXED_NOW - timedelta(hours=1))


async def listed(p, n: int = 60):
    out = []
    async for page in p.pages(HOUR):
        out.extend(page.records)
        if len(out) >= n:
            break
    return out


def expected(provider: str, raw: dict) -> str | None:
    if provider == "tmedia":
        return raw.get("nap")
    if provider == "plivo":
        return raw.get("trunk_id") or raw.get("trunk_domain")
    if provider == "jambonz":
        return raw.get("trunk")
    return None


@pytest.mark.parametrize(
    "account",
    ["demo-tmedia", "demo-plivo", "demo-jambonz", "demo-restcomm", "demo-bandwidth"],
)
async def test_each_record_names_the_trunk_its_provider_gives(open_demo: OpenDemo, account):
    calls = await listed(await open_demo(account))
    assert calls
    for c in calls:
        assert c.trunk == expected(c.provider, c.raw)
        assert c.to_dict()["trunk"] == c.trunk
    if account in ("demo-tmedia", "demo-plivo", "demo-jambonz"):
        assert all(c.trunk for c in calls)
    else:
        assert all(c.trunk is None for c in calls)


async def test_legacy_plivo_names_its_trunk_by_id(open_demo: OpenDemo):
    calls = await listed(await open_demo("demo-plivo", api="legacy", timezone="UTC"))
    assert calls and all(c.trunk == c.raw["trunk_id"] for c in calls)
