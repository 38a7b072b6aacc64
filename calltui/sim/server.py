"""`calltui simulate`: the simulator's ASGI app on a loopback socket, plain or TLS.

A minimal HTTP/1.1 server (GET requests without bodies, keep-alive), enough for httpx and curl;
it writes each body part as the app sends it, so that the slow-body faults drip for real. Tests
start it on port 0 (`start`), with an ssl.SSLContext for TLS, and close it when done.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any
from urllib.parse import unquote

from calltui.sim.asgi import Receive, Scope, Send

_REASONS = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class SimServer:
    """A running server: its port, and `close()` that also ends the connections it serves (a
    fault that never answers would otherwise keep its handler waiting for an hour)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await _serve_connection(self.app, reader, writer)
        except asyncio.CancelledError:
            # close() ended the connection. The task must end normally all the same: asyncio's
            # stream protocol reads task.exception(), which raises on a cancelled task.
            pass
        finally:
            if task is not None:
                self._handlers.discard(task)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()


async def start(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
) -> SimServer:
    """Serve `app` on host:port (0: any free port) until `close()`."""
    sim = SimServer(app)
    sim.server = await asyncio.start_server(sim.handle, host, port, ssl=tls)
    return sim


async def serve(app: Any, host: str, port: int, ready: asyncio.Event | None = None) -> None:
    sim = await start(app, host, port)
    if ready is not None:
        ready.set()
    assert sim.server is not None
    try:
        async with sim.server:
            await sim.server.serve_forever()
    finally:
        await sim.close()


async def _serve_connection(
    app: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = []
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers.append(
                        (k.strip().lower().encode("latin-1"), v.strip().encode("latin-1"))
                    )
            length = int(dict(headers).get(b"content-length", b"0") or 0)
            if length:
                await reader.readexactly(length)
            path, _, qs = target.partition("?")
            scope: Scope = {
                "type": "http",
                "method": method,
                "path": unquote(path),
                "raw_path": path.encode("latin-1"),
                "query_string": qs.encode("latin-1"),
                "headers": headers,
            }
            await app(scope, _receive, _sender(writer))
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    except ssl.SSLError:
        # A client that does not trust our certificate hangs up during the handshake.
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _sender(writer: asyncio.StreamWriter) -> Send:
    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            status = message["status"]
            out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}".encode()]
            out += [k + b": " + v for k, v in message["headers"]]
            writer.write(b"\r\n".join(out) + b"\r\n\r\n")
        elif message["type"] == "http.response.body":
            if writer.is_closing():
                # The client has gone (it timed out on a dripping body): stop writing.
                raise ConnectionResetError("the client closed the connection")
            writer.write(message.get("body", b""))
            await writer.drain()

    return send


__all__ = ["Receive", "SimServer", "serve", "start"]
