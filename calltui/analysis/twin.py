"""A good call beside a bad one: the answered call most like a call that did not answer.

    pick(call, candidates) -> Call | None
    settled(call, twin, span) -> bool
    compare(this, twin) -> Twin

The twin of a call that did not answer is an answered call of the same account that started
within WINDOW of it in the same direction (where both say) and went to the same destination
prefix (at least MIN_PREFIX digits).
Among those, first the calls on the same trunk (failing that, any of the account), then the
nearest window first (SPANS: 2 minutes, 10 minutes, then the hour either side), then in it the
longest shared prefix (the most specific route), then the nearest in start time. A call a
minute away is the better yardstick for what the route did then than one an hour away with a
longer prefix; and the calls around a call can be asked for window by window, stopping at the
first that holds a twin on its trunk (`settled`).

The differences are the fields that differ, each as [this call's value, the twin's], from
what the records and their drill-downs hold:
- the record's own: trunk, direction, SIP status, cause and its code;
- what the verdict reads: post-dial delay, the provider's reason, who hung up;
- the trunks of the call's legs in order (the two NAPs of a Tmedia call), the hosts named in
  its SIP flow (`sip:user@host`, the host of its Call-ID) and the codecs of its SDP (`NAME/RATE`
  in its call traces, events or span attributes);
- the provider's own scalar fields (a Tmedia route, a Plivo transport), but for those that
  tell one call from any other (ids, numbers and their countries, times, durations, money,
  links), those that say it answered (the twin did, by choice), and those that repeat a
  difference already listed (a jambonz sip_status is the SIP status).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from calltui.analysis import cause
from calltui.analysis.verdict import verdict
from calltui.model import Call, CallDetail, Outcome, number_key

WINDOW = timedelta(hours=1)
SPANS = (timedelta(minutes=2), timedelta(minutes=10), WINDOW)
"""The windows either side of a call, nearest first: a twin in one beats any further away."""
MIN_PREFIX = 4

_CODEC = re.compile(r"(?<![\w/.-])([A-Za-z][A-Za-z0-9.-]*/\d{4,6})(?![\w/])")
_SIP_HOST = re.compile(r"sips?:[^@\s<>;]*@([A-Za-z0-9.\-\[\]:]+?)(?::\d+)?(?=[\s>;]|$)")
# Fields of a provider's record that differ between any two calls: they tell nothing.
_PER_CALL = re.compile(
    r"(^|_)(id|sid|uuid|uri|url|events|recordings|transcriptions|callback\w*)$"
    r"|callid|call_id|leg_id|_sid$|time|date|_at$|duration|amount|price|cost|rate$|mos"
    r"|quality|^(from|to|calling|called|caller_name|forwarded_from)(_country)?$|number|instance",
    re.IGNORECASE,
)
# Fields that differ because of how the twin is chosen (it answered): they tell nothing either.
_CHOSEN = re.compile(r"^(answered|status|state|call_status|outcome)$", re.IGNORECASE)


@dataclass(slots=True)
class Twin:
    call: Call
    differences: dict[str, list[Any]]
    basis: str = "on the same trunk"
    """Where it was found, in words: on the call's trunk, or failing that its account's."""

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.call.account, "id": self.call.id, "differences": self.differences}


def wanted(call: Call) -> bool:
    """Whether a call gets a twin: it ended without an answer."""
    return not cause.answered(call) and call.outcome not in (
        Outcome.IN_PROGRESS,
        Outcome.UNKNOWN,
    )


def digits(number: str | None) -> str:
    """The leading digits of a number as --to compares it (`+`, `sip:` ignored)."""
    key = number_key(number)
    out = []
    for ch in key:
        if not ch.isdigit():
            break
        out.append(ch)
    return "".join(out)


def shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def pick(call: Call, candidates: Iterable[Call]) -> Call | None:
    """The twin of `call` among `candidates` (module docstring), or None."""
    if not wanted(call) or call.started_at is None:
        return None
    to = digits(call.to)
    if len(to) < MIN_PREFIX:
        return None
    best: tuple[tuple[int, int, int, float, str], Call] | None = None
    for c in candidates:
        if c.account != call.account or c.id == call.id or c.started_at is None:
            continue
        if c.outcome is not Outcome.ANSWERED:
            continue
        if call.direction and c.direction and c.direction != call.direction:
            continue  # another way round is another route: no yardstick
        apart = abs((c.started_at - call.started_at).total_seconds())
        shared = shared_prefix(to, digits(c.to))
        if apart > WINDOW.total_seconds() or shared < MIN_PREFIX:
            continue
        same_trunk = call.trunk is not None and c.trunk == call.trunk
        window = next(i for i, span in enumerate(SPANS) if apart <= span.total_seconds())
        key = (0 if same_trunk else 1, window, -shared, apart, c.id)
        if best is None or key < best[0]:
            best = (key, c)
    return None if best is None else best[1]


def settled(call: Call, twin: Call | None, span: timedelta) -> bool:
    """Whether `twin`, picked among candidates that hold every call within `span` of `call`,
    is its twin whatever lies further: it is within `span`, and on the call's trunk (or the
    call names none), so nothing further away can come first."""
    if twin is None or call.started_at is None or twin.started_at is None:
        return False
    near = abs(twin.started_at - call.started_at) <= span
    return near and (call.trunk is None or twin.trunk == call.trunk)


def compare(this: CallDetail | Call, twin: CallDetail | Call) -> Twin:
    """The fields in which `this` and `twin` differ (drill-downs where known, else records)."""
    mine = (this.call if isinstance(this, CallDetail) else this).trunk
    chosen = twin.call if isinstance(twin, CallDetail) else twin
    if mine is None:
        basis = "of the same account (the call names no trunk)"
    elif chosen.trunk == mine:
        basis = "on the same trunk"
    else:
        basis = "of the same account (none on its trunk)"
    a, b = _facts(this), _facts(twin)
    diffs: dict[str, list[Any]] = {}
    for k in dict.fromkeys([*a, *b]):
        pair = [a.get(k), b.get(k)]
        # A field that repeats a difference already listed (Plivo's hangup_cause_code is the
        # cause code, a Tmedia cause code its SIP status) is told once, under the first name:
        # the record's own come first, the name every provider shares.
        if pair[0] != pair[1] and pair not in diffs.values():
            diffs[k] = pair
    return Twin(chosen, diffs, basis)


def _facts(x: CallDetail | Call) -> dict[str, Any]:
    detail = x if isinstance(x, CallDetail) else None
    c = x.call if isinstance(x, CallDetail) else x
    v = verdict(x)
    texts = _texts(detail) if detail is not None else []
    facts: dict[str, Any] = {
        "trunk": c.trunk,
        "direction": c.direction,
        "sip_code": cause.final_sip(c),
        "cause": c.cause,
        "cause_code": c.cause_code,
        "pdd_s": None if v.pdd_s is None else round(v.pdd_s, 1),
        "reason": v.provider_reason,
        "hangup_by": v.hangup_by,
    }
    if detail is not None and len(detail.legs) > 1:
        facts["trunks"] = " > ".join(leg.trunk or "-" for leg in detail.legs)
    hosts = _hosts(c, texts)
    facts["hosts"] = " ".join(hosts) if hosts else None
    codecs = list(dict.fromkeys(m for t in texts for m in _CODEC.findall(t)))
    facts["codecs"] = " ".join(codecs) if codecs else None
    for k, value in c.raw.items():
        if k in facts or _PER_CALL.search(k) or _CHOSEN.match(k):
            continue
        if value is None or isinstance(value, (str, int, float, bool)):
            facts[k] = value
    return facts


def _hosts(c: Call, texts: list[str]) -> list[str]:
    found = []
    if c.sip_call_id and "@" in c.sip_call_id:
        found.append(c.sip_call_id.rsplit("@", 1)[1])
    for t in texts:
        found += _SIP_HOST.findall(t)
    return sorted(dict.fromkeys(h for h in found if h))


def _texts(d: CallDetail) -> list[str]:
    """The strings of a drill-down's flow: event names and values, span attributes."""
    out: list[str] = []
    for e in d.events:
        out.append(e.name)
        out += _strings(e.data)
    for s in d.spans or []:
        out += _strings(s.attributes)
    return out


def _strings(v: object, depth: int = 0) -> list[str]:
    if isinstance(v, str):
        return [v]
    if depth > 3:
        return []
    if isinstance(v, dict):
        return [s for x in v.values() for s in _strings(x, depth + 1)]
    if isinstance(v, list):
        return [s for x in v for s in _strings(x, depth + 1)]
    return []
