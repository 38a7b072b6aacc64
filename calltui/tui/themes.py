"""Theme files (TOML) → Textual themes: the shipped ones in themes/, then the user's in the
config dir's themes/. A bad file is reported and skipped; the others still load."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError
from textual.color import Color, ColorParseError
from textual.theme import Theme

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SHIPPED = Path(__file__).resolve().parents[2] / "themes"
NO_COLOR_THEME = "calltui-16"


class ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    dark: bool = True
    ansi: bool = False
    primary: str
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    success: str | None = None
    warning: str | None = None
    error: str | None = None
    variables: dict[str, str] = {}


def _load(path: Path) -> Theme:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    spec = ThemeFile.model_validate(data)
    colours = spec.model_dump(exclude={"name", "dark", "ansi", "variables"}, exclude_none=True)
    for key, value in colours.items():
        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(f"{key}: {value!r} is not a colour") from None
    return Theme(
        name=spec.name, dark=spec.dark, ansi=spec.ansi, variables=spec.variables, **colours
    )


def load_themes(dirs: list[Path]) -> tuple[list[Theme], list[str]]:
    """Every theme in `dirs` (later dirs override earlier names) and one message per bad file."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for d in dirs:
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.toml")):
            try:
                theme = _load(path)
            except (OSError, ValueError, ValidationError, tomllib.TOMLDecodeError) as e:
                first = str(e).splitlines()[0] if str(e) else type(e).__name__
                problems.append(f"theme {path}: {first}; skipped")
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems
