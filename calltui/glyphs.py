"""Plain ASCII for terminals that cannot draw more (`[display] glyphs`): the Linux console, a
vt100 or vt220, a locale that is not UTF-8 (a jump host reached with LANG unset).

Every character above 127 is replaced, one cell for one cell so that nothing moves: a box
drawing line by `-`, `|` or `+`, the eighth blocks of bars and sparklines by a rising ramp
(`_.,-=+*#`), marks and arrows by their nearest ASCII (`*`, `x`, `>`), an accented letter by its
base letter, and whatever has no likeness by `?` (two for a double-width character). The TUI
applies it to every line it draws, its own and Textual's (borders, scroll bars, the footer), so
one table decides what an ASCII screen shows.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Mapping

ASCII_TERMS = frozenset({"linux", "vt100", "vt102", "vt220", "vt52", "dumb"})
_C_LOCALES = frozenset({"", "C", "POSIX"})
_COERCED_TO = frozenset({"C.UTF-8", "C.utf8", "UTF-8"})
"""The locales PEP 538 coerces the C locale to."""

_RAMP = "_.,-=+*#"
_SAME = {
    **dict.fromkeys("─━┄┅┈┉╌╍═╴╶╸╺╼╾", "-"),
    **dict.fromkeys("│┃┆┇┊┋╎╏║╵╷╹╻╽╿", "|"),
    **{chr(c): "+" for c in range(0x250C, 0x254C)},
    **{chr(c): "+" for c in range(0x2552, 0x2570)},
    **dict.fromkeys("╭╮╯╰", "+"),
    **dict.fromkeys("╱", "/"),
    **dict.fromkeys("╲", "\\"),
    **dict.fromkeys("╳", "x"),
    **{b: _RAMP[i] for i, b in enumerate("▁▂▃▄▅▆▇█")},
    **dict.fromkeys("▏▎▍▌▋▊▉▐▕", "|"),
    "▔": "-",
    **dict.fromkeys("░▒▓", "#"),
    **dict.fromkeys("▖▗▘▙▚▛▜▝▞▟", "#"),
    **dict.fromkeys("●•◉◆■▪★✱∗", "*"),
    **dict.fromkeys("○◌◯◇□▫☐", "o"),
    **dict.fromkeys("✖✗✘×☒", "x"),
    **dict.fromkeys("✓✔☑", "v"),
    **dict.fromkeys("⚠‼", "!"),
    **dict.fromkeys("→⇒▶▸►›»⟶", ">"),
    **dict.fromkeys("←⇐◀◂◄‹«⟵⏎↵", "<"),
    **dict.fromkeys("↑⇑▲▴△", "^"),
    **dict.fromkeys("↓⇓▼▾▽", "v"),
    **dict.fromkeys("↔⇔", "-"),
    "…": "~",
    **dict.fromkeys("·∙⋅", "."),
    **dict.fromkeys("—–‒―−", "-"),
    **dict.fromkeys("“”„″", '"'),
    **dict.fromkeys("‘’‚′", "'"),
    "±": "+",
    "Δ": "d",
    "≈": "~",
    "≤": "<",
    "≥": ">",
    "≠": "#",
    "°": "o",
    "µ": "u",
    "\u00a0": " ",
}
_TABLE = str.maketrans(_SAME)
_OTHER = re.compile(r"[^\x00-\x7f]")


def wanted(setting: str, environ: Mapping[str, str] = os.environ) -> bool:
    """ASCII for `[display] glyphs = setting` in this environment: `auto` is ASCII where TERM
    names a terminal that draws nothing more, or the locale is not UTF-8."""
    if setting != "auto":
        return setting == "ascii"
    if environ.get("TERM", "").split("-")[0] in ASCII_TERMS:
        return True
    ctype = None if _coerced(environ) else environ.get("LC_CTYPE")
    locale = environ.get("LC_ALL") or ctype or environ.get("LANG") or ""
    return not re.search(r"utf-?8", locale, re.IGNORECASE)


def _coerced(environ: Mapping[str, str]) -> bool:
    """Whether LC_CTYPE is the one Python set itself (PEP 538): with no LC_ALL and LANG unset,
    C or POSIX, it puts C.UTF-8 in its own environment before any of calltui runs, and the
    terminal's C locale would read as UTF-8. Such an LC_CTYPE set by hand reads as C too;
    sys.flags.utf8_mode is no surer sign: PYTHONUTF8 sets or clears it, and a UTF-8 LANG
    whose locale is not installed sets it as well."""
    return (
        not environ.get("LC_ALL")
        and environ.get("LANG", "") in _C_LOCALES
        and environ.get("LC_CTYPE") in _COERCED_TO
    )


def to_ascii(text: str) -> str:
    """`text` with every character above 127 replaced by ASCII of the same width."""
    if text.isascii():
        return text
    return _OTHER.sub(_one, text.translate(_TABLE))


def _one(m: re.Match[str]) -> str:
    return _char(m.group())


@functools.lru_cache(maxsize=4096)
def _char(c: str) -> str:
    base = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
    if len(base) == 1 and base.isprintable():
        return base
    if unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return ""  # no cell of its own: drawn on the one before, or not at all
    return "??" if unicodedata.east_asian_width(c) in ("W", "F") else "?"
