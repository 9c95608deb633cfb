"""JSON Schemas (2020-12) of the envelope and of each kind's body, compiled once per process.

A kind exists when ``schemas/<kind>.json`` does; adding a kind is adding a schema file.

``jsonschema`` is the authority: it checks the schemas themselves and explains a refusal
(best match, instance path, schema rule). Every write first asks ``jsonschema-rs`` (much
faster; figures in docs/performance.md), and only a document it rejects is run through
``jsonschema``; a document ``jsonschema`` accepts is accepted.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from agents.core.errors import InputError

if TYPE_CHECKING:  # jsonschema loads in about 0.1 s: only when a document is refused
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

__all__ = [
    "KINDS",
    "InvalidDocumentError",
    "check_body",
    "check_envelope",
    "check_schemas",
    "kind_schema",
]

_DIR = Path(__file__).with_name("schemas")
_SHARED = ("common", "envelope")


class InvalidDocumentError(InputError):
    """A document failed its schema; ``path`` is where in the document, ``schema_path`` which
    rule of which schema file."""

    def __init__(self, message: str, *, path: str, schema_path: str) -> None:
        super().__init__(message)
        self.path = path
        self.schema_path = schema_path


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_DIR / f"{name}.json").read_text())
    return data


KINDS: tuple[str, ...] = tuple(sorted(p.stem for p in _DIR.glob("*.json") if p.stem not in _SHARED))


@functools.cache
def _registry() -> Registry[Any]:
    from referencing import Registry, Resource

    resources = [
        (f"urn:ctx:{name}", Resource.from_contents(_load(name))) for name in (*_SHARED, *KINDS)
    ]
    return Registry().with_resources(resources)


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = _load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


@functools.cache
def _fast(name: str) -> Any:
    registry = jsonschema_rs.Registry([(f"urn:ctx:{n}", _load(n)) for n in (*_SHARED, *KINDS)])
    return jsonschema_rs.Draft202012Validator(_load(name), registry=registry)


def kind_schema(kind: str) -> dict[str, Any]:
    """The body schema of ``kind``.

    Raises:
        InputError: Unknown kind.
    """
    _require_kind(kind)
    return _load(kind)


def _require_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")


def _raise(error: ValidationError, file: str, prefix: str, what: str) -> None:
    where = prefix + "".join(f"/{p}" for p in error.absolute_path)
    rule = f"{file}#/" + "/".join(str(p) for p in error.absolute_schema_path)
    raise InvalidDocumentError(
        f"{what} refused: {error.message} at {where or '/'} (schema rule {rule})",
        path=where or "/",
        schema_path=rule,
    )


def _explain(name: str, document: Any) -> ValidationError | None:
    from jsonschema.exceptions import best_match

    error: ValidationError | None = best_match(_validator(name).iter_errors(document))
    return error


def check_schemas() -> None:
    """Check every schema file against the 2020-12 meta-schema.

    Raises:
        jsonschema.exceptions.SchemaError: A schema file is not a valid schema.
    """
    for name in (*_SHARED, *KINDS):
        _validator(name)


def check_body(kind: str, body: Any, doc_id: str = "") -> None:
    """Validate a body against its kind's schema.

    Raises:
        InputError: Unknown kind.
        InvalidDocumentError: The body breaks a rule; says which, where.
    """
    _require_kind(kind)
    if _fast(kind).is_valid(body):
        return
    error = _explain(kind, body)
    if error is not None:
        _raise(error, f"{kind}.json", "/body", f"{kind} document {doc_id!r}".replace(" ''", ""))


def check_envelope(envelope: dict[str, Any]) -> None:
    """Validate a whole envelope, then its body (skipped for tombstones).

    Raises:
        InputError: Unknown kind.
        InvalidDocumentError: The envelope or its body breaks a rule.
    """
    doc_id = str(envelope.get("id", ""))
    error = None if _fast("envelope").is_valid(envelope) else _explain("envelope", envelope)
    if error is not None:
        _raise(error, "envelope.json", "", f"envelope {doc_id!r}")
    if not envelope["deleted"]:
        check_body(envelope["kind"], envelope["body"], doc_id)
