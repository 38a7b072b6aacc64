"""Command palette entries (`:` or ctrl+p), namespaced by what they act on: accounts, the view
(failed only, window, refresh, filters, go to a call), triage (live tail, KPIs, compare), marks,
export, and the handoff of the call under the cursor (curl, redacted bundle, pcap). Every entry
names its key, so the palette also teaches the key map. Textual's own entries add theme switching
and quit."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from calltui.tui.app import CallTUI
    from calltui.tui.screens.detail import DetailScreen


def system_commands(app: CallTUI, screen: Screen[object]) -> Iterator[SystemCommand]:
    """The entries for `screen` (the one the palette opened over): the detail screen's own
    handoff of its call, or the main screen's everything."""
    from calltui.tui.screens.detail import DetailScreen

    if isinstance(screen, DetailScreen):
        yield from _detail_commands(screen)
    elif screen is app.main_screen:
        yield from _main_commands(app)


def _detail_commands(screen: DetailScreen) -> Iterator[SystemCommand]:
    yield SystemCommand(
        "Handoff: copy as curl (c)",
        "This call's API request, credentials as $VARIABLES",
        screen.action_curl,
    )
    yield SystemCommand(
        "Handoff: redacted bundle (B)",
        "This call, its drill-down and related calls as JSON for a carrier ticket",
        screen.action_bundle,
    )
    yield SystemCommand(
        "Handoff: save pcap (p)", "jambonz: this call's SIP capture to a file", screen.action_pcap
    )
    yield SystemCommand(
        "Related calls (4)",
        "Calls and legs of this call across every account",
        partial(screen.action_tab, "tab-related"),
    )


def _main_commands(app: CallTUI) -> Iterator[SystemCommand]:
    yield SystemCommand(
        "Accounts: all", "List calls of every account", partial(app.pick_account, None)
    )
    for name in app.engine.account_names:
        yield SystemCommand(
            f"Accounts: {name}", f"List calls of {name} only", partial(app.pick_account, name)
        )
    yield SystemCommand(
        "View: failed only (f)", "Toggle: only calls that did not connect", app.action_toggle_failed
    )
    yield SystemCommand(
        "View: time window (w)", "15 min, 1 h, 4 h, 1 day, 7 days", app.action_cycle_since
    )
    yield SystemCommand("View: refresh (r)", "Fetch the current window again", app.action_refresh)
    yield SystemCommand("View: filters… (F7)", "Edit the filters", app.action_edit_filters)
    yield SystemCommand("View: go to call id…", "Jump to a loaded call by its id", app.action_go_to)
    tail = "stop" if app.tail is not None else "start"
    yield SystemCommand(
        f"Triage: live tail, {tail} (t)",
        "Poll every account's newest calls and put them on top",
        app.action_toggle_tail,
    )
    yield SystemCommand(
        "Triage: KPI panel (i)",
        "ASR, NER, ACD, PDD, short calls, failure causes, calls per minute of the view",
        app.action_toggle_kpi,
    )
    yield SystemCommand(
        "Triage: compare two marked calls (d)",
        "Side by side, the fields that differ highlighted",
        app.action_compare,
    )
    yield SystemCommand("Marks: clear all", "Unmark every call marked with Space", app.clear_marks)
    yield SystemCommand(
        "Export: view or marked… (x)", "CSV, JSON or NDJSON to a file", app.action_export
    )
    yield SystemCommand(
        "Export: view as CSV now (F2)", "Quick save in the working directory", app.action_save_view
    )
    yield SystemCommand(
        "Handoff: copy as curl (c)",
        "The API request of the call under the cursor, credentials as $VARIABLES",
        app.action_curl,
    )
    yield SystemCommand(
        "Handoff: redacted bundle (B)",
        "The call, its drill-down and related calls as JSON for a carrier ticket; numbers masked",
        app.action_bundle,
    )
    yield SystemCommand(
        "Handoff: save pcap (p)",
        "jambonz: the call's SIP capture to a file, then open it in sngrep or Wireshark",
        app.action_pcap,
    )
    yield SystemCommand("Help (?)", "Every key binding", app.action_help)
