"""One key registry (calltui.tui.keys): every screen and widget takes its bindings from it, and
help, the palette and the footer show the live keymap, so a key remapped in `[keys]` shows as
remapped everywhere."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import Counter

from rich.console import Console
from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widget import Widget

import calltui.tui
from calltui.model import FAILED_OUTCOMES
from calltui.tui import keys
from calltui.tui.app import CallTUI
from calltui.tui.screens.compare import CompareScreen
from calltui.tui.screens.copy import CopyScreen
from calltui.tui.screens.detail import DetailScreen
from calltui.tui.screens.errors import ErrorLogScreen
from calltui.tui.screens.export import ExportScreen, OpenWithScreen
from calltui.tui.screens.filters import FilterScreen, PromptScreen
from calltui.tui.screens.help import HelpScreen, binding_table
from calltui.tui.screens.main import MainScreen
from calltui.tui.screens.pivot import PivotScreen
from calltui.tui.widgets.call_table import CallTable
from calltui.tui.widgets.choice import Choices
from calltui.tui.widgets.footer import KeyFooter
from calltui.tui.widgets.rows import RowList
from tests.tui.harness import make_app, settle

OWNERS = {
    "app": CallTUI,
    "table": CallTable,
    "rows": RowList,
    "choices": Choices,
    "detail": DetailScreen,
    "compare": CompareScreen,
    "export": ExportScreen,
    "filters": FilterScreen,
    "prompt": PromptScreen,
    "open_with": OpenWithScreen,
    "help": HelpScreen,
    "pivot": PivotScreen,
    "copy": CopyScreen,
    "errors": ErrorLogScreen,
}


def ids(bindings) -> list[str]:
    return [b.id for b in bindings]


def test_every_screen_and_widget_binds_what_the_registry_says():
    for context, owner in OWNERS.items():
        assert ids(owner.BINDINGS) == ids(keys.bindings(context)), context
    assert ids(MainScreen.BINDINGS) == ids(keys.bindings("app")) + ids(keys.bindings("main"))
    assert set(keys.CONTEXTS) == {*OWNERS, "main"}


def bound_classes() -> list[type]:
    """Every widget, screen and app of calltui.tui that declares BINDINGS of its own."""
    out = []
    for info in pkgutil.walk_packages(calltui.tui.__path__, "calltui.tui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ == module.__name__
                and issubclass(cls, (Widget, App))
                and "BINDINGS" in vars(cls)
            ):
                out.append(cls)
    return out


def test_every_binding_of_every_class_is_a_registry_entry():
    """A binding made outside the registry has no id: help leaves it out and `[keys]` cannot
    remap it."""
    classes = bound_classes()
    assert {RowList, Choices, CallTable, MainScreen, CallTUI} <= set(classes)
    for cls in classes:
        for b in cls.BINDINGS:
            where = f"{cls.__qualname__}: {b}"
            assert isinstance(b, Binding) and b.id is not None, where
            entry = keys.find(b.id)
            assert (b.key, b.action.removeprefix("app.")) == (entry.keys, entry.action), where


def test_ids_are_unique_and_every_entry_has_words():
    every = [k for c in keys.CONTEXTS.values() for k in c.keys]
    assert [i for i, n in Counter(k.id for k in every).items() if n > 1] == []
    assert all(k.description for k in every)
    assert all(k.palette_help for k in every if k.palette)


def text_of(table) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def test_help_covers_every_context():
    text = text_of(binding_table({}))
    for context in keys.CONTEXTS.values():
        assert context.name in text


async def test_a_remapped_key_shows_as_remapped_in_help_palette_and_footer():
    app = make_app([])
    app.set_keymap({"failed_only": "z", "help": "f9"})
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        footer = {p.hint.description: p.hint.key for p in app.screen.query_one(KeyFooter).placed}
        assert footer["Failed only"] == "z"
        await pilot.press("z")
        await settle(pilot)
        assert app.main.query_.outcomes == FAILED_OUTCOMES

        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "View: failed only (z)" in titles and "Help (F9)" in titles

        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        help_text = text_of(binding_table(app.keymap))
        row = next(line for line in help_text.splitlines() if "failed_only" in line)
        assert " z " in row and " f " not in row
        await pilot.press("escape")
        await pilot.press("colon")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)


async def test_the_lists_and_the_export_options_take_their_keys_from_the_keymap():
    app = make_app([])
    app.set_keymap({"list_down": "ctrl+n", "choice_next": "ctrl+o"})
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        sidebar = app.screen.query_one("#sidebar", RowList)
        sidebar.focus()
        await pilot.press("ctrl+n", "ctrl+n")
        await settle(pilot)
        assert sidebar.cursor == 2
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        formats = app.screen.query_one("#format", Choices)
        assert formats.has_focus and formats.pressed_index == 0
        await pilot.press("ctrl+o", "space")
        await settle(pilot)
        assert formats.pressed_index == 1
    rows = text_of(binding_table(app.keymap)).splitlines()
    assert " Ctrl+N " in next(line for line in rows if "list_down" in line)
    assert " Ctrl+O " in next(line for line in rows if "choice_next" in line)


def test_help_shows_keys_as_typed():
    text = text_of(binding_table({"search": "slash,ctrl+f", "kpi": "question_mark"}))
    for name in ("question_mark", "colon", "slash", "pagedown", "ctrl+", "plus", "minus"):
        assert name not in text, name
    search = next(line for line in text.splitlines() if " search " in line)
    assert " /  Ctrl+F " in search
    kpi = next(line for line in text.splitlines() if " kpi " in line)
    assert " ? " in kpi
    assert keys.typed("f6") == "F6" and keys.typed("space") == "Space"


def footer_line(app) -> str:
    """The footer's line as the terminal shows it."""
    footer = app.screen.query_one(KeyFooter)
    return "".join(s.text for s in app.screen._compositor.render_strips()[footer.region.y])


