"""Views you can hand over: one `calltui://view?...` string that says which accounts,
which calls (every filter written in the query language), which window, sort and call; read back
to the same view, a bad part named; `calls` and `stats --view` list what it shows, the flags
beside it override its parts, and `[views.NAME]` keeps one under a name."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from calltui.filters import as_terms, build_query
from calltui.viewspec import ViewSpec, ViewSpecError, iso, parse
from tests.analysis.records import sim_calls
from tests.conftest import FIXED_NOW, run_cli


def test_a_spec_reads_back_to_the_same_view():
    spec = ViewSpec(
        accounts=("demo-plivo", "sbc moscow"),
        q='trunk:"A B" sip:5xx -dir:in to:+44&20',
        since="2026-11-20T13:00:00Z",
        until="2026-11-20T14:00:00Z",
        sort="dur",
        descending=True,
        call=("demo-plivo", "a/b?c#d"),
    )
    text = str(spec)
    assert text.startswith("calltui://view?accounts=demo-plivo%2Csbc%20moscow&q=")
    assert " " not in text and "#" not in text.split("?", 1)[1]
    assert parse(text) == spec
    assert parse("calltui://view") == ViewSpec()
    # A server's id may hold a lone surrogate (JSON's "\\ud800"): written and read back whole.
    odd = ViewSpec(call=("demo-plivo", "a\ud800b"))
    assert parse(str(odd)) == odd
    assert parse("calltui://view?sort=time") == ViewSpec(sort="time")


@pytest.mark.parametrize(
    ("text", "part", "says"),
    [
        ("http://example.com/?q=x", "spec", "does not start with calltui://view"),
        ("calltui://view?colour=red", "colour", "unknown part"),
        ("calltui://view?q=a&q=b", "q", "given twice"),
        ("calltui://view?sort=sip", "sort", "unknown column 'sip'"),
        ("calltui://view?sort=time:up", "sort", "'up' is not asc or desc"),
        ("calltui://view?call=nocallid", "call", "is not ACCOUNT/ID"),
        ("calltui://view?q=%1b%5b2J", "q", "control character"),
    ],
)
def test_a_bad_part_is_named(text, part, says):
    with pytest.raises(ViewSpecError) as e:
        parse(text)
    assert e.value.part == part and says in str(e.value)


FILTERS = [
    {"failed": True},
    {"from": "+44", "direction": "outbound"},
    {"to": "+44", "outcome": ["busy", "no_answer"]},
    {"min_duration": "30", "max_duration": "120"},
    {"query": "sip:5xx -trunk:NAP_PEER_LON", "text": "44"},
    {"direction": "inbound", "query": "country:GB,DE"},
]


@pytest.fixture(scope="module")
def day() -> list:
    return asyncio.run(sim_calls(FIXED_NOW - timedelta(hours=3)))


@pytest.mark.parametrize("values", FILTERS)
def test_every_filter_written_as_terms_keeps_the_same_calls(values, day):
    since = FIXED_NOW - timedelta(hours=3)
    direct = build_query({**values, "since": since.isoformat()}, now=FIXED_NOW)
    written = build_query({"query": as_terms(direct), "since": since.isoformat()}, now=FIXED_NOW)
    kept = [c.id for c in day if direct.matches(c)]
    assert kept and kept == [c.id for c in day if written.matches(c)]


def ids(out: str) -> list[tuple[str, str]]:
    return [(d["account"], d["id"]) for d in map(json.loads, out.splitlines())]


def test_calls_view_lists_what_the_same_flags_list(capsys, fixed_clock):
    since, until = iso(FIXED_NOW - timedelta(hours=1)), iso(FIXED_NOW)
    spec = str(ViewSpec(("demo-plivo", "demo-jambonz"), "sip:503 to:+44", since, until))
    code, by_view, err = run_cli(
        capsys, "calls", "--demo", "--view", spec, "--all", "--format", "ndjson"
    )
    assert code == 0, err
    flags = ["--account", "demo-plivo", "--account", "demo-jambonz", "--since", since]
    flags += ["--until", until, "--query", "sip:503 to:+44", "--all", "--format", "ndjson"]
    code, by_flags, _ = run_cli(capsys, "calls", "--demo", *flags)
    assert code == 0 and by_view == by_flags and len(ids(by_view)) > 3


def test_flags_beside_a_view_override_its_parts_and_its_sort_holds(capsys, fixed_clock):
    spec = str(ViewSpec(("demo-plivo",), "sip:503", iso(FIXED_NOW - timedelta(hours=1)), sort="to"))
    code, out, _ = run_cli(
        capsys, "calls", "--demo", "--view", spec, "--account", "demo-jambonz",
        "--all", "--format", "ndjson",
    )  # fmt: skip
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and records and {r["account"] for r in records} == {"demo-jambonz"}
    assert all(r["sip_code"] == 503 for r in records)
    assert [r["to"] for r in records] == sorted(r["to"] for r in records)


def test_a_saved_view_by_name_and_a_bad_one(capsys, tmp_path, fixed_clock):
    spec = str(ViewSpec(("demo-plivo",), "outcome:failed", iso(FIXED_NOW - timedelta(hours=1))))
    config = tmp_path / "views.toml"
    config.write_text(f'[views.london]\nspec = "{spec}"\n')
    config.chmod(0o600)
    code, out, err = run_cli(
        capsys, "stats", "--demo", "--config", str(config), "--view", "london", "--format", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc["accounts"]) == ["demo-plivo"] and doc["merged"]["attempts"] > 0
    flags = ["--account", "demo-plivo", "--query", "outcome:failed"]
    flags += ["--since", iso(FIXED_NOW - timedelta(hours=1)), "--format", "json"]
    assert json.loads(run_cli(capsys, "stats", "--demo", *flags)[1]) == doc
    code, _, err = run_cli(capsys, "calls", "--demo", "--config", str(config), "--view", "paris")
    assert code == 2 and "no view named 'paris' (saved views: london)" in err
    config.write_text('[views.bad]\nspec = "calltui://view?sort=nope"\n')
    code, _, err = run_cli(capsys, "calls", "--demo", "--config", str(config))
    assert code == 2 and "views.bad.spec" in err and "unknown column 'nope'" in err
