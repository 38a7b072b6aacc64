"""A provider added without touching the core: "acme", defined here (its account model, its
adapter, its API served by a tiny ASGI app), registered at runtime, then listed and drilled
into by the CLI exactly as a built-in provider is.

The `acme` fixture gives the settings and the transport (and sets them for the CLI), so any
other front end (the TUI) can be driven over the same provider.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
import pytest
from pydantic import SecretStr

from calltui import cli_source
from calltui.config import AccountBase, Settings, load_settings
from calltui.config_template import template
from calltui.model import RECORD_KEYS, Call, CallDetail, CallQuery, Event, Outcome
from calltui.providers import registry
from calltui.providers.base import DataError, Page, Provider
from calltui.providers.coerce import iso_time
from tests.conftest import run_cli

API_KEY = "acme-Secr3t-key-Z9"
OUTCOMES = {"completed": Outcome.ANSWERED, "busy": Outcome.BUSY, "failed": Outcome.FAILED}


class AcmeAccount(AccountBase):
    api_key: SecretStr


class Acme(Provider[AcmeAccount]):
    name = "acme"
    ACCOUNT = AcmeAccount
    CONFIG_EXAMPLE = '# [accounts.acme]\n# provider = "acme"\n# api_key_env = "ACME_KEY"\n'
    FLOW_VIEW = "events"
    FLOW_TITLE = "Events"
    CURL_AUTH = ("-H", "Authorization: Bearer {api_key}")
    CURL_VARS = {"api_key": "ACME_KEY"}
    PARAMS = frozenset({"since", "page", "size"})
    DEFAULT_BASE_URL = "https://api.acme.invalid"
    DEFAULT_PAGE_SIZE = 2
    MAX_PAGE_SIZE = 50

    @classmethod
    def auth(cls, account: AcmeAccount) -> tuple[httpx.Auth | None, dict[str, str]]:
        return None, {"Authorization": f"Bearer {account.api_key.get_secret_value()}"}

    async def pages(self, query: CallQuery, first: int | None = None) -> AsyncIterator[Page]:
        page = 1
        while True:
            params = {"since": query.since.isoformat(), "page": page, "size": self.page_size}
            body = await self.http.get_json("/calls", params)
            try:
                records = self.parse_list(body)
            except DataError as e:
                raise self.bad(e, "/calls") from None
            starts = [c.started_at for c in records if c.started_at is not None]
            more = bool(body.get("more")) and bool(starts)
            yield Page(records, min(starts) if more else None, ("/calls", params))
            if not more:
                return
            page += 1

    def parse_list(self, body: Any) -> list[Call]:
        if not isinstance(body, dict) or not isinstance(body.get("calls"), list):
            raise DataError("expected an object with a `calls` list")
        return [self.parse_call(raw) for raw in body["calls"]]

    def parse_call(self, raw: Any) -> Call:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise DataError("a call without an id")
        return Call(
            provider=self.name,
            account=self.account.name,
            id=raw["id"],
            started_at=iso_time(raw.get("start"), timezone.utc),
            outcome=OUTCOMES.get(raw.get("status"), Outcome.UNKNOWN),
            raw=raw,
            from_=raw.get("from"),
            to=raw.get("to"),
            duration_s=raw.get("seconds"),
            sip_code=raw.get("sip"),
            cause=raw.get("status"),
        )

    def request_for(self, call: Call) -> tuple[str, dict[str, Any]]:
        return f"/calls/{call.id}", {}

    async def detail(self, call_id: str) -> CallDetail:
        path = f"/calls/{quote(call_id, safe='')}"
        body = await self.http.get_json(path)
        try:
            call = self.parse_call(body)
        except DataError as e:
            raise self.bad(e, path) from None
        events = [
            Event(iso_time(e.get("at"), timezone.utc), str(e.get("name")), e.get("data"))
            for e in body.get("events", [])
        ]
        return CallDetail(call=call, events=events, explanation=f"acme says {call.cause}")


def served_calls(now: datetime) -> list[dict[str, Any]]:
    """Three calls of the last hour, newest first, as the acme API writes them."""
    out = []
    for i, (status, sip, seconds) in enumerate(
        [("completed", 200, 42), ("busy", 486, 0), ("failed", 503, 0)]
    ):
        start = now - timedelta(minutes=10 * (i + 1))
        out.append(
            {
                "id": f"acme-{i + 1}",
                "start": start.isoformat(),
                "from": "+4930123456",
                "to": f"+1415555012{i}",
                "status": status,
                "sip": sip,
                "seconds": seconds,
                "events": [
                    {"at": start.isoformat(), "name": "INVITE", "data": None},
                    {"at": (start + timedelta(seconds=1)).isoformat(), "name": str(sip)},
                ],
            }
        )
    return out


def acme_api(calls: list[dict[str, Any]]) -> Any:
    """The acme API as an ASGI app: `GET /calls?page=&size=` pages (with `more`), and
    `GET /calls/{id}`; a bearer key, else 401."""
    by_id = {c["id"]: c for c in calls}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http" and scope["method"] == "GET"
        headers = dict(scope["headers"])
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        status, body = 404, {"message": "no such route"}
        if headers.get(b"authorization") != f"Bearer {API_KEY}".encode():
            status, body = 401, {"message": "bad key"}
        elif scope["path"] == "/calls":
            page, size = int(query["page"]), int(query["size"])
            rows = [{k: v for k, v in c.items() if k != "events"} for c in calls]
            chunk = rows[(page - 1) * size : page * size]
            status, body = 200, {"calls": chunk, "more": page * size < len(rows)}
        elif scope["path"].removeprefix("/calls/") in by_id:
            status, body = 200, by_id[scope["path"].removeprefix("/calls/")]
        data = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": data})

    return app


@dataclass(frozen=True)
class AcmeSetup:
    settings: Settings
    transport: httpx.AsyncBaseTransport
    config: Path
    calls: list[dict[str, Any]]
    """What the acme API serves, newest first."""


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AcmeSetup]:
    """acme registered, one account `lab` of it in a config file, its API in-process; the CLI
    reaches it through that transport."""
    registry.register("acme", Acme)
    config = tmp_path / "acme.toml"
    config.write_text(f'[accounts.lab]\nprovider = "acme"\napi_key = "{API_KEY}"\n')
    config.chmod(0o600)
    calls = served_calls(datetime.now(timezone.utc))
    transport = httpx.ASGITransport(app=acme_api(calls))
    monkeypatch.setattr(cli_source, "CONFIG_TRANSPORT", transport)
    try:
        yield AcmeSetup(load_settings(config), transport, config, calls)
    finally:
        registry.unregister("acme")


def test_calls_lists_the_extra_providers_records(acme: AcmeSetup, capsys) -> None:
    code, out, err = run_cli(capsys, "calls", "--config", str(acme.config), "--format", "ndjson")
    assert (code, err) == (0, "")
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == [c["id"] for c in acme.calls]
    assert all(set(r) == set(RECORD_KEYS) for r in records)
    assert {(r["provider"], r["account"]) for r in records} == {("acme", "lab")}
    assert [r["outcome"] for r in records] == ["answered", "busy", "failed"]
    assert [r["sip_code"] for r in records] == [200, 486, 503]
    assert records[0]["duration_s"] == 42 and records[0]["to"] == "+14155550120"
    assert records[0]["raw"]["status"] == "completed"
    assert API_KEY not in out


def test_show_drills_into_one_call_of_the_extra_provider(acme: AcmeSetup, capsys) -> None:
    argv = ("show", "--config", str(acme.config), "--account", "lab", "acme-2")
    code, out, err = run_cli(capsys, *argv, "--format", "json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["call"]["id"] == "acme-2" and doc["call"]["outcome"] == "busy"
    assert [e["name"] for e in doc["events"]] == ["INVITE", "486"]
    assert doc["explanation"] == "acme says busy"
    assert doc["legs"] == [] and doc["trace"] is None
    assert API_KEY not in out


async def test_copy_as_curl_uses_the_extra_providers_own_placeholders(acme: AcmeSetup) -> None:
    """Its CURL_AUTH and CURL_VARS: the key as the shell variable the provider names."""
    from calltui import handoff
    from calltui.engine import Engine

    engine = Engine(acme.settings, transport=acme.transport)
    try:
        provider = engine.provider("lab")
        call = provider.parse_call(acme.calls[1])
        line = handoff.curl_for(provider, call)
    finally:
        await engine.aclose()
    assert line == (
        "curl -sS -H \"Authorization: Bearer $ACME_KEY\" -H 'Accept: application/json' "
        "https://api.acme.invalid/calls/acme-2"
    )


def test_the_extra_provider_is_known_by_name_alone(acme: AcmeSetup) -> None:
    """What the core reads of a provider comes from its class, found by its name."""
    assert "acme" in registry.names() and registry.get("acme") is Acme
    assert registry.get("acme").FLOW_VIEW == "events"
    assert acme.settings.accounts["lab"].provider == "acme"
    assert isinstance(acme.settings.accounts["lab"], AcmeAccount)
    assert template().endswith("\n" + Acme.CONFIG_EXAMPLE)


async def test_the_tui_lists_and_drills_into_the_extra_provider(acme: AcmeSetup) -> None:
    from textual.widgets import Static, TabbedContent

    from calltui.tui.app import CallTUI
    from calltui.tui.screens.detail import DetailScreen
    from calltui.tui.widgets.call_table import CallTable
    from tests.tui.harness import settle

    query = CallQuery(since=datetime.now(timezone.utc) - timedelta(hours=1))
    app = CallTUI(acme.settings, transport=acme.transport, query=query)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        store = app.session.store
        assert [store.key(r) for r in table.view] == [("lab", c["id"]) for c in acme.calls]
        await pilot.press("down", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.call.id == "acme-2"
        tabs = screen.query_one(TabbedContent)
        assert str(tabs.get_tab("tab-flow").label) == "Events"
        await pilot.press("2")
        await settle(pilot)
        shown = " ".join(str(s.render()) for s in screen.query("#flow Static").results(Static))
        assert "INVITE" in shown and "486" in shown
        verdict = str(screen.query_one("#verdict", Static).render())
        assert "busy" in verdict.lower()
        assert API_KEY not in app.export_screenshot()
