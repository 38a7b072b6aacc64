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
import functools
import importlib
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from calltui.pacing import share_turn

T = TypeVar("T")

STACK = (("anyio",), ("anyio._backends._asyncio",), ("httpcore", "httpx._transports.default"))
"""The modules of httpx's transport, some 40 ms of imports in all, in steps of at most some
25 ms each (import_stack)."""
STEP_GAP_S = 0.001
"""How long import_stack waits before each step (see there)."""


class NetLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._imported: Future[None] = Future()
        self._lock = threading.Lock()
        self._queued: list[tuple[Coroutine[Any, Any, Any], Future[Any]]] = []
        self._waker: asyncio.AbstractEventLoop | None = None
        """The caller's loop on which a wake of the network loop is due, while one is."""
        self._thread = threading.Thread(target=self._serve, name="calltui-net", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        # httpx imports its transport's stack (httpcore and h11 when the first client is made,
        # anyio when it first connects): here unless the caller has (import_stack).
        for step in STACK:
            for name in step:
                importlib.import_module(name)
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
        done: Future[T] = Future()
        caller = asyncio.get_running_loop()
        with self._lock:
            self._queued.append((coro, done))
            wake = self._waker is None or self._waker.is_closed()
            if wake:
                self._waker = caller
        if wake:
            # Waking the network loop writes to its socket, which gives the interpreter away to
            # the network's thread: a turn that sent the next requests of a hundred accounts
            # one wake each waited a switch interval to get it back each time (5 ms each, turns
            # of 40-100 ms of which the work was 1 ms). One wake, after the turn's other work,
            # starts all the turn's coroutines.
            caller.call_soon(self._wake)
        result = await asyncio.wrap_future(done)
        await share_turn()
        return result

    def _wake(self) -> None:
        self.loop.call_soon_threadsafe(self._start_queued)

    def _start_queued(self) -> None:
        """On the network loop: every coroutine queued since the last wake, started."""
        with self._lock:
            queued, self._queued, self._waker = self._queued, [], None
        for coro, done in queued:
            if done.cancelled():
                coro.close()
                continue
            task = self.loop.create_task(coro)
            task.add_done_callback(functools.partial(_settle, done))
            done.add_done_callback(functools.partial(_cancel, self.loop, task))


def _settle(done: Future[T], task: asyncio.Task[T]) -> None:
    """`task`'s end told to the caller's `done` (unless the caller gave up first)."""
    if task.cancelled():
        done.cancel()
        return
    if not done.set_running_or_notify_cancel():
        return
    error = task.exception()
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(task.result())


def _cancel(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], done: Future[Any]) -> None:
    """A caller that gave up cancels its coroutine on the network loop."""
    if done.cancelled():
        loop.call_soon_threadsafe(task.cancel)


_shared: NetLoop | None = None
_lock = threading.Lock()
_stepping: asyncio.Task[None] | None = None


def import_stack() -> None:
    """Starts importing the transport's stack on the caller's thread, a step at a time between
    the loop's other work, then the network loop (ready() waits for both): a TUI calls it as
    its screen mounts. Imported on the network's thread instead, every file read gave the
    interpreter away to the thread drawing the first frames and waited up to a switch interval
    to get it back: the 40 ms of imports took 125 to 165 ms, and the first requests went out
    that much later."""
    global _stepping
    if _shared is None and _stepping is None:
        _stepping = asyncio.get_running_loop().create_task(_import_in_steps())


async def _import_in_steps() -> None:
    for step in STACK:
        # A timer, not a bare yield: what was already due before it (a frame, a key, the
        # answers of the accounts) runs first; after a bare yield a step ran straight after the
        # 50 ms turn that mounts the screen of 300 accounts, before anything else.
        await asyncio.sleep(STEP_GAP_S)
        for name in step:
            importlib.import_module(name)
    shared()


async def ready() -> None:
    """Once a client over real sockets can be made without importing the stack on the caller's
    loop: after the steps of import_stack, if they are under way (the loop is not started
    meanwhile, or its thread would import the same modules beside them), else once the
    network loop has imported them (NetLoop.ready)."""
    global _stepping
    stepping = _stepping
    if stepping is not None:
        if stepping.get_loop() is asyncio.get_running_loop():
            await asyncio.shield(stepping)
        if stepping.done():
            _stepping = None
    await shared().ready()


def shared() -> NetLoop:
    """The process's network loop, started on first use."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = NetLoop()
        return _shared
