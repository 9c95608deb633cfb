"""Handler registry: typed async functions become MCP tools.

A handler is an ``async def`` whose parameters are annotated with
``Annotated[T, Field(description=...)]``; its docstring is the tool description. The
registry only records handlers: the MCP SDK derives every schema from the type hints when
:func:`agents.core.server.build_server` adds them to a server.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from agents.core.errors import DuplicateHandlerError

__all__ = ["Handler", "HandlerRegistry"]

HandlerFn = Callable[..., Awaitable[Any]]
F = TypeVar("F", bound=HandlerFn)


@dataclass(frozen=True)
class Handler:
    """One registered tool: its name, function, description and behaviour hints."""

    name: str
    fn: HandlerFn
    description: str
    read_only: bool
    destructive: bool
    idempotent: bool
    reads_files: bool = False


class HandlerRegistry:
    """The tools of one agent, in registration order."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self._handlers: dict[str, Handler] = {}

    def handler(
        self,
        name: str | None = None,
        *,
        read_only: bool = False,
        destructive: bool = False,
        idempotent: bool = False,
        reads_files: bool = False,
    ) -> Callable[[F], F]:
        """Register the decorated async function as a tool and return it unchanged.

        Args:
            name: Tool name; defaults to the function name.
            read_only: The tool changes nothing upstream (an MCP ``readOnlyHint``).
            destructive: The tool may delete or overwrite data (``destructiveHint``).
            idempotent: Repeating the call has no further effect (``idempotentHint``).
            reads_files: The tool reads local files, so its output may hold a file's content:
                the call is recorded with only the output's hash, size and a short preview.

        Raises:
            DuplicateHandlerError: A handler of this agent already has that name.
            TypeError: Used without parentheses, or on a function that is not ``async``.
        """
        if callable(name):
            raise TypeError(
                "The @handler decorator was used incorrectly. Did you forget to call it? "
                "Use @registry.handler() instead of @registry.handler"
            )

        def decorator(fn: F) -> F:
            func: Any = fn
            if not inspect.iscoroutinefunction(func):
                raise TypeError(f"handler {fn.__qualname__!r} must be an async function")
            tool_name = name or fn.__name__
            if tool_name in self._handlers:
                raise DuplicateHandlerError(
                    f"agent {self.agent!r} already has a handler named {tool_name!r} "
                    f"({self._handlers[tool_name].fn.__module__}); rename one of them"
                )
            self._handlers[tool_name] = Handler(
                name=tool_name,
                fn=fn,
                description=inspect.cleandoc(fn.__doc__ or "").strip(),
                read_only=read_only,
                destructive=destructive,
                idempotent=idempotent or read_only,
                reads_files=reads_files,
            )
            return fn

        return decorator

    def __iter__(self) -> Iterator[Handler]:
        return iter(self._handlers.values())

    def __len__(self) -> int:
        return len(self._handlers)

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def get(self, name: str) -> Handler:
        """Return the handler registered under ``name``."""
        return self._handlers[name]
