"""The one column spec (calltui.columns) and the surfaces made from it: `calls --format table`
and `--format csv`, the TUI's call table (held rows and placeholders) and the store's sorts."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from itertools import product
from typing import Any

import pytest
from rich.cells import cell_len, split_text
from textual.app import App, ComposeResult

from calltui import export, render
from calltui.columns import CLI_TABLE, COLUMNS, CSV_FIELDS, TUI_TABLE, Column
from calltui.model import RECORD_KEYS, Call, Outcome
from calltui.sim.demo import demo_settings
from calltui.store import EVICTED, HELD, CallStore, Sort
from calltui.text import fit
from calltui.tui.widgets.call_table import COLUMNS as TABLE_COLUMNS
from calltui.tui.widgets.call_table import CallTable
from tests.conftest import run_cli
from tests.test_store import made_up
from tests.tui.harness import make_app, screen_text, settle

UTC = timezone.utc


def cells(line: str, widths: list[int], gap: int) -> list[str]:
    """`line` cut into cells of `widths`, `gap` cells apart."""
    out = []
    for w in widths:
        cell, line = split_text(line, w)
        out.append(cell)
        _, line = split_text(line, gap)
    return out


def test_every_column_is_defined_once_and_each_surface_picks_from_them():
    assert all(key == c.key for key, c in COLUMNS.items())
    for surface in (CLI_TABLE, TUI_TABLE):
        assert all(COLUMNS[c.key] is c for c in surface)
        assert len({c.key for c in surface}) == len(surface)
    assert tuple(k for k in RECORD_KEYS if k != "raw") == CSV_FIELDS


T0 = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
EVERY_FIELD = Call(
    "plivo", "edge", "c-1", T0, Outcome.FAILED, {}, parent_id="p-1", sip_call_id="s-1",
    from_="+4420", to="+4930", direction="inbound", answered_at=T0, ended_at=T0,
    duration_s=61, billed_s=60, sip_code=503, cause="unavailable", cause_code=34, mos=4.1,
    trunk="t-1",
)  # fmt: skip
"""A record with every field set: a cell made from a field shows it."""
BARE = Call("plivo", "edge", "c-1", None, Outcome.UNKNOWN, {})
"""And one with every optional field unset: a field shown only where others are missing is."""
OTHER = {
    "provider": "jambonz", "account": "core", "id": "c-2", "parent_id": "p-2",
    "sip_call_id": "s-2", "from": "+4421", "to": "+4931", "direction": "outbound",
    "started_at": T0 - timedelta(hours=1), "answered_at": T0 - timedelta(hours=1),
    "ended_at": T0 + timedelta(hours=1), "duration_s": 7, "billed_s": 6, "outcome": Outcome.BUSY,
    "sip_code": 486, "cause": "busy", "cause_code": 17, "mos": 2.2, "trunk": "t-2",
}  # fmt: skip
"""Another value of each CSV field."""


def test_every_column_names_the_record_keys_it_shows_and_each_is_a_csv_field():
    """CSV's fields are the record's keys by contract, not the tables' columns: whatever a
    table's cell shows, a CSV row holds too."""
    assert set(OTHER) == set(CSV_FIELDS)
    for c in COLUMNS.values():
        assert c.record and set(c.record) <= set(CSV_FIELDS), c.key
        for base, key, narrow in product((EVERY_FIELD, BARE), OTHER, (False, True)):
            other = replace(base, **{"from_" if key == "from" else key: OTHER[key]})
            shown = c.text(base, UTC, narrow), c.text(other, UTC, narrow)
            assert shown[0] == shown[1] or key in c.record, (c.key, key)


def test_the_code_column_gives_the_sip_status_and_a_reason_that_adds_to_it():
    def code(sip_code: int | None, cause: str | None, cause_code: int | None = None) -> str:
        call = Call(
            "tmedia", "a", "0x1", None, Outcome.FAILED, {},
            sip_code=sip_code, cause=cause, cause_code=cause_code,
        )  # fmt: skip
        return COLUMNS["code"].text(call, UTC, False)

    assert code(503, "503", 503) == "503"  # a Tmedia leg's numeric reason is its SIP status
    assert code(487, "NORMAL") == "487 NORMAL"
    assert code(None, "NOT_NORMAL") == "NOT_NORMAL"
    assert code(None, None, 17) == "17"
    assert code(None, None) == "-"


