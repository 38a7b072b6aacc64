"""The colour of each outcome, one rule for every surface that colours one: the table's outcome
cells, the detail's head and verdict, the pane, the related calls. Each outcome names a theme
variable, so the theme decides the colour (calltui-16's ANSI red, the light theme's darker
green) and a new theme needs no second table. The word itself always says the outcome: the
colour only repeats it."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from textual.color import Color, ColorParseError

from calltui.model import Outcome

OUTCOME_VARIABLE: Mapping[Outcome, str] = {
    Outcome.ANSWERED: "success",
    Outcome.IN_PROGRESS: "accent",
    Outcome.BUSY: "warning",
    Outcome.NO_ANSWER: "warning",
    Outcome.CANCELLED: "foreground",
    Outcome.FAILED: "error",
    Outcome.UNKNOWN: "foreground",
}


def outcome_colours(variables: Mapping[str, str]) -> dict[Outcome, str]:
    """Each outcome's colour as a Rich colour name, from the theme's variables
    (`App.theme_variables`); "default" where the theme leaves it unset. The pane asks on every
    row it shows: the colours of a theme are parsed once."""
    return dict(_colours(tuple(variables.get(name, "") for name in _NAMES)))


_NAMES = tuple(dict.fromkeys(OUTCOME_VARIABLE.values()))


@functools.lru_cache(maxsize=8)
def _colours(values: tuple[str, ...]) -> tuple[tuple[Outcome, str], ...]:
    variables = dict(zip(_NAMES, values, strict=True))
    out: dict[Outcome, str] = {}
    for outcome, name in OUTCOME_VARIABLE.items():
        value = variables.get(name, "")
        try:
            out[outcome] = Color.parse(value).rich_color.name if value else "default"
        except ColorParseError:
            out[outcome] = "default"
    return tuple(out.items())
