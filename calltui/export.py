"""Records out to files and pipes: JSON, NDJSON, CSV. Values stay what the provider sent, except
that CSV cells cannot start a spreadsheet formula and no cell carries a control character."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any, TextIO

from calltui.model import RECORD_KEYS, Call
from calltui.text import inert

CSV_KEYS = [k for k in RECORD_KEYS if k != "raw"]


def to_json(records: Iterable[Call], out: TextIO) -> None:
    json.dump([c.to_dict() for c in records], out, ensure_ascii=True, indent=2)
    out.write("\n")


def to_ndjson(records: Iterable[Call], out: TextIO) -> None:
    for c in records:
        out.write(json.dumps(c.to_dict(), ensure_ascii=True, separators=(",", ":")))
        out.write("\n")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    s = inert(value)
    # A cell starting with = + - @ runs as a formula in spreadsheets (CSV injection).
    if s[:1] in ("=", "+", "-", "@") and not _is_number(s):
        s = "'" + s
    return s


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def to_csv(records: Iterable[Call], out: TextIO) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_KEYS)
    for c in records:
        d = c.to_dict(with_raw=False)
        w.writerow([csv_cell(d[k]) for k in CSV_KEYS])


def csv_text(records: Iterable[Call]) -> str:
    buf = io.StringIO()
    to_csv(records, buf)
    return buf.getvalue()
