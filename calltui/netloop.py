"""The network's own event loop, on a thread of its own, shared by every account's client.

Hundreds of accounts answering together mean thousands of socket callbacks (connections made,
bytes received, HTTP parsed), each short, all queued on whichever loop owns the sockets. On the
TUI's loop they came between a key press and its frame by the hundred. On this loop they do
not: the thread takes its turns with the TUI's as the interpreter switches threads (every few
milliseconds), so a key is read and a frame drawn while the exchanges go on, and the TUI's loop
only sees each exchange once its body is in.

    await shared().run(coro)   # `coro` runs on the network loop; its result or error comes back

A cancellation of the caller cancels the coroutine on the network loop. The thread is a daemon:
a process that exits leaves nothing to join, and sockets still open close with it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from calltui.pacing import share_turn

T = TypeVar("T")


class NetLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._imported: Future[None] = Future()
        self._thread = threading.Thread(target=self._serve, name="calltui-net", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        # httpx imports its transport's stack (httpcore and h11 when the first client is made,
        # anyio when it first connects: some 40 ms); here it is imported meanwhile. The TUI
        # starts this loop as its screen mounts (calltui.http.open_sockets_soon): started with
        # the TUI's own imports, it took its share of the interpreter from the first frame
        # (70 ms later); started after the first frame, its imports (each file read gives the
        # interpreter away) waited on the frames that follow and the first rows came 50 ms
        # later than started at the mount.
        import anyio._backends._asyncio  # noqa: F401
        import httpcore  # noqa: F401
        import httpx._transports.default  # noqa: F401

        self._imported.set_result(None)
        self.loop.run_forever()

    async def ready(self) -> None:
        """Once the transport's stack is imported: a client made before would import it on
        the caller's thread, holding the caller's loop for some 50 ms (the first of hundreds of
        accounts, at start)."""
        await asyncio.wrap_future(self._imported)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """The result of `coro`, run on the network loop, awaited from the caller's. What the
        caller does with it takes its turn with the rest of the caller's loop (share_turn):
        the answers of hundreds of accounts come back together, and each caller's next steps
        (a page's records handed on, the next request made), a fraction of a millisecond
        each, had all run in one turn of 60 to 115 ms."""
        result = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))
        await share_turn()
        return result


_shared: NetLoop | None = None
_lock = threading.Lock()


def shared() -> NetLoop:
    """The process's network loop, started on first use."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = NetLoop()
        return _shared
