"""Lenient reading of optional fields: providers send numbers as strings, strings as numbers,
the string "null" for null (Plivo, Restcomm), floats for integers (jambonz's Influx). A value of
the wrong type is None for that field, never an exception (NaN and infinity included), and so is
an impossible one: a negative or years-long duration, a call dated 1970 or 9999 (the record's
`raw` keeps what the server sent)."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from calltui.model import epoch_placeholder

_FRACTION = re.compile(r"\.(\d+)")
# The shape nearly every provider writes: `2026-11-20T13:58:31.082Z`, `... 13:58:31+02:00`.
_COMMON_ISO = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)?", re.ASCII
)


def text(v: Any) -> str | None:
    """A string field: JSON numbers become strings (200.0 as "200"); "", blanks and the string
    "null" are null."""
    if isinstance(v, str):  # first: nearly every field of every page is one
        s = v.strip()
        return None if not s or (len(s) == 4 and s.lower() == "null") else v
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else str(v)
    return None


MAX_DURATION = timedelta(days=31)
"""No call lasts longer: a trunk drops a call within a day or two, and a longer duration is a
counter gone wrong (an ACD of -99,999,999 s came from one)."""
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
"""No call record is dated later: `9999-12-31` is a database's "never", and one such call would
sort above every real one and hold the merge's watermark at the end of time."""


def seconds(v: Any) -> int | None:
    """A duration in whole seconds, from 0 to MAX_DURATION."""
    n = integer(v)
    return n if n is not None and 0 <= n <= MAX_DURATION.total_seconds() else None


def plausible(t: datetime | None) -> datetime | None:
    """`t` (aware), unless it is the 1970 placeholder of "never" or dated LATEST or later."""
    t = epoch_placeholder(t)
    return None if t is None or t >= LATEST else t


def epoch(v: float) -> datetime | None:
    """Epoch seconds, or milliseconds where the number is too large for seconds, in UTC."""
    try:
        return plausible(datetime.fromtimestamp(v / 1000 if abs(v) > 1e11 else v, timezone.utc))
    except (OverflowError, OSError, ValueError):  # past what a datetime holds, or NaN
        return None


def integer(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v.strip())  # an int64 past 2^53 must not go through a float
        except ValueError:
            v = number(v)
    if isinstance(v, float) and math.isfinite(v):
        return int(v)
    return None


def number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        return None
    try:
        f = float(v)
    except (ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def in_utc(t: datetime, zone: tzinfo) -> datetime | None:
    """A provider's time in UTC: naive means the account's zone; a 1970 placeholder is None."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=zone)
    try:
        return plausible(t.astimezone(timezone.utc))
    except OverflowError:  # year 1 or 9999 pushed out of range by the offset
        return None


def common_iso(s: str) -> datetime | None:
    """`s` read at C speed when it has the common shape (a page holds thousands of times):
    Python 3.11+'s fromisoformat reads that shape as the general parsers do (`Z` as UTC, a
    fraction cut to microseconds). None means "not read here", for the general path: any other
    shape, and on 3.10 `Z` and fractions but of 3 or 6 digits."""
    if _COMMON_ISO.fullmatch(s) is None:
        return None
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        return None


def iso_time(v: Any, zone: tzinfo = timezone.utc) -> datetime | None:
    """ISO 8601 with `Z` or an offset, any number of fraction digits, `T` or a space; naive in
    `zone`. Python 3.10's fromisoformat takes neither `Z` nor fractions but of 3 or 6 digits."""
    if isinstance(v, str):
        fast = common_iso(v)
        if fast is not None:
            return in_utc(fast, zone)
    s = text(v)
    if s is None:
        return None
    s = s.strip()
    s = s[:-1] + "+00:00" if s[-1] in "zZ" else s
    s = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), s, count=1)
    try:
        return in_utc(datetime.fromisoformat(s), zone)
    except ValueError:
        return None
