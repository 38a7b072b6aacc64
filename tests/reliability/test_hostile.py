"""Hostile content stays inert: the corpus of calltui.sim.hostile through text.inert, served by
the simulator in every provider's wire format, and out of the CLI (`calls --format
table|csv|json|ndjson`, `show --format text|json`, `stats`).

What "safe" means for text meant for a terminal or a spreadsheet (table, text, CSV): no character
below U+0020 but the newline, no DEL or C1 control, no format character (bidi overrides and
isolates, zero-width characters), nothing that cannot be encoded as UTF-8 (a lone surrogate would
crash the write). CSV rows end in `\\n`, never `\\r\\n` (export.py). JSON is ASCII: every other
character of the data is escaped, and the data comes back intact when the JSON is read.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len, split_text
from rich.console import Console
from rich.text import Text

from calltui import cli, export, render
from calltui.model import Call, Outcome
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_accounts
from calltui.sim.hostile import BY_NAME, CORPUS, LONG_FIELD, Hostile
from calltui.sim.server import start
from calltui.text import ELLIPSIS, MAX_LINE, fit, inert, inert_block
from tests.conftest import FIXED_NOW, OpenDemo, run_cli

NAMES = [h.name for h in CORPUS]
MARKUP = [h for h in CORPUS if h.name.startswith(("markup_", "rich_"))]
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
WINDOW = ("--since", "2026-11-20T13:00:00Z", "--until", "2026-11-20T14:00:00Z")


def problems(text: str, newlines: bool = True) -> list[str]:
    """Why `text` is not safe to write to a terminal or a spreadsheet (empty: it is)."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\n" and newlines:
            continue
        cat = unicodedata.category(ch)
        if cat in UNSAFE_CATEGORIES:
            out.append(f"U+{ord(ch):04X} ({cat}) at {i}: {text[max(0, i - 20) : i + 20]!r}")
    return out


def expected_in(provider: str) -> list[Hostile]:
    """The corpus strings the hostile simulator serves for `provider` (calltui.sim.world): all,
    but that jambonz and Restcomm, which also write text outside JSON (a pcap, XML), get none
    that UTF-8 cannot hold, and jambonz none too long for a UDP datagram."""
    return [
        h
        for h in CORPUS
        if (h.text_safe or provider not in ("jambonz", "restcomm"))
        and not (h.bulky and provider == "jambonz")
    ]


def hostile_sim(**kw: Any) -> SimApp:
    """The simulator with `--faults hostile`: the corpus in every call."""
    return SimApp(seed=1, now=FIXED_NOW, faults="hostile", **kw)


# --- text.inert ------------------------------------------------------------------------------


@pytest.mark.parametrize("h", CORPUS, ids=NAMES)
def test_inert_makes_every_corpus_string_one_safe_line(h: Hostile) -> None:
    for max_len in (None, 1, 2, 13, 40, 300):
        s = inert(h.value, max_len)
        assert not problems(s, newlines=False), problems(s)
        assert "\x1b" not in s
        if max_len is not None:
            assert cell_len(s) <= max_len


@pytest.mark.parametrize("h", CORPUS, ids=NAMES)
def test_fit_is_exactly_the_cell_width(h: Hostile) -> None:
    for width in (1, 2, 3, 7, 13, 16, 36):
        s = fit(h.value, width)
        assert cell_len(s) == width, (width, s)
        assert not problems(s, newlines=False)


@pytest.mark.parametrize("h", CORPUS, ids=NAMES)
def test_inert_block_keeps_only_its_line_breaks(h: Hostile) -> None:
    block = inert_block(h.value)
    assert not problems(block)
    assert all(cell_len(line) <= MAX_LINE for line in block.split("\n"))


@pytest.mark.parametrize("h", MARKUP, ids=[h.name for h in MARKUP])
def test_markup_shows_as_typed(h: Hostile) -> None:
    """Markup is inert when it goes into a Text as plain text: what prints is what was sent."""
    assert inert(h.value) == h.value
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    console.print(Text(inert(h.value)))
    assert console.export_text().rstrip("\n") == h.value


