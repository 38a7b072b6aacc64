"""The query language: every field and operator parses to its canonical text, `a,b`
means either, `-` negates, bare words and quotes, a bad term is an error naming it; over the
simulator's records each query keeps exactly what a hand-written predicate keeps; the country
of known numbers; `str(parse(x))` parses back to the same query."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from calltui.analysis.cause import final_sip, pdd_s
from calltui.engine import Engine
from calltui.model import Call, CallQuery, Outcome
from calltui.numbers import calling_code, calling_code_of, country_of, international, prefix_of
from calltui.query import FIELDS, Query, QueryError, parse
from calltui.sim.app import SimApp
from calltui.sim.demo import demo_settings
from tests.conftest import FAST_RETRY, FIXED_NOW


@pytest.fixture(scope="module")
def calls() -> list[Call]:
    """Six hours of every demo account (some 2400 records), read once for the module."""

    async def collect() -> list[Call]:
        sim = SimApp(seed=7, now=FIXED_NOW)
        engine = Engine(demo_settings(), transport=httpx.ASGITransport(app=sim), retry=FAST_RETRY)
        try:
            query = CallQuery(since=FIXED_NOW - timedelta(hours=6))
            return await engine.collect(engine.account_names, query, None)
        finally:
            await engine.aclose()

    out = asyncio.run(collect())
    assert len(out) > 1000
    return out


# --- parsing -----------------------------------------------------------------------------------

CANONICAL = [
    ("", ""),
    ("account:demo-plivo", "account:demo-plivo"),
    ("provider:Tmedia", "provider:tmedia"),
    ("from:+4420", "from:+4420"),
    ("to:1415,+44", "to:1415,+44"),
    ("trunk:NAP_PBX_HQ", "trunk:NAP_PBX_HQ"),
    ("sip:486", "sip:486"),
    ("sip:4XX,5xx,600", "sip:4xx,5xx,600"),
    ("cause:busy", "cause:busy"),
    ("outcome:no-answer", "outcome:no_answer"),
    ("outcome:BUSY,cancelled", "outcome:busy,cancelled"),
    ("dir:in", "dir:inbound"),
    ("dir:out,inbound", "dir:outbound,inbound"),
    ("id:0x3DCFCEC3", "id:0x3DCFCEC3"),
    ("id:abc@10.0.0.1:5060", "id:abc@10.0.0.1:5060"),
    ("country:gb,US", "country:GB,US"),
    ("dur:<5", "dur:<5"),
    ("dur:>60", "dur:>60"),
    ("dur:>=60.0", "dur:>=60"),
    ("dur:<=10", "dur:<=10"),
    ("dur:30", "dur:30"),
    ("mos:<3.50", "mos:<3.5"),
    ("pdd:>2.5", "pdd:>2.5"),
    ("pdd:>=3,<1", "pdd:>=3,<1"),
    ("DUR:<5", "dur:<5"),
    ("-outcome:answered", "-outcome:answered"),
    ("0x3dcf", "0x3dcf"),
    ("-NORMAL", "-NORMAL"),
    ('"caller hungup"', '"caller hungup"'),
    ('cause:"no route"', 'cause:"no route"'),
    ('cause:"no route",busy', 'cause:"no route",busy'),
    ('cause:no" "route', 'cause:"no route"'),
    ('"cause:no route"', '"cause:no route"'),
    ('"a:b"', '"a:b"'),
    ('"-x"', '"-x"'),
    ('-"-x"', '-"-x"'),
    ("a,b", "a,b"),
    ('trunk:"a,b"', 'trunk:"a,b"'),
    ('cause:"say \\"hi\\" \\\\ back"', 'cause:"say \\"hi\\" \\\\ back"'),
    ("  sip:5xx   dur:<5 ", "sip:5xx dur:<5"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_every_field_and_operator_parses_to_its_canonical_text(text, canonical):
    q = parse(text)
    assert str(q) == canonical
    assert parse(canonical) == q
    assert hash(parse(canonical)) == hash(q)


def test_terms_show_field_values_and_negation():
    q = parse('-sip:4XX,486 cause:"no route" word -other')
    assert [(t.field, t.values, t.negated) for t in q.terms] == [
        ("sip", ("4xx", "486"), True),
        ("cause", ("no route",), False),
        (None, ("word",), False),
        (None, ("other",), True),
    ]
    assert [str(t) for t in q.terms] == ["-sip:4xx,486", 'cause:"no route"', "word", "-other"]


def test_a_query_is_rebuilt_from_its_terms():
    """The TUI drops or edits a term and makes the query again from the rest."""
    q = parse("provider:tmedia dur:<5 -busy")
    assert Query(q.terms[:2]) == parse("provider:tmedia dur:<5")
    assert Query() == parse("")
    assert len({parse("dur:<5"), parse("dur:<5.0"), parse("DUR:<5")}) == 1


def test_fields_are_the_documented_ones_each_with_a_line_of_help():
    assert list(FIELDS) == [
        "account", "provider", "from", "to", "trunk", "sip", "cause", "outcome", "dir", "id",
        "country", "dur", "mos", "pdd",
    ]  # fmt: skip
    assert all(help and "\n" not in help for help in FIELDS.values())


ERRORS = [
    ("sip:abc", "sip:abc", "not a SIP code or class (4xx, 5xx, 6xx)"),
    ("sip:486,abc", "sip:486,abc", "abc: not a SIP code or class (4xx, 5xx, 6xx)"),
    ("sip:99", "sip:99", "not a SIP code or class (4xx, 5xx, 6xx)"),
    ("sip:7xx", "sip:7xx", "not a SIP code or class (4xx, 5xx, 6xx)"),
    ("dur:x", "dur:x", "not a number or a comparison (30, >60, <5, >=4, <=3.5)"),
    ("mos:<", "mos:<", "not a number or a comparison (30, >60, <5, >=4, <=3.5)"),
    ("pdd:=3", "pdd:=3", "not a number or a comparison (30, >60, <5, >=4, <=3.5)"),
    ("dur:>nan", "dur:>nan", "not a number or a comparison (30, >60, <5, >=4, <=3.5)"),
    ("outcome:gone", "outcome:gone", "not an outcome (answered, busy, no_answer, cancelled, "
     "failed, in_progress, unknown)"),
    ("dir:up", "dir:up", "not a direction (inbound, outbound, in, out)"),
    ("provider:twilio", "provider:twilio", "not a provider (tmedia, plivo, bandwidth, "
     "restcomm, jambonz)"),
    ("country:UK", "country:UK", "not a country (an ISO 3166 region such as GB, US, DE)"),
    ("to:+", "to:+", "not a number prefix"),
    ("color:red", "color:red", "unknown field color (fields: " + ", ".join(FIELDS) + ")"),
    ("cause:", "cause:", "an empty value"),
    ("sip:486,", "sip:486,", "an empty value"),
    ('dur:<5 cause:"no route', 'cause:"no route', "the quote is not closed"),
    ("busy -", "-", "nothing to negate"),
    ('""', '""', "an empty word"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "term", "message"), ERRORS)
def test_a_bad_term_is_an_error_naming_it(text, term, message):
    with pytest.raises(QueryError) as e:
        parse(text)
    assert isinstance(e.value, ValueError)
    assert (e.value.term, e.value.message) == (term, message)
    assert str(e.value) == f"{term}: {message}"


_PIECES = st.sampled_from(["a", "B", "4", "x", " ", ":", ",", '"', "\\", "-", "é"])


@given(
    st.lists(
        st.tuples(st.sampled_from(["", "-", "cause:", "-id:", "trunk:"]), st.text(_PIECES)),
        max_size=4,
    )
)
def test_the_canonical_text_parses_back_to_the_same_query(parts):
    text = " ".join(head + body for head, body in parts)
    try:
        q = parse(text)
    except QueryError:
        return
    assert parse(str(q)) == q
    assert str(parse(str(q))) == str(q)


# --- matching over the simulator's records -------------------------------------------------------


def _nk(n: str | None) -> str:
    return (n or "").removeprefix("sip:").lstrip("+")


def _has(text: str | None, needle: str) -> bool:
    return text is not None and needle in text.lower()


def _anywhere(c: Call, needle: str) -> bool:
    """A bare word's reach: the ids, the numbers, the trunk and the cause."""
    fields = (c.id, c.sip_call_id, c.parent_id, c.from_, c.to, c.trunk, c.cause)
    return any(_has(h, needle) for h in fields)


