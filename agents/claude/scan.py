"""The leak scanner: proves that no secret value reaches a text, a file or an object.

Feed it what leaves the machine or is kept (store documents, log lines, remote objects) with the
known secret values (from the vault) and the token patterns. Findings name the place and the
secret's name or pattern, never the value. Known values shorter than :data:`MIN_KNOWN_LENGTH`
are not searched for (they would match everywhere); :func:`scan` reports them as skipped.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from agents.claude.secrets import TOKEN_PATTERNS, TokenPattern, pointer
from agents.core.errors import AgentError

__all__ = [
    "MIN_KNOWN_LENGTH",
    "Finding",
    "SecretLeakError",
    "assert_clean",
    "redact",
    "scan",
]

MIN_KNOWN_LENGTH = 6


@dataclass(frozen=True)
class Finding:
    """One secret found: where (file, label or JSON pointer) and what (never the value)."""

    where: str
    what: str
    line: int | None = None

    def __str__(self) -> str:
        at = f"{self.where}:{self.line}" if self.line else self.where
        return f"{at}: {self.what}"


class SecretLeakError(AgentError):
    """A secret value was found where none may be; the message lists where, never the value."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        shown = "; ".join(str(f) for f in findings[:10])
        more = f" (and {len(findings) - 10} more)" if len(findings) > 10 else ""
        super().__init__(f"secret values found: {shown}{more}")
        self.findings = list(findings)


def _known(known: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    """value -> name, for every form a value takes in JSON or a URL."""
    named = dict(known) if isinstance(known, Mapping) else {f"#{i}": v for i, v in enumerate(known)}
    forms: dict[str, str] = {}
    for name, value in named.items():
        if len(value) < MIN_KNOWN_LENGTH:
            continue
        for form in (value, json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe="")):
            forms.setdefault(form, name)
    return forms


def _line(text: str, offset: int) -> int | None:
    return text.count("\n", 0, offset) + 1 if "\n" in text else None


def _scan_text(
    text: str, where: str, forms: Mapping[str, str], patterns: Sequence[TokenPattern]
) -> list[Finding]:
    hits: list[tuple[int, int, str]] = []

    def add(start: int, end: int, what: str) -> None:
        if not any(start < e and s < end for s, e, _ in hits):
            hits.append((start, end, what))

    for form, name in sorted(forms.items(), key=lambda kv: len(kv[0]), reverse=True):
        at = text.find(form)
        while at >= 0:
            add(at, at + len(form), f"known secret {name!r}")
            at = text.find(form, at + len(form))
    for pat in patterns:
        for m in pat.regex.finditer(text):
            add(*m.span(pat.group), f"{pat.name} shape")
    return [Finding(where, what, _line(text, s)) for s, _, what in sorted(hits)]


def _walk(
    obj: Any, where: str, forms: Mapping[str, str], patterns: Sequence[TokenPattern]
) -> list[Finding]:
    if isinstance(obj, Path):
        if obj.is_dir():
            return [
                f
                for p in sorted(obj.rglob("*"))
                if p.is_file()
                for f in _walk(p, str(p), forms, patterns)
            ]
        return _walk(obj.read_bytes(), str(obj), forms, patterns)
    if isinstance(obj, bytes | bytearray):
        return _scan_text(bytes(obj).decode("utf-8", errors="replace"), where, forms, patterns)
    if isinstance(obj, str):
        return _scan_text(obj, where, forms, patterns)
    if hasattr(obj, "to_json") and callable(obj.to_json):
        return _walk(obj.to_json(), where, forms, patterns)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _walk(dataclasses.asdict(obj), where, forms, patterns)
    if isinstance(obj, Mapping):
        out: list[Finding] = []
        for k, v in obj.items():
            p = f"{where}{pointer(str(k))}"
            out += _scan_text(str(k), p, forms, patterns)
            out += _walk(v, p, forms, patterns)
        return out
    if isinstance(obj, list | tuple | set | frozenset):
        return [
            f for i, v in enumerate(obj) for f in _walk(v, f"{where}{pointer(i)}", forms, patterns)
        ]
    if obj is None or isinstance(obj, bool | int | float):
        return []
    return _scan_text(str(obj), where, forms, patterns)


def scan(
    subject: Any,
    *,
    known: Mapping[str, str] | Iterable[str] = (),
    patterns: Sequence[TokenPattern] = TOKEN_PATTERNS,
    where: str = "",
) -> list[Finding]:
    """Every place in ``subject`` holding a known secret value or a token shape.

    ``subject`` is a string, bytes, a file or directory :class:`~pathlib.Path`, a JSON-like
    object (dicts, lists; objects with ``to_json()`` and dataclasses are converted), or a list
    of any of these. ``known`` maps secret names to values (or is just the values).
    """
    return _walk(subject, where, _known(known), patterns)


def assert_clean(
    subject: Any,
    *,
    known: Mapping[str, str] | Iterable[str] = (),
    patterns: Sequence[TokenPattern] = TOKEN_PATTERNS,
    where: str = "",
) -> None:
    """Raise :class:`SecretLeakError` if :func:`scan` finds anything."""
    findings = scan(subject, known=known, patterns=patterns, where=where)
    if findings:
        raise SecretLeakError(findings)


def redact(
    text: str,
    known: Mapping[str, str] = {},
    patterns: Sequence[TokenPattern] = TOKEN_PATTERNS,
) -> str:
    """``text`` with known values shown as ``secret://<name>`` and token shapes masked, for
    diffs and messages that a person reads."""
    forms = _known(known)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, f"secret://{forms[form]}")
    for pat in patterns:
        text = pat.regex.sub(_masker(pat), text)
    return text


def _masker(pat: TokenPattern) -> Callable[[re.Match[str]], str]:
    def mask(m: re.Match[str]) -> str:
        return m.group(0).replace(m.group(pat.group), f"«{pat.name}»")

    return mask
