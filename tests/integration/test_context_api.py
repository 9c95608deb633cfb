"""The context agent's HTTP API (/api/v1), driven with a real HTTP client against the agent
running as its own process: the door rules, each operation, the OpenAPI document, and every
answer to drawn requests checked against that document."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from agents.core.testing import free_port
from tests.servers import bare_git_repo

pytestmark = pytest.mark.integration


@dataclass
class Agent:
    url: str
    token: str
    root: Path

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers={**auth, **headers}, timeout=30)


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    root = tmp_path_factory.mktemp("api")
    (root / "environments").mkdir()
    remote = bare_git_repo(root / "ctx.git")
    port = free_port()
    (root / "environments" / ".env.local").write_text(
        f"AGENTS_PORT_BASE={port - 3}\nCONTEXT_REMOTE={remote}\n"
    )
    token = secrets.token_urlsafe(24)
    secret_file = root / "environments" / ".env.local.secrets"
    secret_file.write_text(f"CONTEXT_AGENT_TOKEN={token}\n")
    secret_file.chmod(0o600)
    env = {**os.environ, "AGENTS_HOME": str(root), "XDG_CACHE_HOME": str(root / "cache")}
    env.pop("AGENT_ENV", None)
    log = (root / "agent.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agents.context", "--env", "local", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail((root / "agent.log").read_text())
        time.sleep(0.1)
    yield Agent(url, token, root)
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def spec(agent: Agent) -> dict[str, Any]:
    with agent.client() as c:
        doc: dict[str, Any] = c.get("/openapi.json").json()
    return doc


def check(spec: dict[str, Any], method: str, template: str, response: httpx.Response) -> None:
    """The status is one the document lists for the operation, the body fits its schema."""
    op = spec["paths"][template][method.lower()]
    status = str(response.status_code)
    assert status in op["responses"], (method, template, status, response.text)
    schema = op["responses"][status]["content"]["application/json"]["schema"]
    jsonschema.validate(
        response.json(),
        {**schema, "components": spec["components"]},
        cls=jsonschema.Draft202012Validator,
    )


def test_the_openapi_document_is_valid_and_names_every_operation(spec: dict[str, Any]) -> None:
    validate(spec)
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert ops == {
        "listDocuments",
        "getDocument",
        "putDocument",
        "deleteDocument",
        "documentHistory",
        "searchDocuments",
        "listSessions",
        "saveSession",
        "getSession",
        "syncStatus",
        "syncNow",
    }


def test_no_token_a_wrong_token_a_foreign_host_or_a_web_page_get_nothing(agent: Agent) -> None:
    with httpx.Client(base_url=f"{agent.url}/api/v1") as bare:
        assert bare.get("/documents").status_code == 401
        assert bare.get("/openapi.json").status_code == 401
    with agent.client(token="wrong-" + agent.token) as c:
        assert c.get("/documents").status_code == 401
    with agent.client(Host="evil.example:80") as c:
        assert c.get("/documents").status_code == 421
    with agent.client(Origin="https://evil.example") as c:
        assert (
            c.put("/documents/preference:x", json={"kind": "preference", "body": {}}).status_code
            == 403
        )


def test_documents_round_trip_with_history_and_a_compare_and_swap(
    agent: Agent, spec: dict[str, Any]
) -> None:
    with agent.client() as c:
        first = c.put(
            "/documents/preference:editor",
            json={"kind": "preference", "body": {"key": "editor", "value": "vim"}},
        )
        check(spec, "PUT", "/documents/{id}", first)
        rev = first.json()["revision"]
        stale = c.put(
            "/documents/preference:editor",
            json={
                "kind": "preference",
                "body": {"key": "editor", "value": "emacs"},
                "expect_revision": "sha256:" + "0" * 64,
            },
        )
        assert stale.status_code == 409
        second = c.put(
            "/documents/preference:editor",
            json={
                "kind": "preference",
                "body": {"key": "editor", "value": "helix"},
                "expect_revision": rev,
            },
        )
        assert second.status_code == 200
        got = c.get("/documents/preference:editor")
        check(spec, "GET", "/documents/{id}", got)
        assert got.json()["body"]["value"] == "helix"
        history = c.get("/documents/preference:editor/history")
        check(spec, "GET", "/documents/{id}/history", history)
        assert len(history.json()["revisions"]) == 2
        listed = c.get("/documents", params={"kind": "preference"})
        check(spec, "GET", "/documents", listed)
        assert "preference:editor" in [d["id"] for d in listed.json()["documents"]]
        found = c.get("/search", params={"q": "helix"})
        check(spec, "GET", "/search", found)
        assert [h["id"] for h in found.json()["hits"]] == ["preference:editor"]
        gone = c.delete("/documents/preference:editor")
        check(spec, "DELETE", "/documents/{id}", gone)
        assert gone.json()["document"]["deleted"] is True
        assert c.get("/documents/preference:editor").status_code == 404


@pytest.mark.parametrize("kind", ["mcp_server", "claude_file", "skill", "machine_key"])
def test_kinds_that_run_code_or_carry_keys_are_refused(agent: Agent, kind: str) -> None:
    with agent.client() as c:
        answer = c.put(f"/documents/{kind}:planted", json={"kind": kind, "body": {"x": 1}})
    assert answer.status_code == 403 and "agents context put" in answer.json()["error"]["message"]


def test_a_session_saved_from_a_webhook_is_found_again(agent: Agent, spec: dict[str, Any]) -> None:
    """What the example n8n workflow does: save a session, then search for it."""
    with agent.client() as c:
        saved = c.post(
            "/sessions",
            json={
                "title": "Incident 4711",
                "summary": "ticket from the webhook",
                "current_tasks": ["call the vendor"],
                "project": "ops",
            },
        )
        check(spec, "POST", "/sessions", saved)
        sid = saved.json()["id"]
        again = c.get(f"/sessions/{sid}")
        check(spec, "GET", "/sessions/{id}", again)
        assert again.json()["markdown"].startswith("# Incident 4711")
        assert sid in [d["id"] for d in c.get("/sessions").json()["documents"]]
        assert sid in [h["id"] for h in c.get("/search", params={"q": "4711"}).json()["hits"]]


def test_sync_can_be_triggered_and_its_status_read(agent: Agent, spec: dict[str, Any]) -> None:
    with agent.client() as c:
        done = c.post("/sync", json={"direction": "push"})
        check(spec, "POST", "/sync", done)
        status = c.get("/sync")
        check(spec, "GET", "/sync", status)
        assert status.json()["unpushed"] == 0
        assert c.post("/sync", json={"direction": "sideways"}).status_code == 400


ids = st.sampled_from(
    ["preference:a", "session:x", "project:p", "mcp_server:m", "claude_file:user/CLAUDE.md"]
)
requests = st.one_of(
    st.tuples(
        st.just("PUT"),
        st.just("/documents/{id}"),
        ids,
        st.fixed_dictionaries(
            {
                "kind": st.sampled_from(["preference", "session", "project", "mcp_server", "x"]),
                "body": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
            }
        ),
    ),
    st.tuples(st.sampled_from(["GET", "DELETE"]), st.just("/documents/{id}"), ids, st.none()),
    st.tuples(st.just("GET"), st.just("/documents/{id}/history"), ids, st.none()),
    st.tuples(
        st.just("GET"),
        st.sampled_from(["/documents", "/search", "/sessions"]),
        st.none(),
        st.fixed_dictionaries(
            {"q": st.text(max_size=8), "limit": st.sampled_from(["", "0", "5", "51", "501", "x"])}
        ),
    ),
    st.tuples(
        st.just("POST"),
        st.just("/sessions"),
        st.none(),
        st.fixed_dictionaries(
            {
                "title": st.one_of(st.none(), st.text(max_size=10)),
                "status": st.one_of(st.none(), st.sampled_from(["active", "bogus"])),
                "current_tasks": st.one_of(st.none(), st.lists(st.text(max_size=5), max_size=2)),
            }
        ),
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(request=requests)
def test_every_answer_to_a_drawn_request_fits_the_openapi_document(
    agent: Agent, spec: dict[str, Any], request: tuple[str, str, str | None, Any]
) -> None:
    method, template, doc_id, payload = request
    path = template.replace("{id}", doc_id or "")
    with agent.client() as c:
        if method in ("GET", "DELETE") and isinstance(payload, dict):
            response = c.request(method, path, params={k: v for k, v in payload.items() if v})
        elif method in ("GET", "DELETE"):
            response = c.request(method, path)
        else:
            response = c.request(method, path, json=payload)
    assert response.status_code < 500 or response.status_code in (502, 503), response.text
    check(spec, method, template, response)


def test_the_example_n8n_workflow_calls_documented_operations_with_header_auth(
    agent: Agent, spec: dict[str, Any]
) -> None:
    """docs/examples/n8n-context-session.json: each HTTP Request node is an operation of
    the document, authenticated by a header credential, and replaying its requests (as n8n
    would send them for a webhook call) succeeds."""
    import json as _json
    from urllib.parse import urlsplit

    example = Path(__file__).parents[2] / "docs" / "examples" / "n8n-context-session.json"
    flow = _json.loads(example.read_text())
    calls = [n for n in flow["nodes"] if n["type"] == "n8n-nodes-base.httpRequest"]
    assert [n["name"] for n in calls] == ["Save session", "Search the store"]
    for node in calls:
        p = node["parameters"]
        assert p["authentication"] == "genericCredentialType"
        assert p["genericAuthType"] == "httpHeaderAuth" and "httpHeaderAuth" in node["credentials"]
        path = urlsplit(p["url"]).path.removeprefix("/api/v1")
        assert p["method"].lower() in spec["paths"][path]
    hook = {"title": "Webhook 99", "summary": "from n8n", "tasks": ["triage"]}
    with agent.client() as c:
        saved = c.post(
            "/sessions",
            json={
                "title": hook["title"],
                "summary": hook["summary"],
                "current_tasks": hook["tasks"],
            },
        )
        check(spec, "POST", "/sessions", saved)
        found = c.get("/search", params={"q": hook["title"], "kind": "session", "limit": "5"})
        check(spec, "GET", "/search", found)
    assert saved.json()["id"] in [h["id"] for h in found.json()["hits"]]
