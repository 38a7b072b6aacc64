"""Each provider's knowledge lives with the provider: outside calltui/providers (the adapters and
their tables) and calltui/sim (the simulator's own per-provider modules), no module names a
provider, imports a provider's module, or uses a provider's classes. Adding a provider is then
its module, its simulator module, its tests and one line in calltui.providers.registry.

What counts, found with `ast` (so comments and docstrings do not):
- a string constant equal to a provider's name, in any case (`"tmedia"`, `"Plivo"`);
- an import of a module of calltui.providers named after a provider (`calltui.providers.tmedia`,
  `calltui.providers.plivo_codes`, `from calltui.providers import jambonz`);
- a name or attribute that is a provider's class name (`Jambonz`, `TmediaAccount`).

And each module stays short enough to be read whole: at most MAX_LINES lines outside calltui/sim
(whose per-provider servers are each one provider's API), and the TUI's app, which only puts
the screens together, at most MAX_APP_LINES.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import calltui
from calltui.config import AccountBase
from calltui.providers import registry

PACKAGE = Path(calltui.__file__).resolve().parent
ROOT = PACKAGE.parent
OWNERS = ("calltui/providers/", "calltui/sim/")
"""Where provider knowledge belongs."""
ALLOWED: dict[str, str] = {}
"""Files outside OWNERS allowed provider-specific code (at most one), each with the reason.
None needs it: the core reads everything through the registry and calltui.hints."""
MAX_LINES = 600
MAX_APP_LINES = 300
APP = "calltui/tui/app.py"
PROVIDERS = tuple(registry.BUILTIN)
_CLASSES = "|".join(p.capitalize() for p in PROVIDERS)
CLASS_NAME = re.compile(rf"(?:{_CLASSES})(?:[A-Z]\w*)?")


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring constants of the module, its classes and functions."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                out.add(id(first.value))
    return out


def _provider_module(module: str) -> bool:
    """Whether `module` (dotted, under calltui.providers) is one a provider owns."""
    head, _, rest = module.partition("calltui.providers.")
    return not head and rest.split(".")[0].startswith(PROVIDERS)


def findings(source: str) -> list[str]:
    """What in `source` is provider-specific, as `line: what` strings."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    out = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings and node.value.lower() in PROVIDERS:
                out.append(f"{line}: the string {node.value!r}")
        elif isinstance(node, ast.Import):
            out += [f"{line}: import {a.name}" for a in node.names if _provider_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            if any(_provider_module(m) for m in modules):
                out.append(f"{line}: from {node.module} import ...")
            out += [f"{line}: import {a.name}" for a in node.names if CLASS_NAME.fullmatch(a.name)]
        elif isinstance(node, ast.Name) and CLASS_NAME.fullmatch(node.id):
            out.append(f"{line}: the name {node.id}")
        elif isinstance(node, ast.Attribute) and CLASS_NAME.fullmatch(node.attr):
            out.append(f"{line}: the attribute .{node.attr}")
    return sorted(set(out), key=lambda s: int(s.split(":")[0]))


def offenders() -> dict[str, list[str]]:
    """Every file of the package outside OWNERS that holds provider-specific code."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(OWNERS):
            continue
        found = findings(path.read_text(encoding="utf-8"))
        if found:
            out[rel] = found
    return out


def too_long() -> list[str]:
    """Every module of the package over its bound (calltui/sim aside), with its length."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("calltui/sim/"):
            continue
        bound = MAX_APP_LINES if rel == APP else MAX_LINES
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > bound:
            out.append(f"{rel}: {lines} lines, over {bound}")
    return out


def test_the_scan_sees_what_it_looks_for():
    source = '''
"""A docstring naming "tmedia" does not count."""
from calltui.providers.tmedia_box import leg_events
from calltui.providers import plivo_codes
import calltui.providers.jambonz
from calltui.providers import registry, base

def f(call):
    """jambonz"""
    return call.provider == "Bandwidth" or isinstance(call, RestcommProvider)
'''
    found = findings(source)
    assert [s.split(":")[0] for s in found] == ["3", "4", "5", "10", "10"]
    assert findings('from calltui.providers import registry\nx = "tmedia-like"\n') == []


def test_no_file_outside_the_providers_and_the_simulator_holds_provider_knowledge():
    assert len(ALLOWED) <= 1
    found = {rel: lines for rel, lines in offenders().items() if rel not in ALLOWED}
    report = "\n".join(f"{rel}\n  " + "\n  ".join(lines) for rel, lines in found.items())
    assert not found, f"provider-specific code outside {', '.join(OWNERS)}:\n{report}"


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_provider_says_at_class_level_what_the_core_reads(name: str):
    """The class answers without an HTTP client, and what it says matches what it implements."""
    cls = registry.get(name)
    assert cls.name == name and issubclass(cls.ACCOUNT, AccountBase)
    assert cls.FLOW_VIEW in ("ladder", "waterfall", "events", "items", "hangup")
    assert cls.FLOW_TITLE and cls.CURL_AUTH
    assert f'# provider = "{name}"' in cls.CONFIG_EXAMPLE
    assert callable(getattr(cls, "pcap", None)) is cls.PCAP


def test_no_module_outside_the_simulator_is_over_600_lines_nor_the_app_over_300():
    found = too_long()
    assert not found, "modules to split:\n  " + "\n  ".join(found)