MATCHES: list[tuple[str, Callable[[Call], bool]]] = [
    ("", lambda c: True),
    ("account:demo-restcomm", lambda c: c.account == "demo-restcomm"),
    ("account:DEMO-PLIVO,demo-jambonz", lambda c: c.account in ("demo-plivo", "demo-jambonz")),
    ("provider:tmedia", lambda c: c.provider == "tmedia"),
    ("provider:plivo,jambonz", lambda c: c.provider in ("plivo", "jambonz")),
    ("to:+44", lambda c: _nk(c.to).startswith("44")),
    ("to:44,1", lambda c: _nk(c.to).startswith(("44", "1"))),
    ("from:+7", lambda c: _nk(c.from_).startswith("7")),
    ("trunk:nap_pbx_hq", lambda c: c.trunk == "NAP_PBX_HQ"),
    ("trunk:telnyx,NAP_CARRIER_A", lambda c: c.trunk in ("telnyx", "NAP_CARRIER_A")),
    ("sip:486", lambda c: final_sip(c) == 486),
    ("sip:4xx", lambda c: 400 <= (final_sip(c) or 0) < 500),
    ("sip:5xx,600", lambda c: (final_sip(c) or 0) // 100 == 5 or final_sip(c) == 600),
    ("-sip:4xx", lambda c: not 400 <= (final_sip(c) or 0) < 500),
    ("cause:hungup", lambda c: _has(c.cause, "hungup")),
    ('cause:"called party"', lambda c: _has(c.cause, "called party")),
    ("cause:BUSY,timeout", lambda c: _has(c.cause, "busy") or _has(c.cause, "timeout")),
    ("outcome:no-answer", lambda c: c.outcome is Outcome.NO_ANSWER),
    ("outcome:busy,cancelled", lambda c: c.outcome in (Outcome.BUSY, Outcome.CANCELLED)),
    ("-outcome:answered", lambda c: c.outcome is not Outcome.ANSWERED),
    ("dir:in", lambda c: c.direction == "inbound"),
    ("dir:outbound", lambda c: c.direction == "outbound"),
    ("dur:<5", lambda c: c.duration_s is not None and c.duration_s < 5),
    ("dur:>=60", lambda c: c.duration_s is not None and c.duration_s >= 60),
    ("dur:0", lambda c: c.duration_s == 0),
    ("dur:<=2,>100", lambda c: c.duration_s is not None and not 2 < c.duration_s <= 100),
    ("mos:<3.5", lambda c: c.mos is not None and c.mos < 3.5),
    ("-mos:<3.5", lambda c: c.mos is None or c.mos >= 3.5),
    ("pdd:>2", lambda c: (pdd_s(c) or 0) > 2),
    ("pdd:<=1,>=4", lambda c: (p := pdd_s(c)) is not None and (p <= 1 or p >= 4)),
    ("country:GB", lambda c: country_of(c.to) == "GB"),
    ("country:de,us", lambda c: country_of(c.to) in ("DE", "US")),
    ("-country:GB", lambda c: country_of(c.to) != "GB"),
    ("nap_pbx", lambda c: _anywhere(c, "nap_pbx")),
    ("4420", lambda c: _anywhere(c, "4420")),
    ("-0x", lambda c: not _anywhere(c, "0x")),
    ('"party hungup"', lambda c: _anywhere(c, "party hungup")),
    (
        # Plivo's rtp_timeouts: connected, then failed.
        "provider:plivo dur:>10 -outcome:answered",
        lambda c: (
            c.provider == "plivo" and (c.duration_s or 0) > 10 and c.outcome is not Outcome.ANSWERED
        ),
    ),
]


@pytest.mark.parametrize(("text", "predicate"), MATCHES, ids=[t or "<empty>" for t, _ in MATCHES])
def test_a_query_keeps_what_its_predicate_keeps(calls, text, predicate):
    q = parse(text)
    kept = [c for c in calls if q.matches(c)]
    assert kept == [c for c in calls if predicate(c)]
    if text:  # each query says something of these records: it keeps some, not all
        assert 0 < len(kept) < len(calls)


def test_sip_reads_a_tmedia_legs_numeric_terminate_reason_as_its_final_status(calls):
    legs = [c for c in calls if c.provider == "tmedia" and 300 <= (c.cause_code or 0) < 700]
    assert legs
    assert all(parse(f"sip:{c.cause_code}").matches(c) for c in legs)


def test_id_is_the_id_or_the_sip_call_id_in_any_case(calls):
    call = next(c for c in calls if c.sip_call_id and c.sip_call_id != c.id)
    assert call.sip_call_id is not None
    for given_id in (call.id, call.id.upper(), call.sip_call_id):
        kept = [c for c in calls if parse(f"id:{given_id}").matches(c)]
        assert call in kept
        assert all(given_id.lower() in (c.id.lower(), (c.sip_call_id or "").lower()) for c in kept)


def test_a_country_term_parses_only_numbers_of_its_calling_code(calls):
    q = parse("country:DE")
    country_of.cache_clear()
    kept = [c for c in calls if q.matches(c)]
    info = country_of.cache_info()
    assert kept and all((international(c.to) or "").startswith("49") for c in kept)
    assert info.hits + info.misses == sum(
        (international(c.to) or "").startswith("49") for c in calls
    )


def test_a_country_term_keeps_the_numbers_written_without_a_plus(calls):
    """Tmedia and jambonz write E.164 without its `+` (442098975505): London is GB all the same."""
    kept = {(c.account, c.id) for c in calls if parse("country:GB").matches(c)}
    for provider in ("tmedia", "jambonz"):
        london = [c for c in calls if c.provider == provider and (c.to or "").startswith("4420")]
        assert london and not any((c.to or "").startswith("+") for c in london)
        assert all((c.account, c.id) in kept for c in london)


def test_phonenumbers_is_loaded_by_a_country_term_only():
    code = (
        "import sys\n"
        "from calltui.query import parse\n"
        "parse('sip:4xx dur:<5 to:+44 busy')\n"
        "before = 'phonenumbers' in sys.modules\n"
        "parse('country:GB')\n"
        "print(before, 'phonenumbers' in sys.modules, 'textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "False"]


# --- numbers -------------------------------------------------------------------------------------

COUNTRIES = [
    ("+44 20 7946 0018", "GB"),
    ("+442079460018", "GB"),
    ("+1 415 555 0100", "US"),
    ("+1-416-555-0100", "CA"),
    ("+49 30 1234567", "DE"),
    ("+33 1 42 68 53 00", "FR"),
    ("+44 1481 710000", "GG"),  # +44 is shared: the number's plan tells Guernsey from GB
    ("+1 555 000", "US"),  # fits no plan of +1: the code's main region stands for it
    ("sip:+442079460018@sbc.example.net;user=phone", "GB"),
    ("tel:+4930123456", "DE"),
    ("+800 1234 5678", None),  # a calling code of no country
    ("+999 123", None),  # no such calling code
    # Without +: 11 to 15 digits are E.164 without it (Tmedia's, jambonz's); fewer, or a
    # leading 0, a national format whose nation the number does not say.
    ("442098975505", "GB"),
    ("+442098975505", "GB"),
    ("12025550123", "US"),
    ("2025550123", None),
    ("sip:4930123456789@sbc.example.net", "DE"),
    ("44 20 7946 0018", "GB"),
    ("1234567890123456", None),  # 16 digits: longer than any E.164 number
    ("02079460018", None),
    ("00442079460018", None),
    ("alice", None),
    ("sip:alice@example.net", None),
    ("+44abc", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("number", "country"), COUNTRIES)
def test_the_country_of_a_number(number, country):
    assert country_of(number) == country


def test_calling_codes():
    assert calling_code("gb") == "44"
    assert calling_code("US") == "1"
    assert calling_code("XX") is None
    assert calling_code("001") is None
    assert calling_code_of("+44 20 7946") == "44"
    assert calling_code_of("+14155550100") == "1"
    assert calling_code_of("+3531234") == "353"
    assert calling_code_of("+999") is None
    assert calling_code_of("4420") is None
    assert calling_code_of("442079460018") == "44"


INTERNATIONAL = [
    ("+442079460018", "442079460018"),
    ("+44 20 7946-0018", "442079460018"),
    (" +1.415.555.0100 ", "14155550100"),
    ("sip:+4930123@sbc.example.net:5060;user=phone", "4930123"),
    ("SIPS:+4930123@sbc.example.net", "4930123"),
    ("tel:+4930123;phone-context=example.net", "4930123"),
    ("442079460018", "442079460018"),
    ("sip:14155550100@sbc.example.net", "14155550100"),
    ("4930123456", None),
    ("02079460018", None),
    ("+44abc", None),
    ("+４４", None),  # full-width digits are digits to isdigit, not to a number plan
    ("４４２０７９４６００１８", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("number", "digits"), INTERNATIONAL)
def test_the_digits_of_a_number_in_international_format(number, digits):
    assert international(number) == digits


PREFIXES = [
    ("+442079460018", 4, "4420"),
    ("442079460018", 2, "44"),
    ("+44 20 7946 0018", 4, "4420"),
    ("sip:+14155550100@sbc.example.net", 4, "1415"),
    ("+12", 4, "12"),
    ("alice", 2, None),
    ("", 3, None),
    (None, 3, None),
]


@pytest.mark.parametrize(("number", "digits", "prefix"), PREFIXES)
def test_the_prefix_of_a_number(number, digits, prefix):
    assert prefix_of(number, digits) == prefix


def test_a_prefix_has_a_digit_at_least():
    with pytest.raises(ValueError):
        prefix_of("+4420", 0)
