"""The built-in simulator of the five APIs."""
