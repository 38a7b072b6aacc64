"""The HTTP layer: GET only, allowlisted parameters, retries with backoff on connect errors, 5xx
and 429 (honouring Retry-After, X-RateLimit-Reset and RateLimit-Reset, up to a bound), a
sliding-window rate limit, typed errors that carry account, status and URL and never a secret,
bodies capped after decoding, and the opt-in request log (CALLTUI_LOG)."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from calltui.http import (
    AuthError,
    BadResponseError,
    HttpClient,
    NetworkError,
    NotFoundError,
    ProviderError,
    RateLimit,
    RateLimitedError,
    RateLimiter,
    ReadOnlyViolation,
    RetryPolicy,
    ServerError,
    TimeoutError_,
    TLSError,
)
from calltui.http_reasons import server_wait
from calltui.providers.base import DataError

Reply = tuple[int, dict[str, str], bytes]


class Scripted:
    """A tiny ASGI server answering each request with the next scripted reply."""

    def __init__(self, *replies: Reply | Callable[[], Any]) -> None:
        self.replies = list(replies)
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.requests.append((scope["method"], scope["query_string"].decode()))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if callable(reply):
            await reply()
            reply = (200, {}, b"{}")
        status, headers, body = reply
        hdrs = [(k.encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": body})


def ok(data: Any = None) -> Reply:
    return 200, {"content-type": "application/json"}, json.dumps(data or {"ok": 1}).encode()


def client(app: Any, **kw: Any) -> HttpClient:
    kw.setdefault("retry", RetryPolicy(attempts=3, base_s=0.001, cap_s=0.002))
    return HttpClient(
        account="acct",
        base_url="http://api.test",
        allowed_params={"page", "size"},
        transport=httpx.ASGITransport(app=app),
        **kw,
    )


async def test_only_get_leaves_the_process():
    c = client(Scripted(ok()))
    with pytest.raises(ReadOnlyViolation):
        await c._client.post("/calls")
    with pytest.raises(ReadOnlyViolation):
        await c._client.request("DELETE", "/calls/1")


async def test_parameters_outside_the_allowlist_are_refused():
    app = Scripted(ok())
    c = client(app)
    with pytest.raises(ReadOnlyViolation, match="drop_call"):
        await c.get("/call_trace", {"page": 1, "drop_call": "yes"})
    assert app.requests == []


async def test_empty_values_are_never_sent():
    app = Scripted(ok())
    await client(app).get("/calls", {"page": 0, "size": ""})
    assert app.requests == [("GET", "page=0")]


async def test_server_errors_are_retried_then_succeed():
    app = Scripted((500, {}, b"oops"), (503, {}, b""), ok({"n": 2}))
    assert await client(app).get_json("/calls") == {"n": 2}
    assert len(app.requests) == 3


async def test_429_honours_retry_after_and_ratelimit_reset():
    reset_ms = str(int((time.time() + 0.05) * 1000))
    app = Scripted(
        (429, {"retry-after": "0"}, b""),
        (429, {"x-ratelimit-reset": reset_ms}, b'{"category":"too-many-requests"}'),
        ok(),
    )
    assert await client(app).get_json("/calls") == {"ok": 1}
    assert len(app.requests) == 3


async def test_retries_are_bounded_and_the_error_says_who_and_what():
    app = Scripted((429, {"content-type": "application/json"}, b'{"message": "slow down"}'))
    with pytest.raises(RateLimitedError) as e:
        await client(app).get("/v1/calls", {"page": 2})
    assert len(app.requests) == 3
    err = e.value
    assert (err.account, err.status) == ("acct", 429)
    assert err.url == "http://api.test/v1/calls?page=2"
    assert str(err) == "acct: HTTP 429: slow down (http://api.test/v1/calls?page=2)"


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, AuthError), (403, AuthError), (404, NotFoundError), (400, BadResponseError)],
)
async def test_client_errors_are_typed_and_not_retried(status, cls):
    app = Scripted((status, {}, b""))
    with pytest.raises(cls) as e:
        await client(app).get("/x")
    assert len(app.requests) == 1 and e.value.status == status


async def test_html_error_page_and_bad_json_are_reported_plainly():
    html = (502, {"content-type": "text/html"}, b"<html><body>Bad Gateway</body></html>")
    with pytest.raises(ServerError, match="HTML page"):
        await client(Scripted(html)).get("/x")
    with pytest.raises(BadResponseError, match="HTML page"):
        await client(Scripted((200, {}, b"<html>login</html>"))).get_json("/x")
    with pytest.raises(BadResponseError, match="malformed JSON"):
        await client(Scripted((200, {}, b'{"objects": ['))).get_json("/x")
    with pytest.raises(BadResponseError, match="empty body"):
        await client(Scripted((200, {}, b""))).get_json("/x")


async def test_a_server_that_never_answers_times_out_within_the_timeout():
    app = Scripted(lambda: asyncio.sleep(30))
    started = time.monotonic()
    with pytest.raises(TimeoutError_):
        await client(app, timeout_s=0.2, retry=RetryPolicy(attempts=1)).get("/x")
    assert time.monotonic() - started < 5


async def test_connection_refused_is_a_network_error_after_retries():
    c = HttpClient(
        account="acct",
        base_url="http://127.0.0.1:9",
        allowed_params=set(),
        retry=RetryPolicy(attempts=2, base_s=0.001, cap_s=0.001),
        timeout_s=2,
    )
    with pytest.raises(NetworkError) as e:
        await c.get("/x")
    assert "refused" in str(e.value)
    await c.aclose()


async def test_rate_limiter_allows_n_per_window_and_no_more():
    limiter = RateLimiter(RateLimit(3, 0.2))
    stamps = []
    for _ in range(4):
        await limiter.acquire()
        stamps.append(time.monotonic())
    assert stamps[3] - stamps[0] >= 0.2


async def test_a_slot_counts_from_when_its_request_really_left():
    """A request that waited for its task on a busy loop arrives late at the server, which
    counts it then: the next one must keep a window from that, not from the slot's grant."""
    now = [0.0]
    limiter = RateLimiter(RateLimit(1, 1.0), clock=lambda: now[0])
    slot = await limiter.acquire()
    now[0] = 0.5  # the loop was busy: the request leaves half a second after its grant
    limiter.sent(slot)
    now[0] = 1.06  # a window (and its guard) after the grant, not after the send
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.1)


