"""What a failed exchange says, in a few printable words (calltui.http): the reason an error body
gives, how long the server asks to wait before the next attempt, what a body looks like from its
first byte.
"""

from __future__ import annotations

import email.utils
import json
import re

import httpx


def server_wait(resp: httpx.Response, now_wall: float) -> float | None:
    """Seconds the server asks us to wait: Retry-After (seconds or HTTP date), Bandwidth's
    X-RateLimit-Reset (epoch milliseconds; seconds accepted too) or the IETF draft's
    RateLimit-Reset (seconds from now; jambonz's express-rate-limit sends it)."""
    ra = resp.headers.get("retry-after")
    if ra:
        try:
            return max(0.0, float(ra))
        except ValueError:
            dt = email.utils.parsedate_to_datetime(ra) if ra else None
            if dt is not None:
                return max(0.0, dt.timestamp() - now_wall)
    reset = resp.headers.get("x-ratelimit-reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        epoch_s = value / 1000 if value > 1e11 else value
        return max(0.0, min(epoch_s - now_wall, 300.0))
    delta = resp.headers.get("ratelimit-reset")
    if delta:
        try:
            return max(0.0, float(delta))
        except ValueError:
            return None
    return None


_TITLE = re.compile(rb"<title[^>]*>([^<]{1,120})</title", re.IGNORECASE)


def error_text(resp: httpx.Response, keys: tuple[str, ...] = ("message", "error", "msg")) -> str:
    """A short, printable reason from an error body: the first of `keys` in a JSON object, a
    short plain text (whatever its content type says: Rails and Express send plain sentences
    as text/html), the title of an HTML page, else the status phrase."""
    text = ""
    first = first_byte(resp.content)
    if "json" in resp.headers.get("content-type", "") or first in (b"{", b"["):
        try:
            body = json.loads(resp.content)
        except ValueError:
            body = None
        if isinstance(body, dict):
            for k in keys:
                v = body.get(k)
                if isinstance(v, str) and v.strip():
                    text = v.strip()
                    break
    elif first == b"<":
        title = _TITLE.search(resp.content[:4096])
        name = f' ("{title.group(1).decode("utf-8", "replace").strip()}")' if title else ""
        text = f"an HTML page{name} instead of JSON (a proxy or login page?)"
    elif first and len(resp.content) < 300:
        text = resp.text.strip()
    out = text or resp.reason_phrase or "no reason given"
    return printable(out)


_SPACE = re.compile(rb"\s*")


def first_byte(body: bytes) -> bytes:
    """The first byte that is not whitespace (b"" if none), without copying a large body."""
    start = _SPACE.match(body)
    i = start.end() if start else 0
    return body[i : i + 1]


def printable(text: str) -> str:
    """`text` as one short line: every character that does not print (a line break, an escape)
    a space, and at most 200 of them."""
    return "".join(ch if ch.isprintable() else " " for ch in text)[:200]
