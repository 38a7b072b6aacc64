"""One httpx.AsyncClient per account: auth, TLS, timeouts, retries, rate limit, typed errors.

Read-only is enforced here, once, for every request any code path sends: a request hook refuses
any method but GET and any query parameter the provider does not list (Tmedia's `drop_call`
terminates live calls and can never leave the process).

Every failure becomes one ProviderError naming the account and the HTTP status or the cause, after
a bounded number of attempts: connection failures, 429 and 5xx are retried (honouring the
server's wait up to RetryPolicy.max_wait_s); a timeout, a certificate the client does not trust,
4xx and a body that is not what was promised are not. Each exchange is bounded as a whole by the
account's timeout, body included, and bodies beyond MAX_BODY_BYTES are refused. A redirect is
never followed and its body never read. Every body is scrubbed of the account's credentials as it
arrives (HttpClient._scrub), so nothing a server echoes reaches a screen, an export or a bundle.
With CALLTUI_LOG set, each exchange is logged (calltui.log), without secrets. The exchanges of
real sockets, and the parsing of their JSON, run on the network's own loop (calltui.netloop);
the retries, the rate limit and the errors stay with the caller. The proxies and the TLS trust
a client is made with are calltui.http_env's; the words a failure is told in, calltui.http_reasons'.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from calltui.credentials import (
    credentials,
    echo_forms,
    redact_url,
)
from calltui.http_env import environment_client, tls_context
from calltui.http_reasons import error_text, first_byte, printable, server_wait
from calltui.log import RequestLog, request_log
from calltui.netloop import NetLoop, import_stack, ready, shared
from calltui.pacing import RateLimit, RateLimiter, RetryPolicy, Slot, share_turn

log = logging.getLogger("calltui.http")

MAX_BODY_BYTES = 64 * 1024 * 1024
"""The largest body accepted, counted after content decoding (a small gzip body may inflate to
any size). A Tmedia page of 1000 legs with their call traces runs to a few MB; anything near
this is not a page of call records, and it is refused rather than parsed."""
T = TypeVar("T")
DEFAULT_RATE = RateLimit(10, 1.0)
DEFAULT_RETRY = RetryPolicy()


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


class RefusedError(ProviderError):
    """A request calltui will not send as it stands (a URL httpx cannot encode): a one-line
    error like any other, which no retry mends."""

    kind = "refused"


class ReadOnlyViolation(RefusedError):
    """Something tried to send a request calltui must never send (a method but GET, a parameter
    the provider does not list). A ProviderError, so that a refusal reaches the user as one line
    naming the account, in the CLI and the TUI alike, never as a traceback."""

    kind = "read-only"


def open_sockets(transport: httpx.AsyncBaseTransport | None) -> None:
    """Starts making clients over real sockets (no in-process `transport`) ready before the
    first request needs them (calltui.netloop.import_stack)."""
    if transport is None:
        import_stack()


async def sockets_ready(transport: httpx.AsyncBaseTransport | None) -> None:
    """Returns once a client over real sockets can be made without importing the network
    stack on the caller's loop (calltui.netloop.ready)."""
    if transport is None:
        await ready()