async def test_requests_date_their_slot_as_they_leave():
    readings = [0.0, 0.4]  # the grant, then the send: the loop was busy in between

    def clock() -> float:
        return readings.pop(0) if len(readings) > 1 else readings[0]

    c = client(Scripted((200, {}, b"{}")))
    c.limiter = RateLimiter(RateLimit(1, 1.0), clock=clock)
    await c.get("/x")
    readings[0] = 1.1  # a window after the grant, not yet one after the send
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(c.limiter.acquire(), 0.1)
    await c.aclose()


def test_rate_limit_from_requests_per_second():
    assert RateLimit.per_second(1) == RateLimit(1, 1.0)
    assert RateLimit.per_second(0.5) == RateLimit(1, 2.0)
    assert RateLimit.per_second(60) == RateLimit(60, 1.0)


async def test_a_body_over_the_cap_is_refused_counting_decoded_bytes():
    big = (200, {"content-type": "application/json"}, b"[" + b" " * 5000 + b"]")
    with pytest.raises(BadResponseError, match="response larger than") as e:
        await client(Scripted(big), max_body_bytes=4096).get("/x")
    assert e.value.status == 200
    # 1 MB of zeros travels as about 1 KB of gzip: what counts is what we would hold.
    bomb = gzip.compress(b"0" * 2**20)
    zipped = (200, {"content-encoding": "gzip"}, bomb)
    with pytest.raises(BadResponseError, match="response larger than"):
        await client(Scripted(zipped), max_body_bytes=64 * 1024).get("/x")
    small = gzip.compress(b'{"ok": 1}')
    resp = await client(Scripted((200, {"content-encoding": "gzip"}, small))).get("/x")
    assert resp.json() == {"ok": 1}


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b"[" + b"9" * 5000 + b"]"])
async def test_json_too_deep_or_a_number_too_long_is_a_bad_response(body):
    with pytest.raises(BadResponseError, match="too long or nesting too deep"):
        await client(Scripted((200, {}, body))).get_json("/x")


