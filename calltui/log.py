"""The opt-in request log: `CALLTUI_LOG=/path/to/file` makes every HTTP exchange of every
account append one line there, from the CLI and the TUI alike (both reach providers only through
calltui.http, which writes it).

A line is logfmt: `time=... account=... method=GET url="..." status=200 elapsed_ms=12 retry=0`,
with `error=...` instead of a status when no response came. It never holds a secret: no header
or body is written, URLs lose any user:password and the values of secret-looking query
parameters, and the HTTP layer masks the account's credentials in every line besides. The file
is created with mode 0600 and appended to.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from typing import TextIO

ENV_LOG = "CALLTUI_LOG"


class RequestLog:
    """One open log file; writes are whole lines, safe from several threads."""

    def __init__(self, path: str) -> None:
        self.path = path
        # Appended to, unlike the files of calltui.files, but never through a link planted
        # under its name.
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        self._file: TextIO = os.fdopen(fd, "a", encoding="utf-8", errors="replace")
        self._lock = threading.Lock()

    def write(self, **fields: object) -> None:
        now = datetime.now(timezone.utc)
        parts = [f"time={now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"]
        parts += [f"{k}={_value(v)}" for k, v in fields.items() if v is not None]
        with self._lock:
            self._file.write(" ".join(parts) + "\n")
            self._file.flush()


_open: dict[str, RequestLog] = {}
_open_lock = threading.Lock()


def request_log() -> RequestLog | None:
    """The log CALLTUI_LOG names, opened once per process; None when it is unset. Raises
    OSError when the file cannot be opened (a caller that starts up may report it)."""
    path = os.environ.get(ENV_LOG, "").strip()
    if not path:
        return None
    path = os.path.abspath(os.path.expanduser(path))
    with _open_lock:
        log = _open.get(path)
        if log is None:
            log = _open[path] = RequestLog(path)
        return log


def _value(v: object) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in str(v))
    if text and not any(ch in text for ch in ' "=\\'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
