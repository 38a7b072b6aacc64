"""Dialogs as the screen says they work: Enter saves the export dialog wherever the focus is but
on Cancel, Space chooses, and what is chosen (or ticked) differs in its characters, not only in
its colour."""

from __future__ import annotations

import pytest

from calltui.tui import keys
from calltui.tui.clipboard import osc52_known
from calltui.tui.screens.copy import CopyScreen
from calltui.tui.screens.export import ExportScreen
from calltui.tui.screens.filters import FilterScreen
from calltui.tui.widgets.choice import Choice, Tick
from tests.tui.harness import make_app, screen_text, settle


def drawn(widget: Choice | Tick) -> str:
    return widget.render().plain


async def test_enter_saves_the_export_dialog_from_its_choices(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.focused is not None and screen.focused.id == "format"
        await pilot.press("down", "space")  # CSV → JSON, chosen with Space
        await pilot.pause(0.05)
        assert screen.fmt == "json"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ExportScreen)
        (path,) = tmp_path.glob("calltui-*.json")
        assert path.stat().st_size > 0


async def test_enter_on_cancel_cancels(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause(0.1)
        app.screen.query_one("#cancel").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ExportScreen)
        assert list(tmp_path.glob("calltui-*")) == []


async def test_the_chosen_export_format_differs_in_its_characters():
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause(0.1)
        formats = {c.id: drawn(c) for c in app.screen.query("#format Choice").results(Choice)}
        assert formats["fmt-csv"].startswith("(*)")
        assert all(text.startswith("( )") for key, text in formats.items() if key != "fmt-csv")


@pytest.mark.parametrize("ticked", [True, False])
async def test_a_ticked_filter_box_differs_in_its_characters(ticked):
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await pilot.pause(0.2)
        if not isinstance(app.screen, FilterScreen):
            pytest.fail(f"F opened {app.screen!r}")
        box = next(iter(app.screen.query(Tick)))
        box.value = ticked
        await pilot.pause(0.05)
        assert drawn(box).startswith("[x]" if ticked else "[ ]")


@pytest.mark.parametrize(("key", "dialog"), [("f7", FilterScreen), ("x", ExportScreen)])
async def test_the_filter_and_export_dialogs_name_their_keys_as_help_does(key, dialog):
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await pilot.pause(0.2)
        assert isinstance(app.screen, dialog)
        assert f"Enter or {keys.typed('ctrl+s')} " in screen_text(app)


@pytest.mark.parametrize(
    ("environ", "known"),
    [
        ({"TERM": "xterm-kitty"}, True),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"}, True),
        ({"TERM": "xterm-256color", "WT_SESSION": "1"}, True),
        ({"TERM": "xterm-256color"}, False),  # xterm refuses it unless allowed
        ({"TERM": "linux"}, False),
        ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"}, False),
    ],
)
def test_osc52_is_trusted_only_where_the_terminal_is_known_to_take_it(environ, known):
    assert osc52_known(environ) is known


async def test_curl_where_osc52_is_unsure_also_shows_in_a_dialog(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("TERM_PROGRAM", "WT_SESSION", "KITTY_WINDOW_ID", "TMUX", "STY"):
        monkeypatch.delenv(name, raising=False)
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, CopyScreen)
        shown = screen.query_one("#copy-text").text
        assert shown == app.clipboard and shown.startswith("curl ")
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert not isinstance(app.screen, CopyScreen)


async def test_curl_where_osc52_is_known_only_says_it_copied(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-kitty")
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("STY", raising=False)
    app = make_app(["demo-plivo"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, CopyScreen) and app.clipboard.startswith("curl ")
        assert any("copied curl for" in n.message for n in app._notifications)
