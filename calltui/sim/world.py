"""The simulator's data: one deterministic world of calls across all five providers.

Calls are generated per hour of wall-clock time and per provider from (seed, hour, provider)
alone, so any process with the same seed sees the same calls at the same instant (`--demo` and
`calltui simulate` agree), the data never shifts as time passes, and new calls appear as the
clock moves (a live tail has something to show). Only the hours and providers a request touches
are generated, then cached. The incident below is the one thing a world's clock changes: on the
same fixed clock processes agree on it too.

In hostile mode (`--faults hostile`) every call carries strings of the hostile corpus in its
numbers, SIP reason and SIP Call-ID, so each provider's simulator serves them in its own wire
format: Tmedia `calling`/`called`/`call_id` and call flow tooltips, Plivo `from_number`/
`to_number`/`call_id`, Bandwidth `from`/`to`, Restcomm `from`/`to`/`caller_name` and
notification texts, jambonz `from`/`to`/`sip_callid` (the record id of a call without call_sid).

The incident, so the demo has something to triage: from INCIDENT_LEAD before the
world's clock (a fixed clock; on the wall clock, before the world was made, so the start stays
put while the demo runs) until that clock, INCIDENT_ODDS of the calls to London (+44 20, the big
route of Tmedia, Plivo and jambonz, each on a trunk of its own: `to_london`) fail with SIP 503 /
Q.850 34. The hours are generated as always, then the world overrides the calls of its window
that the incident fails, each decided from the call's own key: everything else is as drawn. A
call handed on (Plivo → jambonz → Tmedia) goes with its first call: the whole chain fails, the
503 coming back from Tmedia's London peer, or none of it does. A B leg whose A leg failed is
gone (it was never dialed). Hostile mode has no incident (its numbers are the corpus's).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from calltui.sim.hostile import CORPUS, Hostile

HOUR = 3600
RETENTION_DAYS = 7
PROVIDERS: dict[str, int] = {
    "tmedia": 70,
    "plivo": 160,
    "bandwidth": 60,
    "restcomm": 50,
    "jambonz": 90,
}
"""The simulator's registry: each simulated provider (its module calltui.sim.<name> serves it
and holds its demo account) and the calls it originates per hour at the day's peak."""

# (outcome, weight, [(sip_code, q850, reason), ...]) — a carrier-realistic mix.
_OUTCOMES: list[tuple[str, int, list[tuple[int, int, str]]]] = [
    ("answered", 62, [(200, 16, "Normal call clearing")]),
    ("no_answer", 12, [(480, 18, "No user responding"), (408, 19, "No answer from user")]),
    ("busy", 8, [(486, 17, "User busy"), (600, 17, "Busy everywhere")]),
    ("cancelled", 7, [(487, 16, "Request terminated")]),
    (
        "failed",
        11,
        [
            (503, 34, "No circuit/channel available"),
            (404, 1, "Unallocated (unassigned) number"),
            (403, 21, "Call rejected"),
            (488, 65, "Bearer capability not implemented"),
            (502, 38, "Network out of order"),
            (500, 41, "Temporary failure"),
            (484, 28, "Invalid number format"),
        ],
    ),
]
_CUM_WEIGHTS = list(itertools.accumulate(w for _, w, _ in _OUTCOMES))
LONDON = "+4420"
LONDON_SHARE = {"tmedia": 0.8, "plivo": 0.7, "jambonz": 0.7}
"""Providers with a London route, and the share of their calls that go to +44 20 xxxx xxxx. As
big as a London operator's: the demo's default view holds some 7 calls a minute, and at smaller
shares the incident's rise was too faint for the onset to find its minute in most seeds.
Tmedia's is the largest, for NAP_PEER_LON's 503s to weigh as much as either other trunk's
(which of the three carries the most still varies with the seed)."""
HOME_ROUTE = {"bandwidth": ("+1919", 7, 0.4), "restcomm": ("+3314", 7, 0.4)}
"""The prefix, the digits after it and the share of the calls of the providers without a London
route: they still call one region most (a US carrier's Raleigh numbers, a French contact
centre's Paris ones), so their failed calls have answered calls to the same prefix to be set
beside (the good twin). Outside the incident, which is London's."""
_ROUTES = {**{p: (LONDON, 8, share) for p, share in LONDON_SHARE.items()}, **HOME_ROUTE}

INCIDENT_LEAD = timedelta(minutes=20)
INCIDENT_ODDS = 0.6
INCIDENT_CAUSE = (503, 34, "No circuit/channel available")
_COUNTRIES = [("1", 10), ("44", 10), ("49", 11), ("33", 9), ("7", 10), ("91", 10), ("61", 9)]
_HANGUP_BY = ("caller", "callee", "network")


