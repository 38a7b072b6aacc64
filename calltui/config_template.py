"""What `calltui config init` writes: a commented config file (calltui.config reads it), the
display settings first, then every provider's example account.
"""

from __future__ import annotations

from pathlib import Path

from calltui.files import create_private
from calltui.providers import registry

TEMPLATE_HEAD = """\
# calltui configuration. Secrets may be given as <name>, <name>_env (an environment variable)
# or <name>_cmd (a shell command that prints it). Keep this file private (mode 0600).

[display]
timezone = "local"              # or "UTC", or an IANA name; how times are shown
theme = "calltui-dark"
# glyphs = "auto"               # or "unicode", "ascii" (auto: ascii on TERM=linux/vt100/vt220
#                               # or a locale that is not UTF-8)
# columns = ["time", "account", "from", "to", "trunk", "dir", "dur", "outcome", "cause", "mos"]

# [alerts]                      # live tail: a banner (and a bell unless bell = false) when a
# asr_drop_points = 15          # group's ASR falls this far below its baseline, or
# min_attempts = 20             # (only groups with this many attempts in the last window)
# pdd_rise_s = 2.0              # its PDD rises this much
# by = ["account", "trunk"]
# bell = true

# [keys]                        # remap any binding by its id, e.g.
# failed_only = "f,ctrl+f"
"""


def template() -> str:
    """What `calltui config init` writes: the display settings, then every provider's
    commented-out example account (Provider.CONFIG_EXAMPLE), in the registry's order."""
    examples = (registry.get(name).CONFIG_EXAMPLE for name in registry.names())
    return "\n".join((TEMPLATE_HEAD, *examples))


def write_template(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _, f = create_private(path)
    with f:
        f.write(template().encode())