async def test_at_80_columns_the_footer_drops_whole_hints_and_keeps_the_palette_key():
    app = make_app([])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        shown = footer.placed
        palette = [p for p in shown if p.palette]
        assert len(palette) == 1 and palette[0].x + palette[0].width == 80
        hints = [p for p in shown if not p.palette]
        assert 3 <= len(hints) < len(list(footer.hints()))
        line = footer_line(app)
        for p in hints:
            whole = f" {p.hint.display} {p.hint.description} "
            assert line[p.x : p.x + p.width] == whole, p.hint.description
            assert p.x + p.width <= palette[0].x, p.hint.description
        assert line.endswith(f"▏{palette[0].hint.display} {palette[0].hint.description} ")
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        await pilot.pause(0.1)
        assert len(footer.placed) > len(shown)


async def test_a_click_on_a_hint_presses_its_key():
    app = make_app([])
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        failed = next(p for p in footer.placed if p.hint.action == "toggle_failed")
        await pilot.click(KeyFooter, offset=(failed.x + 1, 0))
        await settle(pilot)
        assert app.main.query_.outcomes == FAILED_OUTCOMES


async def test_the_footer_is_redrawn_only_when_what_it_shows_changes():
    """Every focus move and binding refresh tells the footer; it draws its line again only
    when the row would differ (Textual's Footer made a dozen key widgets anew each time: three
    times at start-up, before the first rows)."""
    app = make_app([])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        shown = footer.placed
        assert shown
        drawn = []
        footer.refresh = lambda *a, **k: drawn.append(a)  # type: ignore[method-assign]
        app.screen.refresh_bindings()
        app.screen.query_one("#sidebar").focus()
        app.screen.query_one(CallTable).focus()
        await settle(pilot)
        assert drawn == [] and footer.placed == shown
        del footer.refresh
        await pilot.resize_terminal(70, 30)
        await settle(pilot)
        await pilot.pause(0.1)
        assert len(footer.placed) < len(shown)
