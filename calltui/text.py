"""Make text from the network inert: no escape sequence, control character, bidi override,
invisible formatting character or lone surrogate reaches a terminal, a file or the clipboard;
and measure what is left in terminal cells, so that columns stay aligned whatever the script
(CJK and emoji take two cells, combining marks none).

Markup is not this module's business: Rich/Textual markup in a value is harmless as long as the
value goes into a `Text` (or a Segment) as plain text, never through a markup parser.
"""

from __future__ import annotations

import json
import re
from typing import Any

# The cell widths Textual itself measures with (Rich's tables), so a padded cell is exactly as
# wide on screen as it is here.
from rich.cells import cell_len, set_cell_size

# Whole escape sequences are dropped, 7-bit and 8-bit: CSI (ESC [ or 0x9b) up to its final byte;
# OSC, DCS, SOS, PM and APC strings (OSC 52 writes the clipboard, OSC 8 makes links, OSC 0 sets
# the title) up to BEL or ST; any other ESC sequence (ESC c resets the terminal). What remains of
# a sequence cut short shows as text once its ESC is gone.
_SEQUENCE = re.compile(
    "(?:\x1b\\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\\\|\x9c)"
    "|\x1b[\x20-\x2f]*[\x30-\x7e]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_CRLF = re.compile("\r\n?")
_LINE_BREAK = re.compile("[\n\x0b\x0c\x85\u2028\u2029]")
# C0 (but tab and newline, handled apart) and C1 controls, DEL; then every format character
# (Unicode category Cf: bidi embeddings, overrides, isolates and marks, zero-width characters,
# the BOM, the soft hyphen, interlinear annotations, tags), variation selectors and the Hangul
# fillers, which show nothing yet take cells or reorder what follows. A test checks this list
# against the Unicode database.
_UNSAFE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"
    "\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
ELLIPSIS = "…"
MAX_LINE = 2000
"""Cells kept of one line of a multi-line block: a 100,000-character line would stall the
terminal's layout and nobody reads past a screenful of it."""


def _clean(s: str) -> str:
    """`s` with surrogates replaced, sequences and unsafe characters dropped; newlines and tabs
    kept for the caller to place."""
    if s.isascii() and s.isprintable():
        return s
    s = _SURROGATE.sub("\ufffd", s)
    s = _SEQUENCE.sub("", s)
    s = _LINE_BREAK.sub("\n", _CRLF.sub("\n", s))
    return _UNSAFE.sub("", s)


def _cut(s: str, max_cells: int, cut_already: bool = False) -> str:
    """At most `max_cells` cells: a longer `s` ends in an ellipsis."""
    if not cut_already and cell_len(s) <= max_cells:
        return s
    if max_cells <= 0:
        return ""
    # A double-width character across the edge becomes a space: the width stays exact.
    return set_cell_size(s, max_cells - 1) + ELLIPSIS


def inert(value: object, max_len: int | None = None) -> str:
    """One printable line: escape sequences and invisible characters dropped, tabs and line
    breaks as spaces, at most `max_len` terminal cells (cut with an ellipsis)."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    if max_len is None:
        return _clean(s).replace("\n", " ").replace("\t", " ")
    # Only a prefix can show: bound the work on a 100,000-character field.
    limit = 4 * max_len + 64
    long = len(s) > limit
    if long:
        s = s[:limit]
    s = _clean(s).replace("\n", " ").replace("\t", " ")
    return _cut(s, max_len, cut_already=long)


def fit(value: object, width: int) -> str:
    """A table cell: `inert` cut to `width` cells and padded with spaces to exactly `width`."""
    return set_cell_size(inert(value, width), width)


def inert_block(value: object, max_line: int | None = MAX_LINE) -> str:
    """Multi-line text (a tooltip, a pretty JSON document) with its line breaks kept, tabs as
    four spaces, and each line at most `max_line` cells."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    lines = _clean(s).replace("\t", "    ").split("\n")
    if max_line is not None:
        lines = [_cut(line, max_line) for line in lines]
    return "\n".join(lines)


def compact(value: object) -> str:
    """A value on one line as a person reads it: a string as it is, anything else as compact
    JSON; a whole number read from a float (a Jaeger float64 tag, `finalStatus: 200.0`) without
    its `.0`."""
    if isinstance(value, str):
        return value
    return json.dumps(_whole(value), ensure_ascii=False, separators=(", ", ": "), default=str)


def _whole(v: Any) -> Any:
    if isinstance(v, float):
        return int(v) if v.is_integer() and abs(v) < 2**63 else v
    if isinstance(v, dict):
        return {k: _whole(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_whole(x) for x in v]
    return v
