"""The write guard: read-only mode, protected objects, dry run by default, an audit record.

Every write tool hands :func:`guarded_write` a ``plan``: an async function that resolves
the targets (reads only) and returns the exact requests the write would send. The guard
refuses in read-only mode before planning, refuses protected targets even with confirm,
returns the plan untouched as a dry run, or sends each request once (no automatic retry).
A target that cannot be read back is refused too: the guard cannot check what it cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from agents.core.errors import AgentError, InputError, NotFoundError, UpstreamError
from agents.core.recorder import annotate_call
from agents.core.redact import mask
from agents.lokka.client import Lokka, seg
from agents.lokka.errors import WriteRefusedError, refuse_if_read_only
from agents.lokka.models import SentRequest, WriteResult
from agents.lokka.paths import (
    GUID,
    GraphPath,
    Ref,
    batch_parts,
    normal_name,
    object_refs,
    parse_path,
)

__all__ = [
    "GUID",
    "Plan",
    "Target",
    "WriteRefusedError",
    "guarded_write",
    "protected_match",
    "request_targets",
    "resolve",
    "target_of",
    "write_parts",
]

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
    "managedDevices": "id,deviceName,userPrincipalName,operatingSystem",
}
MAX_RESOLVE = 40
UPN = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")
REFERENCE_KEYS = ("@odata.id", "@odata.bind")


@dataclass(frozen=True)
class Target:
    """An object a write touches, with every name a protection pattern may use."""

    kind: str
    id: str
    names: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict, compare=False)
    unresolved: str | None = None  # why it could not be read back (the write is refused)

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


def target_of(kind: str, data: dict[str, Any], *also: str) -> Target:
    """A target from an object as Graph returned it (``also``: names it was addressed by)."""
    names = [str(data[f]) for f in NAME_FIELDS[1:] if data.get(f)]
    kind = str(data.get("@odata.type") or kind).rsplit(".", 1)[-1]
    oid = str(data.get("id", ""))
    return Target(kind=kind, id=oid, names=(*names, oid, *also), data=data)


def _readable(kind: str, data: Any, ref: str) -> Target:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        return Target(kind, ref, (ref,), unresolved="Graph's answer names no object id")
    return target_of(kind, data, ref)


async def resolve(client: Lokka, collection: str, ref: str, name: str) -> Target:
    """Read the object ``ref`` (id, UPN or name) of ``collection`` so the guard can match it.

    Raises:
        NotFoundError: No such object; the message names the parameter.
        WriteRefusedError: Graph's answer names no object, so there is nothing to check.
    """
    kind = collection.rsplit("/", 1)[-1].removesuffix("s")
    # directoryObjects: no $select, so the derived type's names (UPN, mail) come back too
    select = SELECT.get(collection.rsplit("/", 1)[-1])
    url = client.graph_url(f"/{collection}/{seg(ref, name)}", {"$select": select})
    try:
        data = await client.get(url)
    except NotFoundError as exc:
        raise NotFoundError(f"{name}={ref!r}: no such {kind} in tenant {client.tenant}") from exc
    target = _readable(kind, data, ref)
    if target.unresolved:
        raise WriteRefusedError(f"{name}={ref!r}: {target.unresolved}; nothing was changed")
    return target


def protected_match(patterns: tuple[str, ...], target: Target) -> str | None:
    """The first protection pattern matching any name of ``target``: names and patterns both
    percent-decoded, trimmed and casefolded (:func:`agents.lokka.paths.normal_name`)."""
    names = {normal_name(n) for n in (target.id, *target.names) if n}
    for pattern in patterns:
        p = normal_name(pattern)
        if any(fnmatchcase(n, p) for n in names):
            return pattern
    return None


def _mask(value: Any) -> Any:
    """``value`` with secrets hidden by the one rule of :mod:`agents.core.redact`."""
    return mask(value, hidden=lambda key: f"[hidden: the {key} you passed]")


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
        WriteRefusedError: Read-only mode, a protected target, or a target that could not be
            read back (the message says why).
        AgentError: Planning or sending failed; a partial multi-request write says how far it got.
    """
    s = client.settings
    annotate_call(write=True, action=action, confirmed=confirm, actor=s.actor)
    refuse_if_read_only(s, action)
    try:
        p = await plan()
    except (InputError, WriteRefusedError):
        raise
    except AgentError as exc:  # the target could not be read: nothing to check it against
        annotate_call(refused="unresolved")
        raise WriteRefusedError(
            f"{action} refused: its target could not be resolved, so the guard cannot check it "
            f"against LOKKA_PROTECTED: {exc}"
        ) from exc
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
    for t in p.targets:
        if t.unresolved:
            annotate_call(refused="unresolved")
            raise WriteRefusedError(
                f"{action} refused: cannot resolve {t.kind} {t.id!r} ({t.unresolved}); the guard "
                "reads back every object a write names to check it against LOKKA_PROTECTED, "
                "and refuses a write it cannot check"
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


async def _lookup(client: Lokka, ref: Ref, *, strict: bool) -> Target:
    """Read back the object ``ref`` names. ``strict``: a 404 leaves it unresolved; otherwise
    a value Graph does not know as an object (a SKU id, a role template id) is checked as given.
    """
    key = ref.key.rpartition("=")[2].strip("'\"")
    if ref.member or ref.collection == "object":
        coll = "users" if UPN.match(key) else "directoryObjects"
        path = GraphPath((coll, key))
    else:
        coll, path = ref.collection, GraphPath(ref.lookup)
    kind = coll.removesuffix("s")
    url = client.graph_url(path, {"$select": SELECT.get(coll)})
    try:
        data = await client.get(url)
    except NotFoundError:
        if strict:
            return Target(kind, key, (key,), unresolved=f"Graph has no {path.text}")
        return Target("object", key, (key,))
    except AgentError as exc:
        return Target(kind, key, (key,), unresolved=f"reading {path.text} failed: {exc}")
    return _readable(kind, data, key)


def _body_refs(body: Any) -> tuple[list[Ref], list[str]]:
    """Objects a JSON body names: by reference (``@odata.id``, ``...@odata.bind``: strict)
    and GUID or UPN values anywhere (checked as given when Graph knows no such object).

    Raises:
        InputError: A reference is not a Graph path (see :func:`agents.lokka.paths.parse_path`).
    """
    strict: list[Ref] = []
    loose: list[str] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str):
            if key.endswith(REFERENCE_KEYS):
                refs = object_refs(parse_path(value, name=key, query=True, any_origin=True))
                strict.extend(refs or [Ref((value,), value, "object")])
                return
            text = normal_name(value)
            if "://" in text or text.startswith("/"):
                try:
                    loose.extend(r.key for r in object_refs(parse_path(value, any_origin=True)))
                except InputError:
                    pass
            elif GUID.match(text) or UPN.match(text):
                loose.append(text)

    walk(body, "")
    return strict, loose


