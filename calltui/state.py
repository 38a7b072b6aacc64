"""What the TUI keeps between sessions: the marked calls, the last view (a view spec) and the
search history, in one small JSON file under the user's state dir (platformdirs), mode 0600:
marks and searches are phone numbers and call ids.

It is written whole to a new file beside it, which then replaces it (a crash mid-write leaves
the last good one; a link planted under its name is replaced, never followed). Anything wrong
with the file when it is read (not JSON, not this shape, not ours to read) is a fresh start
with the reason, never an error that stops the app.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calltui.files import create_private

ENV_STATE = "CALLTUI_STATE"
"""A path to use instead of the state dir's (tests, and a second profile)."""
MAX_SEARCHES = 50
MAX_MARKS = 10_000
VERSION = 1


def default_state_path() -> Path:
    override = os.environ.get(ENV_STATE)
    if override:
        return Path(override)
    from platformdirs import user_state_path

    return user_state_path("calltui") / "state.json"


@dataclass
class State:
    marks: list[tuple[str, str]] = field(default_factory=list)
    """(account, call id) of each marked call, in the order marked."""
    last_view: str | None = None
    """The view spec the last session ended on."""
    searches: list[str] = field(default_factory=list)
    """What `/` was given, newest last, each once."""

    def searched(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if text in self.searches:
            self.searches.remove(text)
        self.searches.append(text)
        del self.searches[:-MAX_SEARCHES]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "marks": [list(m) for m in self.marks[-MAX_MARKS:]],
            "last_view": self.last_view,
            "searches": self.searches[-MAX_SEARCHES:],
        }


def load(path: Path | None = None) -> tuple[State, str | None]:
    """The state at `path` (the default one if None), and why it could not be read, if so
    (a missing file is no reason: the first session)."""
    path = path or default_state_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return State(), None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return State(), f"{path}: not read ({type(e).__name__}); starting afresh"
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return State(), f"{path}: not a calltui state file; starting afresh"
    marks = [
        (m[0], m[1])
        for m in data.get("marks") or []
        if isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m)
    ]
    view = data.get("last_view")
    searches = [s for s in data.get("searches") or [] if isinstance(s, str)]
    state = State(
        marks=marks[-MAX_MARKS:],
        last_view=view if isinstance(view, str) else None,
        searches=searches[-MAX_SEARCHES:],
    )
    return state, None


def save(state: State, path: Path | None = None) -> None:
    """Write `state` to `path` (the default one if None), replacing what was there. Raises
    OSError as the system gives it."""
    path = path or default_state_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp, f = create_private(path.with_name(f".{path.name}.{secrets.token_hex(4)}"))
    try:
        with f:
            f.write(json.dumps(state.to_dict(), ensure_ascii=False).encode())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
