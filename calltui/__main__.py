"""The `calltui` command (and `python -m calltui`).

The collector is off while the command's modules are imported: the imports make objects by the
hundred thousand and none of them is garbage, yet they set off some hundred collections (13 ms
of the start). A command runs with the collector on; the TUI keeps it off until its screen is
up (calltui.tui.idle_gc).

Pydantic's plugins are off: a plugin installed beside calltui would be handed every input that
calltui validates, the config's resolved secrets among them; and looking for plugins reads the
metadata of every installed package (2-3 ms of the start).
"""

from __future__ import annotations

import gc
import os


def main() -> None:
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    gc.disable()
    try:
        from calltui.cli import main as run
    finally:
        gc.enable()
    run()


if __name__ == "__main__":
    main()
