"""Filters: relative and ISO times, outcomes, --failed, durations; bad input names the field; and
the one spec (FILTER_FIELDS) that the CLI's flags, build_query and the TUI's form are made from:
the same values give the same query by either road."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Checkbox, Input, Select

from calltui import filters
from calltui.cli import build_parser
from calltui.cli_source import query_from
from calltui.filters import FILTER_FIELDS, Draft, FilterError, FilterField, Kind, build_query
from calltui.model import FAILED_OUTCOMES, Call, CallQuery, Outcome
from calltui.tui.screens.filters import FilterScreen
from tests.conftest import FIXED_NOW

NOW = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)
NAMES = [f.name for f in FILTER_FIELDS]


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


def query(**values: Any) -> CallQuery:
    return build_query(values, now=NOW)


def test_relative_and_iso_times():
    q = query(since="15m", until="2026-11-20T13:55:00")
    assert q.since == NOW - timedelta(minutes=15)
    assert q.until == datetime(2026, 11, 20, 13, 55, tzinfo=timezone.utc)
    assert query(since=None).since == NOW - timedelta(hours=24)
    assert query().since == NOW - timedelta(hours=24)
    assert query(since="2d").since == NOW - timedelta(days=2)
    assert build_query({}, default_since=timedelta(hours=1), now=NOW).since == NOW - timedelta(
        hours=1
    )


def test_window_holds_calls_by_start_time():
    q = query(since="10m", until="1m")
    assert q.matches(call())
    assert not q.matches(call(started_at=NOW - timedelta(minutes=11)))
    assert not q.matches(call(started_at=None))


def test_numbers_match_by_prefix_with_plus_ignored_on_both_sides():
    assert query(since="1h", **{"from": "1415"}).matches(call())
    assert query(since="1h", **{"from": "+1415"}).matches(call(from_="14155550100"))
    assert not query(since="1h", to="+1").matches(call())


def test_failed_means_every_outcome_but_answered_and_in_progress():
    q = query(since="1h", failed=True)
    assert q.outcomes == FAILED_OUTCOMES
    assert not q.matches(call()) and q.matches(call(outcome=Outcome.BUSY))
    assert query(since="1h", outcome=["no-answer"]).outcomes == {Outcome.NO_ANSWER}
    assert query(since="1h", outcome=["busy", "answered"], failed=True).outcomes == {Outcome.BUSY}


def test_duration_direction_and_text():
    q = query(since="1h", min_duration="10", max_duration=60, direction="inbound", text=" C1 ")
    assert (q.min_duration, q.max_duration, q.direction, q.text) == (10, 60, "inbound", "C1")
    assert q.matches(call())
    assert not q.matches(call(duration_s=5))
    assert not q.matches(call(direction="outbound"))
    assert not q.matches(call(id="zz"))


def test_blank_values_are_not_given():
    blank = query(since="1h", **{n: "" for n in NAMES if n not in ("since", "outcome", "failed")})
    assert blank == CallQuery(since=NOW - timedelta(hours=1))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "1h", "until": "2h"}, "until"),
        ({"since": "1h", "outcome": ["exploded"]}, "outcome"),
        ({"since": "1h", "min_duration": "ten"}, "min_duration"),
        ({"since": "1h", "max_duration": "-1"}, "max_duration"),
        ({"since": "1h", "min_duration": "9", "max_duration": "3"}, "max_duration"),
        ({"since": "1h", "direction": "sideways"}, "direction"),
        ({"since": "1h", "failed": True, "outcome": ["answered"]}, "failed"),
    ],
)
def test_bad_input_names_the_field(values, field):
    with pytest.raises(FilterError) as e:
        build_query(values, now=NOW)
    assert e.value.field == field and field in NAMES
    assert str(e.value).startswith(field + ":")


def test_an_unknown_filter_name_is_a_programming_error():
    with pytest.raises(TypeError, match="min"):
        build_query({"min": "3"}, now=NOW)


# --- the spec and its surfaces --------------------------------------------------------------
def test_every_field_has_a_flag_in_every_command_that_takes_filters():
    for sub in (None, "calls", "stats"):
        parser = build_parser(sub)
        by_flag = {s: a for a in parser._actions for s in a.option_strings}
        for f in FILTER_FIELDS:
            assert f.flags, f.name
            for flag in f.flags:
                assert by_flag[flag].dest == f.name, (sub, flag)
                assert by_flag[flag].help == f.help
        group = next(g for g in parser._action_groups if g.title == "filters")
        assert [a.dest for a in group._group_actions] == NAMES


class FormApp(App[None]):
    def __init__(self, query: CallQuery) -> None:
        super().__init__()
        self.start = query
        self.result: CallQuery | None = None

    def on_mount(self) -> None:
        self.push_screen(FilterScreen(self.start, timezone.utc, FIXED_NOW), self.done)

    def done(self, query: CallQuery | None) -> None:
        self.result = query


def fill(screen: FilterScreen, values: dict[str, Any]) -> None:
    """Type `values` into the form, each into its field's widget."""
    for f in FILTER_FIELDS:
        value = values.get(f.name)
        if f.kind is Kind.TEXT:
            screen.query_one(f"#{f.name}", Input).value = value or ""
        elif f.kind is Kind.SWITCH:
            screen.query_one(f"#{f.name}", Checkbox).value = bool(value)
        else:
            picked = value[0] if isinstance(value, list) and value else value
            screen.query_one(f"#{f.name}", Select).value = picked or Select.NULL


