"""A hostile server (issue 13): what it sends must not steer calltui's requests, leak the
credentials it was sent, keep a listing going forever, hide the page a bad link came with, pass
impossible values off as data, or be followed where it redirects. Every test runs over HTTP
against the simulator, behind a small ASGI layer that makes it hostile where it needs to be
(`Hostile`), or against a tiny ASGI app of its own; on a socket where the CLI runs.

- ids from a server are one path segment in every provider, whatever they hold (`../`, `%2F`,
  `?`, `#`, spaces, CR/LF, NUL), in the drill-down, the pcap and copy-as-curl, and `show` on any
  of them is one line, never a traceback;
- the read-only guard's refusal is a ProviderError: one line;
- a server that echoes the Authorization header into its records gets none of it (nor its
  base64, nor any secret) onto the screen, into `calls`/`show` output or the bundle;
- a listing stops on a page with nothing new, after max_pages pages or max_listing_s seconds
  of fetching, with one line that says why, and keeps what it listed;
- a refused Bandwidth next link keeps the page it came with;
- negative or years-long durations and calls dated 9999 are no data (the raw record keeps
  them), and a drill-down that answers another call is refused;
- a redirect is named and not followed; HTTP_PROXY and SSL_CERT_FILE are honoured, with a
  warning when credentials would reach a proxy in clear text.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

import httpx
import pytest

from calltui import handoff
from calltui.config import Settings, load_settings, parse_settings
from calltui.engine import Engine, Recovery
from calltui.http import HttpClient, ProviderError, ReadOnlyViolation, RefusedError
from calltui.model import Call, CallQuery, Outcome
from calltui.providers import registry
from calltui.providers.base import ListingStopped
from calltui.providers.coerce import LATEST, MAX_DURATION
from calltui.sim.app import SimApp
from calltui.sim.demo import DEMO_ACCOUNTS, SIM_HOST, demo_accounts
from tests.conftest import FAST_RETRY, FIXED_NOW, OpenDemo, run_cli
from tests.reliability.conftest import LocalCA, settings_for, sim_in_thread
from tests.reliability.test_hostile import WINDOW, serving, write_config
from tests.reliability.test_secrets import ENV, accounts_with, cli_run, forms

PROVIDERS = ("tmedia", "plivo", "bandwidth", "restcomm", "jambonz")
HOUR = CallQuery(since=FIXED_NOW - timedelta(hours=1), until=FIXED_NOW)
DAY = CallQuery(since=FIXED_NOW - timedelta(days=1), until=FIXED_NOW)
"""Wide enough for every call of a first page: the paging tests count them all."""
DAY_ARGS = ("--since", "2026-11-19T14:00:00Z", "--until", "2026-11-20T14:00:00Z")
META = "***meta***"


# --- a hostile server: the simulator, changed where a test needs it -----------------------------

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def provider_of(path: str) -> str | None:
    """Which simulated API a request path belongs to."""
    for prefix, name in (
        ("/call_trace", "tmedia"),
        ("/v1/Account/", "plivo"),
        ("/v1/users/", "bandwidth"),
        ("/restcomm/", "restcomm"),
        ("/v1/Accounts/", "jambonz"),
        ("/v1/ServiceProviders/", "jambonz"),
    ):
        if path.startswith(prefix):
            return name
    return None


def is_listing(provider: str, path: str, query: dict[str, list[str]]) -> bool:
    """Whether a request is for a page of the call list (not a drill-down)."""
    return {
        "tmedia": path == "/call_trace" and "leg_id" not in query,
        "plivo": path.endswith("/Call/"),
        "bandwidth": path.endswith("/calls"),
        "restcomm": path.endswith("/Calls.json"),
        "jambonz": path.endswith("/RecentCalls") and "filter" not in query,
    }[provider]


FIRST_PAGE = {
    "tmedia": ("page", "1"),
    "plivo": ("offset", "0"),
    "bandwidth": ("page", "0"),
    "restcomm": ("Page", "0"),
    "jambonz": ("page", "1"),
}
"""The paging parameter of each list, and its value for the first page."""
IDS = {
    "tmedia": ("leg_id",),
    "plivo": ("call_uuid",),
    "bandwidth": ("id",),
    "restcomm": ("sid",),
    "jambonz": ("call_sid", "sip_callid"),
}


def records_of(provider: str, body: Any) -> list[dict[str, Any]]:
    """The call records of a list or drill-down body."""
    if provider == "tmedia":
        return [v for k, v in body.items() if k != META]
    key = {"plivo": "objects", "restcomm": "calls", "jambonz": "data"}.get(provider)
    if key is None:
        return body if isinstance(body, list) else [body]
    return body[key] if isinstance(body, dict) and key in body else [body]


class Hostile:
    """The simulator behind a server that changes what it is asked (`ask`: the query of a list
    request) and what it answers (`answer`: status, headers and JSON of a list or drill-down).
    Records every request's raw path and query as it arrived."""

    def __init__(
        self,
        sim: SimApp,
        *,
        ask: Callable[[str, dict[str, list[str]]], None] | None = None,
        answer: Callable[[str, bool, int, list[tuple[bytes, bytes]], Any], Answer] | None = None,
    ) -> None:
        self.sim, self.ask, self.answer = sim, ask, answer
        self.seen: list[tuple[str, str]] = []
        self.listed = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.seen.append((scope["raw_path"].decode("latin-1"), scope["query_string"].decode()))
        provider = provider_of(scope["path"])
        query = parse_qs(scope["query_string"].decode(), keep_blank_values=True)
        listing = provider is not None and is_listing(provider, scope["path"], query)
        if listing:
            self.listed += 1
        if listing and self.ask is not None:
            assert provider is not None
            self.ask(provider, query)
            qs = urlencode([(k, v) for k, values in query.items() for v in values])
            scope = {**scope, "query_string": qs.encode()}
        parts: dict[str, Any] = {"body": b""}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                parts.update(status=message["status"], headers=list(message["headers"]))
            else:
                parts["body"] += message.get("body", b"")

        await self.sim(scope, receive, capture)
        status, headers, body = parts["status"], parts["headers"], parts["body"]
        if provider is not None and self.answer is not None and status == 200:
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if data is not None:
                status, headers, out = self.answer(provider, listing, status, headers, data)
                body = json.dumps(out).encode() if not isinstance(out, bytes) else out
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def first_page_always(provider: str, query: dict[str, list[str]]) -> None:
    """A server that ignores paging: every request gets the first page."""
    key, value = FIRST_PAGE[provider]
    query[key] = [value]


