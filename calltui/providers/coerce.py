"""Lenient reading of optional fields: providers send numbers as strings, strings as numbers,
the string "null" for null (Plivo, Restcomm), floats for integers (jambonz's Influx). A value of
the wrong type is None for that field, never an exception (NaN and infinity included)."""

from __future__ import annotations

import math
from typing import Any


def text(v: Any) -> str | None:
    """A string field: JSON numbers become strings (200.0 as "200"); "", blanks and the string
    "null" are null."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else str(v)
    if isinstance(v, str):
        s = v.strip()
        return None if not s or s.lower() == "null" else v
    return None


def integer(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v.strip())  # an int64 past 2^53 must not go through a float
        except ValueError:
            v = number(v)
    if isinstance(v, float) and math.isfinite(v):
        return int(v)
    return None


def number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        return None
    try:
        f = float(v)
    except (ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None
