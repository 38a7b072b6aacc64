"""The headless core never imports Textual: the CLI and scripts run without it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import calltui


def core_modules() -> list[str]:
    """Every module of the package outside calltui.tui, found on disk so new ones are covered."""
    found = pkgutil.walk_packages(calltui.__path__, "calltui.")
    return sorted(m.name for m in found if not m.name.startswith("calltui.tui"))


def test_the_core_is_every_module_but_the_tui():
    core = core_modules()
    assert {"calltui.store", "calltui.handoff", "calltui.analysis.kpi", "calltui.sim.app"} <= set(
        core
    )
    assert not any(m.startswith("calltui.tui") for m in core)


def test_headless_core_imports_no_textual():
    code = (
        "import sys\n"
        f"for m in {core_modules()!r}: __import__(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"textual imported by the core: {out.stdout}"
