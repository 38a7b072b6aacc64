"""Sharing the event loop: chunks of work (hundreds of accounts' pages, requests and answers)
take turns with everything else on the loop, first come first served, a few a turn, and a chunk
whose task is cancelled while it waits holds up no other."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Generator
from typing import Any

from calltui.pacing import LET_GO_MAX, share_turn


def work(seconds: float) -> None:
    """A chunk's own work: the loop is held meanwhile, as by parsing a page."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class Turns:
    """Counts the chunks run in each turn of the running loop."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.counts: list[int] = []
        self.now = 0
        self.running = True
        self.loop.call_soon(self._turn)

    def _turn(self) -> None:
        self.counts.append(self.now)
        self.now = 0
        if self.running:
            self.loop.call_soon(self._turn)  # runs once in every turn of the loop

    def chunk_ran(self) -> None:
        self.now += 1

    def stop(self) -> list[int]:
        self.running = False
        return [n for n in self.counts if n]


class Suspensions:
    """Counts how often an awaitable gave the loop back before it was done."""

    def __init__(self) -> None:
        self.count = 0

    def of(self, awaitable: Awaitable[Any]) -> Awaitable[Any]:
        counter = self

        class Counted:
            def __await__(self) -> Generator[Any, Any, Any]:
                it = awaitable.__await__()
                send: Any = None
                throw: BaseException | None = None
                while True:
                    try:
                        out = it.throw(throw) if throw is not None else it.send(send)
                    except StopIteration as e:
                        return e.value
                    counter.count += 1
                    try:
                        send, throw = (yield out), None
                    except BaseException as e:  # a cancellation goes on to the awaitable
                        send, throw = None, e

        return Counted()


async def test_a_waiting_chunk_is_woken_once_when_its_turn_comes_not_every_turn_before():
    # Each waiting chunk had tried again every turn until the budget let it through: with the
    # hundreds of requests of 300 accounts waiting, their tries were most of every turn.
    suspended = Suspensions()

    async def chunk() -> None:
        await suspended.of(share_turn())
        work(0.001)

    await asyncio.gather(*(chunk() for _ in range(200)))
    assert suspended.count <= 200


async def test_chunks_waiting_for_their_turn_go_first_come_first_served_a_few_a_turn():
    turns = Turns()
    order: list[int] = []

    async def chunk(i: int) -> None:
        await share_turn()
        order.append(i)
        turns.chunk_ran()
        work(0.001)

    await asyncio.gather(*(chunk(i) for i in range(200)))
    per_turn = turns.stop()
    assert order == list(range(200))
    # A millisecond each, against a budget of a few milliseconds a turn: many turns, each of a
    # few chunks, never all of them (nor LET_GO_MAX) in one.
    assert len(per_turn) >= 10
    assert max(per_turn) <= 16 < LET_GO_MAX


async def test_a_chunk_cancelled_while_it_waits_holds_up_no_other():
    done: list[int] = []

    async def chunk(i: int) -> None:
        await share_turn()
        work(0.002)
        done.append(i)

    tasks = [asyncio.create_task(chunk(i)) for i in range(40)]
    await asyncio.sleep(0)  # every task has asked for its turn; most wait
    tasks[20].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[20], asyncio.CancelledError)
    assert done == [i for i in range(40) if i != 20]


async def test_a_timer_due_runs_between_the_chunks_of_a_burst():
    # What a key press or a frame waits for: with 300 chunks waiting, it is not last in line.
    fired_after: list[int] = []
    ran: list[int] = []

    async def chunk(i: int) -> None:
        await share_turn()
        work(0.0005)
        ran.append(i)

    tasks = [asyncio.create_task(chunk(i)) for i in range(300)]
    await asyncio.sleep(0)
    asyncio.get_running_loop().call_later(0, lambda: fired_after.append(len(ran)))
    await asyncio.gather(*tasks)
    assert fired_after and fired_after[0] < 100