@dataclass(slots=True, frozen=True)
class SimCall:
    key: str
    """Unique and stable: every wire id derives from it (see `hexid`)."""
    provider: str
    start: datetime
    answer: datetime | None
    end: datetime
    from_num: str
    to_num: str
    direction: str
    outcome: str
    sip_code: int
    q850: int
    reason: str
    hangup_by: str
    mos: float | None
    sip_call_id: str
    link: str | None
    """Calls sharing a link are one call crossing providers (Plivo → jambonz → Tmedia)."""
    pdd_ms: int
    parent: SimCall | None = None
    """The call of the same provider that dialed this one (a Restcomm <Dial>, a jambonz B leg):
    the child names it (parent_call_sid, sip_parent_callid)."""

    def hexid(self, salt: str, n: int = 32) -> str:
        return hashlib.blake2b(f"{self.key}/{salt}".encode(), digest_size=16).hexdigest()[:n]

    def uuid(self, salt: str) -> str:
        h = self.hexid(salt)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def rng(self, salt: str = "") -> random.Random:
        return random.Random(f"{self.key}/{salt}")

    def state_at(self, now: datetime) -> str:
        """`in_progress` while the call is still up at `now`, else its outcome."""
        return "in_progress" if self.end > now else self.outcome

    @property
    def duration_s(self) -> int:
        return int((self.end - self.answer).total_seconds()) if self.answer else 0

    @property
    def total_s(self) -> int:
        return int((self.end - self.start).total_seconds())


def _number(rng: random.Random) -> str:
    cc, n = rng.choice(_COUNTRIES)
    digits = n - len(cc) + 1
    # One draw per number, not one per digit: numbers were half the work of making a call.
    return f"+{cc}{rng.randrange(10**digits):0{digits}d}"


def _destination(rng: random.Random, key: str, provider: str) -> str:
    """The number called: London for LONDON_SHARE of the provider's calls (or the provider's
    HOME_ROUTE for its share), else any. The number is drawn from `rng` either way and the
    route chosen by the call's key, so a route leaves every other draw of the hour (and so
    every other field of its calls) as it is."""
    number = _number(rng)
    route = _ROUTES.get(provider)
    if route is None:
        return number
    prefix, rest, share = route
    h = int.from_bytes(hashlib.blake2b(f"{key}/london".encode(), digest_size=8).digest(), "big")
    return f"{prefix}{h % 10**rest:0{rest}d}" if (h >> 32) < share * 2**32 else number


def to_london(call: SimCall) -> bool:
    """Whether the call goes to +44 20: those leave on the provider's London trunk (Tmedia
    `NAP_PEER_LON`, calltui.sim.plivo LONDON_TRUNK_ID, jambonz `peer-lon`)."""
    return call.to_num.startswith(LONDON)


def _rate(provider: str, hour_of_day: int) -> int:
    """Calls per hour: busier in the working day, a different size per provider."""
    base = PROVIDERS[provider]
    shape = 0.35 + 0.65 * max(0.0, 1 - abs(hour_of_day - 14) / 10)
    return max(1, int(base * shape))


def _make(
    rng: random.Random, key: str, provider: str, start: datetime, link: str | None = None
) -> SimCall:
    outcome, _, causes = rng.choices(_OUTCOMES, cum_weights=_CUM_WEIGHTS)[0]
    sip_code, q850, reason = rng.choice(causes)
    pdd_ms = int(rng.uniform(300, 4500))
    answer = None
    if outcome == "answered":
        ring = rng.uniform(1.0, 18.0)
        answer = start + timedelta(seconds=ring)
        talk = rng.uniform(1, 6) if rng.random() < 0.1 else rng.lognormvariate(4.2, 0.9)
        end = answer + timedelta(seconds=min(talk, 7200))
    elif outcome == "no_answer":
        end = start + timedelta(seconds=rng.uniform(20, 60))
    elif outcome == "cancelled":
        end = start + timedelta(seconds=rng.uniform(2, 25))
    else:
        end = start + timedelta(seconds=rng.uniform(0.2, 5.0))
    mos = None
    if answer is not None:
        mos = round(rng.uniform(2.4, 3.7) if rng.random() < 0.12 else rng.uniform(3.9, 4.45), 2)
    bits = rng.getrandbits(32)
    host = ".".join(str((bits >> shift & 255) % 223 + 1) for shift in (24, 16, 8, 0))
    return SimCall(
        key=key,
        provider=provider,
        start=start,
        answer=answer,
        end=end,
        from_num=_number(rng),
        to_num=_destination(rng, key, provider),
        direction="inbound" if rng.random() < 0.55 else "outbound",
        outcome=outcome,
        sip_code=sip_code,
        q850=q850,
        reason=reason,
        hangup_by=rng.choice(_HANGUP_BY) if outcome == "answered" else "callee",
        mos=mos,
        sip_call_id=f"{rng.getrandbits(64):016x}@{host}",
        link=link,
        pdd_ms=pdd_ms,
    )


