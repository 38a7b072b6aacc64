"""One httpx.AsyncClient per account: auth, TLS, timeouts, retries, rate limit, typed errors.

Read-only is enforced here, once, for every request any code path sends: a request hook refuses
any method but GET and any query parameter the provider does not list (Tmedia's `drop_call`
terminates live calls and can never leave the process).

Every failure becomes one ProviderError naming the account and the HTTP status or the cause, after
a bounded number of attempts: connection failures, 429 and 5xx are retried (honouring the
server's wait up to RetryPolicy.max_wait_s); a timeout, a certificate the client does not trust,
4xx and a body that is not what was promised are not. Each exchange is bounded as a whole by the
account's timeout, body included, and bodies beyond MAX_BODY_BYTES are refused. With CALLTUI_LOG
set, each exchange is logged (calltui.log), without secrets.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import json
import logging
import os
import random
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote_plus

import httpx

from calltui.log import RequestLog, request_log

log = logging.getLogger("calltui.http")

MAX_BODY_BYTES = 64 * 1024 * 1024
"""The largest body accepted, counted after content decoding (a small gzip body may inflate to
any size). A Tmedia page of 1000 legs with their call traces runs to a few MB; anything near
this is not a page of call records, and it is refused rather than parsed."""
T = TypeVar("T")


class ProviderError(Exception):
    """A failure talking to one account. `str()` is the one-line message users see."""

    kind = "error"

    def __init__(
        self, account: str, message: str, *, status: int | None = None, url: str | None = None
    ) -> None:
        self.account, self.status, self.url, self.message = account, status, url, message
        head = f"{account}: " + (f"HTTP {status}: " if status else "")
        super().__init__(head + message + (f" ({url})" if url else ""))


class AuthError(ProviderError):
    kind = "auth"


class NotFoundError(ProviderError):
    kind = "not found"


class RateLimitedError(ProviderError):
    kind = "rate limited"


class ServerError(ProviderError):
    kind = "server"


class BadResponseError(ProviderError):
    kind = "bad response"


class NetworkError(ProviderError):
    kind = "network"


class TLSError(NetworkError):
    """The server's certificate is not trusted: retrying cannot help, the config must change."""

    kind = "tls"


class TimeoutError_(ProviderError):
    kind = "timeout"


class ReadOnlyViolation(RuntimeError):
    """A programming error: something tried to send a request calltui must never send."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `requests` requests in any window of `per_s` seconds."""

    requests: int
    per_s: float

    @classmethod
    def per_second(cls, rate: float) -> RateLimit:
        return cls(max(1, round(rate)), 1.0) if rate >= 1 else cls(1, 1.0 / rate)


