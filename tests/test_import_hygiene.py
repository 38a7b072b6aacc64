"""The import contracts: the headless core never imports Textual (the CLI and scripts run
without it), no screen or widget imports the TUI's app, analysis imports no provider module,
and no module imports itself back through others."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import grimp

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

import calltui

ROOT = Path(__file__).resolve().parents[1]


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


def test_the_no_textual_contract_names_every_core_module():
    """The CLI alone may import the TUI (to start it, inside a function); every other module
    outside calltui.tui is under the contract, so a new one cannot slip past it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = config["tool"]["importlinter"]["contracts"][0]
    assert contract["forbidden_modules"] == ["textual"]
    tops = {".".join(m.split(".")[:2]) for m in core_modules()}
    tops -= {"calltui.cli", "calltui.__main__"}
    assert set(contract["source_modules"]) == tops


def test_the_import_contracts_hold():
    """pyproject.toml [tool.importlinter]: the core imports no Textual, only the programs that
    start the TUI import its app, analysis imports no provider module."""
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run(
        [str(lint), "--no-cache", "--no-logo"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_no_import_cycle_among_calltui_modules():
    """Function-level and type-checking imports included: every module can be read (and
    loaded) on its own, after the ones it imports."""
    graph = grimp.build_graph("calltui", cache_dir=None)
    assert cycles(graph) == []


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other, directly or not (Tarjan's strongly
    connected components of more than one module, or one that imports itself)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in edges[v]:
                found.append(sorted(group))

    for m in modules:
        if m not in index:
            visit(m)
    return sorted(found)


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "ring"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from ring import b\n")
    (package / "b.py").write_text("from ring import a\n")
    (package / "c.py").write_text("from ring import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles(grimp.build_graph("ring", cache_dir=None)) == [["ring.a", "ring.b"]]
