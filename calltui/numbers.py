"""Destination numbers as the query language and the groupings read them: the
country of a number (`country:GB`, `stats --by country`) and its first digits (`prefix:N`).

A country is told only from a number in international format: written with `+`
(`+44 20 7123 4567`, `sip:+4420...@host`, `tel:+44...`), or all digits, 11 to 15 of them and the
first not 0 (`442071234567`, `sip:442071234567@host`), read as E.164 without its `+` (as Tmedia
and jambonz write every number). A number of 10 digits or fewer without `+` (`2025550123`), or
one starting with 0 (a trunk or international prefix: `020...`, `0044...`), is in some national
format, and which nation's is not in the number (calltui knows no account's home region), so its
country is None. The rule can misread a national number of 11 digits or more (a Chinese mobile,
`138...`): it reads as the country of its first digits.

phonenumbers (installed as `phonenumberslite`: the same parser and metadata without the
geocoder, carrier and time-zone data, 5 MB on disk against 48 MB; import time and memory are the
same) is imported on first use: about 22 ms and 3 MB that a session never asking for a country
does not pay.
"""

from __future__ import annotations

import functools

_SCHEMES = frozenset({"sip", "sips", "tel"})
_SEPARATORS = str.maketrans("", "", " -.")
"""What E.123 and the providers write between a number's digits (`+44 20 7123 4567`)."""
_BARE_E164 = range(11, 16)
"""The lengths of a number without `+` read as E.164 all the same: a national number is 10
digits or fewer in most plans (NANP 10; GB 10 after its trunk 0, which rules it out anyway),
E.164 at most 15."""
_NON_GEOGRAPHIC = "001"
"""phonenumbers' region for the calling codes of no country (+800, +881...): not ISO 3166."""


def _user_part(number: str) -> str:
    """The number of a SIP or tel URI (`sip:+4420...@host;user=phone` → `+4420...`), else the
    number itself, stripped."""
    s = number.strip()
    scheme, colon, rest = s.partition(":")
    if colon and scheme.lower() in _SCHEMES:
        s = rest
    return s.split("@", 1)[0].split(";", 1)[0]


def _digits(s: str) -> str | None:
    """`s` without its separators where that leaves only digits (ASCII: `isdigit` alone lets
    other scripts' digits through), else None (a SIP user name, not a number)."""
    digits = s.translate(_SEPARATORS)
    return digits if digits.isascii() and digits.isdigit() else None


def international(number: str | None) -> str | None:
    """The digits of a number in international format, after its `+` (`sip:+44 20...@host` →
    `4420...`) or without one (`442071234567`: see the module's docstring), else None. Cheap
    (no parse): a query tests the calling code on it before the dearer `country_of`."""
    if not number:
        return None
    if number.isascii():  # plain digits, most records: a sixth of the cost of the general way
        if number[:1] == "+" and number[1:].isdigit():
            return number[1:]
        if number.isdigit():
            return number if _bare_e164(number) else None
    s = _user_part(number)
    if s.startswith("+"):
        return _digits(s[1:])
    digits = _digits(s)
    return digits if digits is not None and _bare_e164(digits) else None


def _bare_e164(digits: str) -> bool:
    return len(digits) in _BARE_E164 and digits[0] != "0"


@functools.cache
def _regions_by_code() -> dict[str, tuple[str, ...]]:
    """Each country calling code (as digits) → its regions, the main one first."""
    import phonenumbers

    return {str(code): tuple(r) for code, r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()}


def _calling_code(digits: str) -> str | None:
    regions = _regions_by_code()
    # E.164 calling codes are 1 to 3 digits and prefix-free: the first one found is the code.
    for n in (1, 2, 3):
        if digits[:n] in regions:
            return digits[:n]
    return None


def calling_code_of(number: str | None) -> str | None:
    """The country calling code of a number in international format (`+4420...` → `44`), else
    None (not in that format, or no such code)."""
    digits = international(number)
    return None if digits is None else _calling_code(digits)


def calling_code(region: str) -> str | None:
    """The calling code of an ISO 3166 region (`GB` → `44`, any case), None for a region
    phonenumbers does not know."""
    import phonenumbers

    code = phonenumbers.country_code_for_region(region.upper())
    return str(code) if code else None


@functools.lru_cache(maxsize=1 << 16)
def country_of(number: str | None) -> str | None:
    """The ISO 3166 region (`GB`) of a number in international format, else None.

    A calling code of one country gives it without a parse (as phonenumbers itself does). A
    code shared by several (+1, +7, +44, +61...) needs the number parsed against each region's
    plan, about 50 µs, hence the cache (destinations repeat); where the digits fit no plan (a
    made-up or mistyped number) the code's main region (US, RU, GB, AU...) stands for it: the
    destination is still in that numbering area, which is what a NOC groups by."""
    digits = international(number)
    code = None if digits is None else _calling_code(digits)
    if digits is None or code is None:
        return None
    regions = _regions_by_code()[code]
    if regions[0] == _NON_GEOGRAPHIC:
        return None
    if len(regions) == 1:
        return regions[0]
    import phonenumbers

    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + digits, None))
    except phonenumbers.NumberParseException:  # too short or too long for any plan
        region = None
    return region or regions[0]


def prefix_of(number: str | None, digits: int) -> str | None:
    """The first `digits` digits of a number (`+4420 7123` → `4420` for 4), a leading `+` and a
    URI scheme ignored as `--to` does; the whole number where it is shorter; None where it is
    not a number (absent, a SIP user name)."""
    if digits < 1:
        raise ValueError(f"a prefix has at least one digit, not {digits}")
    if not number:
        return None
    whole = _digits(_user_part(number).lstrip("+"))
    return whole[:digits] if whole else None
