"""The filter form (F7; `/` opens it on the query box), made from calltui.filters.FILTER_FIELDS:
presets for since, a box, choice or checkbox per filter (the checkboxes last). Bad input (a
query's bad term included) names the field and keeps the form open."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from calltui import filters as spec
from calltui.filters import FilterError, FilterField, Kind, build_query
from calltui.model import CallQuery
from calltui.tui import keys
from calltui.tui.screens.dialog import Dialog
from calltui.tui.widgets.choice import Tick

PRESETS = ("15m", "1h", "4h", "24h", "7d")
EMPTY_SINCE = timedelta(hours=1)
"""What an empty since means: the last hour, as the TUI opens on."""


def form_fields() -> list[FilterField]:
    """The fields in the form's grid: checkboxes last, the others in spec order."""
    shown = [f for f in spec.FILTER_FIELDS if f.label is not None]
    return sorted(shown, key=lambda f: f.kind is Kind.SWITCH)  # stable


class FilterScreen(Dialog[CallQuery | None]):
    BINDINGS = keys.bindings("filters")
    DEFAULT_CSS = """
    FilterScreen > Vertical { width: 76; }
    FilterScreen Grid { grid-size: 4; grid-columns: 10 1fr 10 1fr; grid-rows: 1;
        grid-gutter: 1 1; height: auto; }
    FilterScreen #presets Button { min-width: 6; width: auto; margin: 0 1 0 0; }
    FilterScreen #presets { height: 1; margin: 1 0; }
    """

    def __init__(
        self,
        query: CallQuery,
        zone: tzinfo | None,
        now: datetime,
        focus: str = "since",
        history: Sequence[str] = (),
    ) -> None:
        """`history`: the queries given before, newest last, offered as the query is typed."""
        super().__init__()
        self.history = list(reversed(history))
        self.now = now
        self.query_ = query
        self.zone = zone
        self.focus_id = focus

    def _fmt(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.astimezone(self.zone).isoformat(timespec="seconds")
        return str(value)

    def _field(self, f: FilterField) -> Iterator[Widget]:
        """The form's two cells for `f`: its label and its box, or nothing and its checkbox."""
        value = f.shown(self.query_)
        label = f.label or ""
        if f.kind is Kind.SWITCH:
            yield Label("")
            yield Tick(label, bool(value), id=f.name, compact=True)
            return
        yield Label(label)
        if f.kind is Kind.TEXT:
            suggester = None
            if f.name == "query" and self.history:
                suggester = SuggestFromList(self.history, case_sensitive=False)
            yield Input(
                self._fmt(value),
                id=f.name,
                placeholder=f.placeholder,
                compact=True,
                suggester=suggester,
            )
        else:
            yield Select(
                [(c, c) for c in f.choices],
                value=value or Select.NULL,
                id=f.name,
                prompt="any",
                compact=True,
            )

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Filters  (Enter or Ctrl+S applies, Esc cancels)")
            with Horizontal(id="presets"):
                for p in PRESETS:
                    yield Button(p, id=f"preset-{p}", compact=True)
            with Grid():
                for f in form_fields():
                    yield from self._field(f)
            yield Static(id="error")
            with Horizontal(id="buttons"):
                yield Button("Apply", variant="primary", id="apply", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#{self.focus_id}").focus()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        bid = event.button.id or ""
        if bid.startswith("preset-"):
            self.query_one("#since", Input).value = bid.removeprefix("preset-")
            self.query_one("#until", Input).value = ""
        elif bid == "apply":
            self.action_apply()
        elif bid == "cancel":
            self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    def values(self) -> dict[str, Any]:
        """The form's raw values by filter name, as build_query reads them."""
        out: dict[str, Any] = {}
        for f in form_fields():
            if f.kind is Kind.TEXT:
                out[f.name] = self.query_one(f"#{f.name}", Input).value.strip()
            elif f.kind is Kind.SWITCH:
                out[f.name] = self.query_one(f"#{f.name}", Checkbox).value
            else:
                picked = self.query_one(f"#{f.name}", Select).value
                choice = picked if isinstance(picked, str) else None
                if f.kind is Kind.CHOICES:  # the form picks one of them at most
                    out[f.name] = [] if choice is None else [choice]
                else:
                    out[f.name] = choice
        return out

    def action_apply(self) -> None:
        try:
            query = build_query(self.values(), default_since=EMPTY_SINCE, now=self.now)
        except FilterError as e:
            self.query_one("#error", Static).update(Text(str(e)))
            self.query_one(f"#{e.field}").focus()
            return
        self.dismiss(query)


class PromptScreen(Dialog[str | None]):
    """One line of input (go to a call id)."""

    BINDINGS = keys.bindings("prompt")
    DEFAULT_CSS = """
    PromptScreen > Vertical { width: 60; }
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text)
            yield Input(id="value", compact=True)

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
