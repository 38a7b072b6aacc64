"""Themes: the shipped files load; user files from the config dir add or override; a bad file is
reported and skipped; NO_COLOR picks the 16-colour theme."""

from __future__ import annotations

from calltui.tui.themes import SHIPPED, load_themes
from tests.tui.harness import make_app, settle


def test_shipped_themes_load():
    themes, problems = load_themes([SHIPPED])
    assert {"calltui-dark", "calltui-light", "calltui-16"} <= {t.name for t in themes}
    assert problems == []


def test_a_bad_user_theme_is_reported_and_skipped(tmp_path):
    (tmp_path / "mine.toml").write_text('name = "mine"\nprimary = "#112233"\n')
    (tmp_path / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    (tmp_path / "garbage.toml").write_text("name = [\n")
    themes, problems = load_themes([SHIPPED, tmp_path])
    assert "mine" in {t.name for t in themes}
    assert "broken" not in {t.name for t in themes}
    assert len(problems) == 2 and all("skipped" in p for p in problems)
    assert any("broken.toml" in p and "primary" in p for p in problems)


async def test_no_color_selects_the_16_colour_theme(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app([])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "calltui-16"
