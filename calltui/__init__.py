"""calltui: a terminal browser for call records and call traces across five providers."""

__version__ = "0.1.0"
