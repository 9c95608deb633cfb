"""Three-way merge of text by lines (diff3), for markdown and text documents.

Regions unchanged on both sides since the base anchor the merge; between anchors a chunk
changed on one side only is taken from that side, the same change on both sides is taken
once, and different changes to the same chunk are a conflict. A clean merge does not depend
on which side is "local": ``merge3(base, a, b)`` and ``merge3(base, b, a)`` agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

__all__ = ["TextMerge", "merge3"]


@dataclass(frozen=True)
class TextMerge:
    """The result of a 3-way text merge.

    ``text`` is the merge when ``conflicts`` is 0; otherwise it carries git-style conflict
    markers around each conflicting chunk, for a person to read.
    """

    text: str
    conflicts: int

    @property
    def clean(self) -> bool:
        """True when no chunk was changed differently on both sides."""
        return self.conflicts == 0


def _anchors(base: list[str], a: list[str], b: list[str]) -> list[tuple[int, int, int, int]]:
    """(base start, base end, a start, b start) of the base regions both sides kept, then a
    zero-length sentinel at the three ends."""
    ma = SequenceMatcher(None, base, a, autojunk=False).get_matching_blocks()
    mb = SequenceMatcher(None, base, b, autojunk=False).get_matching_blocks()
    out: list[tuple[int, int, int, int]] = []
    i = j = 0
    while i < len(ma) and j < len(mb):
        za, xa, na = ma[i]
        zb, xb, nb = mb[j]
        lo, hi = max(za, zb), min(za + na, zb + nb)
        if lo < hi:
            out.append((lo, hi, xa + lo - za, xb + lo - zb))
        if za + na < zb + nb:
            i += 1
        else:
            j += 1
    out.append((len(base), len(base), len(a), len(b)))
    return out


def merge3(
    base: str, local: str, remote: str, *, labels: tuple[str, str] = ("local", "remote")
) -> TextMerge:
    """Merge ``local`` and ``remote``, both derived from ``base``, line by line."""
    if local == remote:
        return TextMerge(local, 0)
    if local == base:
        return TextMerge(remote, 0)
    if remote == base:
        return TextMerge(local, 0)
    z, a, b = (t.splitlines(keepends=True) for t in (base, local, remote))
    out: list[str] = []
    conflicts = 0
    iz = ia = ib = 0
    for zs, ze, as_, bs in _anchors(z, a, b):
        cz, ca, cb = z[iz:zs], a[ia:as_], b[ib:bs]
        if ca == cb or cb == cz:
            out += ca
        elif ca == cz:
            out += cb
        else:
            conflicts += 1
            out += [f"<<<<<<< {labels[0]}\n", *_terminated(ca), "=======\n"]
            out += [*_terminated(cb), f">>>>>>> {labels[1]}\n"]
        out += z[zs:ze]
        iz, ia, ib = ze, as_ + (ze - zs), bs + (ze - zs)
    return TextMerge("".join(out), conflicts)


def _terminated(lines: list[str]) -> list[str]:
    if lines and not lines[-1].endswith("\n"):
        return [*lines[:-1], lines[-1] + "\n"]
    return lines