def without_link(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != b"link"]


def endless(fresh: bool) -> Callable[..., Answer]:
    """Answers that always promise one more page (a total of a billion, no Bandwidth Link):
    the first page again, with new ids on every page if `fresh`, else exactly."""
    count = iter(range(1, 10**9))

    def answer(provider: str, listing: bool, status: int, headers: Any, body: Any) -> Answer:
        if not listing:
            return status, headers, body
        suffix = f"-p{next(count)}" if fresh else ""
        if provider == "tmedia":
            body = {
                (k if k == META else k + suffix): (
                    v if k == META else {**v, "leg_id": v["leg_id"] + suffix}
                )
                for k, v in body.items()
            }
        else:
            for record in records_of(provider, body):
                for key in IDS[provider]:
                    if isinstance(record.get(key), str):
                        record[key] += suffix
        if provider == "plivo":
            body["meta"]["total_count"] = 10**9
        elif provider in ("restcomm", "jambonz"):
            body["total"] = 10**9
        return status, without_link(headers), body

    return answer


# --- 1, 8: ids from a server are one path segment -----------------------------------------------

HOSTILE_IDS = {
    "traversal": "../../../../admin?drop_call=yes",
    "dotdot": "..",
    "dot": ".",
    "encoded-slash": "a%2Fb%2F..%2F..%2Fadmin",
    "slash": "a/b/../../c",
    "query": "x?limit=1000&drop_call=yes",
    "fragment": "x#frag",
    "spaces": " a b ",
    "crlf": "a\r\nX-Injected: 1",
    "nul": "a\x00b",
    "unicode": "é☎\u202e",
    "plus": "+1 555=&;",
    "surrogate": "a\ud800b",
}


