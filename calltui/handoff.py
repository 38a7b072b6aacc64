"""Handing a call over: a redacted bundle for a carrier ticket, the API request as a curl
command, and the call's SIP capture saved as a pcap file.

    redact_number(s) -> str                   every digit but the last four masked
    redact_ip(s) -> str                       IPv4/IPv6 addresses in `s` masked
    redacted_bundle(detail, *, settings, related=(), now=None) -> dict
    write_bundle(detail, path, *, settings, related=(), now=None) -> Path    JSON, mode 0600
    curl_for(provider, call) -> str           the request behind the record, secrets as $VARs
    await save_pcap(provider, call, path) -> Path      where the provider serves one (Provider.PCAP)
    pcap_viewers() -> list[str]; viewer_command(viewer, pcap) -> list[str]

What the bundle hides, everywhere in it (the record, its `raw`, legs, events, the trace, the
text view): the numbers of the call and its legs (and of the related calls given) wherever they
appear, any value under a number field (`from`, `to`, `calling`, `called`, `from_number`,
`caller_name`, ...), E.164 numbers (`+` and 6 to 15 digits) and the user part of `sip:`/`tel:`
URIs, all keeping their last four digits; IPv4 and IPv6 addresses, keeping only their last
group (`x.x.x.14`, `x::1f`), Call-IDs included (their local part, usually enough to find the
call, stays); every configured secret, and the account identifiers that are half of a
credential (Plivo `auth_id`, Restcomm `account_sid`). Nothing else is altered.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import shutil
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from calltui import render
from calltui.analysis.chain import Chain
from calltui.analysis.correlate import Relation
from calltui.analysis.verdict import verdict
from calltui.config import Settings
from calltui.files import create_private
from calltui.model import Call, CallDetail, iso, number_key
from calltui.providers import registry
from calltui.providers.base import PcapSource, Provider

BUNDLE_VERSION = 1
SECRET = "[secret]"
NUMBER_KEYS = frozenset(
    {
        "from",
        "to",
        "from_",
        "from_number",
        "to_number",
        "calling",
        "called",
        "caller_name",
        "forwarded_from",
        "callerid",
        "caller_id",
        "callernumber",
        "callednumber",
    }
)
"""Fields whose value is a number (compared lower-case): masked whatever their shape."""

_IPV4 = re.compile(r"(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Fa-f:])")
_E164 = re.compile(r"\+\d{6,15}(?!\d)")
_URI_USER = re.compile(r"(?i)\b(sips?:|tel:)([+\d][\d\-()]{4,})(?=[@;>\s\"']|$)")
_DIGIT_RUN = re.compile(r"\d{5,}")
_MIN_SECRET = 4
_MIN_ID = 8

VIEWERS = ("sngrep", "wireshark", "tshark")


class HandoffError(Exception):
    """A handoff this call or provider cannot give (no pcap endpoint, no Call-ID)."""


# --- masking ---------------------------------------------------------------------------------


def redact_number(s: str) -> str:
    """Every digit of `s` masked with `*` but the last four; other characters kept:
    `+14155550123` → `+*******0123`, `sip:4930123456@h` → `sip:******3456@h`."""
    total = sum(ch.isdigit() for ch in s)
    keep_from = total - 4
    out, seen = [], 0
    for ch in s:
        if ch.isdigit():
            out.append(ch if seen >= keep_from else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def _mask_v4(m: re.Match[str]) -> str:
    if any(int(g) > 255 for g in m.groups()):
        return m.group(0)
    return f"x.x.x.{m.group(4)}"


def _mask_v6(m: re.Match[str]) -> str:
    text = m.group(0)
    try:
        addr = ipaddress.IPv6Address(text)
    except ValueError:
        return text
    return f"x::{addr.exploded.rsplit(':', 1)[1].lstrip('0') or '0'}"


def redact_ip(s: str) -> str:
    """IPv4 addresses as `x.x.x.<last octet>`, IPv6 ones as `x::<last group>` (an IPv4-mapped
    IPv6 address keeps the form of both). Clock times like `14:00:00` are not addresses."""
    return _IPV6.sub(_mask_v6, _IPV4.sub(_mask_v4, s))


class Redactor:
    """Masks one bundle's strings: secrets, credential ids, the given numbers, IPs."""

    def __init__(self, settings: Settings, numbers: Iterable[str | None] = ()) -> None:
        self.secrets = sorted(
            {s for s in settings.secrets() if len(s) >= _MIN_SECRET}, key=len, reverse=True
        )
        ids = {
            i
            for acc in settings.accounts.values()
            for i in acc.credential_ids()
            if len(i) >= _MIN_ID
        }
        self.ids = sorted(ids, key=len, reverse=True)
        keys = {number_key(n) for n in numbers if n}
        self.numbers = {
            d for d in ("".join(ch for ch in k if ch.isdigit()) for k in keys) if len(d) >= 5
        }

    def text(self, s: str) -> str:
        for secret in self.secrets:
            s = s.replace(secret, SECRET)
        for ident in self.ids:
            s = s.replace(ident, "[account-id]")
        s = _URI_USER.sub(lambda m: m.group(1) + redact_number(m.group(2)), s)
        s = _E164.sub(lambda m: redact_number(m.group(0)), s)
        if self.numbers:
            s = _DIGIT_RUN.sub(self._known, s)
        return redact_ip(s)

    def _known(self, m: re.Match[str]) -> str:
        run = m.group(0)
        for n in self.numbers:
            # The number itself, inside a longer run, or its national form (a long suffix).
            if n in run or (len(run) >= 7 and n.endswith(run)):
                return redact_number(run)
        return run

    def value(self, v: Any, key: str | None = None) -> Any:
        """`v` with every string masked; any value under a number field masked as a number."""
        if isinstance(v, dict):
            return {self.text(str(k)): self.value(x, str(k)) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [self.value(x, key) for x in v]
        numeric = key is not None and key.lower() in NUMBER_KEYS
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int) and (numeric or str(abs(v)) in self.numbers):
            return redact_number(str(v))
        if isinstance(v, str):
            out = self.text(v)
            return redact_number(out) if numeric else out
        return v