async def test_a_body_that_does_not_decode_is_a_bad_response():
    garbled = (200, {"content-encoding": "gzip"}, b"not gzip at all")
    with pytest.raises(BadResponseError, match="Content-Encoding"):
        await client(Scripted(garbled)).get("/x")


class Echo:
    """A server that repeats in its error body what it was sent (some proxies do)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        auth = headers.get("authorization", "")
        text = f"denied {auth}"
        if auth.startswith("Basic "):
            text += " for " + base64.b64decode(auth[6:]).decode()
        body = json.dumps({"message": text}).encode()
        hdrs = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 401, "headers": hdrs})
        await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize(
    ("auth", "headers", "secret"),
    [
        (httpx.BasicAuth("acct-user", "s3cret-pass"), {}, "s3cret-pass"),
        (None, {"Authorization": "Bearer tok-0123456789"}, "tok-0123456789"),
    ],
)
async def test_a_server_that_echoes_credentials_never_shows_them(auth, headers, secret):
    c = client(Echo(), auth=auth, headers=headers)
    with pytest.raises(AuthError) as e:
        await c.get("/x")
    message = str(e.value)
    assert message.startswith("acct: HTTP 401: denied ") and "***" in message
    assert secret not in message
    assert base64.b64encode(f"acct-user:{secret}".encode()).decode() not in message


async def test_extra_secrets_given_to_the_client_are_masked_too():
    app = Scripted((500, {"content-type": "application/json"}, b'{"message": "key t-abc123"}'))
    with pytest.raises(ServerError) as e:
        await client(app, secrets=["t-abc123"], retry=RetryPolicy(attempts=1)).get("/x")
    assert "t-abc123" not in str(e.value) and "key ***" in str(e.value)


async def test_a_server_wait_beyond_the_bound_fails_at_once_saying_so():
    app = Scripted((429, {"retry-after": "3600"}, b""))
    with pytest.raises(RateLimitedError, match=r"the server asks to wait 3600 s"):
        await client(app, retry=RetryPolicy(attempts=4, max_wait_s=30)).get("/x")
    assert len(app.requests) == 1


def test_server_waits_are_read_from_every_header_that_says_one():
    now = 1_700_000_000.0

    def wait(**headers: str) -> float | None:
        return server_wait(httpx.Response(429, headers=headers), now)

    assert wait(**{"retry-after": "7"}) == 7
    assert wait(**{"x-ratelimit-reset": str(int((now + 2) * 1000))}) == 2
    assert wait(**{"ratelimit-reset": "5"}) == 5
    assert wait() is None


async def test_the_request_log_has_one_line_per_exchange_and_no_secret(tmp_path, monkeypatch):
    log = tmp_path / "requests.log"
    monkeypatch.setenv("CALLTUI_LOG", str(log))
    app = Scripted((500, {}, b""), (429, {"retry-after": "0"}, b""), ok())
    c = HttpClient(
        account="acct",
        base_url="http://api.test",
        allowed_params={"page", "api_key"},
        auth=httpx.BasicAuth("acct-user", "s3cret-pass"),
        transport=httpx.ASGITransport(app=app),
        retry=RetryPolicy(attempts=3, base_s=0.001, cap_s=0.002),
    )
    await c.get("/v1/calls", {"page": 2, "api_key": "k-live-42"})
    await c.aclose()
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    fields = [dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line)) for line in lines]
    assert [f["status"] for f in fields] == ["500", "429", "200"]
    assert [f["retry"] for f in fields] == ["0", "1", "2"]
    for f in fields:
        assert set(f) == {"time", "account", "method", "url", "status", "elapsed_ms", "retry"}
        assert (f["account"], f["method"]) == ("acct", "GET")
        assert f["url"] == '"http://api.test/v1/calls?page=2&api_key=***"'
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", f["time"])
    text = log.read_text()
    for secret in ("s3cret-pass", "k-live-42", base64.b64encode(b"acct-user:s3cret-pass").decode()):
        assert secret not in text
    assert log.stat().st_mode & 0o777 == 0o600


async def test_the_request_log_says_why_no_status_came(tmp_path, monkeypatch):
    log = tmp_path / "requests.log"
    monkeypatch.setenv("CALLTUI_LOG", str(log))
    app = Scripted(lambda: asyncio.sleep(30))
    with pytest.raises(TimeoutError_, match=r"no response within 0\.2 s"):
        await client(app, timeout_s=0.2, retry=RetryPolicy(attempts=1)).get("/x")
    (line,) = log.read_text().splitlines()
    assert "error=timeout" in line and "status=" not in line


async def test_without_the_variable_nothing_is_logged(tmp_path, monkeypatch):
    monkeypatch.delenv("CALLTUI_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    await client(Scripted(ok())).get("/x")
    assert list(tmp_path.iterdir()) == []


async def test_an_unusable_ca_bundle_fails_each_request_as_a_value(tmp_path):
    bundle = tmp_path / "not-a-ca.pem"
    bundle.write_text("hello\n")
    app = Scripted(ok())
    c = client(app, verify=str(bundle))
    with pytest.raises(TLSError, match="holds no usable PEM certificate"):
        await c.get("/x")
    assert app.requests == []


NGINX_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@pytest.mark.parametrize(
    ("status", "ctype", "body", "reason"),
    [
        # Rails and Express send plain sentences typed text/html.
        (
            401,
            "text/html; charset=utf-8",
            b"HTTP Basic: Access denied.\n",
            "HTTP Basic: Access denied.",
        ),
        (403, "text/html", b"", "Forbidden"),
        (502, "text/html", NGINX_502, 'an HTML page ("502 Bad Gateway") instead of JSON'),
        (500, "application/json", b'{"msg": "connect ECONNREFUSED"}', "connect ECONNREFUSED"),
        (404, "", b"", "Not Found"),
    ],
)
async def test_the_reason_is_the_most_telling_part_of_an_error_body(status, ctype, body, reason):
    app = Scripted((status, {"content-type": ctype} if ctype else {}, body))
    with pytest.raises(ProviderError) as e:
        await client(app, retry=RetryPolicy(attempts=1)).get("/x")
    assert str(e.value).startswith(f"acct: HTTP {status}: {reason}")


# --- TLS contexts: one per way of trusting, shared, built when first needed --------------------


def tls_contexts(c: HttpClient) -> set[int]:
    """The TLS contexts a client's connection pools would use: its own transport's and each
    proxy's (HTTPS_PROXY and the like mount one transport per proxy)."""
    transports = [c._client._transport, *c._client._mounts.values()]
    return {id(t._pool._ssl_context) for t in transports if t is not None}


