"""`calltui stats`: the numbers checked against a count by hand over the records that
`calltui calls --all` prints for the same filters, on the demo simulator with a fixed clock."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

import pytest

from calltui.analysis.kpi import KPI_KEYS
from tests.conftest import FIXED_NOW, run_cli

SIM_NOW = FIXED_NOW.isoformat()

# The definitions of calltui/analysis/kpi.py, written out again here on purpose.
USER_SIP = {480, 486, 487, 600, 603}
PLIVO_USER = {4340, 4410, 4420, 4550, 6000, 6030}


pytestmark = pytest.mark.usefixtures("fixed_clock")


def calls_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calls, not legs: the two legs of a Tmedia call (one uct_call_id) count once, as the
    outgoing one."""
    out: list[dict[str, Any]] = []
    leg_of: dict[str, int] = {}
    for r in records:
        uct = r["raw"].get("uct_call_id") if r["provider"] == "tmedia" else None
        if uct is None:
            out.append(r)
        elif uct not in leg_of:
            leg_of[uct] = len(out)
            out.append(r)
        elif r["direction"] == "outbound":
            out[leg_of[uct]] = r
    return out


def by_hand(records: list[dict[str, Any]]) -> dict[str, Any]:
    attempts = answered = effective = short = 0
    talk: list[int] = []
    for r in calls_of(records):
        if r["outcome"] == "in_progress":
            continue
        attempts += 1
        if r["outcome"] == "answered" or r["answered_at"] is not None:
            answered += 1
            effective += 1
            seconds = r["duration_s"]
            if seconds is None and r["ended_at"] is not None:
                ended = datetime.fromisoformat(r["ended_at"])
                seconds = int((ended - datetime.fromisoformat(r["answered_at"])).total_seconds())
            if seconds is not None:
                talk.append(seconds)
                short += seconds < 10
            continue
        sip = r["sip_code"]
        code = r["cause_code"]
        if sip is not None:
            effective += sip in USER_SIP
        elif r["provider"] == "plivo" and code is not None:
            effective += code in PLIVO_USER
        else:
            # No record in a listing carries a Q.850 cause: the outcome decides.
            effective += r["outcome"] in ("busy", "no_answer", "cancelled")
    return {
        "attempts": attempts,
        "answered": answered,
        "effective": effective,
        "asr": 100 * answered / attempts,
        "ner": 100 * effective / attempts,
        "acd_s": sum(talk) / len(talk),
        "short_share": 100 * short / len(talk),
        "short_calls": short,
    }


