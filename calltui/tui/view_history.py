"""The main screen's view as a spec (calltui.viewspec), and this session's views: the spec of the
view shown (`Y`, the bundle, what the next session goes back to), a spec opened (`calltui --view`,
a `[views.NAME]` from the palette), and `[` and `]` back and forth through the views shown, as
k9s does."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from calltui.columns import DISPLAY_NAMES
from calltui.model import CallQuery
from calltui.store import Sort
from calltui.text import inert
from calltui.tui.jumps import ListingHost

if TYPE_CHECKING:
    from calltui.viewspec import ViewSpec


class ViewHistory:
    def __init__(self, host: ListingHost, last: str | None) -> None:
        """`last`: the view the last session ended on, the first one `[` goes back to."""
        self.host = host
        self.views: list[str] = [last] if last else []
        """The views of this session, oldest first (specs without a call): the last
        session's first."""
        self.at = len(self.views) - 1
        self._stepping = False

    def spec_of(self, *, call: bool) -> str:
        """The spec of the view shown: its accounts, filters, window, sort and (`call`) the call
        under the cursor, for `calltui --view` on another jump host."""
        from calltui.filters import as_terms
        from calltui.viewspec import ViewSpec, iso

        host = self.host
        q, table = host.query_, host.table
        sort, row = table.sort, table.current_row
        name = next((n for n, k in DISPLAY_NAMES.items() if k == sort.key), None)
        return str(
            ViewSpec(
                accounts=tuple(host.selected),
                q=as_terms(q) or None,
                since=iso(q.since),
                until=iso(q.until) if q.until else None,
                sort=name if sort != Sort() else None,
                descending=sort.descending,
                call=None if row is None or not call else host.session.store.key(row),
            )
        )

    def open(
        self,
        spec: ViewSpec,
        *,
        accounts: list[str] | None = None,
        query: CallQuery | None = None,
    ) -> bool:
        """Show the view of `spec`: its accounts, filters, window and sort, the cursor on its
        call once it is listed. `accounts` and `query`, when given, in place of the spec's: the
        CLI's, which merged the flags given beside the spec over its parts. False (and why, in a
        toast) when a part does not hold here."""
        from calltui.filters import FilterError, build_query

        host = self.host
        accounts = list(spec.accounts if accounts is None else accounts)
        unknown = [a for a in accounts if a not in host.session.account_names]
        if unknown:
            host.notify(f"view: no account named {inert(unknown[0], 60)}", severity="warning")
            return False
        if query is None:
            try:
                query = build_query(
                    {"since": spec.since, "until": spec.until, "query": spec.q},
                    default_since=timedelta(hours=1),
                    now=host.session.now(),
                )
            except FilterError as e:
                host.notify(f"view: {inert(e, 200)}", severity="warning")
                return False
        host.selected = accounts
        host.query_ = query
        if spec.sort:
            host.table.sort = Sort(DISPLAY_NAMES[spec.sort], spec.descending)
        host.show_filters()
        host.start_fetch(keep=spec.call, seek=spec.call is not None)
        return True

    def remember(self) -> None:
        """The view now, in this session's history; not while stepping through it."""
        if self._stepping:
            return
        spec = self.spec_of(call=False)
        if self.views and self.views[self.at] == spec:
            return
        del self.views[self.at + 1 :]
        self.views.append(spec)
        self.at = len(self.views) - 1

    def step(self, step: int) -> None:
        """`[` back (-1), `]` forth (1) through the views of this session."""
        from calltui.viewspec import parse

        at = self.at + step
        if not 0 <= at < len(self.views):
            where = "before" if step < 0 else "after"
            self.host.notify(f"no view {where} this one", timeout=2)
            return
        self.at = at
        self._stepping = True
        try:
            self.open(parse(self.views[at]))
        finally:
            self._stepping = False
