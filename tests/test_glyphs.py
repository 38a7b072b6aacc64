"""ASCII mode (`[display] glyphs`): when it is chosen, and what it makes of every character a
terminal without Unicode cannot draw, one cell for one cell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from calltui.glyphs import to_ascii, wanted


@pytest.mark.parametrize(
    ("setting", "environ", "ascii"),
    [
        ("auto", {"TERM": "xterm-256color", "LANG": "en_US.UTF-8"}, False),
        ("auto", {"TERM": "linux", "LANG": "en_US.UTF-8"}, True),
        ("auto", {"TERM": "vt100", "LANG": "C.UTF-8"}, True),
        ("auto", {"TERM": "vt220"}, True),
        ("auto", {"TERM": "xterm", "LANG": "C"}, True),
        ("auto", {"TERM": "xterm"}, True),  # no locale at all: POSIX, not UTF-8
        ("auto", {"TERM": "xterm", "LANG": "C", "LC_ALL": "en_GB.utf8"}, False),
        ("auto", {"TERM": "xterm", "LANG": "C", "LC_CTYPE": "C.UTF-8"}, True),  # Python's own
        ("auto", {"TERM": "xterm", "LC_CTYPE": "C.utf8"}, True),
        ("auto", {"TERM": "xterm", "LANG": "en_US.UTF-8", "LC_CTYPE": "C.UTF-8"}, False),
        ("auto", {"TERM": "xterm", "LC_CTYPE": "de_DE.ISO-8859-1", "LANG": "de_DE.UTF-8"}, True),
        ("unicode", {"TERM": "vt100"}, False),
        ("ascii", {"TERM": "xterm-256color", "LANG": "C.UTF-8"}, True),
    ],
)
def test_when_ascii_is_used(setting, environ, ascii):
    assert wanted(setting, environ) is ascii


@pytest.mark.parametrize(
    ("locale", "ascii"),
    [
        ({"LANG": "C"}, True),
        ({"LANG": "POSIX"}, True),
        ({}, True),
        ({"LC_ALL": "C"}, True),
        ({"LANG": "en_US.UTF-8"}, False),
        ({"LANG": "C.UTF-8"}, False),
    ],
)
def test_auto_reads_the_locale_the_terminal_gave_not_the_one_python_coerced(locale, ascii):
    """Python turns a C locale into C.UTF-8 in its own environment as it starts (PEP 538),
    so only a fresh interpreter shows what `auto` makes of the terminal's."""
    root = Path(__file__).resolve().parent.parent
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(root), "TERM": "xterm-256color", **locale}
    code = "from calltui.glyphs import wanted; print(wanted('auto'))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(ascii)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("╭──┤ a ├──╮", "+--+ a +--+"),
        ("▁▂▃▄▅▆▇█", "_.,-=+*#"),
        ("● demo ✖ fail ⚠ 3 → 4 … ·", "* demo x fail ! 3 > 4 ~ ."),
        ("TIME▼ São Paulo Zürich", "TIMEv Sao Paulo Zurich"),
        ("plain ascii stays", "plain ascii stays"),
    ],
)
def test_what_each_glyph_becomes(text, expected):
    assert to_ascii(text) == expected


@pytest.mark.parametrize("text", ["東京 call", "e\u0301t\u00e9", "a\u200bb", "🔥 fire", "Ω≈µ"])
def test_every_character_becomes_ascii_of_the_same_width(text):
    out = to_ascii(text)
    assert out.isascii() and cell_len(out) == cell_len(text)
