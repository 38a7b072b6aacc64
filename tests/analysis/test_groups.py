"""Groups (`stats --by`): each number against a hand count on records built here, the nesting
adding up at every level, Tmedia legs counted once (but each on its trunk), the deltas against
the window before, the JSON of `stats --by` and the table; then the same over the simulator's
records listed over HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from calltui.analysis import groups, kpi
from calltui.analysis.groups import Group, GroupReport
from calltui.analysis.legs import calls_not_legs
from calltui.model import Call, Outcome
from tests.analysis import records
from tests.conftest import FIXED_NOW

T0 = records.T0
T1 = T0 + timedelta(hours=1)
A, B, F, N, P = (
    Outcome.ANSWERED,
    Outcome.BUSY,
    Outcome.FAILED,
    Outcome.NO_ANSWER,
    Outcome.IN_PROGRESS,
)


def call(n: int, outcome: Outcome, **fields: Any) -> Call:
    """A call a minute after T0 unless `at_s` says otherwise."""
    fields.setdefault("at_s", 60.0)
    return records.call(n, outcome, **fields)


def leg(
    n: int, uct: str, outgoing: bool, outcome: Outcome, trunk: str, code: int | None, **kw: Any
) -> Call:
    """A Tmedia leg: the two of one call share `uct_call_id`, each has its own SIP Call-ID;
    `code`, its numeric terminate reason, is its final SIP status."""
    raw = {"uct_call_id": uct, "call_id": f"cid-{n}@box", "nap": trunk}
    return call(
        n,
        outcome,
        account="t",
        provider="tmedia",
        raw=raw,
        trunk=trunk,
        direction="outbound" if outgoing else "inbound",
        sip_code=code,
        cause=str(code) if code else "NORMAL",
        cause_code=code,
        **kw,
    )


def sample() -> list[Call]:
    """Account a (jambonz): 4 attempts, 2 answered, a 503 and a 486, one call still up.
    Account b (restcomm, no codes): 3 attempts, 1 answered, a failure and a no-answer.
    Account t (Tmedia): 2 calls in 4 legs; call 0x1's incoming leg says 500 and its outgoing
    leg 486 (the outgoing leg is the call); call 0x2 answered on both legs."""
    return [
        call(1, A, talk=100, sip_code=200, trunk="T1", to="+442071234567"),
        call(2, A, talk=20, sip_code=200, trunk="T2", to="+14155550100"),
        call(3, F, sip_code=503, trunk="T1", to="+442079876543", raw={"pdd_ms": 1500}),
        call(4, B, sip_code=486, trunk="T2", to="+14155550111"),
        call(5, P, trunk="T1", to="+442070000000"),
        call(6, A, talk=60, account="b", provider="restcomm", to="+4930123456"),
        call(7, F, account="b", provider="restcomm"),
        call(8, N, account="b", provider="restcomm"),
        leg(9, "0x1", False, F, "NAP_IN", 500, to="442075550000"),
        leg(10, "0x1", True, B, "NAP_OUT", 486, to="442075550000"),
        leg(11, "0x2", False, A, "NAP_IN", None, talk=30, to="442075550001"),
        leg(12, "0x2", True, A, "NAP_OUT", None, talk=30, to="442075550001"),
    ]


def report(calls: list[Call], by: list[str], **kw: Any) -> GroupReport:
    return groups.group(calls, by, since=T0, until=T1, **kw)


def keys(gs: list[Group]) -> list[Any]:
    return [next(iter(g.key.values())) for g in gs]


def assert_adds_up(gs: list[Group], attempts: int) -> None:
    """At every level the groups' attempts add up to their parent's, and so do their shares."""
    assert sum(g.attempts for g in gs) == attempts
    if gs:
        assert sum(g.share or 0 for g in gs) == pytest.approx(100.0)
    for g in gs:
        assert g.failed == g.attempts - g.answered
        if g.groups:
            assert_adds_up(g.groups, g.attempts)


def test_each_number_of_a_group_against_the_hand_count():
    r = report(sample(), ["account"])
    assert r.attempts == 9 and keys(r.groups) == ["a", "b", "t"]  # failures 2, 2, 1
    a, b, t = r.groups
    assert (a.attempts, a.answered, a.failed) == (4, 2, 2)
    assert a.asr == pytest.approx(50.0)
    assert a.ner == pytest.approx(75.0)  # the 486 is the user's doing, the 503 is not
    assert a.acd_s == pytest.approx(60.0) and a.pdd_s == pytest.approx(1.5)
    assert a.share == pytest.approx(100 * 4 / 9)
    assert (b.attempts, b.answered, b.failed) == (3, 1, 2)
    assert b.asr == pytest.approx(100 / 3) and b.ner == pytest.approx(200 / 3)
    assert b.acd_s == pytest.approx(60.0) and b.pdd_s is None
    # Tmedia: 2 calls, not 4 legs; the failed one is its outgoing leg's busy.
    assert (t.attempts, t.answered, t.failed) == (2, 1, 1)
    assert t.ner == pytest.approx(100.0) and t.acd_s == pytest.approx(30.0)
    assert_adds_up(r.groups, 9)


def test_the_numbers_are_kpis_own():
    """A group's numbers are analysis.kpi's over its calls (calls, not legs)."""
    r = report(sample(), ["account"])
    for g in r.groups:
        mine = [c for c in calls_not_legs(sample()) if c.account == g.key["account"]]
        k = kpi.summarize(mine, since=T0, until=T1)[0]
        got = (g.attempts, g.answered, g.failed, g.asr, g.ner, g.acd_s, g.pdd_s)
        assert got == (k.attempts, k.answered, k.failed, k.asr, k.ner, k.acd_s, k.pdd_s)


def test_sip_groups_read_the_final_status_and_sort_by_failures_then_key():
    r = report(sample(), ["sip"])
    # 486: calls 4 and the Tmedia call (2 failed); None: restcomm's three and the answered
    # Tmedia call (2 failed); 503: 1; 200: none. Codes before the unknown on a tie.
    assert keys(r.groups) == [486, None, 503, 200]
    assert [(g.attempts, g.failed) for g in r.groups] == [(2, 2), (4, 2), (1, 1), (2, 0)]
    assert 500 not in keys(r.groups)  # the incoming leg's own status is not the call's
    assert_adds_up(r.groups, 9)


def test_a_grouping_by_trunk_counts_each_leg_on_its_own_trunk():
    r = report(sample(), ["trunk"])
    assert r.attempts == 11  # 7 calls of a and b, and 4 Tmedia legs
    assert keys(r.groups) == [None, "NAP_IN", "NAP_OUT", "T1", "T2"]
    by = {g.key["trunk"]: g for g in r.groups}
    assert (by["NAP_IN"].attempts, by["NAP_IN"].failed) == (2, 1)
    assert (by["NAP_OUT"].attempts, by["NAP_OUT"].failed) == (2, 1)
    assert (by["T1"].attempts, by["T1"].failed) == (2, 1)  # the call still up is no attempt
    assert_adds_up(r.groups, 11)
    # Nested under an account, the legs add up too.
    nested = report(sample(), ["account", "trunk"])
    assert_adds_up(nested.groups, 11)
    t = next(g for g in nested.groups if g.key == {"account": "t"})
    assert t.attempts == 4 and keys(t.groups) == ["NAP_IN", "NAP_OUT"]


def test_nested_groups_add_up_at_every_level():
    for by in (["account", "sip"], ["provider", "outcome", "cause"], ["cause", "account"]):
        r = report(sample(), by)
        assert r.by == by
        assert_adds_up(r.groups, 9)
    r = report(sample(), ["account", "outcome"])
    a = r.groups[0]
    assert keys(a.groups) == ["busy", "failed", "answered"]
    assert [g.share for g in a.groups] == [pytest.approx(25.0)] * 2 + [pytest.approx(50.0)]


def test_country_and_prefix_read_the_destination():
    r = report(sample(), ["country"])
    # Tmedia writes numbers without a `+`: 12 digits, read as E.164 without it.
    assert {g.key["country"]: g.attempts for g in r.groups} == {
        "GB": 4,
        "US": 2,
        "DE": 1,
        None: 2,
    }
    p = report(sample(), ["prefix:3"])
    assert {g.key["prefix:3"]: g.attempts for g in p.groups} == {
        "442": 4,
        "141": 2,
        "493": 1,
        None: 2,
    }


def test_deltas_are_none_without_the_window_before():
    r = report(sample(), ["account", "sip"])
    for g in [*r.groups, *(sub for top in r.groups for sub in top.groups)]:
        assert g.asr_delta is None and g.attempts_delta is None


def test_deltas_against_the_window_before():
    before = [
        call(21, A, talk=10, at_s=-600, sip_code=200),
        call(22, A, talk=10, at_s=-500, sip_code=200),
        leg(23, "0x9", False, F, "NAP_IN", 503, at_s=-400),
        leg(24, "0x9", True, F, "NAP_OUT", 503, at_s=-400),
    ]
    r = report(sample(), ["account"], previous=before)
    a, b, t = r.groups
    assert a.asr_delta == pytest.approx(50.0 - 100.0) and a.attempts_delta == 2
    # Not in the window before: every attempt is new, and there was no ASR to compare with.
    assert b.asr_delta is None and b.attempts_delta == 3
    assert t.asr_delta == pytest.approx(50.0) and t.attempts_delta == 1  # 1 call then, 2 now
    # An empty window before was loaded: zero attempts then.
    empty = report(sample(), ["account"], previous=[])
    assert [g.attempts_delta for g in empty.groups] == [4, 3, 2]
    assert all(g.asr_delta is None for g in empty.groups)


def test_the_json_is_the_documented_contract():
    r = report(sample(), ["account", "sip"])
    d = json.loads(json.dumps(r.to_dict()))
    assert list(d) == ["since", "until", "by", "groups"]
    assert d["since"] == "2026-11-20T10:00:00+00:00" and d["by"] == ["account", "sip"]
    first = d["groups"][0]
    assert list(first) == [
        "key",
        "attempts",
        "answered",
        "failed",
        "asr",
        "ner",
        "acd_s",
        "pdd_s",
        "share",
        "asr_delta",
        "attempts_delta",
        "groups",
    ]
    assert first["key"] == {"account": "a"}
    assert first["groups"][0]["key"] == {"sip": 486} and first["groups"][0]["groups"] == []


@pytest.mark.parametrize(
    ("by", "message"),
    [
        (["nap"], "unknown group field 'nap'"),
        (["prefix:0"], "bad group field 'prefix:0'"),
        (["prefix:x"], "bad group field 'prefix:x'"),
        (["sip", "SIP"], "group field 'SIP' given twice"),
        ([], "no group field given"),
    ],
)
def test_bad_fields_are_named(by: list[str], message: str):
    with pytest.raises(ValueError, match=message):
        groups.parse_by(by)


def test_fields_are_read_in_any_case():
    assert groups.parse_by([" Trunk", "PREFIX:04"]) == ["trunk", "prefix:4"]


def test_the_table_is_aligned_and_inert():
    calls = [*sample(), call(30, F, sip_code=502, trunk="evil\x1b]52;c;aGk=\x07\x1b[31mTRUNK")]
    text = groups.table(report(calls, ["trunk", "sip"]), timezone.utc)
    assert "\x1b" not in text and "\x07" not in text
    lines = text.splitlines()
    assert lines[0].startswith("calltui stats --by trunk,sip  2026-11-20 10:00:00 → ")
    assert lines[0].endswith("12 attempts")
    head = lines[2]
    assert head.startswith("GROUP (trunk › sip)") and head.endswith("ΔATTEMPTS")
    rows = lines[3:]
    # Every row is as wide as the header's columns; sub-groups are indented under theirs.
    assert {len(row) for row in rows} == {len(head)}
    assert rows[0].startswith("(none)") and rows[1].startswith("  (none) ")
    assert any(row.startswith("evilTRUNK ") for row in rows)
    t1 = next(row for row in rows if row.startswith("T1 "))
    assert t1.split()[1:6] == ["2", "16.7%", "1", "1", "50.0%"]


def test_an_empty_set_has_no_groups():
    r = report([], ["account"])
    assert r.groups == [] and r.attempts == 0
    assert groups.table(r, None).rstrip().endswith("(no attempts)")


# --- over the simulator's records ---------------------------------------------------------------


async def _listed(since: datetime, until: datetime) -> list[Call]:
    calls = await records.sim_calls(since)
    return [c for c in calls if c.started_at is not None and since <= c.started_at <= until]


@pytest.fixture(scope="module")
def sim_hours() -> tuple[list[Call], list[Call]]:
    """The simulator's calls of the hour before FIXED_NOW, and of the hour before that."""
    calls = asyncio.run(_listed(FIXED_NOW - timedelta(hours=2), FIXED_NOW))
    cut = FIXED_NOW - timedelta(hours=1)
    assert calls[0].started_at is not None
    return [c for c in calls if c.started_at and c.started_at >= cut], [
        c for c in calls if c.started_at and c.started_at < cut
    ]


