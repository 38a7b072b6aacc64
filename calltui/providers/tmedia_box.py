"""What a Tmedia box writes besides a leg's own fields: its times and the leg's `call_traces`.

Box times are `YYYY/MM/DD HH:MM:SS +0300` (or naive, in the box's zone, or epoch numbers);
`call_traces` is an object of undocumented keys (and `***meta***`) whose entries
`{order, timestamp, direction, leg, trace_info, trace_tooltip}` are the leg's SIP ladder, read
here for its events, its final response and Q.850 cause (outcome evidence), its PDD and its MOS.
Part of calltui.providers.tmedia, which reads the legs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from calltui.analysis import q850
from calltui.model import Call, Event
from calltui.providers.coerce import epoch, in_utc
from calltui.providers.coerce import integer as _int
from calltui.providers.coerce import number as _float
from calltui.providers.coerce import text as _str

META = "***meta***"


TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
)


MOS_LINE = re.compile(r"\bMOS:\s*(\d+(?:\.\d+)?)")


_FINAL_HEADS = frozenset("3456")
"""The first digit of a final response that can say how a leg failed (300-699)."""


# TIME_FORMATS at fixed width, the way the box writes them: read through fromisoformat (Python
# 3.11+), 30 times faster than strptime, which cost half the parse of a page of 1000 legs.
_BOX_TIME = re.compile(
    r"(?:\d{4}/\d\d/\d\d|\d{4}-\d\d-\d\d) \d\d:\d\d:\d\d(?: [+-]\d\d[0-5]\d)?", re.ASCII
)


def box_datetime(v: Any, zone: ZoneInfo) -> datetime | None:
    """`YYYY/MM/DD HH:MM:SS +0300`; naive text in the box's zone; some builds write a
    number (epoch seconds, or milliseconds). The 1970 "never" placeholder is None."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return epoch(v)
    if not isinstance(v, str):
        return None
    fast = _box_time(v)
    if fast is not None:
        return in_utc(fast, zone)
    for fmt in TIME_FORMATS:
        try:
            t = datetime.strptime(v.strip(), fmt)
        except ValueError:
            continue
        return in_utc(t, zone)
    return None


def _box_time(v: str) -> datetime | None:
    """A fixed-width box time read fast, or None to leave it to strptime (any other shape, and
    every shape on Python 3.10, whose fromisoformat reads no `+0300`)."""
    if _BOX_TIME.fullmatch(v) is None:
        return None
    iso = f"{v[:4]}-{v[5:7]}-{v[8:10]}T{v[11:19]}{v[20:]}"
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def to_box_time(t: datetime, zone: ZoneInfo, *, lower: bool) -> str:
    """`t` as the naive `YYYY-MM-DD HH:MM:SS` the box reads in its own zone. In a DST
    fold the box may read the other of the two instants: move the bound so that either reading
    still holds `t` (earlier for a lower bound, later for an upper one)."""
    naive = t.astimezone(zone).replace(tzinfo=None)
    readings = [naive.replace(tzinfo=zone, fold=f).astimezone(timezone.utc) for f in (0, 1)]
    if lower:
        naive -= max(timedelta(0), max(readings) - t)
    else:
        naive += max(timedelta(0), t - min(readings))
    return naive.strftime("%Y-%m-%d %H:%M:%S")


def _entries(traces: object) -> Iterable[Any]:
    """What `call_traces` holds as it came, its `***meta***` among them (no `trace_info`: passed
    over by what reads them); nothing if it is neither an object nor a list."""
    if isinstance(traces, dict):
        return traces.values()
    return traces if isinstance(traces, list) else ()


def trace_causes(traces: object) -> tuple[int | None, int | None]:
    """The last final SIP response (300-699) of a leg's `call_traces` and the last
    `Reason: Q.850;cause=N` in them, in `order`; None where they hold none. A final response is
    an entry whose `trace_info` starts with its status ("486 Busy Here"); a Reason header is
    in the entry's text (the tooltip holds the message)."""
    entries = _entries(traces)
    sip = reason = None
    sip_at: tuple[bool, float, int] | None = None
    cause_at: tuple[bool, float, int] | None = None
    for position, e in enumerate(entries):
        # Run for every leg of a listing: a final response is told by its first character, a
        # Reason header by a substring test, before anything is parsed.
        if not isinstance(e, dict):
            continue
        info, tooltip = e.get("trace_info"), e.get("trace_tooltip")
        code = cause = None
        if isinstance(info, str):
            if info[:1] in _FINAL_HEADS and info[:3].isdecimal() and info[3:4] in ("", " "):
                code = int(info[:3])
            if "850" in info:
                cause = q850.from_reason(info)
        if isinstance(tooltip, str) and "850" in tooltip:
            cause = q850.from_reason(tooltip) or cause
        if code is None and cause is None:
            continue
        order = _order(e.get("order"))
        at = (order is None, order or 0.0, position)
        if code is not None and (sip_at is None or at > sip_at):
            sip, sip_at = code, at
        if cause is not None and (cause_at is None or at > cause_at):
            reason, cause_at = cause, at
    return sip, reason