def _follow(rng: random.Random, key: str, provider: str, first: SimCall, lag_s: float) -> SimCall:
    """The same call seen by the next provider on its path, `lag_s` later."""
    shift = timedelta(seconds=lag_s)
    return SimCall(
        key=key,
        provider=provider,
        start=first.start + shift,
        answer=first.answer + shift if first.answer else None,
        end=first.end + shift - timedelta(milliseconds=rng.randint(50, 400)),
        from_num=first.from_num,
        to_num=first.to_num,
        direction=first.direction,
        outcome=first.outcome,
        sip_code=first.sip_code,
        q850=first.q850,
        reason=first.reason,
        hangup_by=first.hangup_by,
        mos=None if first.mos is None else round(min(4.5, first.mos + rng.uniform(-0.1, 0.1)), 2),
        sip_call_id=f"{rng.getrandbits(64):016x}@10.0.0.9",
        link=first.link,
        pdd_ms=max(100, first.pdd_ms - int(lag_s * 1000)),
    )


DIALS_OUT = {"restcomm": 0.35, "jambonz": 0.35}
"""Providers whose answered inbound calls may dial a second leg, and how often."""


def _dialed(parent: SimCall) -> SimCall | None:
    """The outbound leg an answered inbound call dialed, if it did: started once the call was
    answered, ringing a few seconds, then bridged to it until it ended. Drawn from a generator
    of its own, so the other calls of the hour stay as they are."""
    odds = DIALS_OUT.get(parent.provider)
    if odds is None or parent.direction != "inbound" or parent.answer is None:
        return None
    if parent.end - parent.answer < timedelta(seconds=12):
        return None
    rng = random.Random(f"{parent.key}/dial")
    if rng.random() >= odds:
        return None
    lag = (parent.answer - parent.start).total_seconds() + rng.uniform(0.3, 2.0)
    leg = _follow(rng, f"{parent.key}/dial", parent.provider, parent, lag)
    return dataclasses.replace(
        leg,
        answer=leg.start + timedelta(seconds=rng.uniform(1.0, 8.0)),
        end=parent.end - timedelta(milliseconds=rng.randint(50, 400)),
        direction="outbound",
        from_num=parent.to_num,
        to_num=_number(rng),
        parent=parent,
    )


@lru_cache(maxsize=4096)
def _own_calls(seed: int, hour: int, provider: str) -> tuple[SimCall, ...]:
    """The calls `provider` itself originates in hour `hour`: from (seed, hour, provider) alone,
    so a provider's hours cost nothing for the others (a first page of Bandwidth, which has no
    time filter, reaches back a day)."""
    rng = random.Random(f"calltui-sim/{seed}/{hour}/{provider}")
    t0 = datetime.fromtimestamp(hour * HOUR, tz=timezone.utc)
    out: list[SimCall] = []
    for i in range(_rate(provider, hour % 24)):
        start = t0 + timedelta(seconds=rng.uniform(0, HOUR))
        call = _make(rng, f"{seed}/{hour}/{provider}/{i}", provider, start)
        if provider == "plivo" and call.direction == "inbound" and rng.random() < 0.15:
            # A trunk call handed on to jambonz, which sends it to a Tmedia box.
            call = dataclasses.replace(call, link=f"{seed}/{hour}/link/{i}")
        out.append(call)
        leg = _dialed(call)
        if leg is not None:
            out.append(leg)
    return tuple(out)


@lru_cache(maxsize=512)
def _handed_on(seed: int, hour: int) -> dict[str, tuple[SimCall, ...]]:
    """The jambonz and Tmedia legs of the Plivo calls of hour `hour` that were handed on."""
    out: dict[str, list[SimCall]] = {"jambonz": [], "tmedia": []}
    for first in _own_calls(seed, hour, "plivo"):
        if first.link is None:
            continue
        rng = random.Random(first.link)
        j = _follow(rng, f"{first.link}/jambonz", "jambonz", first, rng.uniform(0.3, 1.5))
        t = _follow(rng, f"{first.link}/tmedia", "tmedia", j, rng.uniform(0.2, 1.0))
        out["jambonz"].append(j)
        out["tmedia"].append(dataclasses.replace(t, sip_call_id=j.sip_call_id))
    return {p: tuple(v) for p, v in out.items()}


