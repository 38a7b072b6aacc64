"""Records out to files and pipes: JSON, NDJSON, CSV. Values stay what the provider sent, except
that JSON has no NaN or infinity (a provider's JSON may; strict parsers refuse them: null), and
CSV cells carry no control character and cannot start a spreadsheet formula.

JSON is ASCII with every other character escaped. CSV rows end in `\n` (never `\r\n`); a cell
never holds a line break, so every row is one line."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from typing import Any, TextIO

from calltui.columns import CSV_FIELDS
from calltui.model import Call
from calltui.text import inert

CSV_KEYS = list(CSV_FIELDS)
"""The header row, a list as csv.reader reads it back."""


def json_text(doc: Any, **kw: Any) -> str:
    """`doc` as strict JSON, ASCII only: NaN and infinity (which Python's JSON reader accepts
    from a provider) become null."""
    try:
        return json.dumps(doc, ensure_ascii=True, allow_nan=False, **kw)
    except ValueError:
        return json.dumps(_finite(doc), ensure_ascii=True, allow_nan=False, **kw)


def _finite(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def to_json(records: Iterable[Call], out: TextIO) -> None:
    out.write(json_text([c.to_dict() for c in records], indent=2))
    out.write("\n")


def to_ndjson(records: Iterable[Call], out: TextIO) -> None:
    for c in records:
        out.write(ndjson_line(c))


def ndjson_line(record: Call) -> str:
    return json_text(record.to_dict(), separators=(",", ":")) + "\n"


_FORMULA = ("=", "+", "-", "@")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    s = inert(value)
    # A cell whose first visible character is = + - @ runs as a formula in spreadsheets (CSV
    # injection, OWASP); tab and CR, the other two, never survive inert(). Numbers such as
    # -5 or +14155550100 stay as they are.
    if s.lstrip()[:1] in _FORMULA and not _is_number(s):
        s = "'" + s
    return s


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def to_csv(records: Iterable[Call], out: TextIO) -> None:
    w = csv_writer(out)
    for c in records:
        w.writerow(csv_row(c))


def csv_writer(out: TextIO) -> Any:
    """A writer of rows to `out`, the header row written."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_KEYS)
    return w


def csv_row(record: Call) -> list[str]:
    d = record.to_dict(with_raw=False)
    return [csv_cell(d[k]) for k in CSV_KEYS]


def csv_text(records: Iterable[Call]) -> str:
    buf = io.StringIO()
    to_csv(records, buf)
    return buf.getvalue()
