"""Lokka tool results and the parameter types the tools share."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

__all__ = [
    "Confirm",
    "Cursor",
    "Filter",
    "Item",
    "Limit",
    "Page",
    "Select",
    "SentRequest",
    "WriteResult",
]


class SentRequest(BaseModel):
    """One HTTP request as the agent sends it (the bearer token is never shown)."""

    method: str = Field(description="HTTP method")
    url: str = Field(description="Absolute URL, with API version and query")
    headers: dict[str, str] = Field(description="Headers besides Authorization")
    body: Any = Field(default=None, description="JSON body; passwords are shown masked")


class Page(BaseModel):
    """A bounded slice of a collection; pass ``next_cursor`` back as ``cursor`` for more."""

    tenant: str = Field(description="The tenant the agent is pinned to")
    request: str = Field(description="The first request sent")
    items: list[dict[str, Any]] = Field(description="The objects, as Graph or ARM returned them")
    count: int | None = Field(default=None, description="Total matches ($count), when asked for")
    next_cursor: str | None = Field(
        default=None, description="More items exist: call again with cursor=<this>"
    )


class Item(BaseModel):
    """One object read from Graph or ARM."""

    tenant: str = Field(description="The tenant the agent is pinned to")
    request: str = Field(description="The request sent")
    item: dict[str, Any] = Field(description="The object as returned")


class WriteResult(BaseModel):
    """A write: what it would send (dry run) or what it sent and got back."""

    tenant: str = Field(description="The tenant the agent is pinned to")
    action: str = Field(description="What the write does")
    target: str = Field(description="The object written to")
    dry_run: bool = Field(description="True: nothing was sent; call again with confirm=true")
    requests: list[SentRequest] = Field(description="Exactly the requests sent, or to be sent")
    results: list[Any] = Field(default_factory=list, description="Upstream answers (confirmed)")
    note: str | None = Field(default=None, description="What to check before confirming")


Limit = Annotated[
    int,
    Field(ge=1, le=1000, description="Most items to return (pages are followed up to this)"),
]
Cursor = Annotated[
    str | None, Field(description="next_cursor from an earlier call, to continue the listing")
]
Select = Annotated[
    list[str] | None,
    Field(description="Properties to return ($select); a sensible default when omitted"),
]
Filter = Annotated[
    str | None, Field(description="OData $filter expression, e.g. startswith(displayName,'A')")
]
Confirm = Annotated[
    bool,
    Field(description="false (default): dry run, nothing is sent; true: send the request once"),
]
