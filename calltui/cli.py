"""The command line: the TUI by default, and headless subcommands for scripts.

Exit codes: 0 ok; 1 a provider error after retries (one line per account on stderr);
2 bad usage or config. Where a command reads its calls from (settings, transport, accounts, view,
query) is calltui.cli_source's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn, TextIO

from calltui import __version__, filters
from calltui.cli_source import (
    DEMO_SEED,
    Unusable,
    UsageError,
    apply_view,
    open_source,
    pick_accounts,
    query_from,
    say,
    sim_now,
)
from calltui.columns import sorted_by
from calltui.config import ConfigError, Settings, default_config_path, load_settings
from calltui.filters import FilterError, Kind
from calltui.model import Call, CallQuery
from calltui.text import inert

SUBCOMMANDS = ("calls", "show", "stats", "simulate", "config")
EXIT_OK, EXIT_PROVIDER, EXIT_USAGE = 0, 1, 2
EXIT_PIPE = 128 + getattr(signal, "SIGPIPE", 13)
"""Output into a pipe whose reader has gone: what a shell reports of `yes | head`."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"calltui: {message}\n")


def _source_args(p: argparse.ArgumentParser, accounts: str = "*") -> None:
    p.add_argument("--config", type=Path, help="config file (default: the user config dir)")
    p.add_argument("--demo", action="store_true", help="use the built-in simulator")
    if accounts == "*":
        p.add_argument("--account", action="append", default=[], metavar="NAME", help="repeatable")
        p.add_argument(
            "--view",
            metavar="SPEC",
            help="a view: calltui://view?... or the NAME of a [views.NAME] (flags beside it "
            "override its parts)",
        )
    else:
        p.add_argument("--account", required=True, metavar="NAME")


def _filter_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters")
    for f in filters.FILTER_FIELDS:
        if not f.flags:
            continue
        options: dict[str, Any] = {"dest": f.name, "help": f.help}
        if f.kind is Kind.SWITCH:
            options["action"] = "store_true"
        elif f.kind is Kind.CHOICE:
            options["choices"] = f.choices
        else:
            options["metavar"] = f.metavar
            if f.kind is Kind.CHOICES:
                options.update(action="append", default=[])
        g.add_argument(*f.flags, **options)


def build_parser(sub: str | None) -> argparse.ArgumentParser:
    if sub is None:
        p = _Parser(prog="calltui", description="Browse call records and traces.")
        p.add_argument("--version", action="version", version=f"calltui {__version__}")
        _source_args(p)
        _filter_args(p)
        p.epilog = "subcommands: " + ", ".join(SUBCOMMANDS) + " (calltui SUBCOMMAND --help)"
        return p
    p = _Parser(prog=f"calltui {sub}")
    if sub == "calls":
        _source_args(p)
        _filter_args(p)
        g = p.add_mutually_exclusive_group()
        g.add_argument("--limit", type=int, default=100, metavar="N")
        g.add_argument("--all", action="store_true", help="every page of the range")
        p.add_argument("--format", choices=("table", "json", "ndjson", "csv"), default="table")
    elif sub == "show":
        _source_args(p, accounts="one")
        p.add_argument("call_id", metavar="CALL_ID")
        p.add_argument("--format", choices=("json", "text"), default="json")
    elif sub == "stats":
        _source_args(p)
        _filter_args(p)
        grouping = p.add_argument_group("groups")
        grouping.add_argument(
            "--by",
            action="append",
            default=[],
            metavar="FIELD",
            help="group by account, provider, trunk, sip, cause, outcome, country or prefix:N "
            "(repeat for sub-groups)",
        )
        grouping.add_argument(
            "--timeline", action="store_true", help="failures per bucket and the onset mark"
        )
        p.add_argument("--format", choices=("table", "json"), default="table")
    elif sub == "simulate":
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=_port, default=8080)
        p.add_argument("--seed", type=int, default=DEMO_SEED)
        p.add_argument("--latency", type=float, default=0.0, metavar="MS")
        from calltui.sim.asgi import FAULT_KINDS

        kinds = ", ".join(FAULT_KINDS)
        p.add_argument("--faults", metavar="SPEC", help=f"KIND[@PROVIDER][=RATE],... KIND: {kinds}")
        p.add_argument(
            "--no-rate-limits",
            action="store_true",
            help="answer every request at once, past the providers' documented limits (benchmarks)",
        )
    elif sub == "config":
        p.add_argument("action", choices=("init", "check", "path"))
        p.add_argument("--config", type=Path)
    return p


