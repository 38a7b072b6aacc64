"""ASCII mode (`[display] glyphs`): every line the app draws, Textual's borders, scroll bars and
footer as well as calltui's bars, marks and ladders, goes through calltui.glyphs on its way to
the terminal, so no character above 127 reaches a terminal that cannot draw it."""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from calltui.glyphs import to_ascii


class AsciiFilter(LineFilter):
    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(to_ascii(text), style, control) for text, style, control in segments]