def trace_entries(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """`call_traces` entries in `order`; its keys are undocumented and it holds `***meta***`."""
    traces = raw.get("call_traces")
    if isinstance(traces, dict):
        values = [v for k, v in traces.items() if k != META]
    elif isinstance(traces, list):
        values = traces
    else:
        return []
    entries = [v for v in values if isinstance(v, dict)]
    # A client of real boxes sorts by Number(order): the keys are strings and come out of order.
    return sorted(entries, key=lambda e: (_int(e.get("order")) is None, _int(e.get("order")) or 0))


def leg_mos(raw: dict[str, Any]) -> float | None:
    """The leg's `mos` where it has one, else the MOS line of its call flow."""
    mos = _float(raw.get("mos"))
    if mos is not None and 0 < mos <= 5:
        return mos
    for entry in reversed(trace_entries(raw)):
        m = MOS_LINE.search(_str(entry.get("trace_info")) or "")
        if m:
            return float(m.group(1))
    return None


TRACE_RECEIVED = {"1": True, "2": False}
"""A `call_traces` entry's `direction`: 1 is a message the box received on the leg, 2 one it
sent."""


def leg_events(leg: Call, zone: ZoneInfo) -> list[Event]:
    """The leg's `call_traces` in `order`; the entry's leg, direction and order also as the
    Event's plain fields, which the ladder and `hangup_party` read."""
    out = []
    for e in trace_entries(leg.raw):
        direction = _str(e.get("direction"))
        on = _str(e.get("leg")) or leg.id
        order = _int(e.get("order"))
        data = {
            "direction": direction,
            "leg": on,
            "tooltip": _str(e.get("trace_tooltip")),
            "order": order,
        }
        name = _str(e.get("trace_info")) or ""
        time = box_datetime(e.get("timestamp"), zone)
        received = TRACE_RECEIVED.get(direction or "")
        out.append(Event(time, name, data, leg=on, received=received, seq=order or 0))
    return out


BOX_UTC = ZoneInfo("UTC")
"""Box times carry their offset; a naive one is read as UTC, which a duration does not mind."""


def traces_pdd(traces: object) -> float | None:
    entries = _entries(traces)
    invite: tuple[float, str] | None = None
    ring: tuple[float, str] | None = None
    for e in entries:
        # The hot loop of the KPIs: most entries are neither an INVITE nor a 180/183.
        try:
            head = e["trace_info"][:3]
        except (TypeError, KeyError, IndexError):
            continue
        if head == "INV":
            ringing = False
        elif head == "180" or head == "183":
            ringing = True
        else:
            continue
        stamp = e.get("timestamp")
        order = _order(e.get("order"))
        if not isinstance(stamp, str) or order is None:
            continue
        if ringing:
            if ring is None or order < ring[0]:
                ring = (order, stamp)
        elif e["trace_info"].startswith("INVITE") and (invite is None or order < invite[0]):
            invite = (order, stamp)
    if invite is None or ring is None:
        return None
    delta = box_delta(invite[1], ring[1])
    return None if delta is None or delta < 0 else delta


def _order(v: object) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and v.strip().isdigit():
        return float(v)
    return None


def box_delta(a: str, b: str) -> float | None:
    """Seconds from box time `a` to `b` (`YYYY/MM/DD HH:MM:SS +0300`): the clock fields when the
    date and the offset agree (the usual case, no parsing), else both read in full."""
    if len(a) >= 19 and len(b) >= 19 and a[:10] == b[:10] and a[19:] == b[19:]:
        try:
            return float(_clock(b) - _clock(a))
        except ValueError:
            return None
    ta, tb = box_datetime(a, BOX_UTC), box_datetime(b, BOX_UTC)
    return None if ta is None or tb is None else (tb - ta).total_seconds()


def _clock(s: str) -> int:
    return int(s[11:13]) * 3600 + int(s[14:16]) * 60 + int(s[17:19])