def _port(value: str) -> int:
    if not (value.isdigit() and 1 <= int(value) <= 65535):
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number from 1 to 65535")
    return int(value)


def _redactor(settings: Settings) -> Any:
    secrets = [s for s in settings.secrets() if len(s) >= 4]

    def redact(text: str) -> str:
        for s in secrets:
            text = text.replace(s, "***")
        return text

    return redact


async def _calls(args: argparse.Namespace) -> int:
    from calltui import export, render
    from calltui.engine import Engine

    settings, transport = open_source(args)
    view = apply_view(args, settings)
    names, unreadable = pick_accounts(settings, args.account)
    query = query_from(args, timedelta(hours=24))
    engine = Engine(settings, transport=transport)
    limit = None if args.all else args.limit
    out = sys.stdout
    try:
        if args.format in ("ndjson", "csv") and not (view is not None and view.sort):
            # A record a line, written as it comes, newest first: a script reads the first
            # lines at once, and nothing is held however long the window.
            await _stream(engine.calls(names, query, limit), args.format, out)
            return _report(engine.errors(), settings, unreadable)
        records = await engine.collect(names, query, limit)
    finally:
        await engine.aclose()
    if view is not None and view.sort:
        records = sorted_by(records, view.sort, view.descending)
    if args.format == "json":
        export.to_json(records, out)
    elif args.format == "ndjson":
        export.to_ndjson(records, out)
    elif args.format == "csv":
        export.to_csv(records, out)
    else:
        out.write(render.table(records, render.display_zone(settings.display.timezone)))
    return _report(engine.errors(), settings, unreadable)


async def _stream(calls: AsyncGenerator[Call, None], fmt: str, out: TextIO) -> None:
    from calltui import export

    try:
        if fmt == "ndjson":
            async for call in calls:
                out.write(export.ndjson_line(call))
        else:
            writer = export.csv_writer(out)
            async for call in calls:
                writer.writerow(export.csv_row(call))
    finally:
        await calls.aclose()  # a reader gone (`| head`): the listing stops here


def _report(errors: Sequence[Exception], settings: Settings, unreadable: int = 0) -> int:
    """Each account's error on stderr; exit 1 if an account failed, or could not run (its
    secret unreadable) while others did."""
    redact = _redactor(settings)
    for e in errors:
        say(redact(str(e)))
    return EXIT_PROVIDER if errors or unreadable else EXIT_OK


async def _show(args: argparse.Namespace) -> int:
    from calltui import render
    from calltui.analysis import twin as twins
    from calltui.http import ProviderError
    from calltui.session import Session

    settings, transport = open_source(args)
    pick_accounts(settings, [args.account])
    session = Session(settings, transport=transport)
    redact = _redactor(settings)
    try:
        try:
            detail = await session.engine.detail(args.account, args.call_id)
        except ProviderError as e:
            return _report([e], settings)
        session.details[(detail.call.account, detail.call.id)] = detail
        # The end-to-end call crosses platforms: every account that can run is asked for its
        # calls around this one. `related` keeps to the account asked for, as it always has;
        # it is the same set of relations, read for that account only.
        runnable = [n for n, a in settings.accounts.items() if not a.secret_errors()]
        chain, found = await session.chain(
            detail.call, [], scope=runnable, steps=args.format == "text"
        )
        for failure in found.errors.values():
            say(redact(f"chain: {failure}"))
        twin = None
        try:
            twin = await session.twin(detail.call)
        except ProviderError as e:
            say(redact(f"twin: {e}"))
    finally:
        await session.aclose()
    if args.format != "json":
        zone = render.display_zone(settings.display.timezone)
        text = render.detail_text(detail, zone, chain, twin, twins.wanted(detail.call))
        sys.stdout.write(text)
        return EXIT_OK
    from calltui.analysis.verdict import verdict
    from calltui.export import json_text

    doc = detail.to_dict()
    doc["verdict"] = verdict(detail).line
    doc["related"] = [
        {
            "account": r.call.account,
            "id": r.call.id,
            "reason": r.reason,
            "confidence": round(r.confidence, 3),
        }
        for r in found.relations
        if r.call.account == args.account
    ]
    doc["chain"] = chain.to_dict()
    doc["twin"] = None if twin is None else twin.to_dict()
    sys.stdout.write(json_text(doc, indent=2))
    sys.stdout.write("\n")
    return EXIT_OK


