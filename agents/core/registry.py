"""Tool registry: typed async functions become MCP tools.

A tool is an ``async def`` whose parameters are annotated with
``Annotated[T, Field(description=...)]``; its docstring is the tool description. The
registry only records tools: the MCP SDK derives every schema from the type hints when
:func:`agents.core.server.build_server` adds them to a server.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from agents.core.errors import DuplicateToolError

__all__ = ["RegisteredTool", "ToolRegistry"]

ToolFn = Callable[..., Awaitable[Any]]
F = TypeVar("F", bound=ToolFn)


@dataclass(frozen=True)
class RegisteredTool:
    """One registered tool: its name, function, description and behaviour hints."""

    name: str
    fn: ToolFn
    description: str
    read_only: bool
    destructive: bool
    idempotent: bool
    reads_files: bool = False


class ToolRegistry:
    """The tools of one agent, in registration order."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self._tools: dict[str, RegisteredTool] = {}

    def tool(
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
            DuplicateToolError: A tool of this agent already has that name.
            TypeError: Used without parentheses, or on a function that is not ``async``.
        """
        if callable(name):
            raise TypeError(
                "The @tool decorator was used incorrectly. Did you forget to call it? "
                "Use @registry.tool() instead of @registry.tool"
            )

        def decorator(fn: F) -> F:
            func: Any = fn
            if not inspect.iscoroutinefunction(func):
                raise TypeError(f"tool {fn.__qualname__!r} must be an async function")
            tool_name = name or fn.__name__
            if tool_name in self._tools:
                raise DuplicateToolError(
                    f"agent {self.agent!r} already has a tool named {tool_name!r} "
                    f"({self._tools[tool_name].fn.__module__}); rename one of them"
                )
            self._tools[tool_name] = RegisteredTool(
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

    def declare(self, *areas: ModuleType) -> ToolRegistry:
        """Fix the tool order to that of ``areas`` (the modules defining the tools) and check
        that every tool comes from one of them; an agent's ``tools`` module calls this once.

        Raises:
            TypeError: A tool was defined outside ``areas``, or an area defines no tool.
        """
        rank = {area.__name__: i for i, area in enumerate(areas)}
        stray = [t.name for t in self._tools.values() if t.fn.__module__ not in rank]
        if stray:
            raise TypeError(f"agent {self.agent!r}: tools {stray} come from undeclared modules")
        empty = set(rank) - {t.fn.__module__ for t in self._tools.values()}
        if empty:
            raise TypeError(f"agent {self.agent!r}: {sorted(empty)} define no tool")
        ordered = sorted(self._tools.values(), key=lambda t: rank[t.fn.__module__])
        self._tools = {t.name: t for t in ordered}
        return self

    def __iter__(self) -> Iterator[RegisteredTool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def get(self, name: str) -> RegisteredTool:
        """Return the tool registered under ``name``."""
        return self._tools[name]