def documented_path(provider: str) -> tuple[str, str]:
    """The path before and after the id of the request that puts an id in its path (Tmedia
    puts it in the query): the provider's documented drill-down, jambonz's pcap."""
    acc = DEMO_ACCOUNTS[f"demo-{provider}"]
    return {
        "tmedia": ("/call_trace", ""),
        "plivo": (f"/v1/Account/{acc.get('auth_id')}/Zentrunk/Call/", "/"),
        "bandwidth": (f"/v1/users/{acc.get('user_id')}/calls/", ""),
        "restcomm": (f"/restcomm/2012-04-24/Accounts/{acc.get('account_sid')}/Calls/", ".json"),
        "jambonz": (f"/v1/Accounts/{acc.get('account_sid')}/RecentCalls/", "/invite/pcap"),
    }[provider]


def unsendable(provider: str, call_id: str, *, in_query: tuple[str, ...] = ("tmedia",)) -> bool:
    """A lone surrogate goes in a path segment as its code point's bytes, but a query value
    (Tmedia's `leg_id`; jambonz's `filter` in copy-as-curl) is text to httpx, which UTF-8
    cannot encode: refused in one line, nothing sent."""
    return provider in in_query and any("\ud800" <= ch <= "\udfff" for ch in call_id)


def assert_one_segment(provider: str, raw_path: str, query: str, call_id: str) -> None:
    """The request stayed on the documented path, with `call_id` as exactly one segment (or,
    for Tmedia, exactly the `leg_id` value) and no query of its making."""
    head, tail = documented_path(provider)
    if provider == "tmedia":
        assert raw_path == head, raw_path
        params = parse_qs(query, keep_blank_values=True)
        assert params["leg_id"] == [call_id]
        assert set(params) <= registry.get("tmedia").PARAMS
        return
    m = re.fullmatch(re.escape(head) + r"([^/?#]*)" + re.escape(tail), raw_path)
    assert m is not None, f"{raw_path!r} is not {head}<one segment>{tail}"
    assert unquote(m.group(1), errors="surrogatepass") == call_id
    whole = m.group(1) + tail.partition("/")[0]  # Restcomm's segment goes on with `.json`
    assert whole not in (".", ".."), "a dot segment climbs out of the path"
    assert query == "", f"the id made a query: {query!r}"


@pytest.mark.parametrize("name", HOSTILE_IDS)
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_server_supplied_id_stays_one_path_segment(
    open_demo: OpenDemo, sim: SimApp, provider: str, name: str
) -> None:
    """The drill-down (`show`, Enter in the TUI) and the pcap put the id in the request as one
    segment under the documented path: never `GET /v1/admin` with the account's credentials."""
    call_id = HOSTILE_IDS[name]
    server = Hostile(sim)
    p = await open_demo(f"demo-{provider}", app=server)
    with pytest.raises(ProviderError) as e:
        if provider == "jambonz":
            await p.pcap(call_id)  # type: ignore[attr-defined]
        else:
            await p.detail(call_id)
    assert "\n" not in str(e.value) and "\r" not in str(e.value)
    if unsendable(provider, call_id):
        assert isinstance(e.value, RefusedError) and not server.seen
        return
    assert server.seen, "nothing reached the server"
    for raw_path, query in server.seen:
        assert_one_segment(provider, raw_path, query, call_id)


