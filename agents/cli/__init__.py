"""The command line: ``agents``, ``start-all-agents`` and ``stop-all-agents``."""