class RateLimiter:
    """A sliding-window limiter: a token bucket would let a full burst through at the window's
    edge and break limits stated as 'N per window' (Plivo's 300 per 5 s).

    The server counts requests when they arrive, and we only know when we let one go: a request
    that opens a connection (TCP, TLS) arrives later after its slot than one that reuses it, so
    the next request, sent exactly a window later, can land inside the server's window. Each
    window is therefore held `GUARD_S` longer (at most 5% of it), which costs a 1 request/s
    listing 5% of its pace where a 429 would cost it a whole reset period."""

    GUARD_S = 0.05

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._blocked_until = 0.0
        self._window = limit.per_s + min(self.GUARD_S, limit.per_s / 20)

    def block_until(self, t: float) -> None:
        """The server said to wait (429): nobody on this account sends before `t`."""
        self._blocked_until = max(self._blocked_until, t)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._blocked_until:
                    await asyncio.sleep(self._blocked_until - now)
                    continue
                while self._sent and now - self._sent[0] >= self._window:
                    self._sent.popleft()
                if len(self._sent) < self.limit.requests:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._window - (now - self._sent[0]))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_s: float = 0.5
    cap_s: float = 8.0
    max_wait_s: float = 30.0
    """A 429 whose server asks for a longer wait than this fails at once (jambonz's limiter asks
    for the rest of a 5-minute window): retrying must stay bounded."""

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so that accounts retrying together spread out."""
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


_SECRET_PARAM = re.compile(r"(?i)token|secret|passw|key|sig|auth|session|credential")


def _redact_url(url: httpx.URL) -> str:
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


def _credentials(auth: httpx.Auth | None, headers: dict[str, str]) -> set[str]:
    """The secret strings an account's requests carry: the Basic password and its encoded
    user:password, a bearer token. Error text from a server never shows them."""
    probe = httpx.Request("GET", "http://calltui.invalid/", headers=headers)
    if auth is not None:
        flow = auth.sync_auth_flow(probe)
        try:
            probe = next(flow)
        except StopIteration:
            pass
        finally:
            flow.close()
    out: set[str] = set()
    scheme, _, value = probe.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if value:
        out.add(value)
    if scheme.lower() == "basic":
        with contextlib.suppress(ValueError):
            out.add(base64.b64decode(value).decode().partition(":")[2])
    return {s for s in out if len(s) >= 4}


def _server_wait(resp: httpx.Response, now_wall: float) -> float | None:
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
    first = _first_byte(resp.content)
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
    return _printable(out)


class HttpClient:
    """The only way calltui talks to a provider."""

    def __init__(
        self,
        *,
        account: str,
        base_url: str,
        allowed_params: Collection[str],
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        timeout_s: float = 20.0,
        verify: bool | str = True,
        rate_limit: RateLimit = RateLimit(10, 1.0),
        max_concurrency: int = 4,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
        error_keys: tuple[str, ...] = ("message", "error", "msg"),
        secrets: Collection[str] = (),
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.account = account
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self._secrets = sorted(
            {s for s in secrets if len(s) >= 4} | _credentials(auth, headers or {}),
            key=len,
            reverse=True,
        )
        try:
            self._log: RequestLog | None = request_log()
        except OSError:
            # An unwritable CALLTUI_LOG must not stop the browsing (the TUI has nowhere to say
            # so); calltui.log.request_log() raises for a caller that can report it.
            self._log = None
        self.allowed_params = frozenset(allowed_params)
        self.limiter = RateLimiter(rate_limit)
        self.concurrency = asyncio.Semaphore(max_concurrency)
        self.max_concurrency = max_concurrency
        self.retry = retry
        self.error_keys = error_keys
        self.requests_sent = 0
        self._unusable: ProviderError | None = None
        verify_arg: bool | ssl.SSLContext = verify is not False
        if isinstance(verify, str):
            try:
                verify_arg = ssl.create_default_context(cafile=os.path.expanduser(verify))
            except (ssl.SSLError, OSError) as e:
                # Every request fails with this, as a value, rather than the client's creation.
                reason = f"ca_bundle {verify!r} holds no usable PEM certificate ({e})"
                self._unusable = TLSError(account, _printable(reason))
        self._client = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            headers={"Accept": "application/json", "User-Agent": "calltui", **(headers or {})},
            timeout=httpx.Timeout(timeout_s),
            verify=verify_arg,
            transport=transport,
            trust_env=True,
            follow_redirects=False,
            event_hooks={"request": [self._guard]},
        )

    async def _guard(self, request: httpx.Request) -> None:
        if request.method != "GET":
            raise ReadOnlyViolation(f"{self.account}: refused to send {request.method}")
        unknown = {k for k in request.url.params} - self.allowed_params
        if unknown:
            raise ReadOnlyViolation(f"{self.account}: refused to send parameters {sorted(unknown)}")

    async def aclose(self) -> None:
        await self._client.aclose()

    def url_for(self, path: str, params: dict[str, Any] | None = None) -> str:
        req = self._client.build_request("GET", path, params=params)
        return _redact_url(req.url)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET with retries (connect errors, 5xx, 429) and the account's rate limit and
        concurrency. Returns a 2xx response or raises a ProviderError."""
        clean = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        attempt = 0
        while True:
            async with self.concurrency:
                await self.limiter.acquire()
                try:
                    resp = await self._send(path, clean, attempt)
                except ProviderError as e:
                    retryable = isinstance(e, NetworkError) and not isinstance(e, TLSError)
                    if not retryable or attempt + 1 >= self.retry.attempts:
                        raise
                    resp = None
            if resp is not None and resp.status_code < 400:
                return resp
            if resp is not None:
                err = self._error(resp)
                if not isinstance(err, (RateLimitedError, ServerError)):
                    raise err
                wait = _server_wait(resp, time.time())
                if wait is not None and wait > self.retry.max_wait_s:
                    message = f"{err.message} (the server asks to wait {wait:.0f} s)"
                    raise type(err)(self.account, message, status=err.status, url=err.url)
                if attempt + 1 >= self.retry.attempts:
                    raise err
                if wait is not None:
                    self.limiter.block_until(time.monotonic() + wait)
                else:
                    await asyncio.sleep(self.retry.delay(attempt))
            else:
                await asyncio.sleep(self.retry.delay(attempt))
            attempt += 1

    async def _send(self, path: str, params: dict[str, Any], attempt: int = 0) -> httpx.Response:
        if self._unusable is not None:
            raise self._unusable
        request = self._client.build_request("GET", path, params=params)
        url = self._mask(_redact_url(request.url))
        started = time.monotonic()
        self.requests_sent += 1
        progress = _Progress()
        try:
            # The whole exchange, body included, is bounded: httpx's timeouts are per read (a body
            # that drips forever passes them) and in-process transports ignore them.
            resp = await _bounded(self._exchange(request, url, progress), self.timeout_s)
        except ReadOnlyViolation:
            raise
        except ProviderError as e:
            self._log_line(url, started, attempt, error=e.kind)
            raise
        except (httpx.TimeoutException, asyncio.TimeoutError):
            self._log_line(url, started, attempt, status=progress.status, error="timeout")
            reason = progress.timeout_reason(self.timeout_s)
            raise TimeoutError_(self.account, reason, url=url) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as e:
            cls, reason = _net_error(e)
            self._log_line(url, started, attempt, error=cls.kind)
            raise cls(self.account, self._mask(reason), url=url) from None
        except httpx.DecodingError:
            self._log_line(url, started, attempt, status=progress.status, error="decoding")
            raise BadResponseError(
                self.account,
                "a body that does not decode as its Content-Encoding says",
                status=progress.status,
                url=url,
            ) from None
        except httpx.HTTPError as e:
            self._log_line(url, started, attempt, error=type(e).__name__)
            raise NetworkError(self.account, type(e).__name__, url=url) from None
        self._log_line(url, started, attempt, status=resp.status_code)
        return resp

    def _log_line(
        self,
        url: str,
        started: float,
        attempt: int,
        *,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        elapsed_ms = round((time.monotonic() - started) * 1000)
        log.debug("%s GET %s -> %s in %d ms", self.account, url, status or error, elapsed_ms)
        if self._log is not None:
            self._log.write(
                account=self.account,
                method="GET",
                url=url,
                status=status,
                error=error,
                elapsed_ms=elapsed_ms,
                retry=attempt,
            )

    async def _exchange(
        self, request: httpx.Request, url: str, progress: _Progress
    ) -> httpx.Response:
        resp = await self._client.send(request, stream=True)
        progress.status = resp.status_code
        try:
            chunks = []
            # Decoded bytes are counted: the limit is on what we hold, not on what travelled.
            async for chunk in resp.aiter_bytes():
                progress.received += len(chunk)
                if progress.received > self.max_body_bytes:
                    raise BadResponseError(
                        self.account,
                        f"response larger than {self.max_body_bytes / 2**20:g} MB",
                        status=resp.status_code,
                        url=url,
                    )
                chunks.append(chunk)
        finally:
            await resp.aclose()
        resp._content = b"".join(chunks)
        return resp

    def _mask(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _error(self, resp: httpx.Response) -> ProviderError:
        url = self._mask(_redact_url(resp.request.url))
        status = resp.status_code
        # A server (or a proxy) may echo what it was sent: its text is masked.
        reason = self._mask(error_text(resp, self.error_keys))
        cls: type[ProviderError]
        if status in (401, 403):
            cls = AuthError
        elif status == 404:
            cls = NotFoundError
        elif status == 429:
            cls = RateLimitedError
        elif status >= 500:
            cls = ServerError
        else:
            cls = BadResponseError
        return cls(self.account, reason, status=status, url=url)

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        resp = await self.get(path, params)
        return self.parse_json(resp)

    def parse_json(self, resp: httpx.Response) -> Any:
        url = self._mask(_redact_url(resp.request.url))
        body = resp.content
        first = _first_byte(body)
        if not first:
            raise BadResponseError(self.account, "empty body", status=resp.status_code, url=url)
        if first == b"<":
            raise BadResponseError(
                self.account,
                "an HTML page instead of JSON (a proxy or login page?)",
                status=resp.status_code,
                url=url,
            )
        try:
            return json.loads(body)
        except json.JSONDecodeError as e:
            reason = f"malformed JSON at byte {e.pos}: {e.msg}"
        except UnicodeDecodeError:
            reason = "a body that is not UTF-8 text"
        except (ValueError, RecursionError):
            reason = "a JSON number too long or nesting too deep"
        raise BadResponseError(self.account, reason, status=resp.status_code, url=url)


@dataclass(slots=True)
class _Progress:
    """How far one exchange got, to say what a timeout interrupted."""

    status: int | None = None
    received: int = 0

    def timeout_reason(self, timeout_s: float) -> str:
        if self.status is None:
            return f"timed out: no response within {timeout_s:g} s"
        return (
            f"timed out: the body was still arriving after {timeout_s:g} s "
            f"({self.received} bytes of an HTTP {self.status} answer)"
        )


_SPACE = re.compile(rb"\s*")


def _first_byte(body: bytes) -> bytes:
    """The first byte that is not whitespace (b"" if none), without copying a large body."""
    start = _SPACE.match(body)
    i = start.end() if start else 0
    return body[i : i + 1]


async def _bounded(coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
    """`coro` within `timeout_s`, else asyncio.TimeoutError. Unlike wait_for on Python <= 3.11,
    a cancellation that arrives as the request completes is never swallowed (the engine relies
    on cancelling a fetch to stop it)."""
    task = asyncio.ensure_future(coro)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise asyncio.TimeoutError
    return task.result()


def _net_error(e: BaseException) -> tuple[type[NetworkError], str]:
    """The root cause in a few words (httpx wraps it: 'All connection attempts failed'), and
    whether it is about TLS, which no retry mends."""
    chain: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for err in chain:
        text = str(err)
        if isinstance(err, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
            return (
                TLSError,
                "TLS certificate verification failed (set ca_bundle, or verify_tls = false)",
            )
        if isinstance(err, ssl.SSLError):
            return TLSError, "TLS handshake failed: " + _printable(
                getattr(err, "reason", None) or text
            )
        if isinstance(err, ConnectionRefusedError) or "refused" in text.lower():
            return NetworkError, "connection refused"
        if isinstance(err, socket.gaierror):
            return NetworkError, "host name not found"
    return NetworkError, _printable(str(e) or type(e).__name__)


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)[:200]