@pytest.mark.usefixtures("fixed_clock")
def test_the_cli_table_is_made_from_the_spec(capsys):
    code, out, _ = run_cli(capsys, "calls", "--demo", "--limit", "40", "--format", "json")
    assert code == 0
    code, table, _ = run_cli(capsys, "calls", "--demo", "--limit", "40", "--format", "table")
    assert code == 0
    header, *lines = table.splitlines()
    widths = [c.cli.width for c in CLI_TABLE]
    assert tuple((c.cli.title, c.cli.width) for c in CLI_TABLE) == render.TABLE_COLUMNS
    assert [h.strip() for h in cells(header, widths, 2)] == [c.cli.title for c in CLI_TABLE]
    assert len(lines) == 40
    calls = export_calls(out)
    zone = render.display_zone(demo_settings().display.timezone)
    for call, line in zip(calls, lines, strict=True):
        padded = line + " " * (sum(widths) + 2 * (len(widths) - 1) - cell_len(line))
        want = [fit(c.text(call, zone, False), c.cli.width) for c in CLI_TABLE]
        assert cells(padded, widths, 2) == want


def export_calls(doc: str) -> list[Call]:
    """Calls back from `--format json` (the fields the table shows)."""

    def t(v: Any) -> datetime | None:
        return None if v is None else datetime.fromisoformat(v)

    return [
        Call(
            provider=r["provider"],
            account=r["account"],
            id=r["id"],
            started_at=t(r["started_at"]),
            outcome=Outcome(r["outcome"]),
            raw={},
            from_=r["from"],
            to=r["to"],
            direction=r["direction"],
            duration_s=r["duration_s"],
            sip_code=r["sip_code"],
            cause=r["cause"],
            cause_code=r["cause_code"],
            mos=r["mos"],
            trunk=r["trunk"],
        )
        for r in json.loads(doc)
    ]


