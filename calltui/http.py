"""One httpx.AsyncClient per account: auth, TLS, timeouts, retries, rate limit, typed errors.

Read-only is enforced here, once, for every request any code path sends: a request hook refuses
any method but GET and any query parameter the provider does not list (Tmedia's `drop_call`
terminates live calls and can never leave the process).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

log = logging.getLogger("calltui.http")

MAX_BODY_BYTES = 64 * 1024 * 1024
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
    edge and break limits stated as 'N per window' (Plivo's 300 per 5 s)."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._blocked_until = 0.0

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
                while self._sent and now - self._sent[0] >= self.limit.per_s:
                    self._sent.popleft()
                if len(self._sent) < self.limit.requests:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self.limit.per_s - (now - self._sent[0]) + 0.001)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_s: float = 0.5
    cap_s: float = 8.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so that accounts retrying together spread out."""
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


def _redact_url(url: httpx.URL) -> str:
    # Credentials never travel in URLs we build, but a base_url or a Link header might hold them.
    return str(url.copy_with(username=None, password=None, fragment=None))


def _server_wait(resp: httpx.Response, now_wall: float) -> float | None:
    """Seconds the server asks us to wait: Retry-After (seconds or HTTP date) or Bandwidth's
    X-RateLimit-Reset (epoch milliseconds; seconds accepted too)."""
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
    return None


def error_text(resp: httpx.Response, keys: tuple[str, ...] = ("message", "error", "msg")) -> str:
    """A short, printable reason from an error body: the first of `keys` in a JSON object, else
    the status phrase (an HTML page or an empty body says nothing useful)."""
    ctype = resp.headers.get("content-type", "")
    text = ""
    if "json" in ctype or resp.content[:1] in (b"{", b"["):
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
    elif "html" not in ctype and resp.content and len(resp.content) < 300:
        text = resp.text.strip()
    if "html" in ctype or resp.content.lstrip()[:1] == b"<":
        text = text or "an HTML page instead of JSON (a proxy or login page?)"
    phrase = resp.reason_phrase or ""
    out = text or phrase or "no reason given"
    return "".join(ch if ch.isprintable() else " " for ch in out)[:200]


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
    ) -> None:
        self.account = account
        self.timeout_s = timeout_s
        self.allowed_params = frozenset(allowed_params)
        self.limiter = RateLimiter(rate_limit)
        self.concurrency = asyncio.Semaphore(max_concurrency)
        self.max_concurrency = max_concurrency
        self.retry = retry
        self.error_keys = error_keys
        self.requests_sent = 0
        verify_arg: bool | ssl.SSLContext = verify is not False
        if isinstance(verify, str):
            verify_arg = ssl.create_default_context(cafile=verify)
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
                    resp = await self._send(path, clean)
                except ProviderError as e:
                    retryable = isinstance(e, NetworkError)
                    if not retryable or attempt + 1 >= self.retry.attempts:
                        raise
                    resp = None
            if resp is not None and resp.status_code < 400:
                return resp
            if resp is not None:
                err = self._error(resp)
                if not isinstance(err, (RateLimitedError, ServerError)):
                    raise err
                if attempt + 1 >= self.retry.attempts:
                    raise err
                wait = _server_wait(resp, time.time())
                if wait is not None:
                    self.limiter.block_until(time.monotonic() + wait)
                else:
                    await asyncio.sleep(self.retry.delay(attempt))
            else:
                await asyncio.sleep(self.retry.delay(attempt))
            attempt += 1

    async def _send(self, path: str, params: dict[str, Any]) -> httpx.Response:
        request = self._client.build_request("GET", path, params=params)
        url = _redact_url(request.url)
        started = time.monotonic()
        self.requests_sent += 1
        try:
            # The whole exchange, body included, is bounded: httpx's timeouts are per read (a body
            # that drips forever passes them) and in-process transports ignore them.
            resp = await _bounded(self._exchange(request, url), self.timeout_s)
        except ReadOnlyViolation:
            raise
        except (httpx.TimeoutException, asyncio.TimeoutError):
            raise TimeoutError_(self.account, "timed out", url=url) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as e:
            raise NetworkError(self.account, _net_reason(e), url=url) from None
        except httpx.HTTPError as e:
            raise NetworkError(self.account, type(e).__name__, url=url) from None
        log.debug(
            "%s GET %s -> %s in %.0f ms",
            self.account,
            url,
            resp.status_code,
            (time.monotonic() - started) * 1000,
        )
        return resp

    async def _exchange(self, request: httpx.Request, url: str) -> httpx.Response:
        resp = await self._client.send(request, stream=True)
        try:
            chunks, size = [], 0
            async for chunk in resp.aiter_raw():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BadResponseError(
                        self.account,
                        f"response larger than {MAX_BODY_BYTES // 2**20} MB",
                        status=resp.status_code,
                        url=url,
                    )
                chunks.append(chunk)
        finally:
            await resp.aclose()
        resp._content = self._decode(resp, b"".join(chunks))
        return resp

    @staticmethod
    def _decode(resp: httpx.Response, raw: bytes) -> bytes:
        # aiter_raw skips content decoding; gzip/deflate bodies are undone here.
        encoding = resp.headers.get("content-encoding", "").lower()
        if not encoding or encoding == "identity":
            return raw
        decoder = httpx._decoders.SUPPORTED_DECODERS.get(encoding)
        if decoder is None:
            return raw
        d = decoder()
        return bytes(d.decode(raw) + d.flush())

    def _error(self, resp: httpx.Response) -> ProviderError:
        url = _redact_url(resp.request.url)
        status = resp.status_code
        reason = error_text(resp, self.error_keys)
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
        url = _redact_url(resp.request.url)
        body = resp.content
        if not body.strip():
            raise BadResponseError(self.account, "empty body", status=resp.status_code, url=url)
        if body.lstrip()[:1] == b"<":
            raise BadResponseError(
                self.account,
                "an HTML page instead of JSON (a proxy or login page?)",
                status=resp.status_code,
                url=url,
            )
        try:
            return json.loads(body)
        except json.JSONDecodeError as e:
            reason = f"malformed JSON ({e.msg} at byte {e.pos})"
        except UnicodeDecodeError:
            reason = "a body that is not UTF-8 text"
        raise BadResponseError(self.account, reason, status=resp.status_code, url=url)


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


def _net_reason(e: BaseException) -> str:
    """The root cause in a few words: httpx wraps it ('All connection attempts failed')."""
    chain: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for err in chain:
        text = str(err)
        if isinstance(err, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
            return "TLS certificate verification failed (set ca_bundle, or verify_tls = false)"
        if isinstance(err, ConnectionRefusedError) or "refused" in text.lower():
            return "connection refused"
        if isinstance(err, socket.gaierror):
            return "host name not found"
    text = str(e) or type(e).__name__
    return "".join(ch if ch.isprintable() else " " for ch in text)[:160]
