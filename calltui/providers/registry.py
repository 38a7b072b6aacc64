"""The one registry of providers: a name → the module that holds its adapter.

Adding a provider is one line in BUILTIN (its module exposes `PROVIDER`, the Provider subclass),
beside that module, its simulator module (calltui.sim.world.PROVIDERS) and its tests. Modules are
imported only when a name is first asked for, so start-up pays only for the providers in use.
`register` adds a provider class at runtime (a test's, a plug-in's) without any module.

Everything about a provider that the core needs is read from its class here, without opening
an HTTP client: `get(name).FLOW_VIEW`, `.ACCOUNT`, `.HINTS`, `.PCAP`...
"""

from __future__ import annotations

import importlib
from typing import Any

BUILTIN: dict[str, str] = {
    "tmedia": "calltui.providers.tmedia",
    "plivo": "calltui.providers.plivo",
    "bandwidth": "calltui.providers.bandwidth",
    "restcomm": "calltui.providers.restcomm",
    "jambonz": "calltui.providers.jambonz",
}

_classes: dict[str, Any] = {}
"""Provider classes (calltui.providers.base.Provider subclasses) imported so far or registered
at runtime, by name. Typed loosely: this module imports nothing of calltui, so that config,
model and hints can read it without an import cycle."""


def names() -> tuple[str, ...]:
    """Every provider name: the built-in ones in BUILTIN's order, then those registered."""
    return (*BUILTIN, *(n for n in _classes if n not in BUILTIN))


def get(name: str) -> Any:
    """The Provider class for `name`; KeyError for a name that is not registered."""
    cls = _classes.get(name)
    if cls is None:
        if name not in BUILTIN:
            raise KeyError(f"unknown provider {name!r}")
        cls = _classes[name] = importlib.import_module(BUILTIN[name]).PROVIDER
    return cls


def register(name: str, provider_cls: Any) -> None:
    """Make `provider_cls` the provider called `name` (its `name` attribute must agree)."""
    if provider_cls.name != name:
        raise ValueError(f"{provider_cls.__name__}.name is {provider_cls.name!r}, not {name!r}")
    _classes[name] = provider_cls


def unregister(name: str) -> None:
    """Forget a provider registered at runtime (a built-in one is imported again when asked)."""
    _classes.pop(name, None)
