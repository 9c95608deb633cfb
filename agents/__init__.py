"""Supervised MCP agents with a shared context store."""

__version__ = "0.1.0"
__all__ = ["__version__"]