def test_every_control_format_and_surrogate_code_point_is_neutralized() -> None:
    """The list in text.py against this Python's Unicode database."""
    for cp in range(0x110000):
        ch = chr(cp)
        if unicodedata.category(ch) not in UNSAFE_CATEGORIES:
            continue
        # é cannot end an escape sequence: only the character itself may go.
        assert inert(f"a{ch}é") in ("aé", "a é", "a\ufffdé"), f"U+{cp:04X}"
        assert inert_block(f"a{ch}é") in ("aé", "a\né", "a    é", "a\ufffdé"), f"U+{cp:04X}"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("ansi_clear", "cleared"),
        ("ansi_colour", "redhidden"),
        ("ansi_reset", "reset"),
        ("osc52_clipboard", "copied"),
        ("osc0_title", "title"),
        ("osc8_link", "innocent"),
        ("osc_unterminated", "2;no terminator"),
        ("c1_csi", "c1"),
        ("bidi_rlo", "gnp.exe"),
        ("zero_width", "abcdefg"),
        ("nul", "beforeafter"),
        ("lone_surrogate", "bad\ufffdhalf"),
    ],
)
def test_escape_sequences_go_whole_and_the_text_stays(name: str, shown: str) -> None:
    assert inert(BY_NAME[name].value) == shown


def test_a_100k_field_is_cut_in_a_cell_and_capped_in_a_block() -> None:
    value = BY_NAME["long_100k"].value
    assert len(value) == LONG_FIELD
    cell = inert(value, 20)
    assert cell_len(cell) == 20 and cell.endswith(ELLIPSIS)
    (line,) = inert_block(value).split("\n")
    assert cell_len(line) == MAX_LINE and line.endswith(ELLIPSIS)


def test_wide_characters_are_measured_in_cells() -> None:
    cjk = BY_NAME["wide_cjk"].value
    assert cell_len(fit(cjk, 13)) == 13
    assert fit(cjk, 13).startswith("电话号码測試")  # 12 cells of 2, then the ellipsis
    assert cell_len(fit("a", 13)) == 13


# --- CSV and JSON exports ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+1+1",
        "-1+1",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        " =1+1",
        '=HYPERLINK("https://evil.example","x")',
    ],
)
def test_csv_cells_that_would_start_a_formula_are_neutralized(value: str) -> None:
    cell = export.csv_cell(value)
    assert cell.startswith("'")
    assert not problems(cell, newlines=False)


@pytest.mark.parametrize("value", ["-5", "+14155550100", "3.25", "200", "abc", "a=b"])
def test_csv_cells_of_numbers_and_text_stay_as_sent(value: str) -> None:
    assert export.csv_cell(value) == value


def test_json_exports_have_no_nan_or_infinity() -> None:
    doc = {"mos": float("nan"), "raw": {"x": [float("inf"), -float("inf"), 1.5]}}
    out = export.json_text(doc)
    assert json.loads(out, parse_constant=_refuse) == {"mos": None, "raw": {"x": [None, None, 1.5]}}


def _refuse(token: str) -> None:
    raise AssertionError(f"{token} in JSON output")


# --- the simulator ---------------------------------------------------------------------------


def test_faults_hostile_puts_the_world_in_hostile_mode() -> None:
    assert SimApp(faults="hostile").world.hostile
    assert SimApp(faults="hostile@plivo=0.5,500=0.1").world.hostile
    assert not SimApp(faults="500").world.hostile
    assert not SimApp().world.hostile


@pytest.mark.parametrize("account", sorted(demo_accounts()))
async def test_every_provider_serves_the_corpus_in_its_wire_format(
    open_demo: OpenDemo, account: str
) -> None:
    """Each adapter, over real HTTP, reads every corpus string its simulator serves out of the
    provider's own fields (numbers, Call-IDs), exactly as sent (a Tmedia or jambonz number
    without its leading `+`, as those APIs write numbers)."""
    from calltui.model import CallQuery

    p = await open_demo(account, app=hostile_sim(), rate_limit=100)
    seen: list[str] = []
    async for page in p.pages(CallQuery(since=FIXED_NOW - timedelta(hours=1))):
        seen += [v for c in page.records for v in (c.from_, c.to, c.sip_call_id) if v]
    for h in expected_in(p.name):
        assert any(v.lstrip("+").startswith(h.value.lstrip("+")) for v in seen), h.name


