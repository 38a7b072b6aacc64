"""The columns of a call listing, each defined once: its key, how each table titles and sizes it,
how its cell text is made (from a Call, or from the store's Brief of a row: the TUI draws from
that, never decoding a raw record) and how the store sorts by it.

Which columns a surface shows, and in what order, is declared here too: CLI_TABLE (`calls
--format table`, calltui.render) and TUI_TABLE (the TUI's call table). Every column is
left-aligned: a cell is its text cut or padded to the width (calltui.text.fit).

CSV (`--format csv` and the TUI's exports, calltui.export) is not a table of these columns: by
contract its fields are the normalized record's keys (model.RECORD_KEYS, as `--format json`
prints them) but raw, in their order, each value as Call.to_dict gives it (CSV_FIELDS). The
one rule tying the two: each column names the record keys its cell is made from
(`Column.record`), and every one of them is a CSV field, so what a table shows a CSV row holds
too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol, TypeVar

from calltui.model import RECORD_KEYS, Outcome


class Row(Protocol):
    """What a cell is made from: a Call, or the store's Brief of a row."""

    @property
    def started_at(self) -> datetime | None: ...
    @property
    def account(self) -> str: ...
    @property
    def id(self) -> str | None: ...
    @property
    def from_(self) -> str | None: ...
    @property
    def to(self) -> str | None: ...
    @property
    def direction(self) -> str | None: ...
    @property
    def duration_s(self) -> int | None: ...
    @property
    def outcome(self) -> Outcome: ...
    @property
    def sip_code(self) -> int | None: ...
    @property
    def cause(self) -> str | None: ...
    @property
    def cause_code(self) -> int | None: ...
    @property
    def mos(self) -> float | None: ...
    @property
    def trunk(self) -> str | None: ...


R = TypeVar("R", bound=Row)


@dataclass(frozen=True, slots=True)
class Look:
    """How one table shows a column."""

    title: str
    width: int
    """In terminal cells; 0: what the terminal has left (the TUI's last column)."""


@dataclass(frozen=True, slots=True)
class SortKey:
    """How the store orders rows by a column: by the first of `fields` (Call attributes) that is
    not None, a row where all are None as if it held `missing`. Names (accounts, directions,
    outcomes) sort by their text."""

    fields: tuple[str, ...]
    missing: str | float


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    """Its name: the sort key (calltui.store.Sort) and the TUI's sort cycle."""
    record: tuple[str, ...]
    """The record's keys (model.RECORD_KEYS) its cell is made from: each is a CSV field."""
    text: Callable[[Row, tzinfo | None, bool], str]
    """The cell's text from a row, times shown in a zone; True: the TUI's narrower form."""
    cli: Look
    tui: Look
    sort: SortKey | None
    """None: the listing cannot be sorted by it."""
    skeleton: bool = True
    """Whether what the cell shows survives in an evicted row's skeleton (calltui.store): a
    placeholder row shows the others as missing."""


def fmt_time(
    t: datetime | None, zone: tzinfo | None, with_date: bool = True, short: bool = False
) -> str:
    if t is None:
        return "-"
    try:
        local = t.astimezone(zone)
    except OverflowError:  # a provider's year 9999 (or 1) pushed past the calendar: keep UTC
        local = t
    if short:
        return local.strftime("%m-%d %H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def fmt_duration(s: int | None) -> str:
    if s is None:
        return "-"
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _code(r: Row) -> str:
    """The SIP code with the provider's reason, else the reason or its code."""
    if r.sip_code is not None:
        code = str(r.sip_code)
        # A Tmedia leg's numeric reason is its SIP status: said once.
        return code + (f" {r.cause}" if r.cause and r.cause != code else "")
    return r.cause or ("" if r.cause_code is None else str(r.cause_code))


_DIRECTION = {"inbound": "in", "outbound": "out"}

COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column(
            "started",
            ("started_at",),
            lambda r, zone, narrow: fmt_time(r.started_at, zone, short=narrow),
            Look("STARTED", 19),
            Look("TIME", 14),
            SortKey(("started_at",), float("-inf")),
        ),
        Column(
            "account",
            ("account",),
            lambda r, _zone, _narrow: r.account,
            Look("ACCOUNT", 14),
            Look("ACCOUNT", 12),
            SortKey(("account",), ""),
        ),
        Column(
            "from",
            ("from",),
            lambda r, _zone, _narrow: r.from_ or "-",
            Look("FROM", 16),
            Look("FROM", 13),
            SortKey(("from_",), ""),
            skeleton=False,
        ),
        Column(
            "to",
            ("to",),
            lambda r, _zone, _narrow: r.to or "-",
            Look("TO", 16),
            Look("TO", 13),
            SortKey(("to",), ""),
            skeleton=False,
        ),
        Column(
            "trunk",
            ("trunk",),
            lambda r, _zone, _narrow: r.trunk or "-",
            Look("TRUNK", 14),
            Look("TRUNK", 12),
            SortKey(("trunk",), ""),
        ),
        Column(
            "direction",
            ("direction",),
            lambda r, _zone, _narrow: _DIRECTION.get(r.direction or "", "-"),
            Look("DIR", 3),
            Look("DIR", 3),
            SortKey(("direction",), ""),
        ),
        Column(
            "duration",
            ("duration_s",),
            lambda r, _zone, _narrow: fmt_duration(r.duration_s),
            Look("DUR", 7),
            Look("DUR", 6),
            SortKey(("duration_s",), -1),
        ),
        Column(
            "outcome",
            ("outcome",),
            lambda r, _zone, _narrow: r.outcome.value,
            Look("OUTCOME", 11),
            Look("OUTCOME", 11),
            SortKey(("outcome",), ""),
        ),
        Column(
            "code",
            ("sip_code", "cause", "cause_code"),
            lambda r, _zone, _narrow: _code(r) or "-",
            Look("SIP/CAUSE", 24),
            Look("SIP/CAUSE", 0),
            SortKey(("sip_code", "cause_code"), 0),
            skeleton=False,  # the reason's text is dropped with the page
        ),
        Column(
            "mos",
            ("mos",),
            lambda r, _zone, _narrow: "-" if r.mos is None else f"{r.mos:.1f}",
            Look("MOS", 4),
            Look("MOS", 3),
            SortKey(("mos",), -1.0),
        ),
        Column(
            "id",
            ("id",),
            lambda r, _zone, _narrow: r.id or "",
            Look("ID", 36),
            Look("ID", 36),
            None,
        ),
    )
}

