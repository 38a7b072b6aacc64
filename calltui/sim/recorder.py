"""The simulator behind a recorder, for the tests and benchmarks that time its traffic.

`SimApp.seen` says what was asked; a Recorder also says when each request arrived (monotonic,
as the simulator's own rate windows count), what status it got and how many were being served
at once: what concurrent paging and rate limits are judged by.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from calltui.sim.app import SimApp


@dataclass
class Recorder:
    """An ASGI wrapper around the simulator: arrival time, path and status of every request,
    and the most served at once."""

    app: SimApp
    log: list[tuple[float, str, int]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived, status = time.monotonic(), 0
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

        async def tapped(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tapped)
        finally:
            self.in_flight -= 1
            self.log.append((arrived, scope["path"], status))

    def lists(self, suffix: str) -> list[tuple[float, int]]:
        """(arrival, status) of the requests whose path ends with `suffix`, in arrival order."""
        return sorted((t, s) for t, path, s in self.log if path.endswith(suffix))
