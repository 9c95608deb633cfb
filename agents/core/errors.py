"""The one error tree shared by every agent, the store and the CLI.

The rule: an exception is in this tree exactly when it may reach a user, and it sits under
the class naming *where* the problem is.

- ``AgentError`` and its subclasses are problems a user can fix: the server turns them into
  MCP tool errors carrying their message, and the CLI prints them and exits 1. The message
  says what is wrong and what to do.
- Where: ``ConfigError`` / ``NotConfiguredError`` (settings), ``InputError`` /
  ``NotFoundError`` (what the caller asked for), ``UpstreamError`` (a service or place outside
  this machine refused or failed: a vendor API, a sync remote, so ``RemoteError`` and its
  conflicts are ``UpstreamError``), ``StoreError`` (the local context store).
  A package may subclass one of these in its own module (``sync.remote.RemoteError``).
- A state a caller settles itself and never shows (the store's write lock is taken and the
  caller asked not to wait: ``StoreBusy``; our remote head moved: ``HeadMoved``) is not in
  the tree: it derives from ``Exception`` and is caught by its one caller.
- Anything else that escapes a tool is a bug: it is logged with its traceback and the caller
  sees only a generic tool error.
"""

from __future__ import annotations

__all__ = [
    "AgentError",
    "ConfigError",
    "DuplicateToolError",
    "InputError",
    "NotConfiguredError",
    "NotFoundError",
    "StoreError",
    "UpstreamError",
]


class AgentError(Exception):
    """Base of every error the user can act on; its message says what is wrong and what to do."""


class ConfigError(AgentError):
    """A setting is missing or invalid; the message names the variable and the file."""


class NotConfiguredError(AgentError):
    """The agent runs, but its upstream credentials are not set, so it cannot call the upstream."""


class InputError(AgentError):
    """A tool argument or CLI argument is wrong; the message names the parameter."""


class NotFoundError(AgentError):
    """The named object does not exist (or is not visible with the configured credentials).

    ``what`` names the kind of object (``document``, ``snapshot``, ``session``) so that each
    surface can say how to find one in its own words: the CLI names its verbs, an agent its
    tools. The message itself names neither.
    """

    def __init__(self, message: str, *, what: str | None = None) -> None:
        super().__init__(message)
        self.what = what

    def hinted(self, hints: dict[str, str]) -> NotFoundError:
        """This error with the surface's hint for its kind appended (itself when none)."""
        hint = hints.get(self.what or "")
        return NotFoundError(f"{self}; {hint}", what=self.what) if hint else self


class UpstreamError(AgentError):
    """The upstream service refused or failed a request; carries its status and code."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class StoreError(AgentError):
    """The context store cannot be opened or written (corrupt, locked, newer format, full disk)."""


class DuplicateToolError(AgentError):
    """Two tools of one agent were registered under the same tool name."""
