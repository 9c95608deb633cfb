"""The per-call seam: error mapping, one log event per call, recording, health routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import Field
from pytest_mock import MockerFixture
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from agents.core.errors import InputError, StoreError
from agents.core.recorder import ToolCall, annotate_call
from agents.core.registry import ToolRegistry
from agents.core.runtime import AgentRuntime
from agents.core.server import MAX_ERROR_CHARS, build_server
from agents.core.testing import recording
from agents.launch import http_app
from tests.results import text_of
from tests.unit.core.util import runtime_for, server_for

pytestmark = pytest.mark.anyio


def demo_registry() -> ToolRegistry:
    reg = ToolRegistry("demo")

    @reg.tool()
    async def echo(
        text: Annotated[str, Field(description="Text")],
        api_key: Annotated[str, Field(description="A secret")] = "",
    ) -> str:
        """Echo."""
        return text

    @reg.tool()
    async def refuse(page: Annotated[str, Field(description="Page id")]) -> str:
        """Fail the way a user can fix."""
        raise InputError(f"page {page!r} not found or not shared with the integration")

    @reg.tool()
    async def write(user: Annotated[str, Field(description="User")]) -> str:
        """A write that says what it touched."""
        annotate_call(write=True, target=f"user:{user}")
        return "done"

    @reg.tool()
    async def crash() -> str:
        """Fail the way only a bug fails."""
        raise RuntimeError("internal detail sk-live-should-not-leak")

    return reg


async def test_agent_info_reports_version_env_tool_count_and_upstream() -> None:
    """Every agent has agent_info; it counts itself among the tools."""
    async with Client(server_for(demo_registry(), client=None)) as client:
        result = await client.call_tool("agent_info", {})
    info = result.structured_content
    assert info is not None
    assert info["version"] == "9.9.9"
    assert info["env"] == "test"
    assert info["tools"] == 5
    assert info["upstream_configured"] is False
    assert "DEMO_TOKEN missing" in info["reason"]


async def test_a_user_fixable_error_becomes_a_tool_error_with_its_message() -> None:
    """AgentError subclasses reach the client as is_error with their own text."""
    async with Client(server_for(demo_registry())) as client:
        result = await client.call_tool("refuse", {"page": "abc"})
    assert result.is_error
    assert text_of(result) == "page 'abc' not found or not shared with the integration"


async def test_an_error_quoting_a_huge_argument_is_clipped_keeping_its_head_and_tail() -> None:
    """A 100 KB page id does not come back, nor get recorded, as a 100 KB error."""
    rec = recording()
    async with Client(server_for(demo_registry(), recorder=rec)) as client:
        result = await client.call_tool("refuse", {"page": "x" * 100_000})
    text = text_of(result)
    assert result.is_error
    assert len(text) <= MAX_ERROR_CHARS + 60
    assert text.startswith("page 'xxx") and text.endswith("not shared with the integration")
    assert "characters left out" in text
    assert rec.calls[-1].error == text


async def test_a_crash_is_logged_with_traceback_and_returned_as_a_generic_error() -> None:
    """The client sees no internals; the log has the traceback; the server keeps serving."""
    server = server_for(demo_registry())
    async with Client(server) as client:
        with capture_logs() as logs:
            result = await client.call_tool("crash", {})
        after = await client.call_tool("echo", {"text": "still here"})
    assert result.is_error
    assert "sk-live" not in text_of(result)
    assert text_of(after) == "still here"
    call = [e for e in logs if e["event"] == "tool_call"]
    assert call[0]["outcome"] == "crash"


async def test_invalid_arguments_are_a_tool_error_not_a_crash() -> None:
    """A wrong type is reported by parameter name and classed as invalid_arguments."""
    rec = recording()
    async with Client(server_for(demo_registry(), recorder=rec)) as client:
        result = await client.call_tool("echo", {"text": 12})
    assert result.is_error
    assert "text" in text_of(result)
    assert rec.calls[-1].outcome == "invalid_arguments"


async def test_a_parameter_the_tool_does_not_take_is_refused_with_the_nearest_name() -> None:
    """A misspelled name is not dropped silently (the tool would run without it): the
    call is refused before the tool runs, naming it, the likely intent and what it takes."""
    rec = recording()
    async with Client(server_for(demo_registry(), recorder=rec)) as client:
        typo = await client.call_tool("write", {"user": "ada", "usr": "bob"})
        several = await client.call_tool("echo", {"text": "hi", "txt": "a", "x" * 100: 1})
        fine = await client.call_tool("echo", {"text": "hi"})
    assert typo.is_error
    assert text_of(typo) == (
        "write has no parameter 'usr'; did you mean 'user' instead of 'usr'? It takes: user"
    )
    assert rec.calls[0].meta == {}  # write never ran, so never annotated its record
    assert several.is_error
    text = text_of(several)
    assert "has no parameters 'txt', '" + "x" * 60 + "…'" in text
    assert text.endswith("It takes: api_key, text")
    assert not fine.is_error
    assert [c.outcome for c in rec.calls] == ["invalid_arguments", "invalid_arguments", "ok"]


async def test_each_call_logs_one_event_with_tool_duration_and_outcome_and_no_values() -> None:
    """The log event never carries argument values."""
    async with Client(server_for(demo_registry())) as client:
        with capture_logs() as logs:
            await client.call_tool("echo", {"text": "hello-value", "api_key": "sk-secret-1"})
    events = [e for e in logs if e["event"] == "tool_call"]
    assert len(events) == 1
    event = events[0]
    assert event["tool"] == "echo" and event["outcome"] == "ok"
    assert isinstance(event["duration_ms"], float)
    assert "hello-value" not in repr(logs) and "sk-secret-1" not in repr(logs)


async def test_every_call_reaches_the_recorder_with_secrets_redacted() -> None:
    """The recorder seam sees each call; secret-named arguments are masked."""
    rec = recording()
    async with Client(server_for(demo_registry(), recorder=rec)) as client:
        await client.call_tool("echo", {"text": "hi", "api_key": "sk-secret-1"})
        await client.call_tool("refuse", {"page": "p1"})
    ok, failed = rec.calls
    assert (ok.tool, ok.status, ok.output) == ("echo", "ok", {"result": "hi"})
    assert ok.arguments == {"text": "hi", "api_key": "[redacted]"}
    assert (failed.tool, failed.outcome) == ("refuse", "error")
    assert failed.error is not None and "p1" in failed.error


async def test_a_tool_that_reads_files_is_recorded_as_hash_size_and_preview_only() -> None:
    """The file's content in the output never reaches the recorder; errors are masked too."""
    reg = ToolRegistry("demo")
    content = "root:$6$salt$hash:19000:0:99999:7:::\n" * 50
    token = "ntn_" + "Zq9" * 15

    @reg.tool(reads_files=True)
    async def read_file(path: Annotated[str, Field(description="Path")]) -> dict[str, str]:
        """Read a file."""
        return {"path": path, "content": content}

    @reg.tool()
    async def leak(text: Annotated[str, Field(description="Text")]) -> str:
        """Fail quoting a token."""
        raise InputError(f"bad {text}")

    rec = recording()
    async with Client(server_for(reg, recorder=rec)) as client:
        result = await client.call_tool("read_file", {"path": "/etc/shadow"})
        await client.call_tool("leak", {"text": token})
    assert result.structured_content == {"path": "/etc/shadow", "content": content}
    kept, failed = rec.calls
    assert set(kept.output) == {"sha256", "bytes", "preview"}
    assert content not in repr(kept.output) and kept.output["bytes"] > len(content)
    assert failed.error is not None and token not in failed.error
    assert failed.arguments == {"text": "[redacted]"}


