"""Filters: relative and ISO times, outcomes, --failed, durations; bad input names the field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from calltui.filters import FilterError, build_query
from calltui.model import FAILED_OUTCOMES, Call, Outcome

NOW = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)


def call(**kw) -> Call:
    base = dict(
        provider="plivo",
        account="a",
        id="c1",
        started_at=NOW - timedelta(minutes=5),
        outcome=Outcome.ANSWERED,
        raw={},
        from_="+14155550100",
        to="+442071234567",
        direction="inbound",
        duration_s=30,
    )
    base.update(kw)
    return Call(**base)  # type: ignore[arg-type]


def test_relative_and_iso_times():
    q = build_query(since="15m", until="2026-11-20T13:55:00", now=NOW)
    assert q.since == NOW - timedelta(minutes=15)
    assert q.until == datetime(2026, 11, 20, 13, 55, tzinfo=timezone.utc)
    assert build_query(since=None, now=NOW).since == NOW - timedelta(hours=24)
    assert build_query(since="2d", now=NOW).since == NOW - timedelta(days=2)


def test_window_holds_calls_by_start_time():
    q = build_query(since="10m", until="1m", now=NOW)
    assert q.matches(call())
    assert not q.matches(call(started_at=NOW - timedelta(minutes=11)))
    assert not q.matches(call(started_at=None))


def test_numbers_match_by_prefix_with_plus_ignored_on_both_sides():
    assert build_query(since="1h", from_="1415", now=NOW).matches(call())
    assert build_query(since="1h", from_="+1415", now=NOW).matches(call(from_="14155550100"))
    assert not build_query(since="1h", to="+1", now=NOW).matches(call())


def test_failed_means_every_outcome_but_answered_and_in_progress():
    q = build_query(since="1h", failed=True, now=NOW)
    assert q.outcomes == FAILED_OUTCOMES
    assert not q.matches(call()) and q.matches(call(outcome=Outcome.BUSY))
    assert build_query(since="1h", outcomes=["no-answer"], now=NOW).outcomes == {Outcome.NO_ANSWER}


def test_duration_direction_and_text():
    q = build_query(
        since="1h", min_duration="10", max_duration=60, direction="inbound", text="C1", now=NOW
    )
    assert q.matches(call())
    assert not q.matches(call(duration_s=5))
    assert not q.matches(call(direction="outbound"))
    assert not q.matches(call(id="zz"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "1h", "until": "2h"}, "until"),
        ({"since": "1h", "outcomes": ["exploded"]}, "outcome"),
        ({"since": "1h", "min_duration": "ten"}, "min_duration"),
        ({"since": "1h", "min_duration": "9", "max_duration": "3"}, "max_duration"),
        ({"since": "1h", "direction": "sideways"}, "direction"),
        ({"since": "1h", "failed": True, "outcomes": ["answered"]}, "failed"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(FilterError) as e:
        build_query(now=NOW, **kwargs)
    assert e.value.field == field
    assert str(e.value).startswith(field + ":")
