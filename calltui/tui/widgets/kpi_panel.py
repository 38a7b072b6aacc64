"""The KPI panel (`i`): NOC KPIs over exactly the rows of the table's view, merged and per account.

The numbers are analysis.kpi.summarize over the view's calls, so they are those of
`calltui stats` for the same set. They are computed in a thread worker: the rows of the view are
copied on the UI thread (an array of ints) and materialized one by one in the thread, raw
records included (the post-dial delay is read from them). Requests made while the view keeps
changing (rows streaming in, a filter applied) are debounced (DEBOUNCE_S, but at least every
MAX_WAIT_S), and a newer computation cancels the one under way. Rows the store has dropped to
save memory cannot be read: they are left out and counted ("N not in memory").

Layout: the totals on two lines and the timeline's line (failures per bucket, and where they
rose and stayed up: analysis.onset, as `stats --timeline`), then the failure-cause mix with bars
beside (or, narrower than WIDE, below) one line per account with its own ratios and
calls-per-minute sparkline. Enter on a cause or an account posts Picked with the query terms of
those calls (the main screen adds them to its query). Account names and cause labels come from
providers and configs: inert, as plain Text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from calltui.analysis import cause
from calltui.analysis.kpi import Kpis, bar, sparkline, summarize
from calltui.analysis.onset import Timeline, onset_line, timeline
from calltui.model import Call
from calltui.query import group_term, quote_term
from calltui.render import fmt_duration
from calltui.store import CallStore, Cancelled, NotHeld
from calltui.text import fit, inert

WIDE = 110
"""From this many cells wide, the causes and the accounts sit side by side."""
DEBOUNCE_S = 0.4
MAX_WAIT_S = 2.0
"""While requests keep coming (a big window streaming in), KPIs are recomputed this often."""
CHECK_EVERY = 2048
NAME_W = 14


@dataclass(frozen=True, slots=True)
class KpiJob:
    """What to compute: the view's store rows (a copy) and the window the sparkline spans."""

    store: CallStore
    rows: Sequence[int]
    since: datetime
    until: datetime
    accounts: tuple[str, ...]
    epoch: int


@dataclass(frozen=True, slots=True)
class KpiResult:
    merged: Kpis
    per_account: dict[str, Kpis]
    counted: int
    missing: int
    """Rows of the view left out: dropped from memory (or gone from their provider)."""
    epoch: int
    timeline: Timeline
    cause_terms: dict[str, str | None]
    """The query terms of each cause shown (None: no term keeps those calls)."""


def compute(job: KpiJob, check: Callable[[], None] = lambda: None) -> KpiResult:
    """The KPIs of `job`'s rows (what the worker runs). `check` is called every few thousand
    rows: it raises Cancelled to stop."""
    store = job.store
    missing = 0
    counted = 0

    def held() -> Iterator[Call]:
        nonlocal missing, counted
        for n, row in enumerate(job.rows):
            if not n % CHECK_EVERY:
                check()
            try:
                call = store.call(row)
            except NotHeld:
                missing += 1
                continue
            counted += 1
            yield call

    calls = list(held())
    merged, per = summarize(calls, since=job.since, until=job.until, accounts=job.accounts)
    check()
    shown = {name for name, _ in merged.causes}
    members: dict[str, list[Call]] = {name: [] for name in shown}
    for c in calls:
        if cause.unanswered_attempt(c):
            bucket = members.get(cause.label(c))
            if bucket is not None:
                bucket.append(c)
    terms = {name: group_term("cause", name, members[name]) for name in shown}
    check()
    line = timeline(calls, job.since, job.until)
    return KpiResult(merged, per, counted, missing, job.epoch, line, terms)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}%"


def _acd(k: Kpis) -> str:
    return "-" if k.acd_s is None else fmt_duration(round(k.acd_s))


def _pdd(k: Kpis) -> str:
    return "-" if k.pdd_s is None else f"{k.pdd_s:.1f}s"


