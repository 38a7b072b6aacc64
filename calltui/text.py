"""Make text from the network inert: no escape sequence, control character, bidi override or
zero-width character reaches a terminal, a file or the clipboard."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, zero-width and BOM characters.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
_NEWLINES = re.compile("[\t\n]")


def inert(value: object, max_len: int | None = None) -> str:
    """One printable line: controls dropped, tabs and newlines as spaces, cut to max_len."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    if max_len is not None and len(s) > max_len * 4:
        s = s[: max_len * 4]
    s = _NEWLINES.sub(" ", _UNSAFE.sub("", s))
    if max_len is not None and len(s) > max_len:
        s = s[: max(0, max_len - 1)] + "…"
    return s


def inert_block(value: object) -> str:
    """Multi-line text (a tooltip, a pretty JSON document) with its newlines kept."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    return "\n".join(_UNSAFE.sub("", line).replace("\t", "    ") for line in s.split("\n"))
