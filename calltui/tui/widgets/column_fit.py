"""How the call table's columns share the terminal's width: one rule, a pure function of the
columns shown, the width and the longest names loaded.

SIP/CAUSE (or, without it, the last column) takes what is left, at least its title's width."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len

from calltui.columns import COLUMNS as SPEC

FLEXIBLE = "code"
DROP_ORDER = ("mos", "direction", "duration", "trunk")
"""Dropped in this order while the terminal is too narrow for every column."""


def fit_columns(
    shown: Sequence[str], width: int, account_width: int, trunk_width: int
) -> list[tuple[str, str, int]]:
    """The shown columns that fit `width` (the least needed dropped first, then ACCOUNT
    narrowed), ACCOUNT widened to the longest account name while there is room, TRUNK to
    the longest trunk name loaded if there is room for it, and SIP/CAUSE (else the last
    column) stretched to fill the rest, never narrower than its title."""
    cols = [(k, SPEC[k].tui.title, SPEC[k].tui.width) for k in shown]
    flexible = FLEXIBLE if FLEXIBLE in shown else cols[-1][0]
    least = cell_len(SPEC[FLEXIBLE].tui.title) if flexible == FLEXIBLE else 0

    def used(cs: list[tuple[str, str, int]]) -> int:
        return sum(w + 1 for k, _, w in cs if k != flexible or w) + 1

    for key in DROP_ORDER:
        if used(cols) + least <= width or len(cols) == 1:
            break
        cols = [c for c in cols if c[0] != key]
    room = width - used(cols) - least
    widths = {k: w for k, _, w in cols}
    if room < 0 and "account" in widths:
        # Nothing left to drop (100 columns beside the sidebar): ACCOUNT, whose names are
        # cut at its width anyway, gives cells down to its title's, rather than the last
        # column being cut under the scrollbar, its title mid-word.
        given = max(0, min(-room, widths["account"] - cell_len(SPEC["account"].tui.title)))
        widths["account"] -= given
        room += given
    if "account" in widths and room > 0 and account_width > widths["account"]:
        grown = min(account_width, widths["account"] + room)
        room -= grown - widths["account"]
        widths["account"] = grown
    # TRUNK only where its longest name fits whole: part of the way, it would still cut
    # the longest names, with cells taken from SIP/CAUSE, the reason a call failed.
    if "trunk" in widths and 0 < trunk_width - widths["trunk"] <= room:
        room -= trunk_width - widths["trunk"]
        widths["trunk"] = trunk_width
    widths[flexible] += least + max(0, room)
    return [(k, t, widths[k]) for k, t, _ in cols]
