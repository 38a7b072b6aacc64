"""The headless core never imports Textual: the CLI and scripts run without it."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "calltui.model",
    "calltui.filters",
    "calltui.config",
    "calltui.http",
    "calltui.engine",
    "calltui.export",
    "calltui.render",
    "calltui.text",
    "calltui.analysis.sip",
    "calltui.analysis.plivo_codes",
    "calltui.cli",
    "calltui.providers.registry",
    "calltui.providers.tmedia",
    "calltui.providers.plivo",
    "calltui.providers.bandwidth",
    "calltui.providers.restcomm",
    "calltui.providers.jambonz",
    "calltui.sim.app",
    "calltui.sim.demo",
    "calltui.sim.server",
]


def test_headless_core_imports_no_textual():
    code = (
        "import sys\n"
        f"for m in {CORE!r}: __import__(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"textual imported by the core: {out.stdout}"
