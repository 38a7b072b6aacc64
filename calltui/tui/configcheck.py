"""What `calltui config check` asks of the TUI: whether it can do what the config says. It reads
the TUI's own registries (themes, the key bindings by context), so the CLI imports it only for
`config check`: the other commands never load Textual."""

from __future__ import annotations

from collections.abc import Sequence

from textual.theme import BUILTIN_THEMES

from calltui.config import Settings, config_dir, did_you_mean
from calltui.tui import keys
from calltui.tui.themes import SHIPPED, load_themes


def problems(settings: Settings) -> list[str]:
    """What the TUI would not do as the config says: a theme it does not have, a `[keys]` id
    that names no binding, a key remapped onto one that another binding of the same screen
    already has (one of them would never run); one line each."""
    where = settings.path or ""
    out = []
    themes, bad_files = load_themes([SHIPPED, config_dir() / "themes"])
    names = {t.name for t in themes} | set(BUILTIN_THEMES)
    theme = settings.display.theme
    if theme not in names:
        hint = did_you_mean(theme, names) or f" (the themes: {', '.join(sorted(names))})"
        out.append(f"{where}: display.theme: no theme {theme!r}{hint}")
    out += bad_files
    ids = {k.id for c in keys.CONTEXTS.values() for k in c.keys}
    for key_id in settings.keys:
        if key_id not in ids:
            hint = did_you_mean(key_id, ids)
            out.append(f"{where}: keys.{key_id}: no binding has this id{hint}")
    # The bindings live at once: the main screen's, the app's (which it binds besides its own)
    # and the call table's it holds; each other screen's with the app's.
    main = ("app", "main", "table")
    for group in [main, *(("app", c) for c in keys.CONTEXTS if c not in main)]:
        out += _clashes(group, settings.keys, where)
    return list(dict.fromkeys(out))


def _clashes(group: Sequence[str], keymap: dict[str, str], where: str) -> list[str]:
    """A key that the keymap gives two bindings of `group`, where the defaults did not."""
    entries = [k for c in group for k in keys.CONTEXTS[c].keys]

    def holders(mapping: dict[str, str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for k in entries:
            for key in filter(None, (x.strip() for x in keys.keys_of(k, mapping).split(","))):
                out.setdefault(key, []).append(k.id)
        return out

    before = holders({})
    found = []
    for key, ids in holders(keymap).items():
        if len(ids) > 1 and set(ids) != set(before.get(key, ())):
            mine = next((i for i in ids if i in keymap), ids[0])
            others = ", ".join(i for i in ids if i != mine)
            found.append(f"{where}: keys.{mine}: {key!r} is also the key of {others}")
    return found
