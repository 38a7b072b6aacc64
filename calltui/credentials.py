"""An account's credentials as they travel, kept from anywhere a server could show them: the
forms a server may echo them in (calltui.http.HttpClient masks them in every body), and URLs
with their secret-looking parameters masked."""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Collection
from urllib.parse import quote, unquote_plus

import httpx

_SECRET_PARAM = re.compile(r"(?i)token|secret|passw|key|sig|auth|session|credential")


def redact_url(url: httpx.URL) -> str:
    # Credentials never travel in URLs we build, but a base_url or a Link header might hold them.
    url = url.copy_with(username=None, password=None, fragment=None)
    if not any(_SECRET_PARAM.search(k) for k in url.params):
        return str(url)
    # The other parameters keep their encoding: only secret-looking values are replaced.
    parts = []
    for part in url.query.decode("ascii").split("&"):
        key, eq, _ = part.partition("=")
        parts.append(f"{key}{eq}***" if eq and _SECRET_PARAM.search(unquote_plus(key)) else part)
    return str(url.copy_with(query=None)) + "?" + "&".join(parts)


def _authorization(auth: httpx.Auth | None, headers: dict[str, str]) -> tuple[str, str]:
    """The scheme and value of the Authorization header an account's requests carry."""
    probe = httpx.Request("GET", "http://calltui.invalid/", headers=headers)
    if auth is not None:
        flow = auth.sync_auth_flow(probe)
        try:
            probe = next(flow)
        except StopIteration:
            pass
        finally:
            flow.close()
    scheme, _, value = probe.headers.get("authorization", "").partition(" ")
    return scheme.lower(), value.strip()


def credentials(auth: httpx.Auth | None, headers: dict[str, str]) -> set[str]:
    """The secret strings an account's requests carry: the Basic password and its encoded
    user:password, a bearer token. Error text from a server never shows them."""
    scheme, value = _authorization(auth, headers)
    out: set[str] = {value} if value else set()
    if scheme == "basic":
        with contextlib.suppress(ValueError):
            out.add(base64.b64decode(value).decode().partition(":")[2])
    return {s for s in out if len(s) >= 4}


def echo_forms(
    secrets: Collection[str], auth: httpx.Auth | None, headers: dict[str, str]
) -> list[bytes]:
    """How a server that echoes credentials may write them: each secret (those given, the Basic
    password, a bearer token) as it is, JSON-escaped, percent-encoded, in base64 alone and, for
    Basic auth, as the base64 of `user:secret`; base64 without its padding, which an echo may
    drop. Longest first, so that no shorter form masks part of a longer one and leaves the
    rest. Each form costs a scan of every body."""
    scheme, value = _authorization(auth, headers)
    user, plain = None, set(secrets)
    if scheme == "basic":
        with contextlib.suppress(ValueError):
            user, _, password = base64.b64decode(value).decode().partition(":")
            plain.add(password)
    elif value:
        plain.add(value)
    forms: set[str] = set()  # the header's value is among them: `user:password` in base64
    for s in plain:
        escaped = json.dumps(s)[1:-1]
        forms |= {s, escaped, escaped.replace("/", "\\/"), quote(s, safe=""), _b64(s)}
        forms.add(json.dumps(s, ensure_ascii=False)[1:-1])
        if user is not None:
            forms.add(_b64(f"{user}:{s}"))
    return sorted((f.encode() for f in forms if len(f) >= 4), key=len, reverse=True)


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode().rstrip("=")