# --- the bundle ------------------------------------------------------------------------------


def redacted_bundle(
    detail: CallDetail,
    *,
    settings: Settings,
    related: Iterable[Relation] = (),
    now: datetime | None = None,
    view: str | None = None,
    chain: Chain | None = None,
) -> dict[str, Any]:
    """A JSON-ready document for a carrier ticket: the verdict, the drill-down (the keys of
    `show` JSON: call, legs, trace, events, recordings, notifications, explanation), the
    provider extras, the related calls, the view it was made from (a view spec a colleague can
    open), the end-to-end call and a plain-text view with the chain as a ladder, every value
    redacted (see the module doc)."""
    rel = list(related)
    hops = [h.call for h in chain.hops] if chain is not None else []
    calls = [detail.call, *detail.legs, *(r.call for r in rel), *hops]
    redactor = Redactor(settings, (n for c in calls for n in (c.from_, c.to)))
    doc: dict[str, Any] = {
        "calltui_bundle": BUNDLE_VERSION,
        "created_at": iso(now or datetime.now(timezone.utc)),
        "redaction": (
            "phone numbers keep their last 4 digits; IP addresses keep their last group; "
            "credentials and account ids removed"
        ),
        "verdict": verdict(detail).to_dict(),
        **detail.to_dict(),
        "extra": detail.extra,
        "related": [r.to_dict() for r in rel],
        "view": view,
        "chain": None if chain is None else chain.to_dict(),
        "text": render.detail_text(detail, timezone.utc, chain=chain),
    }
    out: dict[str, Any] = redactor.value(doc)
    return out