async def request_targets(client: Lokka, parts: list[tuple[str, GraphPath, Any]]) -> list[Target]:
    """The directory objects named by the writes in ``parts`` (method, path, body), resolved.

    Every object a path addresses (``/users/{x}``, ``/groups('x')``, ``/me``, a member key,
    any GUID segment) and every ``@odata.id`` in a body must be read back; GUIDs and UPNs
    elsewhere in a body are looked up too, and checked as given when no object has them. So
    a protected object cannot be reached through another of its names, and a write naming
    an object the guard cannot read is refused (its target says why).

    Raises:
        InputError: More objects than the guard resolves in one call, or a bad reference.
    """
    strict: dict[tuple[str, ...], Ref] = {}
    loose: list[str] = []
    for method, path, body in parts:
        if method == "GET":
            continue
        for ref in object_refs(path):
            strict.setdefault(ref.lookup, ref)
        by_ref, by_value = _body_refs(body)
        for ref in by_ref:
            strict.setdefault(ref.lookup, ref)
        loose.extend(by_value)
    keys = {normal_name(r.key) for r in strict.values()}
    loose = [v for v in dict.fromkeys(loose) if v not in keys]
    if len(strict) + len(loose) > MAX_RESOLVE:
        raise InputError(
            f"this write names {len(strict) + len(loose)} directory objects; the guard checks "
            f"at most {MAX_RESOLVE} per call: split it"
        )
    targets = [await _lookup(client, r, strict=True) for r in strict.values()]
    targets += [await _lookup(client, Ref((v,), v, "object"), strict=False) for v in loose]
    return targets


def write_parts(
    client: Lokka, method: str, path: GraphPath, body: Any
) -> tuple[Any, list[tuple[str, GraphPath, Any]]]:
    """The body to send and the writes to check: the call itself, or each ``$batch`` request.

    Raises:
        InputError: A malformed ``$batch`` (see :func:`agents.lokka.paths.batch_parts`).
    """
    if not path.is_batch():
        return body, [(method, path, body)]
    rebuilt, subs = batch_parts(body, client.settings.graph_url)
    return rebuilt, [(r.method, r.path, r.body) for r in subs]
