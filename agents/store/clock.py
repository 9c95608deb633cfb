"""Version vectors and the hybrid logical clock: how revisions are ordered across machines.

A version vector maps machine id to the number of revisions that machine made of a
document. Comparing two vectors tells whether one revision descends from the other or
whether they are concurrent (a conflict for sync to settle). The HLC stamp
``<ISO ms>/<counter>/<machine>`` is the deterministic tiebreak between concurrent revisions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from agents.store.canonical import iso_ms

__all__ = ["Hlc", "HlcClock", "Order", "vv_bump", "vv_compare", "vv_merge"]

Order = Literal["equal", "before", "after", "concurrent"]


def vv_compare(a: dict[str, int], b: dict[str, int]) -> Order:
    """How revision ``a`` relates to ``b``: equal, before (b descends from a), after, concurrent."""
    keys = a.keys() | b.keys()
    a_le_b = all(a.get(k, 0) <= b.get(k, 0) for k in keys)
    b_le_a = all(b.get(k, 0) <= a.get(k, 0) for k in keys)
    if a_le_b and b_le_a:
        return "equal"
    if a_le_b:
        return "before"
    if b_le_a:
        return "after"
    return "concurrent"


def vv_merge(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    """The pointwise maximum: the vector of a revision that has seen both."""
    return {k: max(a.get(k, 0), b.get(k, 0)) for k in sorted(a.keys() | b.keys())}


def vv_bump(vv: dict[str, int], machine: str) -> dict[str, int]:
    """``vv`` with ``machine``'s counter incremented (a new local revision)."""
    out = dict(vv)
    out[machine] = out.get(machine, 0) + 1
    return dict(sorted(out.items()))


@dataclass(frozen=True, order=True)
class Hlc:
    """A hybrid logical clock stamp; orders by (physical ms, counter, machine)."""

    ms: int
    counter: int
    machine: str

    def __str__(self) -> str:
        return f"{iso_ms(self.ms)}/{self.counter:04d}/{self.machine}"

    @classmethod
    def parse(cls, text: str) -> Hlc:
        """Read ``<ISO ms>/<counter>/<machine>``.

        Raises:
            ValueError: Not an HLC stamp.
        """
        stamp, counter, machine = text.split("/", 2)
        dt = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return cls(round(dt.timestamp() * 1000), int(counter), machine)


class HlcClock:
    """One machine's clock (thread-safe). Each process of a machine keeps one; causality
    across processes comes from observing the stamp of the revision being replaced."""

    def __init__(self, machine: str, wall_ms: Callable[[], int] | None = None) -> None:
        self.machine = machine
        self._last = Hlc(0, 0, machine)
        self._lock = threading.Lock()
        self._wall = wall_ms or (lambda: time.time_ns() // 1_000_000)

    def now(self, observed: str | None = None) -> Hlc:
        """A stamp later than every stamp this clock issued and than ``observed``."""
        with self._lock:
            wall = int(self._wall())
            last = self._last
            seen = Hlc.parse(observed) if observed else None
            top = max(last.ms, seen.ms if seen else 0)
            if wall > top:
                stamp = Hlc(wall, 0, self.machine)
            else:
                counter = max(
                    last.counter if last.ms == top else -1,
                    seen.counter if seen and seen.ms == top else -1,
                )
                stamp = Hlc(top, counter + 1, self.machine)
            self._last = stamp
            return stamp
