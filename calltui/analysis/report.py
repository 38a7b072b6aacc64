"""`calltui stats` output: the JSON document and the aligned plain-text table.

JSON (`document`): `{"since", "until", "merged", "accounts"}`; `since`/`until` are the window
(ISO 8601 UTC), `merged` is one Kpis.to_dict() over every account, `accounts` maps each account
asked for (in that order, zero attempts included) to its own. The keys of each KPI block are
analysis.kpi.KPI_KEYS.

The table is one block for all accounts and one per account: counts, ratios, the cause mix
with bars, and calls per bucket as a sparkline. Every provider-given string goes through
text.inert.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from calltui.analysis.kpi import Kpis, bar, sparkline
from calltui.model import iso
from calltui.render import fmt_duration, fmt_time
from calltui.text import fit, inert

SPARK_WIDTH = 60
BAR_WIDTH = 24
LABEL_WIDTH = 36


def document(
    merged: Kpis, per_account: dict[str, Kpis], since: datetime, until: datetime
) -> dict[str, Any]:
    return {
        "since": iso(since),
        "until": iso(until),
        "merged": merged.to_dict(),
        "accounts": {name: k.to_dict() for name, k in per_account.items()},
    }


def table(
    merged: Kpis,
    per_account: dict[str, Kpis],
    since: datetime,
    until: datetime,
    zone: tzinfo | None,
    providers: Mapping[str, str] | None = None,
) -> str:
    total = merged.attempts + merged.in_progress
    head = (
        f"calltui stats  {fmt_time(since, zone)} → {fmt_time(until, zone)}  "
        f"{total} records, {len(per_account)} account(s)"
    )
    out = [head, ""]
    out += _block("ALL ACCOUNTS", merged)
    for name, k in per_account.items():
        kind = (providers or {}).get(name)
        title = f"ACCOUNT {inert(name, 40)}" + (f" ({kind})" if kind else "")
        out += ["", *_block(title, k)]
    return "\n".join(out) + "\n"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} %"


def _block(title: str, k: Kpis) -> list[str]:
    acd = "-" if k.acd_s is None else fmt_duration(round(k.acd_s))
    pdd = "-" if k.pdd_s is None else f"{k.pdd_s:.1f} s ({k.pdd_calls} calls)"
    lines = [
        title,
        f"  {'attempts':<12}{k.attempts:>8}   answered {k.answered:>7}   failed {k.failed:>7}"
        f"   in progress {k.in_progress:>5}",
        f"  {'ASR':<12}{_pct(k.asr):>8}   NER {_pct(k.ner):>12}   ACD {acd:>10}   PDD {pdd}",
        f"  {'short calls':<12}{_pct(k.short_share):>8}   of answered calls under {k.short_s} s"
        f" ({k.short_calls})",
    ]
    if k.causes:
        top = k.causes[0][1]
        for i, (label, n) in enumerate(k.causes):
            name = "causes" if i == 0 else ""
            cell = fit(label, LABEL_WIDTH)
            lines.append(f"  {name:<12}{cell} {n:>7}  {bar(n, top, BAR_WIDTH)}".rstrip())
    else:
        lines.append(f"  {'causes':<12}-")
    if k.per_minute:
        # Whole buckets per column, so that the legend says exactly what a column holds.
        per_col = max(1, -(-len(k.per_minute) // SPARK_WIDTH))
        columns = [sum(k.per_minute[i : i + per_col]) for i in range(0, len(k.per_minute), per_col)]
        unit = "min" if k.bucket_s == 60 else f"{k.bucket_s} s"
        lines.append(
            f"  {'calls/' + unit:<12}{sparkline(columns, SPARK_WIDTH)}"
            f"  (a column is {fmt_duration(per_col * k.bucket_s)}; peak {max(k.per_minute)}"
            f" a {unit})"
        )
    return lines