def network_client(base_url: str, name: str = "acct", **kw: Any) -> HttpClient:
    return HttpClient(account=name, base_url=base_url, allowed_params=(), **kw)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cafile of every context that loads CAs, as it is built (None: the default trust),
    counted from a fresh process's start (no context built yet)."""
    import ssl

    import calltui.http_env

    monkeypatch.setattr(calltui.http_env, "_tls_contexts", {})
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    made: list[str] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kw: Any) -> ssl.SSLContext:
        made.append(kw.get("cafile") or "default")
        return real(*args, **kw)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    return made


def test_https_accounts_share_one_tls_context_built_once(built):
    clients = [network_client("https://api.test", f"acct-{i}") for i in range(20)]
    assert len(built) == 1
    shared = set().union(*(tls_contexts(c) for c in clients))
    assert len(shared) == 1
    loaded = clients[0]._client._transport._pool._ssl_context.cert_store_stats()
    assert loaded["x509_ca"] > 0  # the default trust, once


def test_http_accounts_load_no_ca_bundle(built):
    clients = [network_client(f"http://127.0.0.1:{8000 + i}", f"acct-{i}") for i in range(20)]
    assert built == []
    shared = set().union(*(tls_contexts(c) for c in clients))
    assert len(shared) == 1
    ctx = clients[0]._client._transport._pool._ssl_context
    assert ctx.cert_store_stats()["x509_ca"] == 0
    assert ctx.verify_mode.name == "CERT_REQUIRED" and ctx.check_hostname  # fails closed


