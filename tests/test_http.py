"""The HTTP layer: GET only, allowlisted parameters, retries with backoff on connect errors, 5xx
and 429 (honouring Retry-After and X-RateLimit-Reset), a sliding-window rate limit, typed errors
that carry account, status and URL."""

from __future__ import annotations

import asyncio
import json
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
    RateLimit,
    RateLimitedError,
    RateLimiter,
    ReadOnlyViolation,
    RetryPolicy,
    ServerError,
    TimeoutError_,
)

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


def test_rate_limit_from_requests_per_second():
    assert RateLimit.per_second(1) == RateLimit(1, 1.0)
    assert RateLimit.per_second(0.5) == RateLimit(1, 2.0)
    assert RateLimit.per_second(60) == RateLimit(60, 1.0)
