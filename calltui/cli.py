"""The command line (design 1.1): the TUI by default, and headless subcommands for scripts.

Exit codes: 0 ok; 1 a provider error after retries (one line per account on stderr);
2 bad usage or config.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn

from calltui import __version__, filters
from calltui.config import ConfigError, Settings, default_config_path, load_settings
from calltui.filters import FilterError, Kind, build_query
from calltui.model import CallQuery

SUBCOMMANDS = ("calls", "show", "stats", "simulate", "config")
EXIT_OK, EXIT_PROVIDER, EXIT_USAGE = 0, 1, 2
ENV_SIM_NOW = "CALLTUI_SIM_NOW"
DEMO_SEED = 1


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"calltui: {message}\n")


def _source_args(p: argparse.ArgumentParser, accounts: str = "*") -> None:
    p.add_argument("--config", type=Path, help="config file (default: the user config dir)")
    p.add_argument("--demo", action="store_true", help="use the built-in simulator")
    if accounts == "*":
        p.add_argument("--account", action="append", default=[], metavar="NAME", help="repeatable")
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
        p.add_argument("--format", choices=("table", "json"), default="table")
    elif sub == "simulate":
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8080)
        p.add_argument("--seed", type=int, default=DEMO_SEED)
        p.add_argument("--latency", type=float, default=0.0, metavar="MS")
        from calltui.sim.asgi import FAULT_KINDS

        kinds = ", ".join(FAULT_KINDS)
        p.add_argument("--faults", metavar="SPEC", help=f"KIND[@PROVIDER][=RATE],... KIND: {kinds}")
    elif sub == "config":
        p.add_argument("action", choices=("init", "check", "path"))
        p.add_argument("--config", type=Path)
    return p


def sim_now() -> datetime | None:
    """A fixed simulator clock from CALLTUI_SIM_NOW (screenshots, reproducible demos)."""
    value = os.environ.get(ENV_SIM_NOW)
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{ENV_SIM_NOW}: {value!r} is not an ISO date-time") from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


CONFIG_TRANSPORT: Any = None
"""The httpx transport a config's accounts are reached through: None, the network. A program
that embeds the CLI sets it to serve its accounts in-process (tests/test_extra_provider.py)."""


def open_source(args: argparse.Namespace) -> tuple[Settings, Any]:
    """Settings and the transport to reach them: the in-process simulator for --demo."""
    if args.demo:
        from calltui.sim.demo import demo_settings, demo_transport

        _, transport = demo_transport(seed=DEMO_SEED, now=sim_now())
        return demo_settings(), transport
    return load_settings(args.config), CONFIG_TRANSPORT


def pick_accounts(settings: Settings, wanted: Sequence[str]) -> list[str]:
    if not settings.accounts:
        raise UsageError(
            f"{settings.path}: no accounts configured (see `calltui config init`, or use --demo)"
        )
    for name in wanted:
        if name not in settings.accounts:
            known = ", ".join(settings.accounts)
            raise UsageError(f"--account: no account named {name!r} (configured: {known})")
    return list(wanted) or list(settings.accounts)


def query_from(args: argparse.Namespace, default_since: timedelta) -> CallQuery:
    return build_query(
        {f.name: getattr(args, f.name) for f in filters.FILTER_FIELDS if f.flags},
        default_since=default_since,
        now=sim_now() if args.demo else None,
    )


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
    names = pick_accounts(settings, args.account)
    query = query_from(args, timedelta(hours=24))
    engine = Engine(settings, transport=transport)
    try:
        records = await engine.collect(names, query, None if args.all else args.limit)
    finally:
        await engine.aclose()
    out = sys.stdout
    if args.format == "json":
        export.to_json(records, out)
    elif args.format == "ndjson":
        export.to_ndjson(records, out)
    elif args.format == "csv":
        export.to_csv(records, out)
    else:
        out.write(render.table(records, render.display_zone(settings.display.timezone)))
    return _report(engine.errors(), settings)


def _report(errors: Sequence[Exception], settings: Settings) -> int:
    redact = _redactor(settings)
    for e in errors:
        print(f"calltui: {redact(str(e))}", file=sys.stderr)
    return EXIT_PROVIDER if errors else EXIT_OK


async def _show(args: argparse.Namespace) -> int:
    from calltui import render
    from calltui.engine import Engine
    from calltui.http import ProviderError

    settings, transport = open_source(args)
    pick_accounts(settings, [args.account])
    engine = Engine(settings, transport=transport)
    try:
        detail = await engine.detail(args.account, args.call_id)
    except ProviderError as e:
        return _report([e], settings)
    finally:
        await engine.aclose()
    if args.format == "json":
        from calltui.export import json_text

        sys.stdout.write(json_text(detail.to_dict(), indent=2))
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render.detail_text(detail, render.display_zone(settings.display.timezone)))
    return EXIT_OK


async def _stats(args: argparse.Namespace) -> int:
    """KPIs over every call the filters select (analysis.kpi), merged and per account; the
    JSON keys are in analysis.report."""
    from calltui import render
    from calltui.analysis import kpi, report
    from calltui.engine import Engine

    settings, transport = open_source(args)
    names = pick_accounts(settings, args.account)
    query = query_from(args, timedelta(hours=24))
    until = query.until or (sim_now() if args.demo else None) or datetime.now(timezone.utc)
    engine = Engine(settings, transport=transport)
    try:
        records = await engine.collect(names, query, None)
    finally:
        await engine.aclose()
    merged, per = kpi.summarize(records, since=query.since, until=until, accounts=names)
    if args.format == "json":
        from calltui.export import json_text

        sys.stdout.write(json_text(report.document(merged, per, query.since, until), indent=2))
        sys.stdout.write("\n")
    else:
        zone = render.display_zone(settings.display.timezone)
        kinds = {n: settings.accounts[n].provider for n in names}
        sys.stdout.write(report.table(merged, per, query.since, until, zone, kinds))
    return _report(engine.errors(), settings)


async def _simulate(args: argparse.Namespace) -> int:
    from calltui.sim.app import SimApp
    from calltui.sim.server import serve

    try:
        app = SimApp(seed=args.seed, now=sim_now(), latency_ms=args.latency, faults=args.faults)
    except ValueError as e:
        raise UsageError(f"--faults: {e}") from None
    ready = asyncio.Event()
    task = asyncio.create_task(serve(app, args.host, args.port, ready))
    await asyncio.wait([task, asyncio.create_task(ready.wait())], return_when="FIRST_COMPLETED")
    if task.done():
        task.result()
    base = f"http://{args.host}:{args.port}"
    print(f"calltui simulator (seed {args.seed}) serving all five APIs on {base}", flush=True)
    print("point accounts at it with the demo credentials: see `calltui.sim.demo`", flush=True)
    await task
    return EXIT_OK


def _config(args: argparse.Namespace) -> int:
    from calltui.config import write_template

    path = args.config or default_config_path()
    if args.action == "path":
        print(path)
        return EXIT_OK
    if args.action == "init":
        if path.exists():
            raise UsageError(f"{path}: already exists; not overwritten")
        write_template(path)
        print(f"wrote {path} (mode 0600)")
        return EXIT_OK
    settings = load_settings(path)
    for w in settings.warnings:
        print(f"calltui: warning: {w}", file=sys.stderr)
    print(f"{path}: ok, {len(settings.accounts)} account(s)")
    for name, acc in settings.accounts.items():
        print(f"  {name:<20} {acc.provider:<10} {acc.base_url or '(default URL)'}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    sub = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    args = build_parser(sub).parse_args(argv[1:] if sub else argv)
    try:
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
    except (ConfigError, FilterError, UsageError) as e:
        print(f"calltui: {e}", file=sys.stderr)
        code = EXIT_USAGE
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


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
        if not args.demo:
            pick_accounts(settings, args.account)
        query = query_from(args, timedelta(hours=1))
        for w in settings.warnings:
            print(f"calltui: warning: {w}", file=sys.stderr)
        from calltui.tui.app import CallTUI

        now = sim_now() if args.demo else None
        app = CallTUI(settings, transport=transport, query=query, accounts=args.account, now=now)
        app.run()
    finally:
        gc.enable()
    return EXIT_OK


if __name__ == "__main__":
    main()
