"""A loopback fake of the Notion API (2025-09-03) for the real notion-client to drive.

``FakeNotion`` runs a small Starlette app under uvicorn on a free 127.0.0.1 port in a thread.
It answers with Notion's JSON shapes, cursor pagination and error bodies, enforces Notion's
size limits, can rate limit like Notion (429 + Retry-After) and can inject faults: error
answers (``fail_next``) and late or truncated answers (``slow``, ``truncate``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from agents.core.testing import free_port
from tests.fakes.faults import InjectsWireFaults
from tests.fakes.notion.app import Api, Fault, Limiter, Seen, build_app
from tests.fakes.notion.store import Obj, new_id, url_of
from tests.fakes.notion.workspace import Workspace

__all__ = ["FakeNotion", "bullet", "heading", "para", "running", "todo"]


def _text(text: str) -> list[Obj]:
    return [{"type": "text", "text": {"content": text}}]


def para(text: str) -> Obj:
    """A paragraph request block."""
    return {"type": "paragraph", "paragraph": {"rich_text": _text(text)}}


def heading(level: int, text: str) -> Obj:
    """A heading request block."""
    kind = f"heading_{level}"
    return {"type": kind, kind: {"rich_text": _text(text)}}


def bullet(text: str, children: list[Obj] | None = None) -> Obj:
    """A bulleted list item request block."""
    payload: Obj = {"rich_text": _text(text)}
    if children:
        payload["children"] = children
    return {"type": "bulleted_list_item", "bulleted_list_item": payload}


def todo(text: str, checked: bool = False) -> Obj:
    """A to-do request block."""
    return {"type": "to_do", "to_do": {"rich_text": _text(text), "checked": checked}}


class FakeNotion(InjectsWireFaults):
    """The fake server plus helpers to seed and inspect its workspace."""

    def __init__(self, token: str | None = None, rate: float | None = None, burst: int = 3) -> None:
        # a token per fake: the agent's throttle is per token and process-wide
        self.token = token or f"secret_fake_{new_id().replace('-', '')}"
        self.ws = Workspace()
        self.api = Api(self.ws, self.token, Limiter(rate, burst) if rate else None)
        self.wire = self.api.wire
        self.port = free_port()
        config = uvicorn.Config(
            build_app(self.api),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="none",
            http="h11",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-notion", daemon=True)

    @property
    def url(self) -> str:
        """The base URL to give notion-client (``NOTION_BASE_URL``)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve in a thread; return once it accepts connections (bounded wait)."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Notion server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self._server.should_exit = True
        self._thread.join(10)

    # --- inspection ---------------------------------------------------------------------

    @property
    def requests(self) -> list[Seen]:
        """Every request received, in order."""
        with self.api.lock:
            return list(self.api.seen)

    def calls(self, method: str, path_part: str = "") -> list[Seen]:
        """Requests with ``method`` whose path contains ``path_part``."""
        return [s for s in self.requests if s.method == method and path_part in s.path]

    def reset_log(self) -> None:
        """Forget the requests seen so far."""
        with self.api.lock:
            self.api.seen.clear()

    def fail_next(
        self,
        status: int,
        code: str | None = None,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: int | None = None,
        raw_body: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with an error."""
        with self.api.lock:
            self.api.faults.append(Fault(status, code, times, method, path, retry_after, raw_body))

    def slow_next(
        self, seconds: float, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next matching request ``seconds`` late (after handling it)."""
        self.slow(seconds, method=method, path=path)

    def clear_faults(self) -> None:
        """Drop every queued fault, error and wire alike."""
        with self.api.lock:
            self.api.faults.clear()
        self.wire.clear()

    def children(self, parent_id: str) -> list[Obj]:
        """The live child blocks of a page or block."""
        with self.api.lock:
            return self.ws.live_children(parent_id)

    # --- seeding (as if a person had made it in Notion and shared it) --------------------

    def add_root_page(self, title: str, blocks: list[Obj] | None = None) -> str:
        """A workspace-level page (the integration cannot create these itself)."""
        with self.api.lock:
            ident = new_id()
            page = {
                **self.ws._meta("page", ident, {"type": "workspace", "workspace": True}),
                "cover": None,
                "icon": None,
                "is_locked": False,
                "url": url_of(ident),
                "public_url": None,
                "properties": self.ws.properties(None, {"title": {"title": _text(title)}}),
            }
            self.ws.pages[ident] = page
            self.ws.children[ident] = []
            if blocks:
                self.ws.append(ident, blocks, None, None)
            return ident

    def add_page(self, parent_id: str, title: str, blocks: list[Obj] | None = None) -> str:
        """A page under ``parent_id`` with ``blocks`` (more than 100 are appended in parts)."""
        with self.api.lock:
            page = self.ws.create_page(
                {"parent": {"page_id": parent_id}, "properties": {"title": {"title": _text(title)}}}
            )
            for start in range(0, len(blocks or []), 100):
                self.ws.append(page["id"], (blocks or [])[start : start + 100], None, None)
            return str(page["id"])

    def add_database(self, parent_id: str, title: str, columns: dict[str, Any]) -> tuple[str, str]:
        """A database with one data source; returns (database id, data source id)."""
        with self.api.lock:
            db = self.ws.create_database(
                {
                    "parent": {"page_id": parent_id},
                    "title": _text(title),
                    "initial_data_source": {"properties": columns},
                }
            )
            return str(db["id"]), str(db["data_sources"][0]["id"])

    def add_row(self, data_source_id: str, properties: Obj) -> str:
        """A row (request-shaped property values)."""
        with self.api.lock:
            page = self.ws.create_page(
                {"parent": {"data_source_id": data_source_id}, "properties": properties}
            )
            return str(page["id"])


@contextmanager
def running(**kwargs: Any) -> Iterator[FakeNotion]:
    """A started fake, stopped on exit."""
    fake = FakeNotion(**kwargs)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
