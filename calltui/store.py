"""The loaded calls, column by column, and views over them (filtered, sorted index lists).

Columns are plain Python lists filled once per record, so a view rebuild (sort, refine) touches
flat lists of ints, floats and short strings rather than record objects, and the table renders a
row from its columns without formatting anything it does not show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from calltui.model import Call, Outcome

SORT_KEYS = ("started", "account", "from", "to", "direction", "duration", "outcome", "code", "mos")


@dataclass(slots=True, frozen=True)
class Sort:
    key: str = "started"
    descending: bool = True


class CallStore:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.started: list[float] = []
        self.account: list[str] = []
        self.from_: list[str] = []
        self.to: list[str] = []
        self.direction: list[str] = []
        self.duration: list[int] = []
        self.outcome: list[Outcome] = []
        self.code: list[int] = []
        self.mos: list[float] = []
        self._keys: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self.calls)

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def extend(self, calls: Iterable[Call]) -> range:
        """Append calls not already held (same account and id); the new rows' indices."""
        first = len(self.calls)
        for c in calls:
            key = (c.account, c.id)
            if key in self._keys:
                continue
            self._keys.add(key)
            self.calls.append(c)
            self.started.append(c.started_at.timestamp() if c.started_at else 0.0)
            self.account.append(c.account)
            self.from_.append(c.from_ or "")
            self.to.append(c.to or "")
            self.direction.append(c.direction or "")
            self.duration.append(c.duration_s if c.duration_s is not None else -1)
            self.outcome.append(c.outcome)
            self.code.append(c.sip_code if c.sip_code is not None else (c.cause_code or 0))
            self.mos.append(c.mos if c.mos is not None else -1.0)
        return range(first, len(self.calls))

    def column(self, key: str) -> Sequence[Any]:
        columns: dict[str, Sequence[Any]] = {
            "started": self.started,
            "account": self.account,
            "from": self.from_,
            "to": self.to,
            "direction": self.direction,
            "duration": self.duration,
            "outcome": [o.value for o in self.outcome],
            "code": self.code,
            "mos": self.mos,
        }
        return columns[key]

    def view(
        self,
        sort: Sort = Sort(),
        keep: Callable[[Call], bool] | None = None,
        rows: Iterable[int] | None = None,
    ) -> list[int]:
        """Row indices, refined by `keep` and sorted; ties keep newest first."""
        idx = list(range(len(self.calls)) if rows is None else rows)
        if keep is not None:
            calls = self.calls
            idx = [i for i in idx if keep(calls[i])]
        started = self.started
        idx.sort(key=started.__getitem__, reverse=True)
        if sort.key != "started":
            col = self.column(sort.key)
            idx.sort(key=col.__getitem__, reverse=sort.descending)
        elif not sort.descending:
            idx.reverse()
        return idx