@pytest.mark.usefixtures("fixed_clock")
def test_the_csv_header_and_fields_are_the_spec_s(capsys):
    code, out, _ = run_cli(capsys, "calls", "--demo", "--limit", "5", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(CSV_FIELDS) == export.CSV_KEYS
    calls = made_up(3)
    rows = list(csv.reader(io.StringIO(export.csv_text(calls))))
    for call, row in zip(calls, rows[1:], strict=True):
        record = call.to_dict(with_raw=False)
        assert row == [export.csv_cell(record[k]) for k in CSV_FIELDS]


class TableApp(App[None]):
    def __init__(self, store: CallStore, **table: Any) -> None:
        super().__init__()
        self.store = store
        self.table = table

    def compose(self) -> ComposeResult:
        yield CallTable(self.store, UTC, **self.table)

    def on_mount(self) -> None:
        self.query_one(CallTable).set_view(self.store.view(), "end of results")


def tui_cells(table: CallTable, y: int) -> dict[str, str]:
    line = table.render_line(y).text
    widths = [w for _, _, w in table.columns]
    _, line = split_text(line, 1)  # the mark's cell
    return dict(zip([k for k, _, _ in table.columns], cells(line, widths, 1), strict=True))


async def test_the_tui_table_is_made_from_the_spec():
    calls = [c for c in made_up(400, page_size=20) if c.started_at is not None]
    calls.sort(key=lambda c: c.started_at, reverse=True)  # type: ignore[arg-type, return-value]
    store = CallStore(max_records=300)
    store.extend(calls)
    assert tuple((c.key, c.tui.title, c.tui.width) for c in TUI_TABLE) == TABLE_COLUMNS
    app = TableApp(store)
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(CallTable)
        assert [k for k, _, _ in table.columns] == [c.key for c in TUI_TABLE]
        widths = {k: w for k, _, w in table.columns}
        header = cells(table.render_line(0).text[1:], list(widths.values()), 1)
        assert [h.rstrip("▼ ") for h in header] == [c.tui.title for c in TUI_TABLE]
        held = next(i for i in range(20) if store.state[table.view[i]] == HELD)
        brief = store.brief(table.view[held])
        for key, text in tui_cells(table, held + 1).items():
            assert text == fit(COLUMNS[key].text(brief, UTC, True), widths[key]), key
        table.scroll_to(y=len(table.view) - 20, animate=False)
        await pilot.pause()
        top = int(table.scroll_y)
        at = next(i for i in range(top, top + 20) if store.state[table.view[i]] == EVICTED)
        placeholder = tui_cells(table, at - top + 1)
        brief = store.brief(table.view[at])
        lacking = [(w, k) for k, _, w in table.columns if not COLUMNS[k].skeleton]
        last = max(lacking)[1]  # the widest column a placeholder has no data for says why
        for c in TUI_TABLE:
            if c.skeleton:
                assert placeholder[c.key] == fit(c.text(brief, UTC, True), widths[c.key]), c.key
            elif c.key == last:
                assert placeholder[c.key].startswith("fetching again"), c.key
            else:
                assert placeholder[c.key].rstrip() == "…", c.key


def by_spec(column: Column, c: Call) -> Any:
    """`column`'s sort key of a Call, read as its SortKey says."""
    assert column.sort is not None
    for name in column.sort.fields:
        value = getattr(c, name)
        if isinstance(value, datetime):
            return value.timestamp()
        if value is not None:
            return value.value if isinstance(value, Outcome) else value
    return column.sort.missing


@pytest.mark.parametrize("column", [c for c in COLUMNS.values() if c.sort], ids=lambda c: c.key)
def test_each_sortable_column_sorts_the_store_by_its_sort_key(column):
    calls = made_up(2000)
    store = CallStore()
    store.extend(calls)
    for descending in (True, False):
        keys = [by_spec(column, calls[r]) for r in store.view(Sort(column.key, descending))]
        assert keys == sorted(keys, reverse=descending)


def test_the_tui_sorts_by_its_columns_and_the_rest_do_not_sort():
    assert all(c.sort is not None for c in TUI_TABLE)
    store = CallStore()
    store.extend(made_up(10))
    for c in COLUMNS.values():
        if c.sort is None:
            with pytest.raises(ValueError, match=c.key):
                store.view(Sort(c.key))


async def test_columns_use_the_width_follow_the_config_and_toggle():
    calls = [c for c in made_up(60, page_size=20) if c.started_at is not None]
    store = CallStore(max_records=300)
    store.extend(calls)
    long_name = "sbc-frankfurt-primary-2"
    app = TableApp(store, columns=["started", "account", "to", "trunk", "outcome", "code"],
                   account_width=len(long_name))  # fmt: skip
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(CallTable)
        widths = {k: w for k, _, w in table.columns}
        assert list(widths) == ["started", "account", "to", "trunk", "outcome", "code"]
        assert widths["account"] == len(long_name)  # room left over: no account name is cut
        assert table.width_total <= table.content_region.width  # nothing under the scrollbar
        assert table.toggle_column("trunk") and "trunk" not in table.shown
        assert table.toggle_column("mos") and table.shown[-1] == "mos"
        await pilot.pause()
        assert [k for k, _, _ in table.columns] == [
            "started",
            "account",
            "to",
            "outcome",
            "code",
            "mos",
        ]
        for key in list(table.shown)[:-1]:
            table.toggle_column(key)
        assert table.shown == ("mos",) and not table.toggle_column("mos")


async def test_at_200_columns_trunk_is_as_wide_as_its_longest_name_loaded():
    app = make_app([])
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        store = app.session.store
        names = {store.brief(r).trunk or "-" for r in table.view}
        widths = {k: w for k, _, w in table.columns}
        assert widths["trunk"] == max(map(cell_len, names)) > COLUMNS["trunk"].tui.width
        for y in range(1, table.size.height - 1):
            name = store.brief(table.view[y - 1]).trunk or "-"
            assert tui_cells(table, y)["trunk"].rstrip() == name
        assert widths["code"] > len("SIP/CAUSE")  # the rest still goes to the last column


async def test_a_longer_trunk_loaded_later_widens_trunk_and_a_new_query_measures_afresh():
    calls = [c for c in made_up(40) if c.started_at is not None]
    store = CallStore()
    store.extend(calls)
    app = TableApp(store, columns=["started", "trunk", "outcome", "code"])
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(CallTable)
        trunk = COLUMNS["trunk"].tui.width
        assert table.columns[1] == ("trunk", "TRUNK", trunk)  # no name is longer
        long_name = "NAP_CARRIER_FRANKFURT_PRIMARY"
        table.append_rows(store.extend([replace(calls[0], id="later", trunk=long_name)]), "")
        await pilot.pause()
        assert table.columns[1] == ("trunk", "TRUNK", len(long_name))
        store.clear()
        store.extend(calls[:3])
        table.set_view(store.view(), "end of results", reset=True)
        await pilot.pause()
        assert table.columns[1] == ("trunk", "TRUNK", trunk)


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_every_title_shown_is_whole_even_at_80_and_100_columns(size):
    app = make_app([])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.query_one(CallTable)
        header = next(line for line in screen_text(app).splitlines() if "TIME" in line)
        assert all(title in header for _, title, _ in table.columns), header
        assert table.width_total - 1 <= table.scrollable_content_region.width