def test_stats_json_matches_a_count_by_hand_over_the_same_listing(capsys):
    window = ["--since", "3h"]
    code, out, err = run_cli(capsys, "calls", "--demo", *window, "--all", "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    code, out, err = run_cli(capsys, "stats", "--demo", *window, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["since", "until", "merged", "accounts"]
    assert doc["until"] == SIM_NOW and doc["since"] == "2026-11-20T11:00:00+00:00"
    merged = doc["merged"]
    assert tuple(merged) == KPI_KEYS
    expected = by_hand(records)
    assert expected["attempts"] > 1000
    for key, value in expected.items():
        assert merged[key] == pytest.approx(value), key
    calls = calls_of(records)
    assert merged["in_progress"] == sum(r["outcome"] == "in_progress" for r in calls)
    assert len(calls) < len(records)  # the Tmedia legs
    assert sum(merged["per_minute"]) == len(calls) and len(merged["per_minute"]) == 180
    assert merged["failed"] == merged["attempts"] - merged["answered"]
    assert sum(c["count"] for c in merged["causes"]) <= merged["failed"]

    per_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        per_account[r["account"]].append(r)
    assert list(doc["accounts"]) == [
        "demo-tmedia", "demo-plivo", "demo-bandwidth", "demo-restcomm", "demo-jambonz",
    ]  # fmt: skip
    for name, rows in per_account.items():
        for key, value in by_hand(rows).items():
            assert doc["accounts"][name][key] == pytest.approx(value), (name, key)
    # Tmedia legs carry their call flow: the post-dial delay is known for those that rang.
    assert doc["accounts"]["demo-tmedia"]["pdd_calls"] > 0
    assert doc["accounts"]["demo-plivo"]["pdd_s"] is None


def test_stats_filters_as_calls_does(capsys):
    args = ["--since", "2h", "--failed", "--direction", "inbound", "--account", "demo-jambonz"]
    code, out, _ = run_cli(capsys, "calls", "--demo", *args, "--all", "--format", "json")
    records = json.loads(out)
    code, out, _ = run_cli(capsys, "stats", "--demo", *args, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and list(doc["accounts"]) == ["demo-jambonz"]
    merged = doc["merged"]
    assert merged["attempts"] == len(records) > 0 and merged["answered"] == 0
    assert merged["asr"] == 0.0
    assert sum(c["count"] for c in merged["causes"]) <= len(records)
    # jambonz failures carry their SIP status: the top cause is the most frequent one.
    counts = Counter(r["sip_code"] for r in records)
    top = merged["causes"][0]
    assert top["count"] == max(counts.values())
    assert counts[int(top["label"].split()[1])] == top["count"]


def test_stats_table_has_a_block_per_account_with_bars_and_a_sparkline(capsys):
    code, out, err = run_cli(capsys, "stats", "--demo", "--since", "1h")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("calltui stats  ") and "5 account(s)" in lines[0]
    assert "ALL ACCOUNTS" in lines
    for name in ("demo-tmedia", "demo-plivo", "demo-bandwidth", "demo-restcomm", "demo-jambonz"):
        assert any(line.startswith(f"ACCOUNT {name} (") for line in lines)
    assert sum(line.lstrip().startswith("ASR ") for line in lines) == 6
    assert any("█" in line and "SIP " in line for line in lines)
    sparks = [line for line in lines if line.lstrip().startswith("calls/min")]
    assert len(sparks) == 6 and all("a column is 1:00" in s for s in sparks)
    assert all(ch.isprintable() for ch in out.replace("\n", ""))


def test_stats_exit_codes_are_those_of_calls(capsys, tmp_path):
    code, _, err = run_cli(capsys, "stats", "--demo", "--account", "nope")
    assert code == 2 and "--account" in err
    code, _, err = run_cli(capsys, "stats", "--demo", "--since", "whenever")
    assert code == 2 and "since:" in err
    code, _, err = run_cli(capsys, "stats", "--demo", "--format", "csv")
    assert code == 2
    config = tmp_path / "c.toml"
    config.write_text(
        '[accounts.dead]\nprovider = "restcomm"\nbase_url = "http://127.0.0.1:9/restcomm"\n'
        'account_sid = "AC1"\nauth_token = "secret-token-xyz"\ntimeout_s = 2\n'
    )
    config.chmod(0o600)
    code, out, err = run_cli(capsys, "stats", "--config", str(config), "--format", "json")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calltui: dead: ")
    assert "secret-token-xyz" not in out + err
    assert json.loads(out)["accounts"]["dead"]["attempts"] == 0


def test_stats_by_groups_add_up_to_the_merged_attempts(capsys):
    window = ["--since", "1h"]
    code, out, err = run_cli(capsys, "stats", "--demo", *window, "--format", "json")
    assert code == 0, err
    merged = json.loads(out)["merged"]
    code, out, err = run_cli(
        capsys, "stats", "--demo", *window, "--by", "account", "--by", "sip", "--format", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["since", "until", "by", "groups"] and doc["by"] == ["account", "sip"]
    assert sum(g["attempts"] for g in doc["groups"]) == merged["attempts"]
    for g in doc["groups"]:
        assert sum(s["attempts"] for s in g["groups"]) == g["attempts"]
        assert g["attempts_delta"] is not None  # the hour before was listed too
    failures = [g["failed"] for g in doc["groups"]]
    assert failures == sorted(failures, reverse=True)
    by_account = {g["key"]["account"]: g for g in doc["groups"]}
    code, out, _ = run_cli(capsys, "stats", "--demo", *window, "--format", "json")
    for name, kpis in json.loads(out)["accounts"].items():
        if kpis["attempts"]:
            assert by_account[name]["attempts"] == kpis["attempts"]
            assert by_account[name]["asr"] == pytest.approx(kpis["asr"])


def test_stats_timeline_and_bad_group_fields(capsys):
    code, out, err = run_cli(
        capsys, "stats", "--demo", "--since", "1h", "--timeline", "--format", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["bucket_s", "buckets", "onset"] and doc["bucket_s"] == 60
    assert len(doc["buckets"]) == 60
    assert all(set(b) == {"start", "attempts", "failed"} for b in doc["buckets"])
    code, out, err = run_cli(capsys, "stats", "--demo", "--by", "colour")
    assert code == 2 and "colour" in err and "Traceback" not in err


def test_show_starts_with_the_verdict_and_its_json_has_verdict_and_related(capsys):
    code, out, _ = run_cli(
        capsys, "calls", "--demo", "--account", "demo-tmedia", "--limit", "5", "--format", "json"
    )
    leg = json.loads(out)[0]
    argv = ("show", "--demo", "--account", "demo-tmedia", leg["id"])
    code, out, err = run_cli(capsys, *argv, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["verdict"] and isinstance(doc["verdict"], str)
    assert doc["related"] and all(
        set(r) == {"account", "id", "reason", "confidence"} for r in doc["related"]
    )
    other = leg["raw"]["other_leg_id"]
    assert any(r["id"] == other for r in doc["related"])  # the call's other leg
    code, text, _ = run_cli(capsys, *argv, "--format", "text")
    assert code == 0 and text.splitlines()[0] == doc["verdict"]