@pytest.mark.parametrize("name", HOSTILE_IDS)
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_copy_as_curl_shows_the_encoded_request(
    open_demo: OpenDemo, provider: str, name: str
) -> None:
    call_id = HOSTILE_IDS[name]
    p = await open_demo(f"demo-{provider}")
    call = Call(provider, p.account.name, call_id, FIXED_NOW, Outcome.FAILED, {"call_sid": call_id})
    if unsendable(provider, call_id, in_query=("tmedia", "jambonz")):
        with pytest.raises(RefusedError) as e:
            handoff.curl_for(p, call)
        assert "\n" not in str(e.value) and "\ud800" not in str(e.value)
        return
    line = handoff.curl_for(p, call)
    assert "\r" not in line and "\n" not in line and "\x00" not in line
    url = httpx.URL(shlex.split(line)[-1])
    assert url.host == httpx.URL(SIM_HOST).host
    raw_path = url.raw_path.decode("ascii").partition("?")[0]
    if provider == "jambonz":
        # Found through the list by call_sid: the id is a query value.
        assert raw_path.endswith("/RecentCalls")
        assert parse_qs(url.query.decode())["filter"] == [call_id]
        return
    assert_one_segment(provider, raw_path, url.query.decode(), call_id)


@pytest.mark.parametrize("name", ["crlf", "nul", "traversal", "dotdot", "unicode", "surrogate"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_show_on_any_id_is_one_line(
    capsys: pytest.CaptureFixture[str], fixed_clock: None, provider: str, name: str
) -> None:
    code, out, err = run_cli(
        capsys, "show", "--demo", "--account", f"demo-{provider}", HOSTILE_IDS[name]
    )
    assert code == 1, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"calltui: demo-{provider}: "), err
    assert "Traceback" not in err


# --- 2: the read-only guard -----------------------------------------------------------------------


async def test_a_refused_request_is_a_one_line_provider_error(sim: SimApp) -> None:
    """Whatever asks for it, a parameter no provider lists is refused before anything is
    sent, as a ProviderError (the CLI prints it as one line, the TUI shows it): never a
    traceback. Tmedia's drop_call ends live calls."""
    server = Hostile(sim)
    http = HttpClient(
        account="demo-tmedia",
        base_url=SIM_HOST,
        allowed_params=registry.get("tmedia").PARAMS,
        transport=httpx.ASGITransport(app=server),
        retry=FAST_RETRY,
    )
    try:
        with pytest.raises(ProviderError) as e:
            await http.get("/call_trace", {"recursive": "yes", "drop_call": "yes"})
    finally:
        await http.aclose()
    assert isinstance(e.value, ReadOnlyViolation)
    assert str(e.value) == "demo-tmedia: refused to send parameters ['drop_call']"
    assert server.seen == [], "nothing was sent"
    assert issubclass(ReadOnlyViolation, ProviderError)
    assert not Recovery.retries(ReadOnlyViolation("a", "refused to send parameters ['x']"))


# --- 3: credentials echoed by the server ---------------------------------------------------------


@pytest.fixture(scope="module")
def echoed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], list[str]]]:
    """Every output of a session with five accounts (secrets given as values, `_env` and
    `_cmd`) on a server that echoes each request's credentials into its call records; and the
    credentials in every form (each secret, in base64, as Basic user:secret)."""
    tmp = tmp_path_factory.mktemp("echo")
    out: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in ENV.items():
            mp.setenv(k, v)
        with serving(
            SimApp(seed=1, now=FIXED_NOW, faults="echo", enforce_rate_limits=False)
        ) as base:
            config = write_config(tmp / "config.toml", accounts_with(base), timezone="UTC")
            settings = load_settings(config)
            c = ("--config", str(config))
            for fmt in ("table", "csv", "json", "ndjson"):
                out[f"calls --format {fmt}"] = "".join(
                    cli_run("calls", *c, *WINDOW, "--format", fmt)
                )
            listing = [
                json.loads(x)
                for x in out["calls --format ndjson"].splitlines()
                if x.startswith("{")
            ]
            for account in settings.accounts:
                call_id = next(r["id"] for r in listing if r["account"] == account)
                for fmt in ("text", "json"):
                    argv = ("show", *c, "--account", account, call_id, "--format", fmt)
                    out[f"show --format {fmt}"] = out.get(f"show --format {fmt}", "") + "".join(
                        cli_run(*argv)
                    )
            out["bundle"] = asyncio.run(_bundles(settings, tmp))
            out["TUI table and detail"] = asyncio.run(_screens(settings))
    secrets = forms(settings)
    secrets += [s.rstrip("=") for s in secrets]
    secrets += [f"Basic {s}" for s in secrets] + [f"Bearer {s}" for s in secrets]
    yield out, secrets


