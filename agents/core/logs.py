"""structlog configuration: the only place that calls ``structlog.configure``.

JSON lines when the stream is not a TTY (supervisord captures and rotates them), the console
renderer on a TTY. Our own events use structlog's native logger (cheaper than the stdlib bridge:
docs/performance.md); standard-library records (uvicorn,
the MCP SDK, httpx) go through the same processors and renderer to the same stream, so every
line of an agent's log has one shape. Every line passes the one redaction rule
(:mod:`agents.core.redact`) just before it is rendered.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

from agents.core.redact import mask

__all__ = [
    "configure_logging",
    "get_logger",
    "shared_processors",
]

_QUIET = {
    "uvicorn.access": logging.CRITICAL + 1,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "mcp": logging.WARNING,
    "sse_starlette": logging.WARNING,
}


# Tracebacks as dicts, without the frames' local variables: those hold tool arguments, which
# may be secrets (a password being reset) and are never logged.
_DICT_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def _redact(_: Any, __: str, event_dict: structlog.typing.EventDict) -> Any:
    """Mask secrets in every field of a line (:func:`agents.core.redact.mask`), tracebacks
    included: the last processor before rendering."""
    return mask(event_dict)


class _NamedWriteLogger(structlog.WriteLogger):
    """A WriteLogger that knows its module name, for ``add_logger_name``. Each line is
    written and flushed at once: once written, it is in the pipe and survives the process
    being killed (supervisord reads it all the same)."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


def shared_processors() -> list[Processor]:
    """The processors every record passes through before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def configure_logging(
    *,
    stream: TextIO | None = None,
    level: str = "INFO",
    json: bool | None = None,
    **bound: Any,
) -> None:
    """Route structlog and stdlib logging to ``stream`` (stdout by default).

    Args:
        stream: Where lines go; stdio agents pass ``sys.stderr`` because stdout is the protocol.
        level: Minimum level.
        json: Force JSON (True) or console (False); default: JSON unless ``stream`` is a TTY.
        **bound: Fields bound to every line, e.g. ``agent="notion", env="local"``; ``pid`` is
            always bound.
    """
    out = stream if stream is not None else sys.stdout
    as_json = (not out.isatty()) if json is None else json
    renderer: list[Processor] = (
        [_DICT_TRACEBACKS, _redact, structlog.processors.JSONRenderer()]
        if as_json
        else [_redact, structlog.dev.ConsoleRenderer()]
    )
    pre = shared_processors()
    numeric = logging.getLevelName(level)
    structlog.configure(
        processors=[*pre, *renderer],
        logger_factory=lambda *args: _NamedWriteLogger(out, str(args[0]) if args else "agents"),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    for name, lvl in _QUIET.items():
        logging.getLogger(name).setLevel(max(lvl, numeric))
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(pid=os.getpid(), **bound)


def get_logger(name: str) -> Any:
    """A structlog logger for module ``name`` (bound lazily, so it may be created at import)."""
    return structlog.get_logger(name)
