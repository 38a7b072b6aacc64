"""Optional fields are read leniently by every adapter: odd types give None, never an error."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from calltui.providers.coerce import epoch, integer, iso_time, number, seconds, text


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


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), ("61", 61), (2_678_400, 2_678_400), (-1, None), (-99_999_999, None), (10**12, None)],
)
def test_a_duration_is_between_0_and_31_days(value, expected):
    assert seconds(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T13:58:31Z", datetime(2026, 11, 20, 13, 58, 31, tzinfo=timezone.utc)),
        ("2099-12-31T23:59:59Z", datetime(2099, 12, 31, 23, 59, 59, tzinfo=timezone.utc)),
        ("2100-01-01T00:00:00Z", None),
        ("9999-12-31T23:59:59Z", None),
        ("9999-12-31 23:59:59", None),
        ("1970-01-01T00:00:00Z", None),
    ],
)
def test_a_call_is_dated_between_1972_and_2099(value, expected):
    assert iso_time(value) == expected


def test_epoch_numbers_are_dated_the_same_way():
    assert epoch(1_763_647_111) == datetime(2025, 11, 20, 13, 58, 31, tzinfo=timezone.utc)
    assert epoch(1_763_647_111_000) == epoch(1_763_647_111)
    assert epoch(253_402_300_799_000) is None  # 9999-12-31 in milliseconds
    assert epoch(0) is None and epoch(float("nan")) is None and epoch(1e300) is None