async def _bundles(settings: Settings, tmp: Path) -> str:
    engine = Engine(settings)
    try:
        records = await engine.collect(list(settings.accounts), HOUR, 200)
        texts = []
        for account in settings.accounts:
            call = next(c for c in records if c.account == account)
            detail = await engine.detail(account, call.id)
            texts.append(handoff.write_bundle(detail, tmp, settings=settings).read_text())
        return "".join(texts)
    finally:
        await engine.aclose()


async def _screens(settings: Settings) -> str:
    from calltui.tui.app import CallTUI
    from tests.tui.harness import settle

    shots = []
    for account in settings.accounts:
        app = CallTUI(settings, query=HOUR, accounts=[account], now=FIXED_NOW)
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            shots.append(app.export_screenshot())
            await pilot.press("enter")
            await settle(pilot)
            for key in ("1", "3"):
                await pilot.press(key)
                await settle(pilot)
                shots.append(app.export_screenshot())
    return "".join(shots)


@pytest.mark.parametrize(
    "channel",
    [
        "calls --format table",
        "calls --format csv",
        "calls --format json",
        "calls --format ndjson",
        "show --format text",
        "show --format json",
        "bundle",
        "TUI table and detail",
    ],
)
def test_credentials_a_server_echoes_reach_no_output(
    echoed: tuple[dict[str, str], list[str]], channel: str
) -> None:
    out, secrets = echoed
    text = out[channel]
    leaked = sorted({s for s in secrets if s in text})
    assert leaked == [], f"{channel} holds {leaked}"


def test_the_echoing_server_really_echoed(echoed: tuple[dict[str, str], list[str]]) -> None:
    """The scans prove something: the echo fields are there, their values masked."""
    out, _ = echoed
    assert out["calls --format ndjson"].count('"echo_authorization"') == 100
    assert '"echo_authorization": "Basic ***' in out["calls --format json"]
    assert '"echo_authorization": "Bearer ***' in out["calls --format json"]
    assert "echo_secret_base64" in out["bundle"]


# --- 4: endless paging ---------------------------------------------------------------------------


def open_hostile(app: Any, provider: str, **overrides: Any) -> Engine:
    raw = {**demo_accounts(SIM_HOST)[f"demo-{provider}"], "page_size": 5, "rate_limit": 1000}
    settings = parse_settings({"accounts": {f"demo-{provider}": {**raw, **overrides}}}, Path("<t>"))
    return Engine(settings, transport=httpx.ASGITransport(app=app), retry=FAST_RETRY)