async def apply_form(
    values: dict[str, Any] | None, start: CallQuery | None = None
) -> CallQuery | None:
    """The query the form applies, with `values` typed over every field (None: as it opened)."""
    app = FormApp(start or CallQuery(since=FIXED_NOW - timedelta(minutes=5)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FilterScreen)
        ids = {w.id for w in screen.query("Input, Select, Checkbox")}
        assert ids == set(NAMES), "one form field per spec field"
        if values is not None:
            fill(screen, values)
        await pilot.press("ctrl+s")
        await pilot.pause()
    return app.result


def cli_query(argv: list[str], default_since: timedelta) -> CallQuery:
    args = build_parser("calls").parse_args(["--demo", *argv])
    return query_from(args, default_since)


# Filters by the CLI's argv and by the form's values: every one of them at least once.
ROADS = [
    (
        [
            "--since", "3h", "--until", "2026-11-20T13:50:00+00:00", "--from", "+1415",
            "--to", "44", "--direction", "outbound", "--outcome", "busy", "--min-duration", "5",
            "--max-duration", "600", "--text", "abc",
        ],
        {
            "since": "3h", "until": "2026-11-20T13:50:00+00:00", "from": "+1415", "to": "44",
            "direction": "outbound", "outcome": ["busy"], "min_duration": "5",
            "max_duration": "600", "text": "abc",
        },
    ),
    (["--since", "15m", "--failed"], {"since": "15m", "failed": True}),
    (["--since", "2d", "--outcome", "no-answer"], {"since": "2d", "outcome": ["no_answer"]}),
    (
        ["--since", "1h", "--query", "sip:5xx -trunk:NAP_X"],
        {"since": "1h", "query": "sip:5xx -trunk:NAP_X"},
    ),
]  # fmt: skip


def test_the_roads_take_every_filter():
    assert set().union(*(values for _, values in ROADS)) == set(NAMES)


@pytest.mark.usefixtures("fixed_clock")
@pytest.mark.parametrize(("argv", "values"), ROADS)
async def test_flags_and_form_values_build_the_same_query(argv, values):
    by_cli = cli_query(argv, timedelta(hours=24))
    assert set(values) <= set(NAMES)
    assert build_query(values, now=FIXED_NOW) == by_cli
    assert await apply_form(values) == by_cli


@pytest.mark.usefixtures("fixed_clock")
async def test_an_empty_form_is_the_tui_s_default_window():
    assert await apply_form({}) == cli_query([], timedelta(hours=1))


@pytest.mark.usefixtures("fixed_clock")
async def test_the_form_shows_a_query_as_it_applies_it():
    for _, values in ROADS:
        q = build_query(values, now=FIXED_NOW)
        assert await apply_form(None, start=q) == q


def _read_search(value: Any, d: Draft) -> None:
    if value:
        d.query["text"] = value


@pytest.mark.usefixtures("fixed_clock")
@pytest.mark.parametrize("flag", [True, False], ids=["filter", "query-language field"])
async def test_a_new_filter_is_one_entry_on_every_surface(monkeypatch, flag):
    """A filter added to the spec (a trunk filter later) is a flag, a form field and a
    query field at once; one without a flag or label (a field of the query language alone)
    is read by build_query and left off the CLI and the form."""
    search = FilterField(
        "search",
        ("--search",) if flag else (),
        Kind.TEXT,
        _read_search,
        lambda q: q.text,
        label="search" if flag else None,
    )
    monkeypatch.setattr(filters, "FILTER_FIELDS", (*FILTER_FIELDS, search))
    assert build_query({"search": "abc"}, now=FIXED_NOW).text == "abc"
    parser = build_parser("calls")
    flags = {s for a in parser._actions for s in a.option_strings}
    assert ("--search" in flags) is flag
    argv = ["--search", "abc"] if flag else []
    assert (cli_query(argv, timedelta(hours=1)).text == "abc") is flag
    app = FormApp(CallQuery(since=FIXED_NOW - timedelta(hours=1)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert bool(app.screen.query("#search")) is flag
