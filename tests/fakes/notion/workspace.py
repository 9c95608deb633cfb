"""Pages, databases, data sources, property values, queries and search of the fake."""

from __future__ import annotations

import copy
from typing import Any

from tests.fakes.notion.store import (
    PROPERTY_TYPES,
    ApiError,
    Obj,
    Store,
    full_rich_text,
    invalid,
    new_id,
    norm_id,
    plain,
    url_of,
)

READ_ONLY = {
    "formula",
    "rollup",
    "created_time",
    "last_edited_time",
    "created_by",
    "last_edited_by",
    "unique_id",
}


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {ident}. Make sure "
        "the relevant pages and databases are shared with your integration.",
    )


def title_of(obj: Obj) -> str:
    if isinstance(obj.get("title"), list):
        return plain(obj["title"])
    for prop in obj.get("properties", {}).values():
        if prop.get("type") == "title":
            return plain(prop["title"])
    return ""


class Workspace(Store):
    """The fake's whole state, with the operations its routes need."""

    def page(self, ident: str) -> Obj:
        if ident not in self.pages:
            raise not_found("page", ident)
        return self.pages[ident]

    def database(self, ident: str) -> Obj:
        if ident not in self.databases:
            raise not_found("database", ident)
        return self.databases[ident]

    def data_source(self, ident: str) -> Obj:
        if ident not in self.data_sources:
            raise not_found("data_source", ident)
        return self.data_sources[ident]

    # --- pages -------------------------------------------------------------------------

    def _parent(self, parent: Any) -> tuple[Obj, Obj | None]:
        """The normalized parent object and, for rows, their data source."""
        if not isinstance(parent, dict):
            raise invalid("body failed validation: body.parent should be an object")
        if "page_id" in parent:
            page = self.page(norm_id(parent["page_id"]))
            if page["in_trash"]:
                raise invalid(
                    "Can't edit block that is archived. "
                    "You must unarchive the block before editing."
                )
            return {"type": "page_id", "page_id": page["id"]}, None
        if "data_source_id" in parent:
            source = self.data_source(norm_id(parent["data_source_id"]))
        elif "database_id" in parent:
            db = self.database(norm_id(parent["database_id"]))
            if len(db["data_sources"]) != 1:
                raise invalid(
                    "body failed validation: database has several data sources; "
                    "use parent.data_source_id"
                )
            source = self.data_sources[db["data_sources"][0]["id"]]
        else:
            raise invalid(
                "body failed validation: body.parent should define page_id, data_source_id "
                "or database_id"
            )
        return {
            "type": "data_source_id",
            "data_source_id": source["id"],
            "database_id": source["parent"]["database_id"],
        }, source

    def _value(self, column: Obj, value: Any, at: str) -> Any:
        kind = column["type"]
        if not isinstance(value, dict) or kind not in value:
            raise invalid(f"body failed validation: {at} should be a {kind} property value")
        raw = value[kind]
        if kind in ("title", "rich_text"):
            return full_rich_text(raw, f"{at}.{kind}")
        if kind == "number" and raw is not None and not isinstance(raw, int | float):
            raise invalid(f"body failed validation: {at}.number should be a number")
        if kind == "checkbox" and not isinstance(raw, bool):
            raise invalid(f"body failed validation: {at}.checkbox should be a boolean")
        if kind in ("select", "status") and raw is not None:
            options = column[kind]["options"]
            found = next((o for o in options if o["name"] == raw.get("name")), None)
            if found is None and kind == "status":
                raise invalid(
                    f"body failed validation: {at}.status.name {raw.get('name')!r} does not exist"
                )
            if found is None:
                found = {"id": new_id()[:4], "name": raw["name"], "color": "default"}
                options.append(found)
            return dict(found)
        if kind == "multi_select":
            out = []
            for item in raw:
                opts = column[kind]["options"]
                found = next((o for o in opts if o["name"] == item["name"]), None)
                if found is None:
                    found = {"id": new_id()[:4], "name": item["name"], "color": "default"}
                    opts.append(found)
                out.append(dict(found))
            return out
        if kind in READ_ONLY:
            raise invalid(f"body failed validation: {at} is a {kind} property and cannot be set")
        return copy.deepcopy(raw)

    def _empty(self, kind: str) -> Any:
        return {
            "title": [],
            "rich_text": [],
            "multi_select": [],
            "people": [],
            "relation": [],
            "files": [],
            "checkbox": False,
        }.get(kind)

    def properties(self, source: Obj | None, given: Any, current: Obj | None = None) -> Obj:
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise invalid("body failed validation: body.properties should be an object")
        if source is None:
            extra = set(given) - {"title"}
            if extra:
                raise invalid(
                    f"body failed validation: {sorted(extra)[0]} is not a property that exists."
                )
            props = current or {"title": {"id": "title", "type": "title", "title": []}}
            if "title" in given:
                props["title"]["title"] = self._value(
                    {"type": "title"}, given["title"], "body.properties.title"
                )
            return props
        schema = source["properties"]
        props = current or {
            n: {"id": c["id"], "type": c["type"], c["type"]: self._empty(c["type"])}
            for n, c in schema.items()
        }
        for name, value in given.items():
            column = schema.get(name) or next((c for c in schema.values() if c["id"] == name), None)
            if column is None:
                raise invalid(f"body failed validation: {name} is not a property that exists.")
            props[column["name"]][column["type"]] = self._value(
                column, value, f"body.properties.{name}"
            )
        return props

    def create_page(self, body: Obj) -> Obj:
        parent, source = self._parent(body.get("parent"))
        children = body.get("children") or []
        if children:
            self.check_children(children, "body.children")
        ident = new_id()
        page = {
            **self._meta("page", ident, parent),
            "cover": None,
            "icon": body.get("icon"),
            "is_locked": False,
            "url": url_of(ident),
            "public_url": None,
            "properties": self.properties(source, body.get("properties")),
        }
        self.pages[ident] = page
        self.children[ident] = []
        if children:
            self.append(ident, children, None, None)
        if parent["type"] == "page_id":
            self._child_block(parent["page_id"], ident, "child_page", title_of(page))
        return page

    def _child_block(self, parent_id: str, ident: str, kind: str, title: str) -> None:
        block = {
            **self._meta("block", ident, {"type": "page_id", "page_id": parent_id}),
            "has_children": True,
            "type": kind,
            kind: {"title": title},
        }
        self.blocks[ident] = block
        self.children.setdefault(parent_id, []).append(ident)

    def update_page(self, ident: str, body: Obj) -> Obj:
        page = self.page(ident)
        trash = body.get("in_trash", body.get("archived"))
        if page["in_trash"] and trash is not False:
            raise invalid(
                "Can't edit page that is archived. You must unarchive the page before editing."
            )
        source = self.data_sources.get(page["parent"].get("data_source_id", ""))
        if "properties" in body:
            page["properties"] = self.properties(source, body["properties"], page["properties"])
            if ident in self.blocks:
                self.blocks[ident]["child_page"]["title"] = title_of(page)
        if "icon" in body:
            page["icon"] = body["icon"]
        if trash is not None:
            self.trash(ident, bool(trash))
        self.touch(ident)
        return page

    # --- databases ---------------------------------------------------------------------

    def create_database(self, body: Obj) -> Obj:
        parent, _ = self._parent(body.get("parent"))
        if parent["type"] != "page_id":
            raise invalid("body failed validation: body.parent.page_id should be defined")
        schema_in = (body.get("initial_data_source") or {}).get("properties") or {}
        schema: Obj = {}
        for name, spec in schema_in.items():
            kinds = [k for k in spec if k in PROPERTY_TYPES]
            if len(kinds) != 1:
                raise invalid(f"body failed validation: property {name!r} needs exactly one type")
            config = copy.deepcopy(spec[kinds[0]] or {})
            if kinds[0] in ("select", "multi_select", "status"):
                config["options"] = [
                    {"id": new_id()[:4], "color": "default", **o} for o in config.get("options", [])
                ]
            schema[name] = {
                "id": "title" if kinds[0] == "title" else new_id()[:4],
                "name": name,
                "type": kinds[0],
                kinds[0]: config,
            }
        if [c["type"] for c in schema.values()].count("title") != 1:
            raise invalid("body failed validation: a database needs exactly one title property")
        title = full_rich_text(body.get("title", []), "body.title")
        db_id, ds_id = new_id(), new_id()
        db = {
            **self._meta("database", db_id, parent),
            "title": title,
            "description": full_rich_text(body.get("description", []), "body.description"),
            "is_inline": bool(body.get("is_inline")),
            "is_locked": False,
            "icon": None,
            "cover": None,
            "url": url_of(db_id),
            "public_url": None,
            "data_sources": [{"id": ds_id, "name": plain(title)}],
        }
        source = {
            **self._meta("data_source", ds_id, {"type": "database_id", "database_id": db_id}),
            "database_parent": parent,
            "title": copy.deepcopy(title),
            "description": [],
            "is_inline": db["is_inline"],
            "icon": None,
            "cover": None,
            "url": url_of(ds_id),
            "public_url": None,
            "properties": schema,
        }
        self.databases[db_id], self.data_sources[ds_id] = db, source
        self._child_block(parent["page_id"], db_id, "child_database", plain(title))
        return db

    def rows(self, ds_id: str) -> list[Obj]:
        self.data_source(ds_id)
        return [
            p
            for p in self.pages.values()
            if p["parent"].get("data_source_id") == ds_id and not p["in_trash"]
        ]

    def search_pool(self) -> list[Obj]:
        pages = [p for p in self.pages.values() if not p["in_trash"]]
        sources = [
            s
            for s in self.data_sources.values()
            if not self.databases[s["parent"]["database_id"]]["in_trash"]
        ]
        return pages + sources
