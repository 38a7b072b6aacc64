"""The filter form (F7, `/`): since/until with presets, numbers, direction, outcome, failed only,
durations, text. Bad input names the field and keeps the form open."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from calltui.filters import FilterError, build_query
from calltui.model import FAILED_OUTCOMES, CallQuery, Outcome
from calltui.tui.screens.dialog import Dialog

PRESETS = ("15m", "1h", "4h", "24h", "7d")


class FilterScreen(Dialog[CallQuery | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="filters_cancel"),
        Binding("ctrl+s", "apply", "Apply", id="filters_apply"),
    ]
    DEFAULT_CSS = """
    FilterScreen > Vertical { width: 76; }
    FilterScreen Grid { grid-size: 4; grid-columns: 10 1fr 10 1fr; grid-rows: 1;
        grid-gutter: 1 1; height: auto; }
    FilterScreen #presets Button { min-width: 6; width: auto; margin: 0 1 0 0; }
    FilterScreen #presets { height: 1; margin: 1 0; }
    """

    def __init__(
        self, query: CallQuery, zone: tzinfo | None, now: datetime, focus: str = "since"
    ) -> None:
        super().__init__()
        self.now = now
        self.query_ = query
        self.zone = zone
        self.focus_id = focus

    def _fmt(self, t: datetime | None) -> str:
        return "" if t is None else t.astimezone(self.zone).isoformat(timespec="seconds")

    def compose(self) -> ComposeResult:
        q = self.query_
        failed = q.outcomes == FAILED_OUTCOMES
        single = next(iter(q.outcomes)).value if len(q.outcomes) == 1 else None
        with Vertical():
            yield Static("Filters  (Enter or ctrl+s applies, Esc cancels)")
            with Horizontal(id="presets"):
                for p in PRESETS:
                    yield Button(p, id=f"preset-{p}", compact=True)
            with Grid():
                yield Label("since")
                yield Input(
                    self._fmt(q.since), id="since", placeholder="15m, 4h, 2d or ISO", compact=True
                )
                yield Label("until")
                yield Input(self._fmt(q.until), id="until", placeholder="now", compact=True)
                yield Label("from")
                yield Input(q.from_ or "", id="from", placeholder="number prefix", compact=True)
                yield Label("to")
                yield Input(q.to or "", id="to", placeholder="number prefix", compact=True)
                yield Label("direction")
                yield Select(
                    [("inbound", "inbound"), ("outbound", "outbound")],
                    value=q.direction or Select.NULL,
                    id="direction",
                    prompt="any",
                    compact=True,
                )
                yield Label("outcome")
                yield Select(
                    [(o.value, o.value) for o in Outcome],
                    value=single or Select.NULL,
                    id="outcome",
                    prompt="any",
                    compact=True,
                )
                yield Label("min dur")
                yield Input(_s(q.min_duration), id="min", placeholder="seconds", compact=True)
                yield Label("max dur")
                yield Input(_s(q.max_duration), id="max", placeholder="seconds", compact=True)
                yield Label("text")
                yield Input(q.text or "", id="text", placeholder="id or number", compact=True)
                yield Label("")
                yield Checkbox("failed only", failed, id="failed", compact=True)
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

    def action_apply(self) -> None:
        def val(i: str) -> str:
            return self.query_one(f"#{i}", Input).value.strip()

        direction = self.query_one("#direction", Select).value
        outcome = self.query_one("#outcome", Select).value
        try:
            query = build_query(
                since=val("since") or "1h",
                until=val("until") or None,
                from_=val("from"),
                to=val("to"),
                direction=direction if isinstance(direction, str) else None,
                outcomes=[outcome] if isinstance(outcome, str) else [],
                failed=self.query_one("#failed", Checkbox).value,
                min_duration=val("min"),
                max_duration=val("max"),
                text=val("text"),
                now=self.now,
            )
        except FilterError as e:
            message = f"{e.field}: {e}".split(": ", 1)[1]
            self.query_one("#error", Static).update(Text(message))
            field = {"min_duration": "min", "max_duration": "max", "failed": "failed"}.get(
                e.field, e.field
            )
            if self.query(f"#{field}"):
                self.query_one(f"#{field}").focus()
            return
        self.dismiss(query)


def _s(v: int | None) -> str:
    return "" if v is None else str(v)


class PromptScreen(Dialog[str | None]):
    """One line of input (go to a call id)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="prompt_cancel")]
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
