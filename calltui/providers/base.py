"""What every provider adapter is: one interface, the same shape in each module.

An adapter turns a CallQuery into GET requests (only the parameters it lists in PARAMS), parses
pages into Call records and a call's drill-down into a CallDetail. Parsers are pure functions
that raise DataError on input they cannot read; the adapter turns that into BadResponseError
naming the account.

Everything else the core knows of a provider is a class attribute here, readable without an
HTTP client (registry.get(name).FLOW_VIEW): its account model (ACCOUNT, validated by config),
the commented example `config init` writes (CONFIG_EXAMPLE), its curl credentials as shell
variables (curl_auth), how its drill-down is best shown (FLOW_VIEW, FLOW_TITLE), whether it
serves a pcap (PCAP, PcapSource), and what its records say beyond the normalized fields (HINTS,
calltui.hints).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote

import httpx

from calltui.config import AccountBase
from calltui.hints import NO_HINTS, Hints
from calltui.http import BadResponseError, HttpClient, ProviderError, RateLimit, RetryPolicy
from calltui.model import Call, CallDetail, CallQuery
from calltui.providers import registry


class DataError(ValueError):
    """A provider's body that parsed as JSON but is not the shape its API promises."""


class ListingStopped(ProviderError):
    """A listing stopped before its end, for the reason given: a page that brought nothing new
    (a server that ignores paging), or a bound of the account (max_pages, max_listing_s). What
    was listed stays; asking again would only go round once more, so it is not retried."""

    kind = "stopped"


def quoted(call_id: str, max_len: int = 80) -> str:
    """An id for a message: quoted, its control characters escaped (an id may hold a line
    break, and an error is one line), a long one cut."""
    return repr(call_id if len(call_id) <= max_len else call_id[:max_len] + "…")


def segment(value: str) -> str:
    """`value` (an id a server sent) as exactly one path segment: every character but letters,
    digits and `-._~` percent-encoded, so `/`, `?`, `#`, `%`, spaces and controls stay inside
    it, and a segment of dots encoded too, which would otherwise climb out of the provider's
    path (httpx resolves `..`). A lone surrogate (JSON's `"\\ud800"`, an argument's undecodable
    byte) is no character UTF-8 can send: its code point's bytes are encoded, so the id still
    asks the server for itself, and no encoder error escapes."""
    out = quote(value, safe="", errors="surrogatepass")
    return out.replace(".", "%2E") if out.strip(".") == "" else out


@dataclass(slots=True)
class Page:
    records: list[Call]
    watermark: datetime | None
    """No later page of this stream holds a call that started after this instant (None: the
    stream has ended). The engine merges accounts newest first by these."""
    request: tuple[str, dict[str, Any]] | None = None
    """The request that fetched the page, so an evicted page can be fetched again."""


A = TypeVar("A", bound=AccountBase)

FlowView = Literal["ladder", "waterfall", "events", "items", "hangup"]
"""How the drill-down's call flow is drawn: a SIP ladder of legs (Tmedia), a span waterfall
(jambonz), a list of timed events (Bandwidth), lists of items (Restcomm recordings and
notifications), the hangup code explained with any insights (Plivo)."""