def _as_is(body: Any) -> Any:
    return body


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
        rate_limit: RateLimit = DEFAULT_RATE,
        max_concurrency: int = 4,
        retry: RetryPolicy = DEFAULT_RETRY,
        transport: httpx.AsyncBaseTransport | None = None,
        error_keys: tuple[str, ...] = ("message", "error", "msg"),
        secrets: Collection[str] = (),
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.account = account
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self._secrets = sorted(
            {s for s in secrets if len(s) >= 4} | credentials(auth, headers or {}),
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
        in_process = transport is not None
        try:
            tls = tls_context(base_url, verify, in_process=in_process)
        except (ssl.SSLError, OSError) as e:
            # Every request fails with this, as a value, rather than the client's creation.
            reason = f"ca_bundle {verify!r} holds no usable PEM certificate ({e})"
            self._unusable = TLSError(account, printable(reason))
            tls = tls_context(base_url, False, in_process=True)
        given = {s for s in secrets if len(s) >= 4}
        self._echoes = echo_forms(given, auth, headers or {})
        self._masks = [e.decode() for e in self._echoes]
        options: dict[str, Any] = {
            "base_url": base_url,
            "auth": auth,
            "headers": {"Accept": "application/json", "User-Agent": "calltui", **(headers or {})},
            "timeout": httpx.Timeout(timeout_s),
            "verify": tls,
            "transport": transport,
            "follow_redirects": False,
            "event_hooks": {"request": [self._guard]},
        }
        self._client, problem = environment_client(account, options)
        if problem is not None:  # every request fails with it, as a value
            self._unusable = NetworkError(account, problem)
        # Sockets are served on the network's own loop (calltui.netloop); an in-process
        # transport is an object of the caller's and answers on the caller's loop.
        self._net: NetLoop | None = None if in_process else shared()

    async def _guard(self, request: httpx.Request) -> None:
        if request.method != "GET":
            raise ReadOnlyViolation(self.account, f"refused to send {request.method}")
        unknown = {k for k in request.url.params} - self.allowed_params
        if unknown:
            raise ReadOnlyViolation(
                self.account, printable(f"refused to send parameters {sorted(unknown)}")
            )

    async def aclose(self) -> None:
        if self._net is None:
            await self._client.aclose()
        else:
            await self._net.run(self._client.aclose())

    def url_for(self, path: str, params: dict[str, Any] | None = None) -> str:
        return redact_url(self._request(path, params).url)

    def _request(self, path: str, params: dict[str, Any] | None) -> httpx.Request:
        try:
            return self._client.build_request("GET", path, params=params)
        except httpx.InvalidURL as e:
            # Providers encode what servers send them (providers.base.segment): this is the
            # last line, so that no URL becomes a traceback.
            raise RefusedError(self.account, printable(f"refused an invalid URL: {e}")) from None
        except UnicodeEncodeError as e:
            # A query value holding a lone surrogate (a server's JSON "\\ud800"): no UTF-8.
            bad = ascii(e.object[e.start : e.end])
            raise RefusedError(self.account, f"refused a value that is not text: {bad}") from None

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET with retries (connect errors, 5xx, 429) and the account's rate limit and
        concurrency. Returns a 2xx response or raises a ProviderError."""
        clean = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        # Making a request (its URL, its log line, its hand-over to the network loop) takes
        # a fraction of a millisecond: hundreds of accounts' requests, started together by
        # the pages that came together, take turns with the rest of the loop.
        await share_turn()
        attempt = 0
        while True:
            async with self.concurrency:
                slot = await self.limiter.acquire()
                try:
                    resp = await self._send(path, clean, attempt, slot)
                except ProviderError as e:
                    retryable = isinstance(e, NetworkError) and not isinstance(e, TLSError)
                    if not retryable or attempt + 1 >= self.retry.attempts:
                        raise
                    resp = None
            if resp is not None and resp.status_code < 300:
                return resp
            if resp is not None and resp.status_code < 400:
                # Never followed (credentials go with every request), and never read as data.
                raise self._redirect(resp)
            if resp is not None:
                err = self._error(resp)
                if not isinstance(err, (RateLimitedError, ServerError)):
                    raise err
                wait = server_wait(resp, time.time())
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

    async def _send(
        self, path: str, params: dict[str, Any], attempt: int = 0, slot: Slot | None = None
    ) -> httpx.Response:
        if self._unusable is not None:
            raise self._unusable
        request = self._request(path, params)
        url = self._mask(redact_url(request.url))
        started = time.monotonic()
        self.requests_sent += 1
        progress = _Progress()
        try:
            # The whole exchange, body included, is bounded: httpx's timeouts are per read (a body
            # that drips forever passes them) and in-process transports ignore them.
            resp = await _bounded(self._exchange(request, url, progress, slot), self.timeout_s)
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
        self, request: httpx.Request, url: str, progress: _Progress, slot: Slot | None = None
    ) -> httpx.Response:
        if slot is not None:
            self.limiter.sent(slot)
        if self._net is not None:
            resp = await self._net.run(self._fetch(request, url, progress, pace=False))
        else:
            resp = await self._fetch(request, url, progress, pace=True)
        resp._content = self._scrub(resp._content)
        return resp

    async def _fetch(
        self, request: httpx.Request, url: str, progress: _Progress, *, pace: bool
    ) -> httpx.Response:
        """The response to `request`, its body read whole (within max_body_bytes)."""
        resp = await self._client.send(request, stream=True)
        progress.status = resp.status_code
        try:
            if pace:
                # Hundreds of accounts' answers arrive together: the reading of each body (and
                # the parsing that follows, in get_json) takes its turn with the rest of the
                # loop.
                await share_turn()
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
            # httpx's response and the stream it was read from refer to each other: a cycle
            # only a full collection frees, and the TUI freezes what survives its collections
            # while loading (calltui.tui.idle_gc.IdleGC), which kept every page's body for good.
            resp.stream = httpx.ByteStream(b"")
        resp._content = b"".join(chunks)
        return resp

    def _scrub(self, body: bytes) -> bytes:
        """`body` with every echo of this account's credentials masked, once, where server data
        enters: a server (or a proxy) that copies the Authorization header into its records
        must not put it on screen, in an export or in a bundle. A mask as long as what it
        hides keeps a binary body (a pcap) well formed."""
        for needle in self._echoes:
            body = body.replace(needle, b"*" * len(needle))
        return body

    def _redirect(self, resp: httpx.Response) -> BadResponseError:
        location = resp.headers.get("location")
        try:
            target = resp.request.url.join(location) if location else None
        except httpx.InvalidURL:
            target = None
        where = f"{target.scheme}://{target.netloc.decode('ascii')}" if target else "elsewhere"
        return BadResponseError(
            self.account,
            self._mask(printable(f"redirect to {where} not followed")),
            status=resp.status_code,
            url=self._mask(redact_url(resp.request.url)),
        )

    def _mask(self, text: str) -> str:
        for s in self._masks:
            text = text.replace(s, "***")
        return text

    def _error(self, resp: httpx.Response) -> ProviderError:
        url = self._mask(redact_url(resp.request.url))
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

    async def get_json(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        parse: Callable[[Any], Any] | None = None,
    ) -> Any:
        """The JSON of a GET, or what `parse` makes of it (see read_json)."""
        return await self.read_json(await self.get(path, params), parse or _as_is)

    async def read_json(self, resp: httpx.Response, parse: Callable[[Any], Any] = _as_is) -> Any:
        """What `parse` makes of the JSON of `resp` (a page's records, say), made on the
        network's thread where there is one: that thread takes turns with the caller's, and
        the decoding and parsing of a page take milliseconds (tens for a page of a few MB), so
        hundreds of accounts' pages answered together do not all take them in one turn of
        the caller's loop, while a key press and the next frame wait. `parse` must hold no
        state of the caller's: it runs on another thread."""
        if self._net is not None:
            return await self._net.run(self._read(resp, parse))
        await share_turn()
        return parse(self.parse_json(resp))

    async def _read(self, resp: httpx.Response, parse: Callable[[Any], Any]) -> Any:
        return parse(self.parse_json(resp))

    def parse_json(self, resp: httpx.Response) -> Any:
        url = self._mask(redact_url(resp.request.url))
        body = resp.content
        first = first_byte(body)
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
            return TLSError, "TLS handshake failed: " + printable(
                getattr(err, "reason", None) or text
            )
        if isinstance(err, ConnectionRefusedError) or "refused" in text.lower():
            return NetworkError, "connection refused"
        if isinstance(err, socket.gaierror):
            return NetworkError, "host name not found"
    return NetworkError, printable(str(e) or type(e).__name__)