def test_each_ca_bundle_gets_one_context_shared_by_its_accounts(built, tmp_path):
    import trustme

    paths = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.pem"
        path.write_bytes(trustme.CA().cert_pem.bytes())
        paths.append(str(path))
    clients = [network_client("https://api.test", f"x-{i}", verify=paths[i % 2]) for i in range(6)]
    unverified = [network_client("https://api.test", f"u-{i}", verify=False) for i in range(3)]
    assert sorted(built) == paths
    by_bundle = [set().union(*(tls_contexts(c) for c in clients[i::2])) for i in (0, 1)]
    assert all(len(s) == 1 for s in by_bundle) and by_bundle[0] != by_bundle[1]
    assert len(set().union(*(tls_contexts(c) for c in unverified))) == 1


async def test_a_response_read_whole_is_freed_with_its_last_reference():
    """No reference cycle keeps a page's body alive until a full collection: the TUI freezes
    what survives its collections while loading, which would keep every body for good."""
    import gc
    import weakref

    c = client(Scripted(ok({"calls": ["x" * 1000]})))
    resp = await c.get("/calls")
    assert resp.json()["calls"] == ["x" * 1000]
    gone = weakref.ref(resp)
    gc.disable()
    try:
        del resp
        assert gone() is None
    finally:
        gc.enable()
        await c.aclose()