class Provider(ABC, Generic[A]):
    name: ClassVar[str]
    ACCOUNT: ClassVar[type[AccountBase]]
    """The model an `[accounts.NAME]` table of this provider is validated by."""
    CONFIG_EXAMPLE: ClassVar[str]
    """The commented-out account table `calltui config init` writes for this provider."""
    FLOW_VIEW: ClassVar[FlowView]
    FLOW_TITLE: ClassVar[str]
    """The title of the drill-down's call-flow tab."""
    PCAP: ClassVar[bool] = False
    """Whether the adapter serves SIP captures (is a PcapSource), readable from the class."""
    HINTS: ClassVar[Hints] = NO_HINTS
    CURL_AUTH: ClassVar[tuple[str, ...]] = ()
    """curl's auth arguments, each credential a `{field}` of the account (`"-u",
    "{username}:{password}"`), written by curl_auth: never a secret's value."""
    CURL_VARS: ClassVar[Mapping[str, str]] = {}
    """The shell variable curl_auth writes for a credential that the config gave as a value
    or a command; one given as `<field>_env` is written as that variable."""
    PARAMS: ClassVar[frozenset[str]]
    """Every query parameter this adapter may send; the HTTP layer refuses any other."""
    DEFAULT_BASE_URL: ClassVar[str | None] = None
    """Where the API lives when an account gives no base_url; None: every account must."""
    DEFAULT_RATE: ClassVar[RateLimit] = RateLimit(10, 1.0)
    DEFAULT_PAGE_SIZE: ClassVar[int]
    MAX_PAGE_SIZE: ClassVar[int]
    ERROR_KEYS: ClassVar[tuple[str, ...]] = ("message", "error", "msg")

    def __init__(self, account: A, http: HttpClient) -> None:
        self.account = account
        self.http = http
        self.page_size = min(account.page_size or self.DEFAULT_PAGE_SIZE, self.MAX_PAGE_SIZE)

    @classmethod
    def default_base_url(cls, account: A) -> str | None:
        """Where the API lives when the account gives no base_url."""
        return cls.DEFAULT_BASE_URL

    @classmethod
    def auth(cls, account: A) -> tuple[httpx.Auth | None, dict[str, str]]:
        """The httpx auth and any extra headers for this account."""
        raise NotImplementedError

    @classmethod
    def curl_template(cls, account: A) -> tuple[str, ...]:
        """CURL_AUTH, or what this account's kind of credential needs instead."""
        return cls.CURL_AUTH

    @classmethod
    def curl_auth(cls, account: A) -> list[str]:
        """curl's auth arguments for this account: each credential as the shell variable the
        config read it from (`password_env = "SBC_PASSWORD"` → `$SBC_PASSWORD`), a credential
        that is no secret (a user name) as itself, any other as CURL_VARS names it; an
        argument holding one is double-quoted so that the shell expands it."""
        return [_curl_arg(arg, account, cls.CURL_VARS) for arg in cls.curl_template(account)]

    @abstractmethod
    def pages(self, query: CallQuery, first: int | None = None) -> AsyncIterator[Page]:
        """Pages of calls, newest first as far as the API allows (see Page.watermark). `first`:
        the first page need hold no more than about this many calls (see page_sizes)."""

    @abstractmethod
    async def detail(self, call_id: str) -> CallDetail:
        """The drill-down of one call."""

    async def fetch_page(self, request: tuple[str, dict[str, Any]]) -> list[Call]:
        """Fetch again a page listed earlier (its Page.request)."""
        path, params = request
        try:
            return await self.http.get_json(path, params, self.parse_list)
        except DataError as e:
            raise self.bad(e, path) from None

    def parse_list(self, body: Any) -> list[Call]:
        """A list body → records; subclasses override to read their envelope."""
        raise NotImplementedError

    def request_for(self, call: Call) -> tuple[str, dict[str, Any]]:
        """The API request behind one call's record (for 'copy as curl')."""
        raise NotImplementedError

    def bad(self, e: Exception, path: str) -> BadResponseError:
        return BadResponseError(
            self.http.account, f"unexpected data: {e}"[:200], url=self.http.url_for(path)
        )

    def check_same_call(self, asked: str, call: Call, path: str) -> None:
        """A drill-down answer must be the call asked for: a server (or a cache in front of
        it) that answers another one would show that call under this one's name."""
        if call.id.casefold() != asked.casefold():
            raise BadResponseError(
                self.http.account,
                f"asked for call {quoted(asked)}, the server answered call {quoted(call.id)}",
                url=self.http.url_for(path),
            )

    def repeated(self, page: int) -> ListingStopped:
        """The error of a listing whose page `page` (from 1) held only calls listed already."""
        return ListingStopped(
            self.http.account,
            f"stopped at page {page}: it holds only calls listed already "
            "(the server ignores paging?)",
        )

    async def aclose(self) -> None:
        await self.http.aclose()


@runtime_checkable
class PcapSource(Protocol):
    """An adapter that fetches a call's SIP capture (its class says PCAP = True)."""

    async def pcap(self, sip_call_id: str) -> bytes:
        """The capture (pcap or pcapng bytes) of the call with this SIP Call-ID."""
        ...


def page_sizes(size: int, first: int | None = None) -> Iterator[int]:
    """The sizes of successive pages of a listing that pages by number. `size` throughout, or,
    given `first` (the TUI: its first screen should not wait for a page of 1000), a first page
    of size/2^k, the smallest such at least `first`, then that again and doubling up to `size`:
    125, 125, 250, 500, 1000, 1000... Each page then starts at a multiple of its own size
    (0, 125, 250, 500, 1000, 2000), so its number is exactly offset // size; the ramp costs k
    more requests than pages of `size` all along."""
    s = size
    while first is not None and s % 2 == 0 and s // 2 >= first:
        s //= 2
    yield s
    while True:
        yield s
        s = min(2 * s, size)


def open_provider(
    account: AccountBase,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> Provider[Any]:
    """An adapter with its own HTTP client, configured from the account and the provider's
    documented defaults."""
    cls: type[Provider[Any]] = registry.get(account.provider)
    auth, headers = cls.auth(account)
    base = account.base_url or cls.default_base_url(account)
    if base is None:  # config validation makes this unreachable for real configs
        raise ValueError(f"{account.name}: base_url is required")
    rate = RateLimit.per_second(account.rate_limit) if account.rate_limit else cls.DEFAULT_RATE
    verify: bool | str = account.ca_bundle or account.verify_tls
    http = HttpClient(
        account=account.name,
        base_url=base,
        allowed_params=cls.PARAMS,
        auth=auth,
        headers=headers,
        timeout_s=account.timeout_s,
        verify=verify,
        rate_limit=rate,
        max_concurrency=account.max_concurrency,
        retry=retry or RetryPolicy(),
        transport=transport,
        error_keys=cls.ERROR_KEYS,
        secrets=account.secrets(),
    )
    return cls(account, http)


_FIELD = re.compile(r"\{(\w+)\}")
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _curl_arg(arg: str, account: AccountBase, defaults: Mapping[str, str]) -> str:
    fields = _FIELD.findall(arg)
    if not fields:
        return arg
    values: dict[str, str] = {}
    for field in fields:
        var = account.secret_vars.get(field, "")
        value = getattr(account, field, None)
        if _SHELL_NAME.fullmatch(var):
            values[field] = f"${var}"
        elif isinstance(value, str):  # given in the clear: no secret
            values[field] = re.sub(r'([\\"$`])', r"\\\1", value)
        else:
            values[field] = f"${defaults[field]}"
    return '"' + arg.format(**values) + '"'
