"""The approval of writes that run code or carry credentials (see :mod:`agents.claude.risk`).

:func:`settle` decides, for the risky changes of a plan, which are written:

- a change whose content hash was approved before for that target is written (not asked
  again);
- a change from a machine ``trusted`` does not vouch for is never written;
- the others are written with ``allow`` (``--allow-exec``) or when ``ask`` (the section's
  own question) says yes; ``--yes`` alone never approves them.

A change that is not approved is *held*: the rest of its file is still written and the
risky member is left as it is on disk (for ``env``, only the risky entries are; the others
are written). Whole files are left alone. Nothing is ever half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from agents.claude.plan import WRITES, ApplyPlan, Change, build_files
from agents.claude.risk import Approvals, OriginTrusted, risky_env_names
from agents.claude.targets import Blob, unit_hash

__all__ = ["RiskDecision", "approval_hash", "pending", "remember", "risky", "section", "settle"]


@dataclass
class RiskDecision:
    """What :func:`settle` decided."""

    approved: list[Change] = field(default_factory=list)  # to remember once written
    held: list[Change] = field(default_factory=list)

    def as_dict(self) -> list[dict[str, str | None]]:
        """JSON-ready list of the held changes."""
        return [
            {"target": c.label, "risk": c.risk, "origin": c.origin, "reason": c.reason}
            for c in self.held
        ]


def approval_hash(c: Change) -> str | None:
    """What an approval is remembered by: the document's content for this target (secret
    references not resolved, so sharing a secret later does not ask again) and its mode."""
    unit = c.unit
    if unit is None:
        return None
    value = unit.value
    digest = value.id if isinstance(value, Blob) else unit_hash(value, not unit.pointer)
    return f"{digest}/{unit.mode:o}" if unit.mode is not None else digest


def pending(plan: ApplyPlan, approvals: Approvals) -> list[Change]:
    """The risky changes not approved before."""
    return [c for c in risky(plan) if not approvals.approved(c.key, approval_hash(c))]


def risky(plan: ApplyPlan) -> list[Change]:
    """The plan's writes that run code or carry credentials."""
    return [c for c in plan.changes if c.risk and c.action in WRITES]


def section(changes: list[Change], trusted: OriginTrusted) -> str:
    """The plan's own section for risky changes: what, why, and from which machine."""
    if not changes:
        return ""
    lines = ["runs code or carries credentials (needs its own approval):"]
    for c in changes:
        who = f"from machine {c.origin}" + ("" if trusted(str(c.origin)) else ", NOT trusted")
        lines.append(f"  {c.action} {c.label}: {c.risk} ({who})")
    return "\n".join(lines) + "\n"


def _hold(plan: ApplyPlan, c: Change, reason: str) -> None:
    """Leave the risky part of ``c`` as it is on disk, writing the rest of an ``env``."""
    unit = c.unit
    if unit is not None and unit.pointer == ("env",) and isinstance(c.desired, dict):
        names = risky_env_names(c.desired, c.current)
        now = c.current if isinstance(c.current, dict) else {}
        partial = {k: v for k, v in c.desired.items() if k not in names}
        partial.update({k: now[k] for k in names if k in now})
        if partial != now:
            c.desired, c.desired_hash = partial, unit_hash(partial, False)
            c.reason = f"{reason}; env {', '.join(names)} left as it is"
            c.risk = ""
            return
    c.action, c.reason = "held", reason


def settle(
    plan: ApplyPlan,
    approvals: Approvals,
    *,
    allow: bool,
    trusted: OriginTrusted,
    ask: Callable[[list[Change]], bool] | None = None,
) -> RiskDecision:
    """Decide the plan's risky changes; hold what is not approved and rebuild the files.

    Args:
        allow: ``--allow-exec``: approve every risky change from a trusted origin.
        trusted: Whether content from a machine may be approved at all.
        ask: Asks the section's question about the changes still needing approval (None:
            nobody to ask, as with ``--yes`` or without a terminal).
    """
    out = RiskDecision()
    asked = []
    for c in pending(plan, approvals):
        if not trusted(str(c.origin)):
            _hold(plan, c, f"from machine {c.origin}, which this machine does not trust")
            out.held.append(c)
        else:
            asked.append(c)
    if asked and (allow or (ask is not None and ask(asked))):
        out.approved = asked
    else:
        for c in asked:
            _hold(plan, c, "not approved: --allow-exec (or answer its question) writes it")
        out.held += asked
    if out.held:
        build_files(plan)
    return out


def remember(approvals: Approvals, decision: RiskDecision, failed: list[Change]) -> None:
    """Remember the approved changes that were written (not those that failed)."""
    skip = {id(c) for c in failed}
    approvals.remember((c.key, approval_hash(c)) for c in decision.approved if id(c) not in skip)
