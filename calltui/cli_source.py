"""Where a command of calltui.cli reads its calls from: the settings and the transport (the
built-in simulator for --demo, on the clock CALLTUI_SIM_NOW may fix), the accounts asked for, the
view and the query its flags give; and how it says what stops it (UsageError, Unusable, `say`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from calltui import filters
from calltui.config import ConfigError, Settings, load_settings, with_accounts
from calltui.filters import build_query
from calltui.model import CallQuery
from calltui.text import inert

if TYPE_CHECKING:
    from calltui.viewspec import ViewSpec

ENV_SIM_NOW = "CALLTUI_SIM_NOW"
DEMO_SEED = 1


class UsageError(Exception):
    pass


class Unusable(Exception):
    """Every account asked for has a secret that could not be read: nothing can run."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        super().__init__(errors[0])
        self.errors = list(errors)


def say(message: object) -> None:
    """One line on stderr. Account names and keys are the config's, and values in errors the
    network's: none of them reaches the terminal with an escape sequence in it."""
    print(f"calltui: {inert(message)}", file=sys.stderr)


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
that embeds the CLI (calltui.cli.main) sets it to serve its accounts in-process
(tests/test_extra_provider.py)."""


def open_source(args: argparse.Namespace) -> tuple[Settings, Any]:
    """Settings and the transport to reach them: the in-process simulator for --demo. What the
    config's permissions let others do (read its secrets, swap its commands) is told on every
    command."""
    if args.demo:
        from calltui.sim.demo import demo_accounts, demo_transport

        _, transport = demo_transport(seed=DEMO_SEED, now=sim_now())
        # The user's [display], [keys] and [alerts] hold in the demo too: it is where keys
        # and themes are tried out.
        return with_accounts(
            args.config, demo_accounts(), required=args.config is not None
        ), transport
    settings = load_settings(args.config)
    for w in settings.warnings:
        say(f"warning: {w}")
    return settings, CONFIG_TRANSPORT


def pick_accounts(settings: Settings, wanted: Sequence[str]) -> tuple[list[str], int]:
    """The accounts asked for (none: all) that can run, and how many cannot: those whose
    secret could not be read, each told on stderr (each fails alone, the others run). Raises
    Unusable when no account asked for can run."""
    if not settings.accounts:
        raise UsageError(
            f"{settings.path}: no accounts configured (see `calltui config init`, or use --demo)"
        )
    for name in wanted:
        if name not in settings.accounts:
            known = ", ".join(settings.accounts)
            raise UsageError(f"--account: no account named {name!r} (configured: {known})")
    names = list(wanted) or list(settings.accounts)
    errors = {name: settings.accounts[name].secret_errors() for name in names}
    unreadable = [e for name in names for e in errors[name]]
    if all(errors.values()):
        raise Unusable(unreadable)
    for e in unreadable:
        say(e)
    return [name for name in names if not errors[name]], len(unreadable)


def apply_view(args: argparse.Namespace, settings: Settings) -> ViewSpec | None:
    """The view `--view` names, its parts put into `args` where the flags beside it leave them
    unset (accounts, since, until, query): so the command lists what the view shows."""
    given = getattr(args, "view", None)
    if not given:
        return None
    from calltui.viewspec import ViewSpecError, parse

    saved = settings.views.get(given)
    try:
        spec = parse(saved.spec if saved is not None else given)
    except ViewSpecError as e:
        known = f" (saved views: {', '.join(settings.views)})" if settings.views else ""
        if not given.startswith("calltui:") and saved is None:
            raise UsageError(f"--view: no view named {given!r}{known}") from None
        raise UsageError(f"--view: {e}") from None
    if not args.account:
        args.account = list(spec.accounts)
    for name, value in (("since", spec.since), ("until", spec.until), ("query", spec.q)):
        if getattr(args, name, None) in (None, "") and value:
            setattr(args, name, value)
    return spec


def query_from(args: argparse.Namespace, default_since: timedelta) -> CallQuery:
    return build_query(
        {f.name: getattr(args, f.name) for f in filters.FILTER_FIELDS if f.flags},
        default_since=default_since,
        now=sim_now() if args.demo else None,
    )