async def bounded_collect(engine: Engine, provider: str, query: CallQuery = DAY) -> list[Call]:
    """The whole listing, which must end by itself: within 30 s."""
    try:
        return await asyncio.wait_for(engine.collect([f"demo-{provider}"], query, None), 30)
    finally:
        await engine.aclose()


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """The block fails with TimeoutError after `seconds` (a listing that never ends would
    otherwise hang the test run). The CLI runs its own event loop in this thread."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def quiet_sim() -> SimApp:
    return SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_server_that_repeats_its_page_ends_the_listing(provider: str) -> None:
    """A server that ignores paging and promises more: the second page brings nothing new,
    so the listing stops there, says why, and keeps the first page."""
    server = Hostile(quiet_sim(), ask=first_page_always, answer=endless(fresh=False))
    engine = open_hostile(server, provider)
    records = await bounded_collect(engine, provider)
    assert 0 < len(records) <= 5 and len({c.id for c in records}) == len(records)
    [error] = engine.errors()
    assert isinstance(error, ListingStopped)
    assert str(error).startswith(f"demo-{provider}: stopped at page 2: ")
    # Plivo fetches its pages after the first concurrently: up to max_concurrency (4) ahead.
    assert server.listed == 2 or (provider == "plivo" and server.listed <= 5)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_endless_fresh_pages_stop_at_max_pages(provider: str) -> None:
    server = Hostile(quiet_sim(), ask=first_page_always, answer=endless(fresh=True))
    engine = open_hostile(server, provider, max_pages=7)
    records = await bounded_collect(engine, provider)
    [error] = engine.errors()
    assert str(error) == f"demo-{provider}: stopped after 7 pages (max_pages)"
    assert not Recovery.retries(error), "asking again would only go round once more"
    assert len(records) == 35 and len({c.id for c in records}) == 35, "the pages listed stay"


async def test_endless_fresh_pages_stop_at_max_listing_s() -> None:
    sim = SimApp(seed=7, now=FIXED_NOW, enforce_rate_limits=False, latency_ms=20)
    server = Hostile(sim, ask=first_page_always, answer=endless(fresh=True))
    engine = open_hostile(server, "jambonz", max_listing_s=0.5)
    records = await bounded_collect(engine, "jambonz")
    [error] = engine.errors()
    pattern = r"demo-jambonz: stopped after 0\.\d s of fetching, \d+ pages \(max_listing_s\)"
    assert re.fullmatch(pattern, str(error)), str(error)
    assert 5 <= server.listed <= 40
    assert len(records) == 5 * server.listed


def test_calls_all_on_an_endless_server_prints_what_it_listed_and_why_it_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = Hostile(quiet_sim(), ask=first_page_always, answer=endless(fresh=True))
    with serving(server) as base:  # type: ignore[arg-type]
        raw = {**demo_accounts(base)["demo-plivo"], "page_size": 20, "max_pages": 3}
        config = write_config(tmp_path / "c.toml", {"demo-plivo": raw})
        argv = ("calls", "--config", str(config), *DAY_ARGS, "--all", "--format", "ndjson")
        with within(30):
            code, out, err = run_cli(capsys, *argv)
    assert code == 1
    assert err == "calltui: demo-plivo: stopped after 3 pages (max_pages)\n"
    assert len(out.splitlines()) == 60


async def test_the_tui_shows_the_stop_as_the_accounts_error_and_keeps_its_rows() -> None:
    from calltui.tui.app import CallTUI
    from tests.conftest import FakeClock
    from tests.tui.harness import view_calls
    from tests.tui.test_faults_tui import running, status, until

    server = Hostile(quiet_sim(), ask=first_page_always, answer=endless(fresh=True))
    raw = {**demo_accounts(SIM_HOST)["demo-plivo"], "max_pages": 3}
    settings = parse_settings(
        {"accounts": {"demo-plivo": raw}, "display": {"timezone": "UTC"}}, Path("<t>")
    )
    app = CallTUI(
        settings,
        transport=httpx.ASGITransport(app=server),
        query=DAY,
        now=FIXED_NOW,
        retry=FAST_RETRY,
        recovery=FakeClock().recovery(),
    )
    async with running(app) as pilot:
        await until(pilot, lambda: "max_pages" in status(app), "the stop on the status line")
        assert "demo-plivo" in status(app)
        # The table holds what the screen wants (a batch); the rest of the 3 pages comes on
        # scrolling to the end, after the stop as before it.
        await pilot.press("end")
        await until(pilot, lambda: len(view_calls(app)) == 60, "every row of the 3 pages listed")
        assert "max_pages" in status(app)


# --- 5: a refused next link keeps its page ------------------------------------------------------


def foreign_next_link(provider: str, listing: bool, status: int, headers: Any, body: Any) -> Answer:
    if provider == "bandwidth" and listing:
        user = DEMO_ACCOUNTS["demo-bandwidth"]["user_id"]
        url = f"https://elsewhere.example/v1/users/{user}/calls?page=1&size=1000&sortOrder=desc"
        link = f'<{url}>; rel="next"'
        headers = [*without_link(headers), (b"link", link.encode())]
    return status, headers, body


def test_a_refused_next_link_keeps_its_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = Hostile(quiet_sim(), answer=foreign_next_link)
    with serving(server) as base:  # type: ignore[arg-type]
        # Pages of 50, all within the hour (the simulator has 56 calls in it): the link counts.
        raw = {**demo_accounts(base)["demo-bandwidth"], "rate_limit": 100, "page_size": 50}
        config = write_config(tmp_path / "c.toml", {"demo-bandwidth": raw})
        code, out, err = run_cli(
            capsys, "calls", "--config", str(config), *WINDOW, "--limit", "50", "--format", "ndjson"
        )
    assert len(out.splitlines()) == 50, err
    assert code == 1
    assert err.count("\n") == 1 and "the next-page link points outside this call list" in err
    assert not any("elsewhere" in raw_path for raw_path, _ in server.seen)


# --- 6: impossible values ------------------------------------------------------------------------

IMPOSSIBLE = {
    # The duration field set to -99,999,999 s and an end (Tmedia: the answer) dated 9999.
    "tmedia": {"call_duration": -99_999_999, "connect_timestamp": "9999/12/31 23:59:59 +0000"},
    "plivo": {
        "call_duration": -99_999_999,
        "bill_duration": 10**12,
        "end_time": "9999-12-31 23:59:59",
    },
    "bandwidth": {"chargeableDuration": -60, "endTime": "9999-12-31T23:59:59Z"},
    "restcomm": {"duration": -99_999_999, "end_time": "9999-12-31T23:59:59.000Z"},
    "jambonz": {
        "duration": -99_999_999,
        "billed_seconds": 10**9,
        "terminated_at": "9999-12-31T23:59:59.000Z",
    },
}


def impossible(provider: str, listing: bool, status: int, headers: Any, body: Any) -> Answer:
    if listing:
        for record in records_of(provider, body):
            record.update(IMPOSSIBLE[provider])
    return status, headers, body


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_impossible_durations_and_dates_are_no_data(provider: str) -> None:
    engine = open_hostile(Hostile(quiet_sim(), answer=impossible), provider, page_size=None)
    records = await bounded_collect(engine, provider, HOUR)
    assert records and engine.errors() == []
    for c in records:
        for d in (c.duration_s, c.billed_s):
            assert d is None or 0 <= d <= MAX_DURATION.total_seconds(), c.raw
        for t in (c.started_at, c.answered_at, c.ended_at):
            assert t is None or t < LATEST
        for key, value in IMPOSSIBLE[provider].items():
            assert c.raw[key] == value, "the raw record keeps what the server sent"


def another_call(provider: str, listing: bool, status: int, headers: Any, body: Any) -> Answer:
    if not listing:
        for record in records_of(provider, body):
            for key in IDS[provider]:
                if isinstance(record.get(key), str):
                    record[key] = "not-the-call-asked-for"
    return status, headers, body


@pytest.mark.parametrize("provider", ["tmedia", "plivo", "bandwidth", "restcomm"])
async def test_a_drill_down_that_answers_another_call_is_refused(
    open_demo: OpenDemo, sim: SimApp, provider: str
) -> None:
    """jambonz finds a call among its listing by id: it cannot answer another."""
    honest = await open_demo(f"demo-{provider}", rate_limit=100)
    pages = honest.pages(HOUR)
    call_id = (await anext(pages)).records[0].id
    await pages.aclose()  # type: ignore[attr-defined]
    p = await open_demo(f"demo-{provider}", app=Hostile(sim, answer=another_call), rate_limit=100)
    with pytest.raises(ProviderError) as e:
        await p.detail(call_id)
    if provider == "tmedia":
        assert f"no leg {call_id!r} on the box" in str(e.value)
    else:
        assert (
            f"asked for call {call_id!r}, the server answered call 'not-the-call-asked-for'"
            in str(e.value)
        )


# --- 7: redirects and proxies -------------------------------------------------------------------


async def redirecting(scope: Any, receive: Any, send: Any) -> None:
    """A server that redirects elsewhere, with a body that reads as a page of calls."""
    body = json.dumps(
        {"api_id": "x", "meta": {"total_count": 1}, "objects": [{"call_uuid": "stolen"}]}
    )
    headers = [
        (b"location", b"https://collector.example:8443/grab?token=abc"),
        (b"content-type", b"application/json"),
    ]
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_redirect_is_named_and_not_followed(provider: str) -> None:
    engine = open_hostile(redirecting, provider)
    records = await bounded_collect(engine, provider)
    assert records == []
    [error] = engine.errors()
    assert (
        f"demo-{provider}: HTTP 302: redirect to https://collector.example:8443 not followed"
        in str(error)
    )
    assert "token" not in str(error)


class Proxy:
    """A plain HTTP proxy in front of the simulator: it gets absolute-form requests."""

    def __init__(self, sim: SimApp) -> None:
        self.sim = sim
        self.targets: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        target = scope["raw_path"].decode("latin-1")
        self.targets.append(target)
        path = "/" + target.split("://", 1)[1].partition("/")[2]
        await self.sim({**scope, "path": unquote(path), "raw_path": path.encode()}, receive, send)


def test_http_proxy_is_honoured_with_a_warning_for_plain_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = Proxy(quiet_sim())
    with serving(proxy) as proxy_url:  # type: ignore[arg-type]
        for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy", "HTTPS_PROXY"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.setenv("http_proxy", proxy_url)
        # A host nobody can resolve: only the proxy can answer for it.
        accounts = demo_accounts("http://calltui-behind-a-proxy.invalid")
        config = write_config(tmp_path / "c.toml", {"demo-plivo": accounts["demo-plivo"]})
        out, err = cli_run("calls", "--config", str(config), *WINDOW, "--format", "ndjson")
    assert len(out.splitlines()) == 100
    assert proxy.targets and all(
        t.startswith("http://calltui-behind-a-proxy.invalid/v1/") for t in proxy.targets
    )
    warning = (
        f"calltui: warning: demo-plivo: its credentials go to the proxy {proxy_url} in clear text"
    )
    assert err.count(warning) == 1, err
    assert err.count("\n") == 1


def test_ssl_cert_file_is_honoured(local_ca: LocalCA, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CA given by SSL_CERT_FILE is trusted for an account that gives no ca_bundle."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with sim_in_thread(quiet_sim(), tls=local_ca.server_context) as port:
        base = f"https://localhost:{port}"
        settings = settings_for("plivo", base)

        async def listed() -> tuple[list[Call], list[ProviderError]]:
            engine = Engine(settings)
            try:
                return await engine.collect(["demo-plivo"], HOUR, 10), engine.errors()
            finally:
                await engine.aclose()

        records, errors = asyncio.run(listed())
        assert records == [] and "TLS certificate verification failed" in str(errors[0])
        monkeypatch.setenv("SSL_CERT_FILE", str(local_ca.bundle))
        records, errors = asyncio.run(listed())
    assert errors == [] and len(records) == 10