@lru_cache(maxsize=2048)
def hour_calls(seed: int, hour: int, provider: str) -> tuple[SimCall, ...]:
    """Every call of `provider` that started in hour `hour` (epoch seconds // 3600), or was
    handed on to it from a call that did, sorted by start time ascending."""
    calls = _own_calls(seed, hour, provider)
    if provider in ("jambonz", "tmedia"):
        calls += _handed_on(seed, hour)[provider]
    return tuple(sorted(calls, key=lambda c: c.start))


def _hit(call: SimCall, since: datetime) -> random.Random | None:
    """The incident's draws for a call it fails (its first: the odds, spent), else None."""
    if call.start < since or not to_london(call):
        return None
    rng = call.rng("incident")
    return rng if rng.random() < INCIDENT_ODDS else None


def _failed(call: SimCall, end: datetime) -> SimCall:
    sip_code, q850, reason = INCIDENT_CAUSE
    return dataclasses.replace(
        call,
        outcome="failed",
        sip_code=sip_code,
        q850=q850,
        reason=reason,
        answer=None,
        end=end,
        mos=None,
        hangup_by="callee",
    )


@lru_cache(maxsize=64)
def _incident_failures(seed: int, hour: int, since: datetime) -> dict[str, SimCall]:
    """The calls of hour `hour` that the incident from `since` fails, by key."""
    out: dict[str, SimCall] = {}
    for provider in LONDON_SHARE:
        for c in _own_calls(seed, hour, provider):
            rng = None if c.link else _hit(c, since)  # chains below, as one
            if rng is not None:
                out[c.key] = _failed(c, c.start + timedelta(seconds=rng.uniform(0.1, 2.0)))
    handed = _handed_on(seed, hour)
    firsts = [c for c in _own_calls(seed, hour, "plivo") if c.link]
    for first, j, t in zip(firsts, handed["jambonz"], handed["tmedia"], strict=True):
        rng = _hit(first, since)
        if rng is None:
            continue
        # The 503 comes from Tmedia's London peer, the last hop; jambonz, then Plivo pass it on.
        t_end = t.start + timedelta(seconds=rng.uniform(0.1, 2.0))
        j_end = t_end + timedelta(milliseconds=rng.randint(10, 120))
        out[t.key] = _failed(t, t_end)
        out[j.key] = _failed(j, j_end)
        out[first.key] = _failed(first, j_end + timedelta(milliseconds=rng.randint(10, 120)))
    return out


@lru_cache(maxsize=256)
def _incident_hour(seed: int, hour: int, provider: str, since: datetime) -> tuple[SimCall, ...]:
    """`hour_calls` with the incident from `since`: its failures in place, and no B leg of an
    A leg it failed (a call that failed dialed nothing)."""
    failing = _incident_failures(seed, hour, since)
    return tuple(
        failing.get(c.key, c)
        for c in hour_calls(seed, hour, provider)
        if c.parent is None or c.parent.key not in failing
    )


# Providers whose simulator writes some fields outside JSON: jambonz puts numbers, reason and
# Call-ID into the SIP text of a pcap (UTF-8, one UDP datagram each), Restcomm answers XML when
# asked. They get no value a UTF-8 text cannot hold, and jambonz none too long for a datagram.
_TEXT_WIRE = frozenset({"jambonz", "restcomm"})
_DATAGRAM_WIRE = frozenset({"jambonz"})
LONG_EVERY = 40
"""One call in this many (per provider and hour) has a bulky number (100,000 characters)."""


def _pool(provider: str) -> tuple[Hostile, ...]:
    return tuple(h for h in CORPUS if not h.bulky and (h.text_safe or provider not in _TEXT_WIRE))


_POOLS = {p: _pool(p) for p in PROVIDERS}
# The jambonz simulator takes the remote host from what follows the first `@` of a Call-ID.
_CALL_ID_POOLS = {p: tuple(h for h in pool if "@" not in h.value) for p, pool in _POOLS.items()}
_BULKY = tuple(h for h in CORPUS if h.bulky)