def _spark(k: Kpis, width: int) -> tuple[str, str]:
    """The sparkline of calls per bucket in whole buckets per column, and what a column is."""
    if not k.per_minute or width <= 0:
        return "", ""
    per_col = max(1, -(-len(k.per_minute) // width))
    cols = [sum(k.per_minute[i : i + per_col]) for i in range(0, len(k.per_minute), per_col)]
    return sparkline(cols, width), _span(per_col * k.bucket_s)


def _span(seconds: int) -> str:
    """What one sparkline column covers: `min`, `5min`, `2h`, `1d`."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n}{unit}"
    return f"{seconds}s"


def head_text(r: KpiResult, width: int) -> Text:
    """The merged totals: counts, ratios, and calls per minute."""
    k = r.merged
    out = Text()
    out.append(f" {k.attempts}", "bold")
    out.append(" attempts  ")
    for label, value in (
        ("ASR", _pct(k.asr)),
        ("NER", _pct(k.ner)),
        ("ACD", _acd(k)),
        ("PDD", _pdd(k) + (f" ({k.pdd_calls})" if k.pdd_s is not None else "")),
        (f"short<{k.short_s}s", _pct(k.short_share)),
    ):
        out.append(label + " ", "dim")
        out.append(value + "  ", "bold")
    out.append("\n")
    out.append(f" answered {k.answered} · failed {k.failed}", "")
    if k.in_progress:
        out.append(f" · in progress {k.in_progress}")
    if r.missing:
        out.append(f" · {r.missing} not in memory, left out", "italic yellow")
    room = width - (out.cell_len - out.plain.rfind("\n") - 1)
    lead = "  "
    if room < 40:  # the sparkline gets a line of its own
        out.append("\n")
        room, lead = width, " "
    peak = f" peak {max(k.per_minute, default=0)}"
    spark, unit = _spark(k, min(60, room - len(peak) - 20))
    if spark:
        out.append(f"{lead}calls per {unit} ", "dim")
        out.append(spark, "cyan")
        out.append(peak, "dim")
    return out


def causes_head(k: Kpis) -> Text:
    out = Text()
    out.append(" FAILURE CAUSES", "bold")
    out.append(f"  ({k.failed} not answered; Enter lists them)" if k.failed else "", "dim")
    return out


def cause_lines(k: Kpis, width: int, top: int = 5) -> list[tuple[str, Text]]:
    """The failure-cause mix, one line per cause: (its label, label, count, share of failures,
    bar)."""
    if not k.causes:
        return []
    label_w = max(12, min(36, width - 26))
    bar_w = max(4, width - label_w - 16)
    most = k.causes[0][1]
    out = []
    for name, n in k.causes[:top]:
        share = f"{100 * n / k.failed:.0f}%" if k.failed else ""
        line = Text(fit(name, label_w) + f" {n:>5} {share:>4} ")
        line.append(bar(n, most, bar_w).rstrip(), "red")
        out.append((name, line))
    return out


ONSET_MARK = "▲ onset"


def timeline_text(t: Timeline, zone: tzinfo | None, width: int) -> Text:
    """Failures per bucket as a sparkline, the onset marked under its column, and the onset
    line (where they rose and stayed up)."""
    out = Text()
    failed = [b.failed for b in t.buckets]
    room = max(10, min(60, width - 30))
    per_col = max(1, -(-len(failed) // room))
    cols = [sum(failed[i : i + per_col]) for i in range(0, len(failed), per_col)]
    head = f" failed per {_span(per_col * t.bucket_s)} "
    out.append(head, "dim")
    out.append(sparkline(cols, room), "red")
    at = next((i for i, b in enumerate(t.buckets) if t.onset and b.start == t.onset.at), None)
    if at is not None:
        # The onset marked under its column of the bars, in characters, not colour alone.
        out.append("\n" + " " * (len(head) + at // per_col) + ONSET_MARK, "bold yellow")
    out.append("\n ")
    line = onset_line(t, zone)
    out.append(fit(line, max(20, width - 2)), "bold yellow" if t.onset is not None else "dim")
    return out


def accounts_head(width: int) -> tuple[Text, int]:
    """The accounts' column titles, and the width left for each one's sparkline."""
    cols = f"{'ACCOUNT':<{NAME_W}} {'ATT':>5} {'ASR':>6} {'NER':>6} {'ACD':>6} {'PDD':>5}"
    cols += f" {'SHORT':>6}"
    out = Text(" " + cols, "bold")
    spark_w = max(0, width - len(cols) - 4)
    if spark_w >= 6:
        out.append("  calls", "bold")
    return out, spark_w


def account_lines(per: dict[str, Kpis], spark_w: int) -> list[tuple[str, Text]]:
    """One line per account: attempts, ASR, NER, ACD, PDD, short share, sparkline."""
    out = []
    for name, k in per.items():
        line = Text(fit(name, NAME_W))
        line.append(
            f" {k.attempts:>5} {_pct(k.asr):>6} {_pct(k.ner):>6} {_acd(k):>6} {_pdd(k):>5}"
            f" {_pct(k.short_share):>6}"
        )
        if spark_w >= 6:
            spark, _ = _spark(k, spark_w)
            line.append("  " + spark, "cyan")
        out.append((name, line))
    return out


class KpiPanel(VerticalScroll):
    """The KPIs of the view; `request(job)` recomputes them (debounced, in a thread)."""

    DEFAULT_CSS = """
    KpiPanel { height: 50%; min-height: 6; border-top: hkey $panel; background: $surface; }
    KpiPanel #kpi-title { height: 1; background: $panel; color: $text; }
    KpiPanel #kpi-body { height: auto; }
    KpiPanel #kpi-body > Vertical { width: 1fr; height: auto; }
    KpiPanel OptionList { height: auto; max-height: 12; border: none; padding: 0; }
    KpiPanel.stacked #kpi-body { layout: vertical; }
    KpiPanel.stacked #kpi-body > Vertical { width: 100%; }
    """

    class Picked(Message):
        """Enter on a cause or an account: the query terms of its calls."""

        def __init__(self, terms: str) -> None:
            super().__init__()
            self.terms = terms

    def __init__(self, zone: tzinfo | None = None, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.zone = zone
        self.result: KpiResult | None = None
        self.computing = False
        self.note = ""
        """Said in the title (the app: "loading the rest of the window…")."""
        self._pending: Callable[[], KpiJob] | None = None
        self._timer: Timer | None = None
        self._since = 0.0
        self.computed = 0
        """How many results were shown (tests wait on it)."""
        self._shown: dict[str, object] = {}
        """What each part shows: a part whose text is the same is not drawn again."""

    def compose(self) -> ComposeResult:
        yield Static(Text(" KPIs of the view", "bold"), id="kpi-title")
        yield Static(Text(" computing…", "dim italic"), id="kpi-head")
        yield Static(id="kpi-timeline")
        with Horizontal(id="kpi-body"):
            with Vertical():
                yield Static(id="kpi-causes-head")
                yield OptionList(id="kpi-causes")
            with Vertical():
                yield Static(id="kpi-accounts-head")
                yield OptionList(id="kpi-accounts")

    # --- computing ------------------------------------------------------------------------
    def request(self, job: Callable[[], KpiJob]) -> None:
        """Compute the KPIs of the job `job()` makes once requests stop coming for DEBOUNCE_S
        (the job, a copy of the view's rows, is made then: once, not per request)."""
        self._pending = job
        self.computing = True
        self._title()
        if self._timer is not None:
            if time.monotonic() - self._since >= MAX_WAIT_S:
                return  # rows keep coming: let the timer under way fire
            self._timer.stop()
        else:
            self._since = time.monotonic()
        self._timer = self.set_timer(DEBOUNCE_S, self._start)

    def _start(self) -> None:
        self._timer = None
        make, self._pending = self._pending, None
        if make is not None:
            job = make()
            self.run_worker(
                lambda: self._run(job),
                thread=True,
                exclusive=True,
                group="kpi",
                exit_on_error=False,
            )

    def _run(self, job: KpiJob) -> None:
        worker = get_current_worker()

        def check() -> None:
            if worker.is_cancelled or job.store.epoch != job.epoch:
                raise Cancelled

        try:
            result = compute(job, check)
        except Cancelled:
            return  # a newer request, or the store was refilled: that request's result shows
        except Exception as e:  # shown in the panel, never a crash
            self.app.call_from_thread(self._failed, f"{type(e).__name__}: {e}")
            return
        self.app.call_from_thread(self._done, job, result)

    def _failed(self, why: str) -> None:
        self.computing = self._pending is not None
        self._title()
        self._put("#kpi-head", Text(" KPIs failed: " + inert(why, 200), "red"))

    def _done(self, job: KpiJob, result: KpiResult) -> None:
        if job.store.epoch != job.epoch:
            return
        self.result = result
        self.computing = self._pending is not None
        self.computed += 1
        self.redraw()

    # --- drawing --------------------------------------------------------------------------
    def set_note(self, note: str) -> None:
        if note != self.note:
            self.note = note
            self._title()

    def on_resize(self) -> None:
        self.set_class(self.size.width < WIDE, "stacked")
        self.redraw()

    def _title(self) -> None:
        title = Text(" KPIs of the view", "bold")
        r = self.result
        if r is not None:
            title.append(f" · {r.counted} calls", "")
        if self.computing:
            title.append(" · computing…", "italic")
        if self.note:
            title.append(" · " + self.note, "italic yellow")
        self._put("#kpi-title", title)

    def _put(self, selector: str, text: Text) -> None:
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text)

    def redraw(self) -> None:
        self._title()
        r = self.result
        if r is None:
            return
        width = max(40, self.scrollable_content_region.width - 1)
        half = width if self.has_class("stacked") else width // 2
        top = 5 if self.size.height >= 16 else 3
        self._put("#kpi-head", head_text(r, width))
        self._put("#kpi-timeline", timeline_text(r.timeline, self.zone, width))
        self._put("#kpi-causes-head", causes_head(r.merged))
        self._options("#kpi-causes", cause_lines(r.merged, half - 2, top), "cause")
        head, spark_w = accounts_head(half)
        self._put("#kpi-accounts-head", head)
        self._options("#kpi-accounts", account_lines(r.per_account, spark_w), "account")

    def _options(self, selector: str, lines: list[tuple[str, Text]], kind: str) -> None:
        if self._shown.get(selector) == lines:
            return  # the same numbers: the list, and where its highlight is, stay as they are
        self._shown[selector] = lines
        ol = self.query_one(selector, OptionList)
        keep = ol.highlighted
        ol.clear_options()
        ol.add_options([Option(text, id=f"{kind}\x00{name}") for name, text in lines])
        if lines and keep is not None:
            ol.highlighted = min(keep, len(lines) - 1)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        kind, _, name = (event.option.id or "").partition("\x00")
        r = self.result
        if r is None or not name:
            return
        terms = f"account:{quote_term(name)}" if kind == "account" else r.cause_terms.get(name)
        if terms is None:
            self.notify("no query term keeps exactly these calls", timeout=3)
            return
        self.post_message(self.Picked(terms))
