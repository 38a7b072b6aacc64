"""The environment an HTTP client (calltui.http) is made in, honoured as curl honours it: the
proxies it takes from HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (which one it cannot use,
which one would carry an account's credentials in clear text), and the TLS trust it builds once
for every client that trusts alike (SSL_CERT_FILE, SSL_CERT_DIR, a ca_bundle).
"""

from __future__ import annotations

import importlib.util
import os
import ssl
import sys
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import httpx

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
"""The proxies the HTTP client takes from the environment (in either case)."""


def proxy_problem(value: str) -> str | None:
    """Why the HTTP client could not use `value`, the value of one of PROXY_VARIABLES, as its
    proxy (None: it can)."""
    usable = "http://, https:// or socks5:// and HOST:PORT"
    # A value without a scheme is read as http://VALUE, as the HTTP client reads it.
    url = value if "://" in value else f"http://{value}"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "the proxy URL holds spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"not a proxy URL: calltui takes {usable}"
    if parts.scheme not in ("http", "https", "socks5", "socks5h"):
        return f"{parts.scheme}:// is no proxy calltui can use: it takes {usable}"
    if not parts.hostname or parts.path not in ("", "/") or parts.query or port == 0:
        return f"not a proxy URL: calltui takes {usable}"
    if parts.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        return "a SOCKS proxy needs the socksio package: pip install 'httpx[socks]'"
    return None


def plain_proxy(base_url: str) -> str | None:
    """The origin of the proxy that requests to `base_url` reach in clear text: an http:// URL
    with HTTP_PROXY or ALL_PROXY set and its host not in NO_PROXY (the variables httpx reads
    with trust_env); None where there is none. Over https:// a proxy only tunnels TLS."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        return None
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get("http") or proxies.get("all")
    if url.scheme != "http" or not proxy:
        return None
    # With a proxy in the environment, proxy_bypass reads NO_PROXY (and no system setting).
    if urllib.request.proxy_bypass(url.host):
        return None
    try:
        p = httpx.URL(proxy if "://" in proxy else "http://" + proxy)
    except httpx.InvalidURL:
        return None
    return f"{p.scheme}://{p.netloc.decode('ascii')}"  # the proxy's own credentials left out


def warn_plain_proxy(account: str, base_url: str) -> None:
    """One line on stderr (the HTTP client says it once, as it is made) when the account's
    credentials would go to a proxy over plain HTTP; the TUI captures stderr while it runs."""
    proxy = plain_proxy(base_url)
    if proxy is None:
        return
    print(
        f"calltui: warning: {account}: its credentials go to the proxy {proxy} in clear text "
        "(base_url is http://): use https://, or name the host in NO_PROXY",
        file=sys.stderr,
    )


def environment_client(
    account: str, options: dict[str, Any]
) -> tuple[httpx.AsyncClient, str | None]:
    """An httpx client made with `options` that honours the environment as curl does
    (trust_env: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, SSL_CERT_FILE, SSL_CERT_DIR),
    warning where the account's credentials would reach a proxy in clear text. Where the
    environment's proxy is unusable (SOCKS without httpx's socks extra, a URL httpx cannot
    read), a client that ignores it, and why: the caller fails each request with that rather
    than its own creation. httpx's words are not used: they quote the proxy URL, which may hold
    the proxy's password."""
    try:
        client = httpx.AsyncClient(trust_env=True, **options)
    except (ImportError, ValueError, httpx.InvalidURL) as e:
        what = "needs the socksio package" if isinstance(e, ImportError) else "is unreadable"
        problem = f"the proxy in HTTP_PROXY, HTTPS_PROXY or ALL_PROXY {what}"
        return httpx.AsyncClient(trust_env=False, **options), problem
    if options.get("transport") is None:  # an in-process transport reaches no proxy
        warn_plain_proxy(account, str(options["base_url"]))
    return client, None


_tls_contexts: dict[tuple[str, str], ssl.SSLContext] = {}


def tls_context(base_url: str, verify: bool | str, *, in_process: bool = False) -> ssl.SSLContext:
    """The TLS context of a client, shared by every client that trusts alike and built the
    first time one needs it, so that httpx builds none per client (each would load the CA
    bundle: about 20 ms and 0.8 MB): the default trust (SSL_CERT_FILE, SSL_CERT_DIR or
    certifi's bundle, as httpx reads them), no verification (verify_tls = false), or one per
    ca_bundle path. A ca_bundle is read even for an http:// URL, so that a bad one is said at
    once. A client that never negotiates TLS (an http:// URL, an in-process transport) gets
    one that loads nothing: it checks certificates and host names and trusts no CA, so a TLS
    connection through it, which such a client never makes (redirects are not followed,
    next-page links stay under the base URL), fails rather than goes unverified. Raises
    ssl.SSLError or OSError for a ca_bundle that holds no usable certificate (not remembered:
    the file may be mended)."""
    key: tuple[str, str]
    if isinstance(verify, str):
        key = ("ca_bundle", os.path.expanduser(verify))
    elif in_process or not base_url.lower().startswith("https:"):
        key = ("plain", "")
    elif verify:
        # httpx reads these as it builds the context: a change of them is another trust.
        trust = (os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))
        key = ("default", "\0".join(trust))
    else:
        key = ("unverified", "")
    ctx = _tls_contexts.get(key)
    if ctx is None:
        kind, where = key
        if kind == "ca_bundle":
            ctx = ssl.create_default_context(cafile=where)
        elif kind == "plain":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        else:
            ctx = httpx.create_ssl_context(verify=kind == "default", trust_env=True)
        _tls_contexts[key] = ctx
    return ctx
