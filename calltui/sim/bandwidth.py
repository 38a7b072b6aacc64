"""Placeholder until the bandwidth simulator lands."""

from __future__ import annotations

from typing import Any


def routes(sim: Any) -> list[Any]:
    return []