async def _stats(args: argparse.Namespace) -> int:
    """KPIs over every call the filters select (analysis.kpi), merged and per account; the
    JSON keys are in analysis.report."""
    from calltui import render
    from calltui.analysis import kpi, report
    from calltui.engine import Engine

    settings, transport = open_source(args)
    apply_view(args, settings)
    names, unreadable = pick_accounts(settings, args.account)
    query = query_from(args, timedelta(hours=24))
    until = query.until or (sim_now() if args.demo else None) or datetime.now(timezone.utc)
    if args.by:
        from calltui.analysis.groups import parse_by

        try:
            parse_by(args.by)
        except ValueError as e:
            say(f"--by: {e}")
            return EXIT_USAGE
    engine = Engine(settings, transport=transport)
    try:
        records = await engine.collect(names, query, None)
    finally:
        await engine.aclose()
    if args.by or args.timeline:
        return await _groups(args, settings, transport, names, query, until, records, unreadable)
    merged, per = kpi.summarize(records, since=query.since, until=until, accounts=names)
    if args.format == "json":
        from calltui.export import json_text

        sys.stdout.write(json_text(report.document(merged, per, query.since, until), indent=2))
        sys.stdout.write("\n")
    else:
        zone = render.display_zone(settings.display.timezone)
        kinds = {n: settings.accounts[n].provider for n in names}
        sys.stdout.write(report.table(merged, per, query.since, until, zone, kinds))
    return _report(engine.errors(), settings, unreadable)


