"""Fuzzing the five adapters' page and detail parsers (hypothesis).

Inputs: arbitrary JSON documents whose keys come from the provider's own field names (so they get
past the envelope checks) and whose values are chosen to break readers (Unicode digits, dates at
the edges of `datetime`, huge and non-finite numbers, the hostile corpus); and random mutations of
real bodies, recorded (../shared/fixtures) or served by the simulator.

Property: a parser returns records or raises DataError, never another exception; the records are
typed as the normalized record says; and every rendering of them (the CLI table and text, CSV,
JSON, the TUI's views) works.

Examples are derandomized, so `make test` always runs the same ones; set CALLTUI_FUZZ_EXAMPLES to
run that many random examples per test instead.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calltui import export, render
from calltui.config import parse_settings
from calltui.model import Call, CallDetail, CallQuery, Event, Outcome, Span
from calltui.providers import bandwidth, jambonz, plivo, restcomm, tmedia, tmedia_box
from calltui.providers.base import DataError, Provider, open_provider
from calltui.sim.app import SimApp
from calltui.sim.demo import SIM_HOST, demo_accounts
from calltui.sim.hostile import BY_NAME, CORPUS
from calltui.tui import palette, views
from tests.conftest import FIXED_NOW, SHARED_FIXTURES

PROVIDERS = ("tmedia", "plivo", "bandwidth", "restcomm", "jambonz")
ACCOUNT = {p: f"demo-{p}" for p in PROVIDERS}
# What a detail is made of, per provider: the bodies its adapter reads for one call.
DETAIL_PARTS = {
    "tmedia": ("legs",),
    "plivo": ("call",),
    "bandwidth": ("call", "events"),
    "restcomm": ("call", "recordings", "notifications"),
    "jambonz": ("recent", "trace"),
}

_RANDOM = os.environ.get("CALLTUI_FUZZ_EXAMPLES")


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=int(_RANDOM) if _RANDOM else examples,
        derandomize=not _RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# Examples per test: parsing is fast, generating and copying documents is not.
ARBITRARY_EXAMPLES = 200
MUTATED_EXAMPLES = 120


# --- adapters without network ------------------------------------------------------------------


def _accounts(**over: Any) -> dict[str, Any]:
    raw = {name: {**acc, **over} for name, acc in demo_accounts(SIM_HOST).items()}
    return parse_settings({"accounts": raw}, Path("<fuzz>")).accounts


@cache
def adapter(provider: str) -> Provider[Any]:
    """The demo account's adapter: it opens no connection until asked to send a request."""
    return open_provider(_accounts()[ACCOUNT[provider]])


def zone(provider: str) -> ZoneInfo:
    return adapter(provider).account.zone()


# --- the parsers under test --------------------------------------------------------------------


def parse_page(provider: str, body: Any) -> list[Call]:
    return adapter(provider).parse_list(body)


