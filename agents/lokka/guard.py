"""The write guard: read-only mode, protected objects, dry run by default, an audit record.

Every write handler hands :func:`guarded_write` a ``plan``: an async function that resolves
the targets (reads only) and returns the exact requests the write would send. The guard
refuses in read-only mode before planning, refuses protected targets even with confirm,
returns the plan untouched as a dry run, or sends each request once (no automatic retry).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from agents.core.errors import AgentError, InputError, NotFoundError, UpstreamError
from agents.core.recorder import annotate_call
from agents.lokka.client import Lokka, seg
from agents.lokka.models import SentRequest, WriteResult

__all__ = [
    "Plan",
    "Target",
    "WriteRefusedError",
    "guarded_write",
    "protected_match",
    "resolve",
    "target_of",
]

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
NAME_FIELDS = (
    "id",
    "userPrincipalName",
    "mail",
    "displayName",
    "mailNickname",
    "roleTemplateId",
    "deviceName",
    "appId",
)
SELECT = {
    "users": "id,userPrincipalName,displayName,mail,usageLocation,accountEnabled",
    "groups": "id,displayName,mail,mailNickname",
    "directoryRoles": "id,displayName,roleTemplateId",
    "deviceManagement/managedDevices": "id,deviceName,userPrincipalName,operatingSystem",
}
MAX_RESOLVE = 20
GUID_IN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
REF_SEGMENTS = {
    "users",
    "groups",
    "directoryRoles",
    "servicePrincipals",
    "applications",
    "devices",
    "directoryObjects",
    "roleDefinitions",
    "managedDevices",
    "members",
    "owners",
}


class WriteRefusedError(AgentError):
    """The guard refused a write (read-only mode, or a protected target)."""


@dataclass(frozen=True)
class Target:
    """An object a write touches, with every name a protection pattern may use."""

    kind: str
    id: str
    names: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        """``user:alice@contoso.com`` style, for messages and the audit record."""
        return f"{self.kind}:{self.names[0] if self.names else self.id}"


@dataclass
class Plan:
    """What a write would do: its targets, its requests, and anything to check first."""

    targets: list[Target]
    requests: list[SentRequest]
    note: str | None = None


def target_of(kind: str, data: dict[str, Any]) -> Target:
    """A target from an object as Graph returned it."""
    names = [str(data[f]) for f in NAME_FIELDS[1:] if data.get(f)]
    kind = str(data.get("@odata.type") or kind).rsplit(".", 1)[-1]
    return Target(
        kind=kind, id=str(data.get("id", "")), names=(*names, str(data.get("id"))), data=data
    )


async def resolve(client: Lokka, collection: str, ref: str, name: str) -> Target:
    """Read the object ``ref`` (id, UPN or name) of ``collection`` so the guard can match it.

    Raises:
        NotFoundError: No such object; the message names the parameter.
    """
    kind = collection.rsplit("/", 1)[-1].removesuffix("s")
    # directoryObjects: no $select, so the derived type's names (UPN, mail) come back too
    select = SELECT.get(collection)
    url = client.graph_url(f"/{collection}/{seg(ref, name)}", {"$select": select})
    try:
        data = await client.get(url)
    except NotFoundError as exc:
        raise NotFoundError(f"{name}={ref!r}: no such {kind} in tenant {client.tenant}") from exc
    return target_of(kind, data)


def protected_match(patterns: tuple[str, ...], target: Target) -> str | None:
    """The first protection pattern matching any name of ``target`` (case-insensitive)."""
    names = [n.casefold() for n in (target.id, *target.names)]
    for pattern in patterns:
        p = pattern.casefold()
        if any(fnmatchcase(n, p) for n in names):
            return pattern
    return None


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "[hidden: the password you passed]" if k.casefold() == "password" else _mask(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def shown(req: SentRequest) -> SentRequest:
    """``req`` as it may be shown and recorded: passwords masked."""
    return req.model_copy(update={"body": _mask(req.body)})


async def guarded_write(
    client: Lokka,
    *,
    action: str,
    confirm: bool,
    plan: Callable[[], Awaitable[Plan]],
) -> WriteResult:
    """Run a write through the guard (see the module docstring).

    Raises:
        WriteRefusedError: Read-only mode, or a protected target.
        AgentError: Planning or sending failed; a partial multi-request write says how far it got.
    """
    s = client.settings
    annotate_call(write=True, action=action, confirmed=confirm, actor=s.actor)
    if s.read_only:
        annotate_call(refused="read_only")
        raise WriteRefusedError(
            f"{action} refused: LOKKA_READ_ONLY=true for this environment, so the agent makes no "
            "changes; set LOKKA_READ_ONLY=false in environments/.env.<env> to allow writes"
        )
    p = await plan()
    label = ", ".join(t.label for t in p.targets) or "tenant"
    annotate_call(target=label, requests=[f"{r.method} {r.url}" for r in p.requests])
    for t in p.targets:
        pattern = protected_match(s.protected, t)
        if pattern is not None:
            annotate_call(refused="protected")
            raise WriteRefusedError(
                f"{action} refused: {t.label} is protected (matches {pattern!r} in "
                "LOKKA_PROTECTED); protected accounts, groups and roles are never modified "
                "by this agent, confirmed or not"
            )
    shown_requests = [shown(r) for r in p.requests]
    result = WriteResult(
        tenant=client.tenant,
        action=action,
        target=label,
        dry_run=not confirm,
        requests=shown_requests,
        note=p.note,
    )
    if not confirm:
        return result
    for i, req in enumerate(p.requests):
        try:
            result.results.append(await client.send(req, write=True))
        except AgentError as exc:
            if i == 0:
                raise
            done = "; ".join(f"{r.method} {r.url}" for r in p.requests[:i])
            raise UpstreamError(
                f"{exc} (after {i} of {len(p.requests)} requests succeeded: {done})"
            ) from exc
    annotate_call(sent=len(p.requests))
    return result


async def request_targets(client: Lokka, path: str, body: Any) -> list[Target]:
    """The directory objects a passthrough write names in its path or body, resolved.

    Every GUID in the path, the segment after ``users``, ``groups``, ``members`` and the
    like, and every GUID, UPN or ``@odata.id`` in the body are looked up, so a protected object
    cannot be reached through another of its names. Values that are no directory object are
    checked as given.

    Raises:
        InputError: More objects than the guard resolves in one call.
    """
    refs: list[str] = GUID_IN.findall(path)
    parts = [p for p in path.split("/") if p]
    for i, part in enumerate(parts[:-1]):
        if part in REF_SEGMENTS and not parts[i + 1].startswith("$"):
            refs.append(parts[i + 1])

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            tail = value.rstrip("/").rsplit("/", 1)[-1] if value.startswith("http") else value
            if GUID.match(tail) or ("@" in tail and "." in tail and " " not in tail):
                refs.append(tail)

    walk(body)
    unique = list(dict.fromkeys(refs))
    if len(unique) > MAX_RESOLVE:
        raise InputError(
            f"this write names {len(unique)} directory objects; the guard checks at most "
            f"{MAX_RESOLVE} per call: split it"
        )
    targets: list[Target] = []
    for ref in unique:
        collection = "users" if "@" in ref else "directoryObjects"
        try:
            targets.append(await resolve(client, collection, ref, "path"))
        except AgentError:  # not a directory object (or unreadable): match it as given
            targets.append(Target(kind="object", id=ref, names=(ref,)))
    return targets