STARTED = "started"
"""The column views are kept in (newest first): the default sort."""


def sort_key(key: str) -> SortKey:
    """The SortKey of the column `key`; ValueError for a column that does not sort."""
    column = COLUMNS.get(key)
    if column is None or column.sort is None:
        raise ValueError(f"unknown sort key {key!r}")
    return column.sort


def _pick(*keys: str) -> tuple[Column, ...]:
    return tuple(COLUMNS[k] for k in keys)


CLI_TABLE = _pick(
    "started",
    "account",
    "from",
    "to",
    "trunk",
    "direction",
    "duration",
    "outcome",
    "code",
    "mos",
    "id",
)
DISPLAY_NAMES = {
    "time": "started",
    "account": "account",
    "from": "from",
    "to": "to",
    "trunk": "trunk",
    "dir": "direction",
    "dur": "duration",
    "outcome": "outcome",
    "cause": "code",
    "mos": "mos",
    "id": "id",
}
"""The names `[display] columns` gives the TUI's columns, as their titles read."""
DEFAULT_DISPLAY = (
    "time",
    "account",
    "from",
    "to",
    "trunk",
    "dir",
    "dur",
    "outcome",
    "cause",
    "mos",
)


def sort_value(key: str) -> Callable[[Row], str | float]:
    """A row's value under the column `key`'s SortKey: the first of its fields that is not
    None (a name by its text, a time by its timestamp), else the key's `missing`."""
    sort = sort_key(key)

    def value(r: Row) -> str | float:
        for name in sort.fields:
            v = getattr(r, name, None)
            if v is None:
                continue
            if isinstance(v, datetime):
                return v.timestamp()
            if isinstance(v, (int, float)):
                return float(v)
            return str(getattr(v, "value", v))
        return sort.missing

    return value


def sorted_by(rows: Iterable[R], name: str, descending: bool = False) -> list[R]:
    """`rows` sorted by the column named `name` in `[display] columns` (a view's sort)."""
    return sorted(rows, key=sort_value(DISPLAY_NAMES[name]), reverse=descending)


def tui_columns(names: Iterable[str]) -> tuple[Column, ...]:
    """The TUI's columns by their display names, in that order; ValueError names an unknown or
    repeated one."""
    keys: list[str] = []
    for name in names:
        key = DISPLAY_NAMES.get(name.strip().lower())
        if key is None:
            raise ValueError(f"unknown column {name!r} (one of {', '.join(DISPLAY_NAMES)})")
        if key in keys:
            raise ValueError(f"column {name!r} given twice")
        keys.append(key)
    if not keys:
        raise ValueError("no column given")
    return _pick(*keys)


CSV_FIELDS = tuple(k for k in RECORD_KEYS if k != "raw")
"""`--format csv`: every key of the record (model.RECORD_KEYS) in its order, but raw: the
contract, not a pick of COLUMNS; each column's `record` keys are among them."""


TUI_TABLE = tui_columns(DEFAULT_DISPLAY)
"""The TUI's table by default (`[display] columns`); SIP/CAUSE takes the width the others
leave."""
