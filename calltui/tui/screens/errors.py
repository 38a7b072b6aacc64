"""The error log (`E`): every failed account's whole last error, which the status line can only
begin: the message as the provider's answer gave it, the URL it came from (its secrets masked by
the HTTP layer), when it happened and when the account is tried again. Text only, never markup:
the messages are the network's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from calltui.columns import fmt_time
from calltui.text import inert, inert_block
from calltui.tui import keys
from calltui.tui.screens.dialog import Dialog


@dataclass(frozen=True, slots=True)
class Failure:
    account: str
    message: str
    """The whole message, without the account's name or the URL."""
    status: int | None
    url: str | None
    at: datetime | None
    """When it happened."""
    retry_in: int | None
    """Seconds until it is tried again; None: it is not (the config must change first)."""


def log_text(failures: list[Failure], zone: tzinfo | None) -> Text:
    out = Text()
    if not failures:
        out.append("No account has failed.", "dim")
        return out
    for n, f in enumerate(failures):
        if n:
            out.append("\n")
        out.append("✖ ", "bold")
        out.append(inert(f.account, 80), "bold")
        if f.status:
            out.append(f"  HTTP {f.status}", "bold")
        out.append("\n")
        out.append(inert_block(f.message, 4000) + "\n")
        if f.url:
            out.append("url     ", "dim")
            out.append(inert(f.url, 600) + "\n")
        if f.at is not None:
            out.append("when    ", "dim")
            out.append(fmt_time(f.at, zone) + "\n")
        out.append("retry   ", "dim")
        if f.retry_in is None:
            out.append("not by itself: fix the cause, then R\n")
        else:
            out.append(f"in {f.retry_in} s (R: now)\n")
    return out


class ErrorLogScreen(Dialog[None]):
    BINDINGS = keys.bindings("errors")
    DEFAULT_CSS = """
    ErrorLogScreen > VerticalScroll { width: 90%; max-width: 120; height: auto; max-height: 90%; }
    """

    def __init__(self, failures: list[Failure], zone: tzinfo | None) -> None:
        super().__init__()
        self.failures = failures
        self.zone = zone

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("Errors of the accounts  (Esc closes)", "bold"))
            yield Static(log_text(self.failures, self.zone), id="errors")
