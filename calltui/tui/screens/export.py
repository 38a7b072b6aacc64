"""Export and handoff: the modals, and the actions the main screen and the detail screen share.

ExportScreen (`x`): what to write (the view, or the calls marked with Space), in which format
(CSV, JSON or NDJSON, the `calltui calls --format` documents), and where; the file name follows
the format until it is edited. `write_calls` writes it: a new file only (an existing one is never
overwritten), mode 0600 (call records hold phone numbers).

OpenWithScreen: after a pcap is saved, which viewer found on PATH to open it in, or none.

open_in: the viewer chosen there, run on the capture (calltui.tui.handover saves it).
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioSet, Static

from calltui import handoff
from calltui.export import to_csv, to_json, to_ndjson
from calltui.files import create_private
from calltui.model import Call
from calltui.text import inert
from calltui.tui import keys
from calltui.tui.screens.dialog import Dialog
from calltui.tui.widgets.choice import Choice, Choices

FORMATS = ("csv", "json", "ndjson")
SCOPES = ("view", "marked")


@dataclass(frozen=True, slots=True)
class ExportChoice:
    scope: str
    """`view` or `marked`."""
    fmt: str
    path: Path


def write_calls(calls: Iterable[Call], fmt: str, path: Path) -> int:
    """Write `calls` to a new file `path` (mode 0600, never through a link: calltui.files) as
    `fmt`; the number written. Raises FileExistsError rather than overwrite, OSError as the
    system gives it."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    count = 0

    def counted() -> Iterator[Call]:
        nonlocal count
        for c in calls:
            count += 1
            yield c

    _, raw = create_private(path)
    with io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
        {"csv": to_csv, "json": to_json, "ndjson": to_ndjson}[fmt](counted(), f)
    return count


class ExportScreen(Dialog[ExportChoice | None]):
    BINDINGS = keys.bindings("export")
    DEFAULT_CSS = """
    ExportScreen > Vertical { width: 64; }
    ExportScreen #choices { height: auto; }
    ExportScreen RadioSet { width: 1fr; height: auto; }
    ExportScreen #path-label { margin-top: 1; }
    """

    def __init__(
        self, view_count: int, marked_count: int, folder: Path, stamp: str, complete: bool = True
    ) -> None:
        """`complete`: the view holds every call of the filters (else more load on demand)."""
        super().__init__()
        self.complete = complete
        self.view_count = view_count
        self.marked_count = marked_count
        self.folder = folder
        self.stamp = stamp
        self.fmt = "csv"
        self._named = self._default_name()

    def _default_name(self) -> str:
        return f"calltui-{self.stamp}.{self.fmt}"

    def compose(self) -> ComposeResult:
        marked = self.marked_count > 0
        with Vertical():
            title = "Export  (Space chooses, Enter or Ctrl+S saves, Esc cancels)"
            yield Static(Text(title, "bold"))
            with Horizontal(id="choices"):
                with Choices(id="scope", compact=True):
                    loaded = "" if self.complete else " loaded so far"
                    yield Choice(
                        f"the view ({self.view_count} calls{loaded})",
                        value=not marked,
                        id="scope-view",
                    )
                    yield Choice(
                        f"marked ({self.marked_count} calls)",
                        value=marked,
                        disabled=not marked,
                        id="scope-marked",
                    )
                with Choices(id="format", compact=True):
                    for fmt in FORMATS:
                        yield Choice(fmt.upper(), value=fmt == self.fmt, id=f"fmt-{fmt}")
            yield Label(Text(inert(f"file (in {self.folder})", 60)), id="path-label")
            yield Input(self._named, id="path", compact=True)
            yield Static(id="error")
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#format", RadioSet).focus()

    @property
    def scope(self) -> str:
        pressed = self.query_one("#scope", RadioSet).pressed_button
        return "marked" if pressed is not None and pressed.id == "scope-marked" else "view"

    @on(RadioSet.Changed, "#format")
    def _format(self, event: RadioSet.Changed) -> None:
        self.fmt = (event.pressed.id or "fmt-csv").removeprefix("fmt-")
        path = self.query_one("#path", Input)
        if path.value == self._named:  # not edited: the name follows the format
            self._named = path.value = self._default_name()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "cancel":
            self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        value = self.query_one("#path", Input).value.strip()
        if not value:
            self.query_one("#error", Static).update(Text("a file name is needed"))
            return
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.folder / path
        if os.path.lexists(path):  # a dangling link too: write_calls would refuse it
            self.query_one("#error", Static).update(Text(inert(f"{path} exists", 120)))
            return
        self.dismiss(ExportChoice(self.scope, self.fmt, path))


class OpenWithScreen(Dialog[str | None]):
    """A saved capture: open it in one of `viewers` (paths), or not."""

    BINDINGS = keys.bindings("open_with")
    DEFAULT_CSS = """
    OpenWithScreen > Vertical { width: 64; }
    OpenWithScreen #viewers { height: 1; margin-top: 1; }
    OpenWithScreen #viewers Button { margin-right: 2; }
    """

    def __init__(self, path: Path, viewers: list[str]) -> None:
        super().__init__()
        self.path = path
        self.viewers = viewers

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(inert(f"Saved {self.path}", 300)))
            yield Static(Text("Open it now? calltui returns when the viewer exits.", "dim"))
            with Horizontal(id="viewers"):
                for i, viewer in enumerate(self.viewers):
                    yield Button(Path(viewer).name, id=f"viewer-{i}", compact=True)
                yield Button("Not now", id="no", compact=True)

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        bid = event.button.id or ""
        if bid.startswith("viewer-"):
            self.dismiss(self.viewers[int(bid.removeprefix("viewer-"))])
        else:
            self.dismiss(None)


def open_in(app: App[Any], viewer: str, path: Path) -> None:
    """A saved capture opened in `viewer`: a terminal viewer gets the terminal (calltui
    resumes when it exits), Wireshark opens its own window beside calltui."""
    cmd = handoff.viewer_command(viewer, path)
    name = Path(viewer).name
    if name.startswith("wireshark"):
        # A window of its own: calltui keeps the terminal.
        try:
            subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as e:
            app.notify(f"{name} did not start: {inert(e.strerror or e, 120)}", severity="error")
        return
    try:
        with app.suspend():
            try:
                subprocess.run(cmd, check=False)
                if name.startswith("tshark"):
                    input("\n[calltui] press Enter to return ")  # its output would vanish
            except (OSError, EOFError) as e:
                print(f"calltui: {name} did not run: {e}")
    except SuspendNotSupported:
        app.notify(
            f"this terminal cannot be handed over; run: {inert(' '.join(cmd), 200)}",
            severity="warning",
            timeout=8,
        )
