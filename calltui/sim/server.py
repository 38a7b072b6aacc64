"""`calltui simulate`: the simulator's ASGI app on a loopback socket.

A minimal HTTP/1.1 server (GET requests without bodies, keep-alive), enough for httpx and curl;
it streams each body chunk as the app sends it so that slow-body faults drip for real.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import unquote

from calltui.sim.asgi import Receive, Scope, Send

_REASONS = {
    200: "OK",
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


async def _handle(app: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
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
            writer.write(message.get("body", b""))
            await writer.drain()

    return send


async def serve(app: Any, host: str, port: int, ready: asyncio.Event | None = None) -> None:
    server = await asyncio.start_server(lambda r, w: _handle(app, r, w), host, port)
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


__all__ = ["Receive", "serve"]
