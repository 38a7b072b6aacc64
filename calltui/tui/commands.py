"""Command palette entries (`:` or ctrl+p) for the screen it opened over: that screen's
entries in the key registry (calltui.tui.keys, each naming its key as the live keymap has it, so
the palette also teaches the key map), the app's own (help), and what the screen adds of its
own (the main screen: one entry per account). Textual's own entries add theme switching and
quit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import Any

from textual.app import App, SystemCommand
from textual.widget import Widget

from calltui.tui import keys


def system_commands(
    app: App[Any], screen: Widget, keymap: Mapping[str, str]
) -> Iterator[SystemCommand]:
    """`screen`'s entries: those of its PALETTE context of the key registry, then those its
    `palette_extra()` gives, if it has either; then the app's."""
    context = getattr(screen, "PALETTE", None)
    if isinstance(context, str):
        yield from _entries(screen, context, keymap)
    extra: Callable[[], Iterable[SystemCommand]] | None = getattr(screen, "palette_extra", None)
    if extra is not None:
        yield from extra()
    yield from _entries(app, "app", keymap)


def _entries(
    node: App[Any] | Widget, context: str, keymap: Mapping[str, str]
) -> Iterator[SystemCommand]:
    for title, help_text, action in keys.palette(context, keymap):
        yield SystemCommand(title, help_text, partial(node.run_action, action))
