"""The built-in simulator of the five APIs (design 1.5)."""