async def test_a_tool_of_an_unconfigured_agent_gets_a_not_configured_error() -> None:
    """Without credentials the agent lists tools and answers with what to set where."""
    reg = ToolRegistry("demo")
    runtime = runtime_for(reg, client=None)

    @reg.tool()
    async def use_upstream(ctx: Context) -> str:
        """Call the upstream."""
        return str(runtime.spec.client(ctx))

    async with Client(build_server(runtime, token=None, port=None)) as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("use_upstream", {})
    assert "ctx" not in tools[0].input_schema.get("properties", {})
    assert result.is_error
    assert text_of(result) == (
        "the demo agent is not configured: DEMO_TOKEN missing: set it in "
        "environments/.env.test.secrets"
    )


async def asgi_get(
    runtime: AgentRuntime[Any],
    path: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    server = build_server(runtime, token="t0ken", port=9, instance=instance)
    app = http_app(server)  # the app an agent process serves
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        return await http.get(path, headers=headers)


AUTH = {"Authorization": "Bearer t0ken"}


async def test_readyz_is_503_with_the_reason_until_the_upstream_is_configured() -> None:
    """Readiness explains itself to the token holder; liveness is always 200."""
    not_ready = await asgi_get(runtime_for(demo_registry(), client=None), "/readyz", headers=AUTH)
    assert not_ready.status_code == 503
    assert not_ready.json() == {
        "ready": False,
        "agent": "demo",
        "env": "test",
        "reason": "DEMO_TOKEN missing: set it in environments/.env.test.secrets",
    }
    ready = await asgi_get(runtime_for(demo_registry()), "/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    live = await asgi_get(runtime_for(demo_registry(), client=None), "/healthz")
    assert live.json() == {"status": "ok"}


async def test_readyz_without_the_token_says_only_ready_or_not() -> None:
    """Anyone on the machine may ask; only the token holder learns which setting is missing."""
    runtime = runtime_for(demo_registry(), client=None)
    for headers in (None, {"Authorization": "Bearer wrong"}):
        answer = await asgi_get(runtime, "/readyz", headers=headers)
        assert answer.status_code == 503 and answer.json() == {"ready": False}
    ready = await asgi_get(runtime_for(demo_registry()), "/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True}


async def test_readyz_checks_host_like_mcp() -> None:
    """A web page's request after DNS rebinding names its own host: refused, token or not."""
    for host in ("evil.example", "evil.example:9", "127.0.0.1.evil.example", "127.0.0.1:10"):
        for headers in ({"Host": host}, {"Host": host, **AUTH}):
            answer = await asgi_get(runtime_for(demo_registry()), "/readyz", headers=headers)
            assert answer.status_code == 421
            assert answer.json() == {"error": "the Host header must name this loopback listener"}
    for host in ("127.0.0.1:9", "localhost:9", "[::1]:9"):
        answer = await asgi_get(runtime_for(demo_registry()), "/readyz", headers={"Host": host})
        assert answer.status_code == 200


async def test_readyz_names_the_agent_and_the_start_it_belongs_to() -> None:
    """The probe tells this agent from any other server on its port by these headers, in the
    answer to anyone and in the one to the token holder (the status probe sends the token)."""
    for headers in (None, AUTH):
        answer = await asgi_get(
            runtime_for(demo_registry()), "/readyz", instance="n0nce", headers=headers
        )
        assert answer.headers["X-Agent"] == "demo"
        assert answer.headers["X-Agent-Instance"] == "n0nce"
    unsupervised = await asgi_get(runtime_for(demo_registry()), "/readyz")
    assert unsupervised.headers["X-Agent-Instance"] == ""  # no start of supervisord to name


async def test_mcp_without_the_bearer_token_is_401() -> None:
    """The SDK's token verifier guards /mcp."""
    response = await asgi_get(runtime_for(demo_registry()), "/mcp")
    assert response.status_code == 401


async def test_a_tool_can_annotate_its_record_with_what_it_touched() -> None:
    """annotate_call() lands in the record's meta, for the audit of writes."""
    rec = recording()
    async with Client(server_for(demo_registry(), recorder=rec)) as client:
        await client.call_tool("write", {"user": "alice"})
    assert rec.calls[-1].meta == {"write": True, "target": "user:alice"}


async def test_tools_are_listed_with_the_hints_a_client_uses_before_a_write() -> None:
    """Claude Code asks before a destructive tool: the hints come from the registration."""
    reg = ToolRegistry("demo")

    @reg.tool(read_only=True, idempotent=True)
    async def look() -> str:
        """Read."""
        return "x"

    @reg.tool(destructive=True)
    async def wipe() -> str:
        """Delete."""
        return "x"

    async with Client(server_for(reg)) as client:
        listed = {t.name: t.annotations for t in (await client.list_tools()).tools}
    look_hints, wipe_hints = listed["look"], listed["wipe"]
    assert look_hints is not None and wipe_hints is not None
    assert (look_hints.read_only_hint, look_hints.destructive_hint) == (True, False)
    assert (look_hints.idempotent_hint, look_hints.open_world_hint) == (True, True)
    assert (wipe_hints.read_only_hint, wipe_hints.destructive_hint) == (False, True)
    assert (wipe_hints.idempotent_hint, wipe_hints.open_world_hint) == (False, True)


async def test_each_record_carries_the_env_outcome_error_and_when_the_call_ran() -> None:
    reg = demo_registry()

    @reg.tool()
    async def slow() -> str:
        """Take 50 ms."""
        await anyio.sleep(0.05)
        return "done"

    rec = recording()
    before = datetime.now(UTC)
    async with Client(server_for(reg, recorder=rec)) as client:
        await client.call_tool("slow", {})
        await client.call_tool("refuse", {"page": "p1"})
    ran, failed = rec.calls
    assert (ran.agent, ran.env, ran.tool) == ("demo", "test", "slow")
    assert (ran.outcome, ran.error) == ("ok", None)
    assert 50 <= ran.duration_ms < 60_000
    took = timedelta(milliseconds=ran.duration_ms)
    assert before <= ran.started_at and ran.started_at + took <= datetime.now(UTC)
    assert (failed.outcome, failed.status) == ("error", "error")
    assert failed.error == "page 'p1' not found or not shared with the integration"


async def test_a_call_whose_record_cannot_be_stored_says_the_tool_ran() -> None:
    """The user learns the write happened even though its record was lost."""

    class Full:
        async def record(self, call: ToolCall) -> None:
            raise StoreError("the disk is full")

        async def run(self, status: Callable[[], dict[str, Any]]) -> None:
            return None

        async def aclose(self) -> None:
            return None

    async with Client(server_for(demo_registry(), recorder=Full())) as client:
        with capture_logs() as logs:
            result = await client.call_tool("echo", {"text": "hi"})
    assert result.is_error
    assert text_of(result) == "echo ran, but its record could not be stored: the disk is full"
    [failed] = [e for e in logs if e["event"] == "record_failed"]
    assert (failed["tool"], failed["reason"]) == ("echo", "the disk is full")


def test_mcp_with_the_bearer_token_passes_and_with_another_is_401() -> None:
    server = build_server(runtime_for(demo_registry()), token="t0ken", port=9)
    app = http_app(server)  # the app an agent process serves
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    accept = {"Accept": "application/json, text/event-stream"}
    with TestClient(app, base_url="http://127.0.0.1:9") as http:
        wrong = http.post("/mcp", json=body, headers={**accept, "Authorization": "Bearer t0ken2"})
        right = http.post("/mcp", json=body, headers={**accept, **AUTH})
    assert wrong.status_code == 401
    assert right.status_code == 200, right.text


async def test_an_error_at_the_limit_is_whole_and_a_longer_one_says_how_much_was_cut() -> None:
    """Two thirds of the limit are kept from the head, a quarter from the tail, and the
    number of characters left out is the true count between them."""
    reg = ToolRegistry("demo")

    @reg.tool()
    async def fail(text: Annotated[str, Field(description="Text")]) -> str:
        """Fail quoting the text whole."""
        raise InputError(text)

    whole = "h" * (MAX_ERROR_CHARS - 1) + "t"
    long = "".join(f"{i:05d}" for i in range(MAX_ERROR_CHARS))  # every slice differs
    rec = recording()
    async with Client(server_for(reg, recorder=rec)) as client:
        kept = await client.call_tool("fail", {"text": whole})
        cut = await client.call_tool("fail", {"text": long})
    assert text_of(kept) == whole
    head, tail = MAX_ERROR_CHARS * 2 // 3, MAX_ERROR_CHARS // 4
    left_out = len(long) - head - tail
    assert text_of(cut) == (f"{long[:head]} … [{left_out} characters left out] … {long[-tail:]}")
    assert [c.error for c in rec.calls] == [text_of(kept), text_of(cut)]


async def test_the_record_says_what_happened_on_each_of_the_sdks_error_paths() -> None:
    """A tool's own ToolError, an is_error result it returns and a crash are each recorded
    with their outcome and error (a result's text kept, other content named by its type),
    and a call that returned nothing has no output."""
    reg = demo_registry()

    @reg.tool()
    async def deny(user: Annotated[str, Field(description="User")]) -> str:
        """Refuse through the SDK's own error."""
        raise ToolError(f"{user} may not do that")

    @reg.tool()
    async def quota() -> CallToolResult:
        """Answer with an error result instead of raising, with a chart of the quota."""
        chart = ImageContent(data="iVBORw0KGgo=", mime_type="image/png")
        return CallToolResult(content=[TextContent(text="quota exceeded"), chart], is_error=True)

    rec = recording()
    async with Client(server_for(reg, recorder=rec)) as client:
        denied = await client.call_tool("deny", {"user": "ada"})
        over = await client.call_tool("quota", {})
        crashed = await client.call_tool("crash", {})
    assert denied.is_error and over.is_error and crashed.is_error
    deny_rec, quota_rec, crash_rec = rec.calls
    assert (deny_rec.outcome, deny_rec.output) == ("error", None)
    assert deny_rec.error == "Error executing tool deny: ada may not do that"
    assert (quota_rec.outcome, quota_rec.output) == ("error", ["quota exceeded", "image"])
    assert quota_rec.error == str(["quota exceeded", "image"])
    assert (crash_rec.outcome, crash_rec.output) == ("crash", None)
    assert crash_rec.error == "unexpected RuntimeError; see the agent log"


async def test_a_calls_duration_is_recorded_in_milliseconds_to_the_microsecond(
    mocker: MockerFixture,
) -> None:
    """The record's duration is the clock's difference in milliseconds, rounded to 3 places."""
    clock = mocker.patch("agents.core.server.time")
    clock.perf_counter.side_effect = [100.0, 100.0123456]
    rec = recording()
    async with Client(server_for(demo_registry(), recorder=rec)) as client:
        await client.call_tool("echo", {"text": "hi"})
    assert rec.calls[-1].duration_ms == 12.346


async def test_a_tool_is_listed_under_its_registered_name_and_its_cleaned_docstring() -> None:
    """The registry's name and description reach the client, not the SDK's defaults (the
    function's name and its raw, indented docstring)."""
    reg = ToolRegistry("demo")

    @reg.tool("demo_search")
    async def search() -> str:
        """Search pages.

        Matches titles only.
        """
        return "x"

    async with Client(server_for(reg)) as client:
        listed = {t.name: t.description for t in (await client.list_tools()).tools}
    assert listed["demo_search"] == "Search pages.\n\nMatches titles only."
    assert "search" not in listed


async def test_the_server_introduces_itself_with_the_agents_name_version_and_instructions() -> None:
    """What a client shows for the server comes from the agent's spec; an agent without
    instructions sends none."""
    told = "Use demo_search before writing."
    async with Client(server_for(demo_registry(), instructions=told)) as client:
        info, instructions = client.server_info, client.instructions
    assert info is not None and (info.name, info.version) == ("demo-agent", "9.9.9")
    assert instructions == told
    async with Client(server_for(demo_registry())) as client:
        assert client.instructions is None


async def test_agent_info_is_listed_as_a_safe_read_and_reports_its_uptime_to_the_millisecond(
    mocker: MockerFixture,
) -> None:
    """A client may call agent_info without asking (read-only, idempotent, not destructive);
    its uptime is the monotonic clock since the runtime started, in seconds, to 3 places."""
    runtime = runtime_for(demo_registry())
    server = build_server(runtime, token=None, port=None)
    clock = mocker.patch("agents.core.server.time")
    clock.perf_counter.return_value = 0.0
    clock.monotonic.return_value = runtime.started + 12.3456
    async with Client(server) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        result = await client.call_tool("agent_info", {})
    hints = listed["agent_info"].annotations
    assert hints is not None
    assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (
        True,
        False,
        True,
    )
    assert result.structured_content is not None
    assert result.structured_content["uptime_seconds"] == 12.346


async def test_a_401_points_to_the_resource_metadata_of_this_listener() -> None:
    """An MCP client refused at /mcp learns, per RFC 9728, where this server's protected
    resource metadata is, and that metadata names /mcp on this loopback port."""
    runtime = runtime_for(demo_registry())
    refused = await asgi_get(runtime, "/mcp")
    assert refused.status_code == 401
    where = "http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{where}"' in refused.headers["WWW-Authenticate"]
    metadata = await asgi_get(runtime, where.removeprefix("http://127.0.0.1:9"))
    assert metadata.status_code == 200
    assert metadata.json()["resource"] == "http://127.0.0.1:9/mcp"


async def test_a_removed_tool_leaves_the_list_and_a_call_to_it_is_refused_by_name() -> None:
    """The cached list and parameter names are rebuilt once a tool is removed."""
    server = server_for(demo_registry())
    async with Client(server) as client:
        before = {t.name for t in (await client.list_tools()).tools}
        assert not (await client.call_tool("echo", {"text": "hi"})).is_error
        server.remove_tool("echo")
        after = {t.name for t in (await client.list_tools()).tools}
        refused = await client.call_tool("echo", {"text": "hi"})
    assert before - after == {"echo"}
    assert refused.is_error and "echo" in text_of(refused)