def sim_report(calls: list[Call], by: list[str], **kw: Any) -> GroupReport:
    return groups.group(calls, by, since=FIXED_NOW - timedelta(hours=1), until=FIXED_NOW, **kw)


def test_over_the_simulator_groups_add_up_to_the_merged_attempts(sim_hours):
    now, before = sim_hours
    merged = kpi.summarize(calls_not_legs(now))[0]
    legs = sum(1 for c in now if c.outcome is not Outcome.IN_PROGRESS)
    assert merged.attempts < legs  # Tmedia's legs are there, and count once
    for by in (["account", "sip"], ["provider", "country", "prefix:4"], ["cause"]):
        r = sim_report(now, by, previous=before)
        assert r.attempts == merged.attempts
        assert_adds_up(r.groups, merged.attempts)
    for by in (["trunk"], ["account", "trunk", "sip"]):
        r = sim_report(now, by, previous=before)
        assert r.attempts == legs
        assert_adds_up(r.groups, legs)


def test_over_the_simulator_each_account_is_its_kpis_and_tmedia_counts_calls(sim_hours):
    now, before = sim_hours
    r = sim_report(now, ["account"], previous=before)
    assert {g.key["account"] for g in r.groups} == {c.account for c in now}
    for g in r.groups:
        mine = [c for c in calls_not_legs(now) if c.account == g.key["account"]]
        k = kpi.summarize(mine)[0]
        assert (g.attempts, g.answered, g.asr, g.ner, g.acd_s, g.pdd_s) == (
            k.attempts,
            k.answered,
            k.asr,
            k.ner,
            k.acd_s,
            k.pdd_s,
        )
        # The window before was loaded: every delta is known.
        assert g.attempts_delta is not None and g.asr_delta is not None
    tmedia = next(g for g in r.groups if g.key["account"] == "demo-tmedia")
    ended = [c for c in now if c.provider == "tmedia" and c.outcome is not Outcome.IN_PROGRESS]
    calls = {c.raw["uct_call_id"] for c in calls_not_legs(ended)}
    assert tmedia.attempts == len(calls) and 2 * len(calls) >= len(ended) > len(calls)
    # The failures of the group are the listed failures: sorted most first.
    assert [g.failed for g in r.groups] == sorted((g.failed for g in r.groups), reverse=True)
    assert json.loads(json.dumps(r.to_dict()))["groups"][0]["key"] == r.groups[0].key


def test_legs_pair_by_uct_call_id_else_by_their_leg_ids_within_one_account():
    def tm(leg_id: str, account: str, direction: str, **raw: str) -> Call:
        return Call("tmedia", account, leg_id, T0, F, raw, direction=direction)

    out_first = tm("0x11", "t", "outbound", other_leg_id="0x10")
    paired = [tm("0x10", "t", "inbound", other_leg_id="0x11"), out_first]
    # Another box reusing the same ids is another call; a leg without either id stands alone.
    other_box = tm("0x10", "u", "inbound", other_leg_id="0x11")
    alone = tm("0x20", "t", "inbound")
    uct = [
        tm("0x30", "t", "outbound", uct_call_id="0xAA"),
        tm("0x31", "t", "inbound", uct_call_id="0XAA"),
    ]
    got = calls_not_legs([*paired, other_box, alone, *uct])
    assert got == [out_first, other_box, alone, uct[0]]
    assert calls_not_legs(got) == got
