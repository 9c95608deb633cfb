"""Env files read strictly: a line that does not parse is an error naming ``file:line`` and what
is wrong, never python-dotenv's warning without a file name (and a start that goes on)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from agents.core.errors import ConfigError
from agents.core.redact import find_tokens, is_secret_name

__all__ = ["committed_secrets", "read_env_file"]

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_QUOTED = re.compile(r"""^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(['"])""")
# Values that switch a setting rather than hold a secret (AGENTS_GENERATE_TOKENS=true).
_SWITCHES = frozenset({"true", "false", "yes", "no", "on", "off", "0", "1"})


def _problem(text: str, secret: bool) -> str:
    first = text.splitlines()[0] if text.strip() else text
    quoted = _QUOTED.match(first)
    if quoted:
        name, quote = quoted.groups()
        return (
            f"the value of {name} opens a {quote} quote that is not closed on this line "
            "(values are one line; close the quote)"
        )
    name = first.split("=", 1)[0].strip()
    if "=" in first and not _KEY.match(name.removeprefix("export ").strip()):
        return f"{name[:40]!r} is not a variable name (letters, digits and _)"
    shown = "" if secret else f": {first.strip()[:60]!r}"
    return f"expected NAME=value{shown}"


def read_env_file(path: Path, shown: str, *, secret: bool = False) -> dict[str, str | None]:
    """The variables of ``path`` (``shown`` is how messages name it).

    Raises:
        ConfigError: One line per line of the file that does not parse, as
            ``shown:line: what is wrong``; values of a secrets file are never quoted.
    """
    text = path.read_text()
    errors = []
    for binding in parse_stream(io.StringIO(text)):
        raw = binding.original.string
        original = raw.lstrip()  # blank lines before a statement belong to its chunk
        line = binding.original.line + raw[: len(raw) - len(original)].count("\n")
        if binding.error:
            errors.append(f"{shown}:{line}: {_problem(original, secret)}")
        elif binding.key is not None and (not _KEY.match(binding.key) or binding.value is None):
            errors.append(f"{shown}:{line}: {_problem(original, secret)}")
        elif binding.key is not None and "\n" in original.rstrip("\n"):
            errors.append(f"{shown}:{line}: {_problem(original, secret)}")
    if errors:
        raise ConfigError("\n".join(errors))
    return dotenv_values(stream=io.StringIO(text))


def committed_secrets(values: dict[str, str | None]) -> list[str]:
    """The variables of a committed file that hold a secret: a secret name
    (:func:`agents.core.redact.is_secret_name`) set to more than a switch, or any variable set
    to a credential-shaped value."""
    return sorted(
        name
        for name, value in values.items()
        if value
        and (
            (is_secret_name(name) and value.strip().lower() not in _SWITCHES) or find_tokens(value)
        )
    )
