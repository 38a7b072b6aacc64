"""A view as one string a colleague can paste:

    calltui://view?accounts=A,B&q=QUERY&since=T&until=T&sort=COLUMN[:desc]&call=ACCOUNT/ID

Values are percent-encoded and every part is optional. `q` is the query language (calltui.query),
which every filter of the TUI and the CLI can be written in (calltui.filters.as_terms); `since`
and `until` are what `--since` takes (ISO 8601, or 15m, 4h, 2d back from now); `sort` a column
of `[display] columns` by its name; `call` the call the cursor is on. `calltui --view`, `calls`
and `stats --view`, the TUI's copy key and the redacted bundle all read and write it here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, urlsplit

from calltui.columns import DISPLAY_NAMES

PREFIX = "calltui://view"
PARTS = ("accounts", "q", "since", "until", "sort", "call")


class ViewSpecError(ValueError):
    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"view {part}: {message}")
        self.part = part


@dataclass(frozen=True, slots=True)
class ViewSpec:
    accounts: tuple[str, ...] = ()
    q: str | None = None
    since: str | None = None
    until: str | None = None
    """As given: ISO 8601 or a span back from now (read by calltui.filters, like --since)."""
    sort: str | None = None
    """A column name of `[display] columns`."""
    descending: bool = False
    call: tuple[str, str] | None = None
    """(account, call id)."""

    def __str__(self) -> str:
        parts: list[tuple[str, str]] = []
        if self.accounts:
            parts.append(("accounts", ",".join(self.accounts)))
        for name in ("q", "since", "until"):
            value = getattr(self, name)
            if value:
                parts.append((name, value))
        if self.sort:
            parts.append(("sort", self.sort + (":desc" if self.descending else "")))
        if self.call:
            parts.append(("call", "/".join(self.call)))
        if not parts:
            return PREFIX
        encoded = (f"{k}={quote(v, safe='', errors='surrogatepass')}" for k, v in parts)
        return PREFIX + "?" + "&".join(encoded)


def iso(t: datetime) -> str:
    """A time as a spec writes it: UTC, to the second."""
    return t.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse(text: str) -> ViewSpec:
    """The spec in `text`; ViewSpecError names the part that is wrong."""
    text = text.strip()
    if not (text == PREFIX or text.startswith(PREFIX + "?")):
        raise ViewSpecError("spec", f"does not start with {PREFIX}?")
    query = urlsplit(text).query
    try:
        pairs = parse_qsl(
            query, keep_blank_values=True, strict_parsing=bool(query), errors="surrogatepass"
        )
    except ValueError:
        raise ViewSpecError("spec", "is not a query string of name=value parts") from None
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name not in PARTS:
            raise ViewSpecError(name, f"unknown part (parts: {', '.join(PARTS)})")
        if name in seen:
            raise ViewSpecError(name, "given twice")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ViewSpecError(name, "holds a control character")
        seen[name] = value
    spec = ViewSpec(q=seen.get("q") or None, since=seen.get("since"), until=seen.get("until"))
    if "accounts" in seen:
        accounts = tuple(a.strip() for a in seen["accounts"].split(",") if a.strip())
        spec = replace(spec, accounts=accounts)
    if "sort" in seen:
        column, _, order = seen["sort"].partition(":")
        if column.lower() not in DISPLAY_NAMES:
            known = ", ".join(DISPLAY_NAMES)
            raise ViewSpecError("sort", f"unknown column {column!r} (one of {known})")
        if order not in ("", "asc", "desc"):
            raise ViewSpecError("sort", f"{order!r} is not asc or desc")
        spec = replace(spec, sort=column.lower(), descending=order == "desc")
    if "call" in seen:
        account, slash, call_id = seen["call"].partition("/")
        if not (slash and account and call_id):
            raise ViewSpecError("call", "is not ACCOUNT/ID")
        spec = replace(spec, call=(account, call_id))
    return spec