async def test_tmedia_call_flow_and_restcomm_notifications_carry_the_corpus(
    open_demo: OpenDemo,
) -> None:
    """The SIP reason reaches Tmedia's call-flow tooltips; the number Restcomm's notifications."""
    from calltui.model import CallQuery

    sim = hostile_sim()
    for account, text_of in (
        ("demo-tmedia", lambda d: [str((e.data or {}).get("tooltip")) for e in d.events]),
        ("demo-restcomm", lambda d: [str(n.get("message_text")) for n in d.notifications]),
    ):
        p = await open_demo(account, app=sim, rate_limit=100)
        failed: list[Call] = []
        async for page in p.pages(CallQuery(since=FIXED_NOW - timedelta(hours=1))):
            failed += [c for c in page.records if c.outcome is Outcome.FAILED]
        texts = [t for c in failed[:12] for t in text_of(await p.detail(c.id))]
        assert any(h.value in t for t in texts for h in CORPUS if len(h.value) > 8), account


# --- the CLI, against the hostile simulator on a socket -----------------------------------------


@contextmanager
def serving(app: SimApp) -> Iterator[str]:
    """`app` on a loopback port, served from a thread with its own event loop (the CLI runs
    its own), as `calltui simulate` serves it. Yields the base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(start(app), loop).result(10)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def write_config(path: Path, accounts: dict[str, dict[str, Any]], **display: str) -> Path:
    """A TOML config of `accounts` (values written as JSON, which TOML reads the same)."""
    lines = ["[display]", *(f"{k} = {json.dumps(v)}" for k, v in display.items())]
    for name, acc in accounts.items():
        lines += ["", f"[accounts.{name}]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in acc.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def hostile_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A config of the five demo accounts on the hostile simulator's socket."""
    with serving(hostile_sim(enforce_rate_limits=False)) as base:
        accounts = {name: {**acc, "rate_limit": 100} for name, acc in demo_accounts(base).items()}
        yield write_config(
            tmp_path_factory.mktemp("hostile") / "config.toml", accounts, timezone="UTC"
        )


@pytest.fixture(scope="module")
def records(hostile_config: Path) -> list[dict[str, Any]]:
    """Every record of the window, as `calls --format ndjson` prints them."""
    capture = io.StringIO()
    with pytest.raises(SystemExit), redirect_stdout(capture):
        cli.main(["calls", "--config", str(hostile_config), *WINDOW, "--all", "--format", "ndjson"])
    return [json.loads(line) for line in capture.getvalue().splitlines()]


def test_the_listing_holds_every_corpus_string(records: list[dict[str, Any]]) -> None:
    assert {r["provider"] for r in records} == set(cli_providers())
    for provider in cli_providers():
        values = [
            r[k] or ""
            for r in records
            if r["provider"] == provider
            for k in ("from", "to", "sip_call_id")
        ]
        for h in expected_in(provider):
            assert any(v.lstrip("+").startswith(h.value.lstrip("+")) for v in values), (
                provider,
                h.name,
            )


def cli_providers() -> list[str]:
    return [a["provider"] for a in demo_accounts().values()]


def test_calls_table_is_safe_and_aligned(
    capsys: pytest.CaptureFixture[str], hostile_config: Path
) -> None:
    code, out, err = run_cli(capsys, "calls", "--config", str(hostile_config), *WINDOW, "--all")
    assert code == 0, err
    assert not problems(out), problems(out)[:5]
    out.encode("utf-8")
    widths = [w for _, w in render.TABLE_COLUMNS]
    total = sum(widths) + 2 * (len(widths) - 1)
    lines = out.splitlines()
    assert len(lines) > 400
    for line in lines:
        assert cell_len(line) <= total, line
        rest = line + " " * (total - cell_len(line))
        for w in widths[:-1]:
            _, rest = split_text(rest, w)
            gap, rest = split_text(rest, 2)
            assert gap == "  ", f"misaligned: {line!r}"
    # Markup shows as typed, cut to the column.
    assert "[@click=app.qui" in out and "[bold red]PWNED" in out


