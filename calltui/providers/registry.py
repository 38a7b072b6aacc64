"""Providers by name, imported only when used (start-up stays fast)."""

from __future__ import annotations

import importlib
from typing import Any

from calltui.model import PROVIDERS


def get(name: str) -> Any:
    """The Provider class for `name` (one of model.PROVIDERS)."""
    if name not in PROVIDERS:
        raise KeyError(f"unknown provider {name!r}")
    module = importlib.import_module(f"calltui.providers.{name}")
    return module.PROVIDER