async def test_every_accounts_sockets_are_served_on_the_one_network_loop():
    """The exchanges of real sockets run on calltui.netloop's loop, one for every account, and
    their answers (and errors) come back to the caller's loop, which stays free meanwhile."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from calltui import netloop

    arrived, release = threading.Semaphore(0), threading.Event()

    class Held(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            arrived.release()
            release.wait(10)
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200 if self.path != "/gone" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Held)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    clients = [network_client(base, f"acct-{i}") for i in range(2)]
    try:
        asked = [asyncio.ensure_future(c.get_json(f"/{i}")) for i, c in enumerate(clients)]
        for _ in asked:
            await asyncio.to_thread(arrived.acquire, True, 10)

        async def fetching() -> list[str]:
            return [t.get_coro().__qualname__ for t in asyncio.all_tasks()]  # type: ignore[union-attr]

        net = netloop.shared()
        on_net = await net.run(fetching())
        assert on_net.count("HttpClient._fetch") == 2  # both accounts', on one loop
        here = [t.get_coro().__qualname__ for t in asyncio.all_tasks()]  # type: ignore[union-attr]
        assert "HttpClient._fetch" not in here
        assert threading.current_thread() is not net._thread
        release.set()
        assert await asyncio.gather(*asked) == [{"path": "/0"}, {"path": "/1"}]
        with pytest.raises(NotFoundError):
            await clients[0].get_json("/gone")
        # A page's records are made there too, and what goes wrong making them comes back.
        made_on: list[threading.Thread] = []

        def parse(body: Any) -> str:
            made_on.append(threading.current_thread())
            if body["path"] == "/bad":
                raise DataError("no calls in it")
            return str(body["path"])

        assert await clients[0].get_json("/page", None, parse) == "/page"
        with pytest.raises(DataError):
            await clients[1].get_json("/bad", None, parse)
        assert made_on == [net._thread, net._thread]
    finally:
        release.set()
        for c in clients:
            await c.aclose()
        server.shutdown()


async def test_a_turns_coroutines_wake_the_network_loop_once_and_a_caller_can_give_up(
    monkeypatch: pytest.MonkeyPatch,
):
    """Each wake of the network loop writes to its socket and hands the interpreter to its
    thread: the coroutines a turn sends there (the next pages of a hundred accounts) go with
    one wake. Their results and errors come back each to its caller, and a caller cancelled
    cancels its coroutine there."""
    import threading

    from calltui import netloop

    net = netloop.shared()
    wakes: list[object] = []
    post = net.loop.call_soon_threadsafe

    def counted(callback: Any, *args: Any, **kw: Any) -> Any:
        wakes.append(callback)
        return post(callback, *args, **kw)

    monkeypatch.setattr(net.loop, "call_soon_threadsafe", counted)

    async def where(i: int) -> tuple[int, threading.Thread]:
        if i == 13:
            raise DataError("thirteen")
        return i, threading.current_thread()

    runs = [asyncio.ensure_future(net.run(where(i))) for i in range(40)]
    done = await asyncio.gather(*runs, return_exceptions=True)
    assert [d if isinstance(d, Exception) else d[0] for d in done][:13] == list(range(13))
    assert isinstance(done[13], DataError)
    assert {d[1] for d in done if not isinstance(d, Exception)} == {net._thread}
    assert len(wakes) == 1, wakes

    started, cancelled = asyncio.Event(), threading.Event()
    here = asyncio.get_running_loop()

    async def forever() -> None:
        here.call_soon_threadsafe(started.set)
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiting = asyncio.ensure_future(net.run(forever()))
    await asyncio.wait_for(started.wait(), 5)
    waiting.cancel()
    assert await asyncio.to_thread(cancelled.wait, 5)


async def test_the_network_stack_is_opened_ahead_in_steps_only_for_real_sockets(
    monkeypatch: pytest.MonkeyPatch,
):
    """A screen opens the network as it mounts (open_sockets): over real sockets the stack is
    imported on the caller's thread a step at a time, the caller's loop running between the
    steps; a client waiting meanwhile (sockets_ready) waits for those steps and does not start
    the network loop beside them (its thread would import the same modules), and the loop
    starts with its stack in place. Over an in-process transport (the demo, tests) nothing is
    started."""
    from calltui import netloop
    from calltui.http import open_sockets, sockets_ready

    monkeypatch.setattr(netloop, "_shared", None)
    monkeypatch.setattr(netloop, "_stepping", None)
    open_sockets(httpx.ASGITransport(app=Scripted(ok())))
    assert netloop._shared is None and netloop._stepping is None

    turns = 0
    loop_while_stepping: list[bool] = []

    async def count() -> None:
        nonlocal turns
        while True:
            turns += 1
            loop_while_stepping.append(netloop._shared is not None)
            await asyncio.sleep(0)

    ticker = asyncio.create_task(count())
    await asyncio.sleep(0)
    before = turns
    open_sockets(None)
    waiting = asyncio.create_task(sockets_ready(None))
    await asyncio.sleep(0)
    assert netloop._shared is None  # the client waits on the steps, not on a loop of its own
    await asyncio.wait_for(waiting, 10)
    ticker.cancel()
    assert turns - before >= len(netloop.STACK)
    assert loop_while_stepping[before] is False
    started = netloop._shared
    assert started is not None
    try:
        await asyncio.wait_for(started.ready(), 10)
        assert started._thread.is_alive()
    finally:
        started.loop.call_soon_threadsafe(started.loop.stop)