def _spoil(call: SimCall, index: int) -> SimCall:
    """The call with hostile strings in its numbers, reason and Call-ID. Each field takes the
    corpus at a different offset, so over an hour every string shows in every field."""
    pool, ids = _POOLS[call.provider], _CALL_ID_POOLS[call.provider]
    from_num = pool[index % len(pool)].value
    if index % LONG_EVERY == 0 and call.provider not in _DATAGRAM_WIRE:
        from_num = _BULKY[index // LONG_EVERY % len(_BULKY)].value
    host = call.sip_call_id.partition("@")[2]
    return dataclasses.replace(
        call,
        from_num=from_num,
        to_num=pool[(index + 7) % len(pool)].value,
        reason=pool[(index + 13) % len(pool)].value,
        sip_call_id=f"{ids[(index + 19) % len(ids)].value}@{host}",
    )


@lru_cache(maxsize=2048)
def hostile_hour_calls(seed: int, hour: int, provider: str) -> tuple[SimCall, ...]:
    """`hour_calls` with the hostile corpus injected (see `_spoil`)."""
    return tuple(_spoil(c, i) for i, c in enumerate(hour_calls(seed, hour, provider)))


class World:
    """The calls of one seed as seen at a moment: fixed (`now`) or the wall clock; in hostile
    mode, with the hostile corpus in their fields."""

    def __init__(self, seed: int = 1, now: datetime | None = None, hostile: bool = False) -> None:
        self.seed = seed
        self.fixed_now = now
        self.hostile = hostile
        self.incident_start = self.now() - INCIDENT_LEAD
        """The incident runs from here until the clock (module docstring)."""
        self._index: dict[tuple[str, Callable[[SimCall], str], int], dict[str, SimCall]] = {}

    def now(self) -> datetime:
        if self.fixed_now is not None:
            return self.fixed_now
        return datetime.now(timezone.utc).replace(microsecond=0)

    def _hours_back(
        self, provider: str, newest: datetime, oldest: datetime
    ) -> Iterator[tuple[int, tuple[SimCall, ...]]]:
        """Each hour's calls of `provider`, from the hour of `newest` back to the hour before
        that of `oldest`: a call handed on late in an hour is generated with that hour but may
        start in the next."""
        generate = hostile_hour_calls if self.hostile else hour_calls
        incident = not self.hostile and provider in LONDON_SHARE
        since = self.incident_start
        for h in range(int(newest.timestamp()) // HOUR, int(oldest.timestamp()) // HOUR - 2, -1):
            if incident and (h + 1) * HOUR > since.timestamp():
                yield h, _incident_hour(self.seed, h, provider, since)
            else:
                yield h, generate(self.seed, h, provider)

    def calls(
        self, provider: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[SimCall]:
        """Calls of `provider` that started in [start, end] and by now, newest first."""
        now = self.now()
        oldest = now - timedelta(days=RETENTION_DAYS)
        lo = max(start, oldest) if start else oldest
        hi = min(end, now) if end else now
        if hi < lo:
            return []
        out: list[SimCall] = []
        for _, hour in self._hours_back(provider, hi, lo):
            out.extend(c for c in hour if lo <= c.start <= hi)
        out.sort(key=lambda c: c.start, reverse=True)
        return out

    def newest(self, provider: str, wanted: int) -> list[SimCall]:
        """The newest `wanted` calls of `provider` or more (all of them if there are fewer),
        newest first: for lists with no time bounds, whose first page should not cost a week
        of calls. Hours are taken back from now until they hold enough, and one more (a call
        of the hour before may start in the last one taken)."""
        now = self.now()
        oldest = now - timedelta(days=RETENTION_DAYS)
        out: list[SimCall] = []
        enough = False
        for _, hour in self._hours_back(provider, now, oldest):
            out.extend(c for c in hour if oldest <= c.start <= now)
            if enough:
                break
            enough = len(out) >= wanted
        out.sort(key=lambda c: c.start, reverse=True)
        return out

    def lookup(self, provider: str, id_of: Callable[[SimCall], str], wanted: str) -> SimCall | None:
        """The visible call of `provider` whose wire id (`id_of`) is `wanted`. Hours are
        searched newest first and each indexed once: finding a recent call costs an hour or
        two of calls, not a week of them."""
        now = self.now()
        oldest = now - timedelta(days=RETENTION_DAYS)
        for h, hour in self._hours_back(provider, now, oldest):
            index = self._index.get((provider, id_of, h))
            if index is None:
                index = self._index[(provider, id_of, h)] = {id_of(c): c for c in hour}
            call = index.get(wanted)
            if call is not None:
                return call if oldest <= call.start <= now else None
        return None
