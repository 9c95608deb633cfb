"""Readable dry-run diffs: documents before/after a capture, files before/after an apply.

Every text shown passes through :func:`~agents.claude.scan.redact`, so a diff printed to a
terminal or a log never carries a secret value.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from agents.claude.drafts import Draft
from agents.claude.scan import redact

__all__ = ["diff_drafts", "text_diff"]


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return ""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def text_diff(
    old: bytes | None,
    new: bytes | None,
    label: str,
    known: Mapping[str, str] = {},
) -> str:
    """A unified diff of two file contents (``None`` = absent), secrets redacted."""
    a, b = _decode(old), _decode(new)
    if a is None or b is None:
        sizes = f"{len(old or b'')} -> {len(new or b'')} bytes"
        return f"Binary file {label} differs ({sizes})\n"
    lines = difflib.unified_diff(
        redact(a, known).splitlines(keepends=True),
        redact(b, known).splitlines(keepends=True),
        fromfile="/dev/null" if old is None else f"a/{label}",
        tofile="/dev/null" if new is None else f"b/{label}",
    )
    return "".join(
        ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n" for ln in lines
    )


def _entry(entry: Mapping[str, Any]) -> str:
    text = entry.get("text")
    if isinstance(text, str):
        return text if text.endswith("\n") else text + "\n"
    blob = entry.get("blob") or {}
    return f"<blob {blob.get('blob')} {blob.get('bytes')} bytes>\n"


def _show(d: Draft) -> str:
    """A draft as text: its fields as JSON, then file contents as they are."""
    body: dict[str, Any] = dict(d.body)
    files = body.pop("files", None)
    content = {k: body.pop(k) for k in ("text", "blob") if k in body}
    out = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if content:
        out += _entry(content)
    for entry in files or []:
        out += f"=== {entry.get('path')} ({entry.get('mode', 0):04o})\n" + _entry(entry)
    if d.secret_refs:
        out += "secret refs: " + ", ".join(sorted({r.ref for r in d.secret_refs})) + "\n"
    return out


def diff_drafts(old: Mapping[str, Draft], new: Iterable[Draft]) -> str:
    """What storing ``new`` over ``old`` would change, document by document.

    ``old`` is the store's current drafts by id; ids missing from ``new`` are listed as
    absent (the caller decides whether that means deleted). Unchanged documents are omitted.
    """
    out: list[str] = []
    seen: set[str] = set()
    for d in sorted(new, key=lambda x: x.id):
        seen.add(d.id)
        before = old.get(d.id)
        if before is not None and before.content_hash() == d.content_hash():
            continue
        a = _show(before).encode() if before is not None else None
        head = "new" if before is None else "changed"
        out.append(f"# {head}: {d.id}\n" + text_diff(a, _show(d).encode(), d.id))
    out.extend(f"# absent now: {id}\n" for id in sorted(set(old) - seen))
    return "".join(out)
