"""Optional fields are read leniently by every adapter: odd types give None, never an error."""

from __future__ import annotations

import pytest

from calltui.providers.coerce import integer, number, text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "abc"),
        (42, "42"),
        (200.0, "200"),
        (1.5, "1.5"),
        ("", None),
        (" ", None),
        ("null", None),
        ("NULL", None),
        (None, None),
        (True, None),
        ({"a": 1}, None),
    ],
)
def test_text(value, expected):
    assert text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, 7),
        (7.9, 7),
        ("12", 12),
        ("12.0", 12),
        (" 3 ", 3),
        ("9007199254740993", 9007199254740993),
        (float("nan"), None),
        (float("inf"), None),
        ("inf", None),
        ("x", None),
        (False, None),
        ([], None),
    ],
)
def test_integer(value, expected):
    assert integer(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4.2, 4.2),
        (4, 4.0),
        ("4.25", 4.25),
        (float("nan"), None),
        ("-inf", None),
        ("x", None),
        (True, None),
    ],
)
def test_number(value, expected):
    assert number(value) == expected