def write_bundle(
    detail: CallDetail,
    path: Path,
    *,
    settings: Settings,
    related: Iterable[Relation] = (),
    now: datetime | None = None,
    view: str | None = None,
    chain: Chain | None = None,
) -> Path:
    """The bundle written as JSON (ASCII, indented) to a new file with mode 0600 (calltui.files);
    a directory `path` gets a file named after the call (`-1`, `-2`... added when taken); the
    path written."""
    doc = redacted_bundle(
        detail, settings=settings, related=related, now=now, view=view, chain=chain
    )
    call = detail.call
    name = f"calltui-{call.provider}-{_file_part(call.id)}.json"
    data = (json.dumps(doc, ensure_ascii=True, indent=2) + "\n").encode()
    return _write_private(path, name, data)


# --- curl ------------------------------------------------------------------------------------


def curl_for(provider: Provider[Any], call: Call) -> str:
    """`curl` for the API request behind `call`'s record (Provider.request_for), on the account's
    base URL with exactly the query the adapter sends; credentials as shell variables."""
    path, params = provider.request_for(call)
    clean = {k: v for k, v in params.items() if v is not None and v != ""}
    url = provider.http.url_for(path, clean)
    auth = provider.curl_auth(provider.account)
    args = ["curl", "-sS", *auth, "-H", shlex.quote("Accept: application/json")]
    account = provider.account
    if account.ca_bundle:
        args += ["--cacert", shlex.quote(account.ca_bundle)]
    elif not account.verify_tls:
        args.append("-k")
    args.append(shlex.quote(url))
    line = " ".join(args)
    for secret in account.secrets():
        if len(secret) >= _MIN_SECRET:
            line = line.replace(secret, SECRET)
    return line


# --- pcap ------------------------------------------------------------------------------------


async def save_pcap(provider: Provider[Any], call: Call, path: Path) -> Path:
    """The call's SIP capture (a PcapSource: jambonz serves it from Homer), which is found by
    the call's SIP Call-ID, written to a new file `path` with mode 0600; a directory `path` gets
    `callid-<Call-ID>.pcap`, the name the jambonz webapp gives it (`-1`, `-2`... added when
    taken); the path written. Raises HandoffError where
    there is no capture to ask for, and the provider's errors (NotFoundError when Homer has
    none) as they come."""
    if not isinstance(provider, PcapSource):
        servers = [name for name in registry.names() if registry.get(name).PCAP]
        serve = "serves" if len(servers) == 1 else "serve"
        only = f" (only {' and '.join(servers)} {serve} one)" if servers else ""
        raise HandoffError(f"{provider.name} has no pcap endpoint{only}")
    if not call.sip_call_id:
        raise HandoffError(f"call {call.id} has no SIP Call-ID to fetch a capture by")
    data = await provider.pcap(call.sip_call_id)
    return _write_private(path, f"callid-{_file_part(call.sip_call_id)}.pcap", data)


def pcap_viewers() -> list[str]:
    """The pcap viewers found on PATH (sngrep, wireshark, tshark, in that order), as paths."""
    return [found for name in VIEWERS if (found := shutil.which(name))]


def viewer_command(viewer: str, pcap: Path) -> list[str]:
    """The argv that opens `pcap` in `viewer` (a name or path from pcap_viewers())."""
    name = Path(viewer).name
    if name.startswith("sngrep"):
        return [viewer, "-I", str(pcap)]
    if name.startswith("tshark"):
        return [viewer, "-r", str(pcap), "-Y", "sip"]
    return [viewer, "-r", str(pcap)]


# --- files -----------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._@-]+")


def _file_part(s: str) -> str:
    """A provider id made safe as part of a file name (ids may hold `/`, `..`, anything)."""
    return (_UNSAFE_NAME.sub("_", s).strip("._") or "call")[:100]


def _write_private(path: Path, name: str, data: bytes) -> Path:
    """`data` in a new private file (calltui.files): in the directory `path` under `name`, or
    the next free name beside it; else at `path` itself, which must not exist."""
    in_dir = path.is_dir()
    target, f = create_private(path / name if in_dir else path, free_name=in_dir)
    with f:
        f.write(data)
    return target
