"""Graph's and ARM's answers checked at the boundary: the shape the tools read, or a clear error.

Vendor answers are input. Every JSON answer passes :func:`checked` as it arrives: a JSON
object whose well-known fields have their documented types wherever they appear (``id``,
``value`` lists, paging links and counts, names, dates, license units, credentials, ARM
``properties``). Collections pass :func:`collection` before they are paged, and ``$batch``
answers :func:`batch_answers`. Anything else is an :class:`UnexpectedAnswerError` naming the
API and where the answer went wrong.
"""

from __future__ import annotations

from typing import Any

from agents.core.errors import UpstreamError

__all__ = ["UnexpectedAnswerError", "an_object", "batch_answers", "checked", "collection"]

TEXT = {
    "id",
    "@odata.type",
    "@odata.nextLink",
    "nextLink",
    "userPrincipalName",
    "displayName",
    "mail",
    "roleTemplateId",
    "skuPartNumber",
    "deviceName",
    "appId",
    "name",
    "type",
    "service",
}
NUMBERS = {"@odata.count", "consumedUnits"}
OBJECTS = {"prepaidUnits", "properties", "error", "innerError", "manager", "body"}
OBJECT_LISTS = {"passwordCredentials", "keyCredentials", "columns", "responses"}
MAX_DEPTH = 64


class UnexpectedAnswerError(UpstreamError):
    """Graph or ARM answered with JSON that is not what its API documents."""


def _bad(api: str, about: str, where: str, why: str) -> UnexpectedAnswerError:
    return UnexpectedAnswerError(
        f"{api}'s answer {about} is not what its API documents: {where} {why}; nothing was "
        "done with it. Try again; if it persists, check the API URL setting (docs/lokka.md)",
        code="unexpected_answer",
    )


def checked(data: Any, api: str, about: str) -> Any:
    """``data`` (parsed JSON, or None for an empty answer) if its known fields have their
    documented types.

    Raises:
        UnexpectedAnswerError: They do not; the message says where.
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _bad(api, about, "the answer", f"is {type(data).__name__}, not a JSON object")
    _walk(data, api, about, "answer", 0)
    return data


def _walk(value: Any, api: str, about: str, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _bad(api, about, where, f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, api, about, f"{where}[{i}]", depth + 1)
        return
    if not isinstance(value, dict):
        return
    for key, v in value.items():
        at = f"{where}.{key}"
        if key in TEXT and not isinstance(v, str | None):
            raise _bad(api, about, at, "is not text")
        if (key in NUMBERS or key.endswith("Count")) and not (
            v is None or (isinstance(v, int | float) and not isinstance(v, bool))
        ):
            raise _bad(api, about, at, "is not a number")
        if key in OBJECTS and not isinstance(v, dict | None):
            raise _bad(api, about, at, "is not an object")
        if key in OBJECT_LISTS and not (
            isinstance(v, list) and all(isinstance(i, dict) for i in v)
        ):
            raise _bad(api, about, at, "is not a list of objects")
        if (
            key == "prepaidUnits"
            and isinstance(v, dict)
            and not all(isinstance(n, int | float) and not isinstance(n, bool) for n in v.values())
        ):
            raise _bad(api, about, at, "holds a seat count that is not a number")
        if key.endswith("DateTime") and not isinstance(v, str | None):
            raise _bad(api, about, at, "is not a date")
        _walk(v, api, about, at, depth + 1)


def an_object(data: Any, api: str, about: str) -> dict[str, Any]:
    """``data`` if it is a JSON object (a read's answer is never empty).

    Raises:
        UnexpectedAnswerError: It is empty or not an object.
    """
    if not isinstance(data, dict):
        raise _bad(api, about, "the answer", "is empty or not a JSON object")
    return data


def collection(data: Any, api: str, about: str) -> dict[str, Any]:
    """``data`` if it is a page of a collection: ``value`` a list of objects.

    Raises:
        UnexpectedAnswerError: It is not.
    """
    if not isinstance(data, dict):
        raise _bad(api, about, "the answer", "is not a JSON object")
    items = data.get("value")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _bad(api, about, "answer.value", "is not a list of objects")
    return data


def batch_answers(data: Any, about: str) -> dict[str, dict[str, Any]]:
    """The ``$batch`` answers by request id, each with an integer ``status``.

    Raises:
        UnexpectedAnswerError: The answer is not a ``$batch`` answer.
    """
    if not isinstance(data, dict) or not isinstance(data.get("responses"), list):
        raise _bad("Microsoft Graph", about, "answer.responses", "is not a list")
    out: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(data["responses"]):
        if not isinstance(r, dict) or not isinstance(r.get("id"), str):
            raise _bad("Microsoft Graph", about, f"answer.responses[{i}]", "has no id")
        if not isinstance(r.get("status"), int) or isinstance(r["status"], bool):
            raise _bad("Microsoft Graph", about, f"answer.responses[{i}].status", "is no status")
        if not isinstance(r.get("body"), dict | None) or not isinstance(
            r.get("headers"), dict | None
        ):
            raise _bad("Microsoft Graph", about, f"answer.responses[{i}]", "has no JSON body")
        out[r["id"]] = r
    return out