def test_calls_csv_is_safe_one_row_a_line_and_formula_free(
    capsys: pytest.CaptureFixture[str], hostile_config: Path
) -> None:
    code, out, err = run_cli(
        capsys, "calls", "--config", str(hostile_config), *WINDOW, "--all", "--format", "csv"
    )
    assert code == 0, err
    assert "\r" not in out
    assert not problems(out)
    out.encode("utf-8")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == export.CSV_KEYS
    assert len(rows) == len(out.splitlines()) > 400
    for row in rows[1:]:
        assert len(row) == len(export.CSV_KEYS)
        for cell in row:
            if cell.lstrip()[:1] in ("=", "+", "-", "@"):
                assert _number(cell), cell
    froms = {row[export.CSV_KEYS.index("from")] for row in rows[1:]}
    assert any(f.startswith("'=HYPERLINK(") for f in froms)
    assert any(f.startswith("'@SUM(") for f in froms)


def _number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_calls_json_is_ascii_and_carries_the_data_intact(
    capsys: pytest.CaptureFixture[str], hostile_config: Path, fmt: str
) -> None:
    code, out, err = run_cli(
        capsys, "calls", "--config", str(hostile_config), *WINDOW, "--all", "--format", fmt
    )
    assert code == 0, err
    assert out.isascii() and not problems(out)
    if fmt == "json":
        docs = json.loads(out, parse_constant=_refuse)
    else:
        docs = [json.loads(line, parse_constant=_refuse) for line in out.splitlines()]
    froms = [d["from"] or "" for d in docs]
    for h in ("ansi_clear", "osc52_clipboard", "bidi_rlo", "nul", "lone_surrogate"):
        assert any(f.startswith(BY_NAME[h].value) for f in froms), h


def _pick(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(account, id) of calls whose drill-down shows hostile text: a failed Tmedia call (its
    call flow quotes the SIP reason), a failed Restcomm call (a notification quotes the number),
    a jambonz call without call_sid (its id is its hostile Call-ID), a Plivo and a Bandwidth
    call."""
    out = []
    for provider, want in (
        ("tmedia", lambda r: r["outcome"] == "failed"),
        ("restcomm", lambda r: r["outcome"] == "failed"),
        ("jambonz", lambda r: r["id"] == r["sip_call_id"]),
        ("plivo", lambda r: True),
        ("bandwidth", lambda r: True),
    ):
        r = next(r for r in records if r["provider"] == provider and want(r))
        out.append((r["account"], r["id"]))
    return out


def test_show_text_is_safe(
    capsys: pytest.CaptureFixture[str], hostile_config: Path, records: list[dict[str, Any]]
) -> None:
    for account, call_id in _pick(records):
        code, out, err = run_cli(
            capsys, "show", "--config", str(hostile_config), "--account", account, call_id,
            "--format", "text",
        )  # fmt: skip
        assert code == 0, (account, err)
        assert not problems(out), (account, problems(out)[:3])
        out.encode("utf-8")
        assert all(cell_len(line) <= MAX_LINE + 20 for line in out.splitlines())


def test_show_json_is_ascii_and_valid(
    capsys: pytest.CaptureFixture[str], hostile_config: Path, records: list[dict[str, Any]]
) -> None:
    for account, call_id in _pick(records):
        code, out, err = run_cli(
            capsys, "show", "--config", str(hostile_config), "--account", account, call_id
        )
        assert code == 0, (account, err)
        assert out.isascii() and not problems(out)
        doc = json.loads(out, parse_constant=_refuse)
        assert doc["call"]["id"] == call_id


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_stats_is_safe(capsys: pytest.CaptureFixture[str], hostile_config: Path, fmt: str) -> None:
    if "stats" not in cli.SUBCOMMANDS:
        pytest.skip("calltui stats does not exist in this build")
    code, out, err = run_cli(
        capsys, "stats", "--config", str(hostile_config), *WINDOW, "--format", fmt
    )
    assert code == 0, err
    assert not problems(out)
    out.encode("utf-8")
    if fmt == "json":
        json.loads(out, parse_constant=_refuse)
