"""Handing a call over: the redacted bundle scanned for numbers, addresses and secrets, the
curl command replayed against the simulator, the jambonz pcap saved and parsed."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from calltui.analysis.correlate import Relation
from calltui.config import ConfigError, parse_settings
from calltui.handoff import (
    HandoffError,
    curl_for,
    pcap_viewers,
    redact_ip,
    redact_number,
    redacted_bundle,
    save_pcap,
    viewer_command,
    write_bundle,
)
from calltui.http import NotFoundError
from calltui.model import Call, CallDetail, CallQuery, Outcome, number_key
from calltui.providers.base import open_provider
from calltui.sim import bandwidth as sim_bandwidth
from calltui.sim import jambonz as sim_jambonz
from calltui.sim import plivo as sim_plivo
from calltui.sim import restcomm as sim_restcomm
from calltui.sim import tmedia as sim_tmedia
from calltui.sim.app import SimApp
from calltui.sim.demo import DEMO_ACCOUNTS, SIM_HOST, demo_accounts, demo_settings
from tests.conftest import FIXED_NOW, OpenDemo

IPV4 = re.compile(r"(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])")


def test_redact_number_keeps_the_last_four_digits_and_the_shape():
    assert redact_number("+14155550123") == "+*******0123"
    assert redact_number("sip:4930123456@host") == "sip:******3456@host"
    assert redact_number("(415) 555-0123") == "(***) ***-0123"
    assert redact_number("1001") == "1001" and redact_number("anonymous") == "anonymous"


def test_redact_ip_masks_v4_and_v6_but_not_clock_times_or_versions():
    text = "from 198.51.100.7:5060 via [2001:db8::1f]:5061 at 14:00:00, v3.3.12, 300.1.1.1"
    assert redact_ip(text) == "from x.x.x.7:5060 via [x::1f]:5061 at 14:00:00, v3.3.12, 300.1.1.1"
    assert redact_ip("Call-ID: a84b@10.0.0.5") == "Call-ID: a84b@x.x.x.5"
    assert redact_ip("::ffff:192.0.2.128") == "::ffff:x.x.x.128"
    assert redact_ip("02:00:00:00:00:01 and fe80::1") == "02:00:00:00:00:01 and x::1"


# --- the bundle ------------------------------------------------------------------------------


def numbers_of(calls: list[Call]) -> set[str]:
    out = set()
    for c in calls:
        for n in (c.from_, c.to):
            digits = "".join(ch for ch in number_key(n) if ch.isdigit())
            if len(digits) >= 5:
                out.add(digits)
    return out


def scan(text: str, numbers: set[str], secrets: list[str]) -> None:
    for n in numbers:
        assert n not in text, f"number {n} left in the bundle"
        assert n[-4:] in text, f"the last four digits of {n} are gone"
    assert IPV4.findall(text) == []
    for s in secrets:
        assert s not in text


async def detail_of(p: Any, sim: SimApp, provider: str) -> CallDetail:
    """A drill-down over HTTP of a finished call of `provider` that has most to show."""
    calls = [c for c in sim.world.calls(provider) if c.end < FIXED_NOW]
    if provider == "tmedia":
        c = next(c for c in calls if c.outcome == "failed")
        return await p.detail(sim_tmedia.incoming_leg_id(c))
    if provider == "plivo":
        return await p.detail(sim_plivo.call_uuid(next(c for c in calls if c.answer)))
    if provider == "bandwidth":
        return await p.detail(sim_bandwidth.call_id(next(c for c in calls if c.answer)))
    if provider == "restcomm":
        c = next(c for c in calls if sim_restcomm.direction(c) == "inbound" and c.answer)
        return await p.detail(sim_restcomm.call_sid(c))
    c = next(
        c
        for c in calls
        if sim_jambonz.facts(c).account_sid == sim_jambonz.DEMO_ACCOUNT_SID
        and sim_jambonz.facts(c).trace_id not in (None, sim_jambonz.NO_TRACE)
        and not sim_jambonz.facts(c).trace_lost
    )
    return await p.detail(sim_jambonz.facts(c).call_sid)


@pytest.mark.parametrize("provider", ["tmedia", "plivo", "bandwidth", "restcomm", "jambonz"])
async def test_bundle_holds_no_full_number_no_address_and_no_secret(
    open_demo: OpenDemo, provider: str
) -> None:
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    p = await open_demo(f"demo-{provider}", app=sim, rate_limit=1000)
    detail = await detail_of(p, sim, provider)
    settings = demo_settings()
    plain = json.dumps(detail.to_dict())
    numbers = numbers_of([detail.call, *detail.legs])
    assert numbers and all(n in plain for n in numbers)
    doc = redacted_bundle(detail, settings=settings, now=FIXED_NOW)
    text = json.dumps(doc)
    scan(text, numbers, settings.secrets())
    assert {"verdict", "call", "legs", "trace", "events", "related", "text"} <= set(doc)
    assert doc["call"]["id"] == detail.call.id
    assert doc["verdict"]["line"] and doc["created_at"] == "2026-11-20T14:00:00+00:00"
    assert json.loads(json.dumps(doc)) == doc


async def test_bundle_masks_numbers_of_related_calls_and_secrets_found_in_data(tmp_path):
    raw = {
        "from_number": 919902443540,  # the legacy API sends numbers as JSON numbers
        "to_number": "+17322179088",
        "forwarded_from": "17322179000",
        "note": "retry via sip:919902443540@203.0.113.9 with token S3cr3t-Plivo-Tok3n-Q",
        "trunk_domain": "42741122632602585.zt.plivo.com",
        "url": "https://api.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Zentrunk/Call/",
    }
    call = Call("plivo", "plivo-prod", "u-1", FIXED_NOW, Outcome.FAILED, raw,
                from_="919902443540", to="+17322179088", sip_call_id="459580122@203.0.113.9",
                cause_code=4410, cause="user_busy")  # fmt: skip
    other = Call("jambonz", "jz", "j-1", FIXED_NOW, Outcome.FAILED, {"from": "919902443540"},
                 from_="919902443540", to="7322179088")  # fmt: skip
    settings = parse_settings(
        {
            "accounts": {
                "plivo-prod": {
                    "provider": "plivo",
                    "auth_id": "MAXXXXXXXXXXXXXXXXXX",
                    "auth_token": "S3cr3t-Plivo-Tok3n-Q",
                }
            }
        },
        Path("<test>"),
    )
    detail = CallDetail(call=call)
    # A related call's numbers are masked too, wherever they show.
    rel = [Relation(other, "same caller", 0.5)]
    doc = redacted_bundle(detail, settings=settings, related=rel, now=FIXED_NOW)
    text = json.dumps(doc)
    scan(text, {"919902443540", "17322179088", "7322179088", "17322179000"}, settings.secrets())
    assert "MAXXXXXXXXXXXXXXXXXX" not in text and "[account-id]" in text
    assert doc["call"]["raw"]["from_number"] == "********3540"
    assert doc["call"]["raw"]["trunk_domain"] == "42741122632602585.zt.plivo.com"
    assert doc["call"]["sip_call_id"] == "459580122@x.x.x.9"
    assert "[secret]" in doc["call"]["raw"]["note"]
    path = write_bundle(detail, tmp_path, settings=settings, related=rel, now=FIXED_NOW)
    assert path.parent == tmp_path and path.name == "calltui-plivo-u-1.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == doc


# --- curl ------------------------------------------------------------------------------------

SECRETS = {
    "tmedia": {"username": "api", "password": "Tm3dia-Pa55-Z9"},
    "plivo": {"auth_id": "MAPLIVO0000000000001", "auth_token": "Pl1vo-T0ken-Z9"},
    "bandwidth": {"user_id": "u-1", "api_token": "Bw-T0ken-Z9", "api_secret": "Bw-S3cret-Z9"},
    "restcomm": {"account_sid": "AC0000000001", "auth_token": "Rc-T0ken-Z9"},
    "jambonz": {"account_sid": "9351f46a-678c-43f5-b8a6-d4eb58d131af", "api_key": "Jz-K3y-Z9"},
}
PLACEHOLDERS = {
    "tmedia": '-u "api:$TMEDIA_PASSWORD"',
    "plivo": '-u "MAPLIVO0000000000001:$PLIVO_AUTH_TOKEN"',
    "bandwidth": '-u "$BANDWIDTH_API_TOKEN:$BANDWIDTH_API_SECRET"',
    "restcomm": '-u "AC0000000001:$RESTCOMM_AUTH_TOKEN"',
    "jambonz": '-H "Authorization: Bearer $JAMBONZ_API_KEY"',
}
"""Secrets given as values: the provider's own variable names; what is no secret (a user
name, an account id that the URL holds anyway) as itself."""


def as_the_shell_reads(line: str, env: dict[str, str]) -> list[str]:
    """The words curl gets from `line`, as bash expands them with `env`."""
    assert line.startswith("curl ")
    printed = subprocess.run(
        ["bash", "-c", "printf '%s\\0' " + line.removeprefix("curl ")],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        check=True,
    ).stdout
    return printed.decode().split("\0")[:-1]


def record(provider: str) -> Call:
    raw = {"call_sid": "767465fe-77a9-4113-9857-0ad7e8f76544"} if provider == "jambonz" else {}
    return Call(provider, f"acc-{provider}", "0x0E47AC10" if provider == "tmedia" else "c-123",
                FIXED_NOW, Outcome.FAILED, raw)  # fmt: skip


@pytest.mark.parametrize("provider", sorted(SECRETS))
async def test_curl_names_credentials_as_variables_and_sends_only_allowed_params(provider):
    account = {"provider": provider, "base_url": "https://api.example.net:8443/x",
               **SECRETS[provider]}  # fmt: skip
    settings = parse_settings({"accounts": {f"acc-{provider}": account}}, Path("<t>"))
    p = open_provider(settings.accounts[f"acc-{provider}"])
    try:
        line = curl_for(p, record(provider))
    finally:
        await p.aclose()
    assert line.startswith("curl -sS ") and PLACEHOLDERS[provider] in line
    for secret in settings.secrets():
        assert secret not in line
    url = httpx.URL(shlex.split(line)[-1])
    assert str(url).startswith("https://api.example.net:8443/x/")
    assert set(url.params) <= p.PARAMS
    assert " -k " not in line


async def test_curl_uses_the_variables_the_config_reads_the_secrets_from(monkeypatch):
    monkeypatch.setenv("SBC_MOSCOW_PASSWORD", "Tm3dia-Pa55-Z9")
    monkeypatch.setenv("BW_TOKEN", "Bw-T0ken-Z9")
    accounts = {
        "sbc": {"provider": "tmedia", "base_url": "https://10.1.2.3:12358",
                "username": 'o"p$s', "password_env": "SBC_MOSCOW_PASSWORD"},
        "bw": {"provider": "bandwidth", "user_id": "u-1", "api_token_env": "BW_TOKEN",
               "api_secret_cmd": "echo Bw-S3cret-Z9"},
    }  # fmt: skip
    settings = parse_settings({"accounts": accounts}, Path("<t>"))
    box = open_provider(settings.accounts["sbc"])
    bw = open_provider(settings.accounts["bw"])
    try:
        box_line = curl_for(box, record("tmedia"))
        bw_line = curl_for(bw, record("bandwidth"))
    finally:
        await box.aclose()
        await bw.aclose()
    assert '-u "o\\"p\\$s:$SBC_MOSCOW_PASSWORD"' in box_line
    words = as_the_shell_reads(box_line, {"SBC_MOSCOW_PASSWORD": "pw"})
    assert words[words.index("-u") + 1] == 'o"p$s:pw'  # the user name as it is
    assert '-u "$BW_TOKEN:$BANDWIDTH_API_SECRET"' in bw_line
    for line in (box_line, bw_line):
        assert not any(secret in line for secret in settings.secrets())


def test_secret_vars_are_calltuis_to_fill_not_the_configs():
    account = {"provider": "jambonz", "account_sid": "x", "api_key": "k",
               "secret_vars": {"api_key": "$(reboot)"}}  # fmt: skip
    with pytest.raises(ConfigError, match="unknown key"):
        parse_settings({"accounts": {"j": account}}, Path("<t>"))


async def test_curl_for_a_scoped_plivo_token_and_an_unverified_box():
    settings = parse_settings(
        {
            "accounts": {
                "pl": {"provider": "plivo", "auth_id": "MA1", "auth_token": "stk_Sc0ped-Z9"},
                "sbc": {
                    "provider": "tmedia",
                    "base_url": "https://10.1.2.3:12358",
                    "username": "api",
                    "password": "x-Pa55-Z9",
                    "verify_tls": False,
                },
            }
        },
        Path("<t>"),
    )
    plivo = open_provider(settings.accounts["pl"])
    box = open_provider(settings.accounts["sbc"])
    try:
        pl_line = curl_for(plivo, record("plivo"))
        box_line = curl_for(box, record("tmedia"))
    finally:
        await plivo.aclose()
        await box.aclose()
    assert '-H "Authorization: Bearer $PLIVO_AUTH_TOKEN"' in pl_line and "stk_" not in pl_line
    assert " -k " in box_line and "x-Pa55-Z9" not in box_line
    assert "drop_call" not in box_line and "leg_id=0x0E47AC10" in box_line


@pytest.mark.parametrize("name", sorted(DEMO_ACCOUNTS))
async def test_the_curl_request_replayed_finds_the_call(name: str) -> None:
    """Run the command's request (its URL, with the credentials the variables stand for)
    against the simulator: the answer holds the call."""
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)
    settings = demo_settings()
    transport = httpx.ASGITransport(app=sim)
    p = open_provider(settings.accounts[name], transport=transport)
    try:
        query = CallQuery(since=FIXED_NOW.replace(hour=13))
        pages = p.pages(query)
        call = next(c for c in (await pages.__anext__()).records if c.outcome != "in_progress")
        await pages.aclose()
        line = curl_for(p, call)
    finally:
        await p.aclose()
    acc = DEMO_ACCOUNTS[name]
    env = {
        "TMEDIA_PASSWORD": acc.get("password"),
        "PLIVO_AUTH_TOKEN": acc.get("auth_token"),
        "BANDWIDTH_API_TOKEN": acc.get("api_token"), "BANDWIDTH_API_SECRET": acc.get("api_secret"),
        "RESTCOMM_AUTH_TOKEN": acc.get("auth_token"),
        "JAMBONZ_API_KEY": acc.get("api_key"),
    }  # fmt: skip
    args = as_the_shell_reads(line, {k: v for k, v in env.items() if v})
    url = args[-1]
    headers = {"Accept": "application/json"}
    auth = None
    if "-u" in args:
        user, _, password = args[args.index("-u") + 1].partition(":")
        auth = (user, password)
    else:
        headers["Authorization"] = args[args.index("-H") + 1].removeprefix("Authorization: ")
    async with httpx.AsyncClient(transport=transport) as client:
        resp = await client.get(url, auth=auth, headers=headers)
    assert resp.status_code == 200 and url.startswith(SIM_HOST)
    ident = call.raw.get("call_sid") or call.id
    assert ident in resp.text


# --- pcap ------------------------------------------------------------------------------------


def read_pcap(data: bytes) -> list[tuple[str, str, str]]:
    """(source IP, destination IP, SIP text) of each packet of a libpcap file (Ethernet, IPv4,
    UDP), read from the bytes alone."""
    magic = data[:4]
    endian = "<" if magic == b"\xd4\xc3\xb2\xa1" else ">"
    assert struct.unpack(endian + "I", magic)[0] == 0xA1B2C3D4
    major, minor, _, _, _, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    assert (major, minor, linktype) == (2, 4, 1)
    out, offset = [], 24
    while offset < len(data):
        _, _, incl, orig = struct.unpack(endian + "IIII", data[offset : offset + 16])
        frame = data[offset + 16 : offset + 16 + incl]
        assert incl == orig == len(frame)
        assert frame[12:14] == b"\x08\x00"  # IPv4
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        assert ip[0] >> 4 == 4 and ip[9] == 17  # UDP
        src, dst = ".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20]))
        udp = ip[ihl:]
        length = struct.unpack("!H", udp[4:6])[0]
        out.append((src, dst, udp[8:length].decode()))
        offset += 16 + incl
    return out


async def test_saved_pcap_holds_the_calls_invite_and_final_answer(
    open_demo: OpenDemo, sim: SimApp, tmp_path: Path
) -> None:
    p = await open_demo("demo-jambonz")
    busy = next(
        c
        for c in sim.world.calls("jambonz")
        if c.outcome == "busy" and c.end < FIXED_NOW
        and sim_jambonz.facts(c).account_sid == sim_jambonz.DEMO_ACCOUNT_SID
    )  # fmt: skip
    listed = [c async for page in p.pages(CallQuery(since=busy.start)) for c in page.records]
    call = next(c for c in listed if c.sip_call_id == busy.sip_call_id)
    path = await save_pcap(p, call, tmp_path)
    assert path == tmp_path / f"callid-{busy.sip_call_id}.pcap"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    packets = read_pcap(path.read_bytes())
    texts = [t for _, _, t in packets]
    assert all(f"\r\nCall-ID: {call.sip_call_id}\r\n" in t for t in texts)
    assert texts[0].startswith("INVITE sip:")
    finals = [t for t in texts if re.match(r"SIP/2\.0 [2-6]\d\d ", t) and "CSeq: 1 INVITE" in t]
    assert finals and finals[-1].startswith(f"SIP/2.0 {busy.sip_code} ")
    # The INVITE went one way, its final answer the other.
    assert (packets[0][0], packets[0][1]) == (
        packets[texts.index(finals[-1])][1],
        packets[texts.index(finals[-1])][0],
    )
    named = await save_pcap(p, call, tmp_path / "x.pcap")
    assert named.read_bytes() == path.read_bytes()


async def test_pcap_refused_where_there_is_none(open_demo: OpenDemo, tmp_path: Path) -> None:
    plivo = await open_demo("demo-plivo")
    with pytest.raises(HandoffError, match="only jambonz"):
        await save_pcap(plivo, record("plivo"), tmp_path)
    jz = await open_demo("demo-jambonz")
    with pytest.raises(HandoffError, match="no SIP Call-ID"):
        await save_pcap(jz, record("jambonz"), tmp_path)
    unknown = record("jambonz")
    unknown.sip_call_id = "nosuch@10.0.0.1"
    with pytest.raises(NotFoundError):
        await save_pcap(jz, unknown, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_pcap_viewers_are_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("tshark", "sngrep"):
        exe = tmp_path / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pcap_viewers() == [str(tmp_path / "sngrep"), str(tmp_path / "tshark")]
    pcap = Path("/tmp/x.pcap")
    assert viewer_command(str(tmp_path / "sngrep"), pcap) == [
        str(tmp_path / "sngrep"),
        "-I",
        str(pcap),
    ]
    assert viewer_command("tshark", pcap) == ["tshark", "-r", str(pcap), "-Y", "sip"]
    assert viewer_command("wireshark", pcap) == ["wireshark", "-r", str(pcap)]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert pcap_viewers() == []


def test_analysis_and_handoff_import_no_textual():
    modules = [
        "calltui.analysis.cause", "calltui.analysis.correlate", "calltui.hints",
        "calltui.analysis.kpi", "calltui.analysis.q850", "calltui.analysis.report",
        "calltui.analysis.verdict", "calltui.handoff",
    ]  # fmt: skip
    code = (
        f"import sys\nfor m in {modules!r}: __import__(m)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_demo_accounts_used_here_exist():
    assert set(demo_accounts()) == set(DEMO_ACCOUNTS)