def _try(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)`, or None where it raises DataError; any other exception fails the test."""
    try:
        return fn(*args)
    except DataError:
        return None


def parse_detail(provider: str, parts: dict[str, Any]) -> CallDetail | None:
    """The pure half of each adapter's detail(): every body through the parser the adapter gives
    it, in the same order; the detail where the call itself parsed."""
    name, z = ACCOUNT[provider], zone(provider)
    if provider == "tmedia":
        legs = _try(parse_page, provider, parts.get("legs")) or []
        events = [e for leg in legs for e in tmedia_box.leg_events(leg, z)]
        if not legs:
            return None
        return CallDetail(legs[0], legs=legs, events=events, extra=tmedia.leg_extra(legs[0]))
    if provider == "plivo":
        return _try(plivo.parse_detail, parts.get("call"), name, z)
    if provider == "bandwidth":
        call = _try(bandwidth.parse_call, parts.get("call"), name, z)
        events = _try(bandwidth.parse_events, parts.get("events"), z) or []
        if call is None:
            return None
        call.cause = bandwidth.hangup_cause(events)
        return CallDetail(call, events=events, explanation=bandwidth.explain(call.cause))
    if provider == "restcomm":
        call = _try(restcomm.parse_call, parts.get("call"), name, z)
        recordings = _try(restcomm.parse_recordings, parts.get("recordings")) or []
        listing = _try(restcomm.parse_notifications, parts.get("notifications"))
        notes = listing.items if listing is not None else []
        if call is None:
            return None
        return CallDetail(
            call,
            recordings=recordings,
            notifications=notes,
            explanation=restcomm.explain(call, notes),
        )
    found = _try(jambonz.parse_envelope, parts.get("recent"), name, z)
    calls = found[0] if found else []
    for c in calls:
        jambonz.trace_id_of(c)
    spans = _try(jambonz.parse_trace, parts.get("trace"))
    if not calls:
        if spans:
            render.span_tree(spans)
        return None
    return CallDetail(calls[0], spans=spans)


# --- what must hold of what comes out ----------------------------------------------------------

# The display zones furthest ahead of and behind UTC push a time at the calendar's edge over it.
COLOURS = palette.outcome_colours({})
ZONES = (timezone.utc, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago"))
OPTIONAL_TEXT = ("parent_id", "sip_call_id", "from_", "to", "cause")
OPTIONAL_INT = ("duration_s", "billed_s", "sip_code", "cause_code")
TIMES = ("started_at", "answered_at", "ended_at")


def check_record(c: Any) -> None:
    assert isinstance(c, Call)
    assert c.provider in PROVIDERS
    assert isinstance(c.id, str) and c.id
    assert isinstance(c.outcome, Outcome)
    assert isinstance(c.raw, dict)
    assert c.direction in (None, "inbound", "outbound"), c.direction
    for f in OPTIONAL_TEXT:
        assert getattr(c, f) is None or isinstance(getattr(c, f), str), f
    for f in OPTIONAL_INT:
        v = getattr(c, f)
        assert v is None or (isinstance(v, int) and not isinstance(v, bool)), f
    assert c.mos is None or (isinstance(c.mos, float) and math.isfinite(c.mos))
    for f in TIMES:
        t = getattr(c, f)
        assert t is None or (isinstance(t, datetime) and t.utcoffset() is not None), f


def check_span(s: Any) -> None:
    assert isinstance(s, Span)
    assert isinstance(s.span_id, str) and re.fullmatch("[0-9a-f]+", s.span_id)
    assert s.parent_id is None or re.fullmatch("[0-9a-f]+", s.parent_id)
    assert isinstance(s.name, str)
    assert isinstance(s.start_ns, int) and isinstance(s.end_ns, int)
    assert isinstance(s.attributes, dict)


def renders(records: list[Call], detail: CallDetail | None = None) -> None:
    """Everything the CLI and the TUI make of the records and the detail."""
    for c in records:
        check_record(c)
    for z in ZONES:
        render.table(records, z)
    export.csv_text(records)
    for doc in (c.to_dict() for c in records):
        json.loads(export.json_text(doc), parse_constant=_refuse)
    for c in records[:3]:
        views.summary(c, None, timezone.utc, COLOURS)
        views.raw_json(None, c)
    if detail is None:
        return
    for leg in detail.legs:
        check_record(leg)
    for e in detail.events:
        assert isinstance(e, Event) and isinstance(e.name, str)
        assert e.time is None or e.time.utcoffset() is not None
    for s in detail.spans or []:
        check_span(s)
    json.loads(export.json_text(detail.to_dict()), parse_constant=_refuse)
    for z in ZONES:
        render.detail_text(detail, z)
        views.summary(detail.call, detail, z, COLOURS)
        views.events_view(detail.events, z)
    views.raw_json(detail, detail.call)
    _, steps = views.ladder_lines(detail, 100)
    for e, _ in steps[:20]:
        views.step_text(e, timezone.utc)
    if detail.spans:
        views.waterfall_lines(detail.spans, 100)
        for s in detail.spans[:20]:
            views.attributes(s)
    views.items_view("recordings", detail.recordings)
    views.items_view("notifications", detail.notifications)


def _refuse(token: str) -> None:
    raise AssertionError(f"{token} in JSON output")


def check_page(provider: str, body: Any) -> None:
    try:
        records = parse_page(provider, body)
    except DataError:
        return
    assert isinstance(records, list)
    renders(records)


def check_detail(provider: str, parts: dict[str, Any]) -> None:
    detail = parse_detail(provider, parts)
    if detail is not None:
        renders([detail.call, *detail.legs], detail)


# --- seeds: recorded fixtures and the simulator's bodies --------------------------------------


def _fixture(*parts: str) -> Any:
    return json.loads(SHARED_FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))


def fixture_seeds(provider: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """(page bodies, detail parts) made of the recorded fixtures of `provider`; the parts a
    fixture lacks (Restcomm has no recorded notification list) come from the simulator."""
    if not SHARED_FIXTURES.is_dir():
        return [], []
    if provider == "plivo":
        call = _fixture("plivo", "zentrunk-call-real.json")
        page = {"api_id": "x", "meta": {"limit": 20, "offset": 0}, "objects": [call]}
        return [page], [{"call": call}]
    if provider == "bandwidth":
        call = _fixture("bandwidth", "call.json")
        events = [_fixture("bandwidth", f) for f in ("events.json", "events-2.json")]
        pages = [_fixture("bandwidth", "calls-list.json"), [call]]
        return pages, [{"call": call, "events": e} for e in events]
    if provider == "restcomm":
        names = ("calls-FilterCall-1", "calls-FilterPage-1", "calls-GetDetails-1", "calls-response")
        pages = [_fixture("restcomm", f"{n}.json") for n in names]
        recordings = _fixture("restcomm", "recordings-response.json")
        calls = [c for p in pages for c in p["calls"][:3]]
        notifications = sim_seeds(provider)[1][0]["notifications"]
        return pages, [
            {"call": c, "recordings": recordings, "notifications": notifications} for c in calls
        ]
    if provider == "jambonz":
        rows = _fixture("jambonz", "recent-calls-seeded.json")
        page = {"total": len(rows), "page_size": 25, "page": 1, "data": rows}
        traces = [
            _fixture("jaeger", p.name) for p in sorted((SHARED_FIXTURES / "jaeger").iterdir())
        ]
        traces.append(_fixture("jambonz", "trace-jaeger-1.46-instrumentationLibrarySpans.json"))
        return [page], [{"recent": page, "trace": t} for t in traces]
    folder = SHARED_FIXTURES / provider
    pages = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    return pages, [{"legs": p} for p in pages]


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the simulator and keeps every JSON body it answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bodies: list[tuple[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        resp = await self.inner.handle_async_request(request)
        content = await resp.aread()
        if resp.status_code == 200 and "json" in resp.headers.get("content-type", ""):
            self.bodies.append((request.url.path, json.loads(content)))
        return httpx.Response(resp.status_code, headers=resp.headers, content=content)


def _part(provider: str, path: str) -> str | None:
    """Which detail part a body served at `path` is."""
    rules = {
        "tmedia": [(r"/call_trace", "legs")],
        "plivo": [(r"/Insights/$", None), (r"/Call/[^/]+/$", "call")],
        "bandwidth": [(r"/events$", "events"), (r"/calls/[^/]+$", "call")],
        "restcomm": [
            (r"/Recordings\.json$", "recordings"),
            (r"/Notifications\.json$", "notifications"),
            (r"/Calls/[^/]+\.json$", "call"),
        ],
        "jambonz": [(r"/trace/", "trace")],
    }[provider]
    return next((part for rx, part in rules if re.search(rx, path)), None)


@cache
def sim_seeds(provider: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """(page bodies, detail parts) the simulator served the demo adapter of `provider` for its
    first page and the drill-down of a few calls of different outcomes."""

    async def run() -> tuple[list[Any], list[dict[str, Any]]]:
        sim = SimApp(seed=3, now=FIXED_NOW, enforce_rate_limits=False)
        recorder = Recorder(httpx.ASGITransport(app=sim))
        account = _accounts(page_size=4, rate_limit=1000)[ACCOUNT[provider]]
        p = open_provider(account, transport=recorder)
        try:
            # Before the simulator's incident: the newest jambonz calls of the
            # incident are refused ones, and a refused call has no trace to seed with.
            until = FIXED_NOW - timedelta(minutes=20)
            pages = p.pages(CallQuery(since=FIXED_NOW - timedelta(hours=2), until=until))
            first = await anext(pages)
            await pages.aclose()
            page_bodies = [b for _, b in recorder.bodies]
            details = []
            for call in _variety(first.records):
                recorder.bodies.clear()
                await p.detail(call.id)
                parts = {
                    part: body for path, body in recorder.bodies if (part := _part(provider, path))
                }
                if provider == "jambonz":
                    parts["recent"] = page_bodies[0]
                details.append(parts)
            return page_bodies, details
        finally:
            await p.aclose()

    return asyncio.run(run())


def _variety(records: list[Call]) -> list[Call]:
    """One call of each outcome on the page, a traced jambonz call among them where there is one."""
    picked: dict[Any, Call] = {}
    for c in records:
        picked.setdefault(c.outcome, c)
        if str(c.raw.get("trace_id") or "").strip("0"):
            picked.setdefault("traced", c)
    return list(picked.values())


# --- strategies ---------------------------------------------------------------------------------

TRICKY_TEXT = [
    "",
    " ",
    "null",
    "NULL",
    "NaN",
    "Infinity",
    "-0",
    "²",
    "١٢٣",
    "1²",
    "٣٠٠٠",
    "1e400",
    "99999999999999999999999999",
    "-99999999999999999999",
    "0x1F",
    "3000",
    "486",
    "true",
    "false",
    "answered",
    "completed",
    "in-progress",
    "BUSY",
    "inbound",
    "outbound-dial",
    "in",
    "Active",
    "NORMAL",
    "2026-11-20T13:00:00Z",
    "2026-11-20T13:00:00.123456789+05:30",
    "2026-11-20 13:00:00",
    "2026/11/20 16:00:00 +0300",
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00+0500",
    "0001-01-01T00:00:00Z",
    "9999-12-31t23:59:59.5-0500",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59Z",
    "9999/12/31 23:59:59 -1200",
    "0001/01/01 00:00:00 +1400",
    "1970-01-01 00:00:00",
    "Tue, 6 Jun 2017 11:11:26 +0000",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "Mon, 1 Jan 0001 00:00:00 +1400",
    "1763650800000",
    "99999999999999999",
    "AAAAAAAAALQ=",
    "00000000000000000000000000000000",
    "0123456789abcdef0123456789abcdef",
    "0123456789ABCDEF",
    "MOS: 4.2",
    "MOS: 99999999999999999999999.5",
    "***meta***",
    "NORMAL_CLEARING",
    "hangup",
    '{"cause": "USER_BUSY"}',
    "[1, 2",
    *(h.value for h in CORPUS if not h.bulky),
]
TRICKY_NUMBERS = [
    0,
    -1,
    1,
    200,
    486,
    3000,
    2**53 + 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    10**400,
    1e11 + 1,
    1.5,
    -0.0,
    1e308,
    -1e308,
    1763650800000,
    253402300800,
    -62135596801,
    float("nan"),
    float("inf"),
    float("-inf"),
]

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(TRICKY_TEXT),
    st.sampled_from(TRICKY_NUMBERS),
)


def _keys(docs: list[Any], out: set[str]) -> set[str]:
    for d in docs:
        if isinstance(d, dict):
            out.update(k for k in d if isinstance(k, str))
            _keys(list(d.values()), out)
        elif isinstance(d, list):
            _keys(d, out)
    return out


@cache
def known_keys(provider: str) -> tuple[str, ...]:
    """Every key of every body of `provider` the seeds hold: shaped documents use them."""
    pages, details = sim_seeds(provider)
    fx_pages, fx_details = fixture_seeds(provider)
    return tuple(sorted(_keys([*pages, *details, *fx_pages, *fx_details], set())))


def json_docs(provider: str) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(known_keys(provider)), st.text(max_size=8))
    return st.recursive(
        LEAVES,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(keys, inner, max_size=8),
        ),
        max_leaves=40,
    )


def detail_docs(provider: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({part: json_docs(provider) for part in DETAIL_PARTS[provider]})


def mutated(seeds: list[Any], provider: str, parts: bool = False) -> st.SearchStrategy[Any]:
    """A seed with one to four random changes somewhere in its tree; with `parts`, the seed is a
    detail's bodies by name and each change falls inside one of them."""
    trimmed = [_trimmed(s) for s in seeds]

    @st.composite
    def change(draw: st.DrawFn) -> Any:
        doc = copy.deepcopy(draw(st.sampled_from(trimmed)))
        for _ in range(draw(st.integers(1, 4))):
            if parts:
                name = draw(st.sampled_from(sorted(doc)))
                doc[name] = _mutate(draw, doc[name], provider)
            else:
                doc = _mutate(draw, doc, provider)
        return doc

    return change()


def _trimmed(doc: Any, keep: int = 6) -> Any:
    """`doc` with every list cut to `keep` items: a 1000-notification page mutates no better than
    a page of six, and copies far slower."""
    if isinstance(doc, list):
        return [_trimmed(x, keep) for x in doc[:keep]]
    if isinstance(doc, dict):
        return {k: _trimmed(v, keep) for k, v in doc.items()}
    return doc


def _mutate(draw: st.DrawFn, doc: Any, provider: str) -> Any:
    """`doc` with one change at a node drawn uniformly from the whole tree (a walk from the root
    would seldom reach the deep fields where readers make assumptions): the node replaced,
    retyped, wrapped or deleted, or a key added to it."""
    paths = list(_paths(doc, ()))
    path = paths[draw(st.integers(0, len(paths) - 1))]
    parent = None
    node = doc
    for key in path:
        parent, node = node, node[key]
    op = draw(st.sampled_from(("replace", "leaf", "leaf", "delete", "retype", "add", "wrap")))
    if op == "replace":
        new = draw(json_docs(provider))
    elif op == "leaf":
        new = draw(LEAVES)
    elif op == "retype":
        new = _retype(node)
    elif op == "wrap":
        new = draw(st.sampled_from(([node], {"value": node}, {"data": node})))
    elif op == "add" and isinstance(node, dict):
        node[draw(st.sampled_from(known_keys(provider)))] = draw(LEAVES)
        return doc
    elif op == "delete" and parent is not None:
        del parent[path[-1]]
        return doc
    else:
        new = None
    if parent is None:
        return new
    parent[path[-1]] = new
    return doc


def _paths(doc: Any, prefix: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _retype(v: Any) -> Any:
    """The same value in another JSON type: the commonest server drift."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return [v]
    if isinstance(v, list):
        return {str(i): x for i, x in enumerate(v)}
    if isinstance(v, dict):
        return list(v.values())
    return 0


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_page_parser_on_arbitrary_json(provider: str) -> None:
    @fuzz(ARBITRARY_EXAMPLES)
    @given(st.one_of(json_docs(provider), _envelopes(provider)))
    def run(body: Any) -> None:
        check_page(provider, body)

    run()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_detail_parser_on_arbitrary_json(provider: str) -> None:
    @fuzz(ARBITRARY_EXAMPLES)
    @given(detail_docs(provider))
    def run(parts: dict[str, Any]) -> None:
        check_detail(provider, parts)

    run()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_page_parser_on_mutated_simulator_bodies(provider: str) -> None:
    seeds = sim_seeds(provider)[0]

    @fuzz(MUTATED_EXAMPLES)
    @given(mutated(seeds, provider))
    def run(body: Any) -> None:
        check_page(provider, body)

    run()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_detail_parser_on_mutated_simulator_bodies(provider: str) -> None:
    # A jambonz call without a trace reads no trace body: only complete details are seeds.
    seeds = [s for s in sim_seeds(provider)[1] if set(s) == set(DETAIL_PARTS[provider])]
    assert seeds

    @fuzz(MUTATED_EXAMPLES)
    @given(mutated(seeds, provider, parts=True))
    def run(parts: dict[str, Any]) -> None:
        check_detail(provider, parts)

    run()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_page_parser_on_mutated_recorded_fixtures(provider: str) -> None:
    seeds = _recorded(provider)[0]

    @fuzz(MUTATED_EXAMPLES)
    @given(mutated(seeds, provider))
    def run(body: Any) -> None:
        check_page(provider, body)

    run()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_detail_parser_on_mutated_recorded_fixtures(provider: str) -> None:
    seeds = _recorded(provider)[1]

    @fuzz(MUTATED_EXAMPLES)
    @given(mutated(seeds, provider, parts=True))
    def run(parts: dict[str, Any]) -> None:
        check_detail(provider, parts)

    run()


def _recorded(provider: str) -> tuple[list[Any], list[dict[str, Any]]]:
    folder = SHARED_FIXTURES / provider
    if not folder.is_dir():
        pytest.skip(
            f"no recorded {provider} fixtures: {folder} is absent"
            " (the simulator's bodies are fuzzed instead)"
        )
    pages, details = fixture_seeds(provider)
    assert pages and details
    # The seeds themselves parse: a mutation starts from a body the parser reads.
    for body in pages:
        assert parse_page(provider, body)
    return pages, details


def _envelopes(provider: str) -> st.SearchStrategy[Any]:
    """Each provider's list envelope around arbitrary records: deeper than a random document."""
    records = st.lists(st.dictionaries(st.sampled_from(known_keys(provider)), LEAVES), max_size=4)
    if provider == "tmedia":
        return st.dictionaries(st.sampled_from(["0x1", "0x2", "***meta***"]), records.map(_first))
    if provider == "plivo":
        return st.builds(lambda objs, meta: {"meta": meta, "objects": objs}, records, LEAVES)
    if provider == "bandwidth":
        return records
    if provider == "restcomm":
        return st.builds(lambda calls, total: {"calls": calls, "total": total}, records, LEAVES)
    return st.builds(lambda rows, total: {"data": rows, "total": total}, records, LEAVES)


def _first(items: list[Any]) -> Any:
    return items[0] if items else {}


# --- a sweep: every field of a seed set to every tricky value ------------------------------------

# The values that have broken a reader somewhere: wrong types, digits int() refuses, numbers past
# what a float or a datetime holds, dates at the edges of the calendar, "null" as a string.
SWEEP_VALUES = [
    None,
    True,
    [],
    {},
    [1],
    {"x": 1},
    -1,
    2**64,
    10**400,
    1e308,
    float("nan"),
    float("-inf"),
    "",
    "null",
    "²",
    "١٢٣",
    "1e400",
    "9" * 5000,
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00+0500",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31t23:59:59.5-0500",
    "9999/12/31 23:59:59 -1200",
    "0001/01/01 00:00:00 +1400",
    "Mon, 1 Jan 0001 00:00:00 +1400",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "99999999999999999",
    "AAAAAAAAALQ=",
    "zz",
    "[1, 2",
    BY_NAME["ansi_clear"].value,
    BY_NAME["lone_surrogate"].value,
]


def _small(doc: Any) -> Any:
    """`doc` with every list cut to its first item, and the objects Tmedia keys by id (legs by
    leg id, call-flow steps by order) to their first two: the sweep walks every field of what
    is left."""
    if isinstance(doc, list):
        return [_small(x) for x in doc[:1]]
    if isinstance(doc, dict):
        if doc and all(k == tmedia_box.META or k.isdigit() or k.startswith("0x") for k in doc):
            doc = dict(list(doc.items())[:3])
        return {k: _small(v) for k, v in doc.items()}
    return doc


def _sweep(doc: Any, check: Callable[[Any], None]) -> int:
    """Each node of `doc` in turn replaced by each of SWEEP_VALUES, in place and put back."""
    count = 0
    for path in list(_paths(doc, ()))[1:]:
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        original = parent[path[-1]]
        for value in SWEEP_VALUES:
            parent[path[-1]] = value
            check(doc)
            count += 1
        parent[path[-1]] = original
    return count


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_page_field_takes_every_tricky_value(provider: str) -> None:
    seed = _small(sim_seeds(provider)[0][0])
    assert _sweep(seed, lambda body: check_page(provider, body)) > 100


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_detail_field_takes_every_tricky_value(provider: str) -> None:
    seeds = [s for s in sim_seeds(provider)[1] if set(s) == set(DETAIL_PARTS[provider])]
    seed = _small(seeds[-1])
    assert _sweep(seed, lambda parts: check_detail(provider, parts)) > 100
