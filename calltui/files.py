"""The files calltui writes for the user: exports (`x`, F2), the redacted bundle (`B`), a pcap
(`p`) and the config template. They hold phone numbers, addresses and call records, and their
names come from data a provider chose (a call id, a SIP Call-ID), so each is created the same
way, here:

- a new file only (O_EXCL): an existing file is never truncated; with `free_name`, an existing
  name gives way to the next free `name-1.ext`, `name-2.ext`, ...;
- never through a symbolic link (O_EXCL refuses one whatever it points to, O_NOFOLLOW where the
  system has it besides): a link planted under the name a call's id gives cannot redirect the
  write onto another file;
- mode 0600 from its creation, whatever the umask allows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

MAX_TRIES = 1000
"""Names tried with `free_name` before giving up (a directory holding a thousand bundles of
one call is not worth searching further)."""
_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def create_private(path: Path, *, free_name: bool = False) -> tuple[Path, BinaryIO]:
    """A new file at `path` (or, with `free_name`, at the first free `stem-N.suffix` beside it),
    mode 0600, open for binary writing; the path it got and the file. Raises FileExistsError
    when the name is taken (a file, a directory or a link), OSError as the system gives it."""
    for n in range(MAX_TRIES if free_name else 1):
        target = path if n == 0 else path.with_name(f"{path.stem}-{n}{path.suffix}")
        try:
            fd = os.open(target, _FLAGS, 0o600)
        except FileExistsError:
            continue
        return target, os.fdopen(fd, "wb")
    raise FileExistsError(
        f"{path} exists" + (" (and so do its numbered names)" if free_name else "")
    )
