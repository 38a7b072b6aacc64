"""Filter input (CLI flags, the TUI's form) → a validated CallQuery; errors name the field."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from calltui.model import FAILED_OUTCOMES, CallQuery, Outcome

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def parse_time(value: str, *, field: str, now: datetime, tz: timezone | None = None) -> datetime:
    """`15m`, `4h`, `2d` (that long before now) or an ISO date-time (naive: `tz`, else UTC)."""
    m = _RELATIVE.match(value)
    if m:
        return now - timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            field, f"{value!r} is neither a relative time (15m, 4h, 2d) nor an ISO date-time"
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz or timezone.utc)
    return t.astimezone(timezone.utc)


def parse_outcome(value: str, *, field: str = "outcome") -> Outcome:
    try:
        return Outcome(value.strip().lower().replace("-", "_"))
    except ValueError:
        names = ", ".join(o.value for o in Outcome)
        raise FilterError(field, f"{value!r} is not one of {names}") from None


def _duration(value: str | int | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise FilterError(field, f"{value!r} is not a whole number of seconds") from None
    if n < 0:
        raise FilterError(field, "must not be negative")
    return n


def build_query(
    *,
    since: str | None,
    until: str | None = None,
    from_: str | None = None,
    to: str | None = None,
    direction: str | None = None,
    outcomes: Iterable[str] = (),
    failed: bool = False,
    min_duration: str | int | None = None,
    max_duration: str | int | None = None,
    text: str | None = None,
    default_since: timedelta = timedelta(hours=24),
    now: datetime | None = None,
) -> CallQuery:
    now = now or datetime.now(timezone.utc)
    start = parse_time(since, field="since", now=now) if since else now - default_since
    end = parse_time(until, field="until", now=now) if until else None
    if end is not None and end < start:
        raise FilterError("until", "is before since")
    if direction:
        direction = direction.strip().lower()
        if direction not in ("inbound", "outbound"):
            raise FilterError("direction", f"{direction!r} is not inbound or outbound")
    wanted = {parse_outcome(o) for o in outcomes if o.strip()}
    if failed:
        wanted = (wanted & FAILED_OUTCOMES) if wanted else set(FAILED_OUTCOMES)
        if not wanted:
            raise FilterError("failed", "excludes every outcome given with --outcome")
    lo = _duration(min_duration, "min_duration")
    hi = _duration(max_duration, "max_duration")
    if lo is not None and hi is not None and hi < lo:
        raise FilterError("max_duration", "is below min_duration")
    return CallQuery(
        since=start,
        until=end,
        from_=(from_ or "").strip() or None,
        to=(to or "").strip() or None,
        direction=direction or None,
        outcomes=frozenset(wanted),
        min_duration=lo,
        max_duration=hi,
        text=(text or "").strip() or None,
    )