async def _groups(
    args: argparse.Namespace,
    settings: Settings,
    transport: Any,
    names: list[str],
    query: CallQuery,
    until: datetime,
    records: list[Any],
    unreadable: int,
) -> int:
    """`stats --by` (analysis.groups, the change against the window of the same length just
    before, which is listed too) and `stats --timeline` (analysis.onset)."""
    from calltui import render
    from calltui.analysis import groups, onset
    from calltui.session import Session

    session = Session(settings, transport=transport)
    errors = list(session.engine.errors())
    doc: dict[str, Any] = {}
    text: list[str] = []
    zone = render.display_zone(settings.display.timezone)
    try:
        if args.by:
            previous = await session.window_before(names, query, until)
            report = groups.group(
                records, args.by, since=query.since, until=until, previous=previous
            )
            doc.update(report.to_dict())
            text.append(groups.table(report, zone))
        if args.timeline:
            line = onset.timeline(records, query.since, until)
            if args.by:
                doc["timeline"] = line.to_dict()
            else:
                doc.update(line.to_dict())
            text.append(onset.bars(line, zone) + onset.onset_line(line, zone) + "\n")
    finally:
        await session.aclose()
    if args.format == "json":
        from calltui.export import json_text

        sys.stdout.write(json_text(doc, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(text))
    return _report(errors, settings, unreadable)


async def _simulate(args: argparse.Namespace) -> int:
    from calltui.sim.app import SimApp
    from calltui.sim.demo import demo_config
    from calltui.sim.server import serve

    try:
        app = SimApp(
            seed=args.seed,
            now=sim_now(),
            latency_ms=args.latency,
            faults=args.faults,
            enforce_rate_limits=not args.no_rate_limits,
        )
    except ValueError as e:
        raise UsageError(f"--faults: {e}") from None
    ready = asyncio.Event()
    task = asyncio.create_task(serve(app, args.host, args.port, ready))
    await asyncio.wait([task, asyncio.create_task(ready.wait())], return_when="FIRST_COMPLETED")
    if task.done():
        try:
            task.result()
        except OSError as e:  # the port in use, a host that does not resolve or is not ours
            reason = os.strerror(e.errno) if e.errno and e.errno > 0 else (e.strerror or str(e))
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    base = f"http://{args.host}:{args.port}"
    print(f"calltui simulator (seed {args.seed}) serving all five APIs on {base}", flush=True)
    print("its demo accounts, as a config to point calltui at it (--config FILE):\n", flush=True)
    print(demo_config(base), flush=True)
    await task
    return EXIT_OK


def _config(args: argparse.Namespace) -> int:
    from calltui.config_template import write_template

    path = args.config or default_config_path()
    if args.action == "path":
        print(path)
        return EXIT_OK
    if args.action == "init":
        if os.path.lexists(path):
            raise UsageError(f"{path}: already exists; not overwritten")
        try:
            write_template(path)
        except OSError as e:
            raise UsageError(f"{path}: cannot write: {e.strerror or e}") from None
        print(f"wrote {path} (mode 0600)")
        return EXIT_OK
    return _check(path)


def _check(path: Path) -> int:
    """`config check`: what would stop a command (raised, as for every command), then every
    problem that would only show later (an unreadable secret, a theme or a key binding the
    TUI cannot use), each on its own line; exit 2 if there is any."""
    from calltui.tui import configcheck

    settings = load_settings(path)
    for w in settings.warnings:
        say(f"warning: {w}")
    problems = [str(e) for acc in settings.accounts.values() for e in acc.secret_errors()]
    problems += configcheck.problems(settings)
    for problem in problems:
        say(problem)
    summary = f"{len(problems)} problem(s)" if problems else "ok"
    print(inert(f"{path}: {summary}, {len(settings.accounts)} account(s)"))
    for name, acc in settings.accounts.items():
        state = "secret unreadable" if acc.secret_errors() else ""
        url = acc.base_url or "(default URL)"
        print(inert(f"  {inert(name, 20):<20} {acc.provider:<10} {url} {state}").rstrip())
    return EXIT_USAGE if problems else EXIT_OK


def main(argv: Sequence[str] | None = None) -> None:
    sub, rest = split_argv(list(sys.argv[1:] if argv is None else argv))
    try:
        args = build_parser(sub).parse_args(rest)
        _open_request_log()
        if sub == "calls":
            code = asyncio.run(_calls(args))
        elif sub == "show":
            code = asyncio.run(_show(args))
        elif sub == "stats":
            code = asyncio.run(_stats(args))
        elif sub == "simulate":
            code = asyncio.run(_simulate(args))
        elif sub == "config":
            code = _config(args)
        else:
            code = _tui(args)
        sys.stdout.flush()  # a reader that has gone shows here at the latest, not at exit
    except BrokenPipeError:
        # `calltui calls | head -1`: the reader has what it wanted. Python would complain
        # once more as it flushes stdout on the way out; point stdout at nothing first.
        _drop_stdout()
        code = EXIT_PIPE
    except (ConfigError, FilterError, UsageError) as e:
        say(e)
        code = EXIT_USAGE
    except Unusable as e:
        for error in e.errors:
            say(error)
        code = EXIT_USAGE
    except KeyboardInterrupt:
        code = 130
    except Exception as e:  # a bug: one line that says where, never a traceback
        say(f"internal error: {type(e).__name__}{_origin(e)}; please report it")
        code = EXIT_PROVIDER
    sys.exit(code)


def split_argv(argv: list[str]) -> tuple[str | None, list[str]]:
    """The subcommand and its arguments. The global options may come before it (`calltui
    --config F config check`): they go along with its own."""
    front: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--demo" or argv[i].startswith("--config="):
            front.append(argv[i])
            i += 1
        elif argv[i] == "--config" and i + 1 < len(argv):
            front += argv[i : i + 2]
            i += 2
        else:
            break
    if i < len(argv) and argv[i] in SUBCOMMANDS:
        return argv[i], [*front, *argv[i + 1 :]]
    return None, argv


def _drop_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (a test's capture)
        pass


def _origin(e: BaseException) -> str:
    """Where in calltui `e` was raised (file and line; never its message, which may hold
    anything, a secret included)."""
    tb, found = e.__traceback__, ""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if "calltui" in Path(name).parts:
            found = f" at {Path(name).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _open_request_log() -> None:
    """CALLTUI_LOG (calltui.log) is opened up front, so a path that cannot be written is a
    usage error rather than a log that silently stays empty."""
    from calltui.log import ENV_LOG, request_log

    try:
        request_log()
    except OSError as e:
        raise UsageError(f"{ENV_LOG}: cannot open the log: {e.strerror or e}") from None


def _tui(args: argparse.Namespace) -> int:
    # No garbage collection until the app is up (its IdleGC turns the collector on): a full
    # collection among the imports took 20 ms of the start and found nothing to free.
    gc.disable()
    try:
        settings, transport = open_source(args)
        view = apply_view(args, settings)
        if not args.demo:
            # An account whose secret is unreadable is listed all the same: the sidebar marks
            # it failed and the status line says why, as for a provider error.
            pick_accounts(settings, args.account)
        query = query_from(args, timedelta(hours=1))
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            # Drawn into a file or a pipe, the screen is escape codes at full speed, forever.
            raise UsageError("the TUI needs a terminal; for scripts: calltui calls, stats or show")
        from calltui.tui.app import CallTUI

        now = sim_now() if args.demo else None
        app = CallTUI(
            settings, transport=transport, query=query, accounts=args.account, now=now, view=view
        )
        app.run()
        if app.exit_note:
            say(app.exit_note)
    finally:
        gc.enable()
    return EXIT_OK


if __name__ == "__main__":
    main()
