"""The client's conventions against the fake: auth answers, error bodies, retries honouring
Retry-After, page tokens, and what every call leaves in the record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from agents.core.errors import ConfigError, NotConfiguredError, UpstreamError
from agents.core.server import AgentServer
from agents.core.testing import free_port
from agents.fizzy.app import connect
from agents.fizzy.client import FizzyClient
from agents.fizzy.models import Member
from tests.contract.fizzy.conftest import Agent, layers_for, open_agent
from tests.fakes.fizzy import INACTIVE_TOKEN, READ_TOKEN, SLUG, WRITE_TOKEN, FakeFizzy

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


async def test_an_unknown_token_is_a_401_naming_fizzy_token_and_its_file(
    server: AgentServer, fake: FakeFizzy
) -> None:
    """Fizzy's plain-text 401 becomes: the token is invalid, set it in the secrets file."""
    async with open_agent(server, fake, token="not-a-token") as agent:
        message = await agent.fail("get_identity")
    assert message.startswith("Fizzy refused FIZZY_TOKEN (401): it is invalid or revoked")
    assert "environments/.env.test.secrets" in message and "not-a-token" not in message


async def test_a_read_only_token_reads_but_a_write_explains_the_401(
    server: AgentServer, fake: FakeFizzy
) -> None:
    """Read tokens may only GET; the write's 401 says the token may be read-only."""
    async with open_agent(server, fake, token=READ_TOKEN) as agent:
        assert (await agent.call("list_projects"))["items"]
        message = await agent.fail("create_project", name="Nope")
    assert "read-only (this call writes" in message and fake.account.boards.keys() == {
        fake.board.id,
        fake.secret.id,
    }


async def test_a_redirect_to_the_login_page_means_the_token_is_missing(fake: FakeFizzy) -> None:
    """No bearer credentials (an empty token sends none): Fizzy answers 302 to /session/new."""
    client = FizzyClient("", fake.url, SLUG, token_home="environments/.env.local.secrets")
    with pytest.raises(NotConfiguredError, match="login page: FIZZY_TOKEN is missing or invalid"):
        await client.get("/users", Member, what="the members")
    await client.aclose()
    assert fake.seen[0].status == 302


async def test_an_unknown_account_redirects_to_the_menu_and_names_fizzy_account(
    server: AgentServer, fake: FakeFizzy
) -> None:
    """A slug Fizzy does not know: 302 to the session menu."""
    async with open_agent(server, fake, account="123") as agent:
        message = await agent.fail("list_projects")
    assert "does not know account '123'" in message and "FIZZY_ACCOUNT" in message


async def test_other_redirects_say_what_they_mean(agent: Agent) -> None:
    """A draft task redirects to its draft page; another origin means FIZZY_URL is wrong."""
    card = agent.fake.account.add_card(
        agent.fake.board, "Draft", agent.fake.david, status="drafted"
    )
    message = await agent.fail("get_task", task_number=card.number, account=SLUG)
    assert f"task #{card.number} is a draft" in message
    agent.fake.fail(301, method="GET", location="https://fizzy.example.com/my/identity")
    message = await agent.fail("get_identity")
    assert "another origin" in message and "not followed" in message
    assert "set FIZZY_URL=https://fizzy.example.com" in message
    assert not [s for s in agent.fake.seen if "fizzy.example.com" in s.path]


async def test_a_deactivated_user_gets_the_403_explained(
    server: AgentServer, fake: FakeFizzy
) -> None:
    """Inactive users get an empty 403."""
    async with open_agent(server, fake, token=INACTIVE_TOKEN, account=SLUG) as agent:
        message = await agent.fail("list_members")
    assert "(403 Forbidden)" in message and "deactivated" in message


async def test_an_sso_only_server_says_why_it_refuses_tokens(agent: Agent) -> None:
    """Self-hosted SSO servers answer 403 with {"error", "message"}: the message is passed on."""
    agent.fake.sso_only = True
    message = await agent.fail("list_projects", account=SLUG)
    assert "(403 Forbidden): Sign in with SSO. (single_sign_on_required)" in message


async def test_a_422_with_field_errors_names_each_field(fake: FakeFizzy) -> None:
    """Rails' `render json: record.errors` body {"name": ["can't be blank"]}."""
    client = FizzyClient(WRITE_TOKEN, fake.url, SLUG)
    with pytest.raises(UpstreamError, match="name: can't be blank") as caught:
        await client.update(
            f"/users/{fake.david.id}", {"user": {"name": ""}}, Member, what="your profile"
        )
    await client.aclose()
    assert caught.value.status == 422 and caught.value.code == "invalid"


async def test_idempotent_requests_are_retried_honouring_retry_after(agent: Agent) -> None:
    """429 with Retry-After: 7 waits 7 s; the next, a 503 without it, backs off 2 s + jitter."""
    agent.fake.fail(429, retry_after="7", method="GET")
    agent.fake.fail(503, method="GET")
    projects = await agent.call("list_projects")
    assert projects["items"] and agent.sleeps[0] == 7.0 and 2.0 <= agent.sleeps[1] <= 2.5
    assert [s.status for s in agent.fake.seen] == [429, 503, 200, 200]


async def test_a_retry_after_http_date_is_honoured(agent: Agent) -> None:
    """Retry-After may be an HTTP-date: the wait is the time until then."""
    when = datetime.now(UTC) + timedelta(seconds=20)
    agent.fake.fail(503, retry_after=format_datetime(when, usegmt=True), method="GET")
    await agent.call("list_tags", account=SLUG)
    [wait] = agent.sleeps
    assert 15.0 <= wait <= 20.0


async def test_the_first_retry_waits_at_least_a_second_and_waits_are_jittered(
    server: AgentServer, fake: FakeFizzy, sleeps: list[float]
) -> None:
    """Fizzy's SDK backs off from 1000 ms; jitter keeps clients from retrying in step."""
    for _ in range(8):
        fake.fail(503, method="GET", path="/tags", times=2)
        async with open_agent(server, fake) as agent:
            await agent.call("list_tags", account=SLUG)
    firsts, seconds = sleeps[0::2], sleeps[1::2]
    assert len(sleeps) == 16 and min(firsts) >= 1.0 and max(firsts) <= 1.5
    assert min(seconds) >= 2.0 and max(seconds) <= 2.5
    assert len(set(sleeps)) > 2  # jittered, not a fixed schedule


async def test_a_close_is_retried_because_fizzy_makes_it_idempotent(agent: Agent) -> None:
    """POST closure is safe to repeat; the retry lands and the task is closed."""
    card = agent.fake.account.add_card(agent.fake.board, "Flaky", agent.fake.david)
    agent.fake.fail(503, method="POST", path="/closure", times=2)
    task = await agent.call("close_task", task_number=card.number, account=SLUG)
    assert task["closed"] is True and len(agent.sleeps) == 2 and agent.sleeps[0] >= 1.0


async def test_creates_and_toggles_are_never_retried(agent: Agent) -> None:
    """A POST that may have been applied is not repeated: one attempt, a clear error."""
    agent.fake.fail(503, method="POST")
    message = await agent.fail("add_step", task_number=1, content="x", account=SLUG)
    assert "503" in message and agent.sleeps == []
    card = agent.fake.account.add_card(agent.fake.board, "Tag me", agent.fake.david)
    agent.fake.fail(429, method="POST", path="/taggings", retry_after="1")
    message = await agent.fail("tag_task", task_number=card.number, tag="bug")
    assert "rate limiting" in message and "retry after 1 s" in message
    assert len(agent.fake.requests("POST", "/taggings")) == 1 and card.tag_ids == []


async def test_a_retry_after_longer_than_the_limit_fails_at_once_saying_when(
    agent: Agent,
) -> None:
    """Waiting minutes inside a tool call helps nobody: say when to retry instead."""
    agent.fake.fail(429, retry_after="600", method="GET")
    message = await agent.fail("list_members", account=SLUG)
    assert "retry after 600 s" in message and agent.sleeps == []


async def test_an_unreachable_fizzy_is_retried_then_named(sleeps: list[float]) -> None:
    """Connection refused: GETs are retried with backoff, then the error names FIZZY_URL's host."""
    url = f"http://127.0.0.1:{free_port()}"
    client = FizzyClient(WRITE_TOKEN, url, SLUG)
    with pytest.raises(UpstreamError, match=f"cannot reach Fizzy at {url}"):
        await client.get("/users", Member, what="the members")
    await client.aclose()
    assert len(sleeps) == 2 and 1.0 <= sleeps[0] <= 1.5 and 2.0 <= sleeps[1] <= 2.5


async def test_mark_all_notifications_read_is_tried_once(agent: Agent) -> None:
    """Fizzy's SDK gives bulk_reading one attempt: a 503 is reported, not repeated."""
    agent.fake.fail(503, method="POST", path="/bulk_reading", times=3)
    message = await agent.fail("mark_all_notifications_read", account=SLUG)
    assert "503" in message and agent.sleeps == []
    assert len(agent.fake.requests("POST", "/bulk_reading")) == 1


async def test_every_upstream_error_carries_fizzys_request_id(agent: Agent) -> None:
    """X-Request-Id is what Fizzy's support asks for: 404, 422, 5xx and redirects carry it."""
    message = await agent.fail("get_task", task_number=404, account=SLUG)
    assert f"(X-Request-Id {agent.fake.seen[-1].request_id})" in message
    agent.fake.fail(503, method="POST", path="/boards")
    message = await agent.fail("create_project", name="x", account=SLUG)
    rid = agent.fake.seen[-1].request_id
    assert rid and message.endswith(f"(X-Request-Id {rid})")
    agent.fake.fail(301, method="GET", location="https://elsewhere.example/x")
    message = await agent.fail("list_tags", account=SLUG)
    assert f"(X-Request-Id {agent.fake.seen[-1].request_id})" in message


def test_cleartext_fizzy_url_is_refused_at_start_naming_the_setting_and_file() -> None:
    """The token must not cross a network in cleartext: http:// only for loopback hosts."""
    with pytest.raises(ConfigError) as caught:
        connect(layers_for("http://fizzy.example.com", WRITE_TOKEN))
    message = str(caught.value)
    assert "FIZZY_URL" in message and "environments/.env.test" in message
    assert "cleartext" in message and "https://" in message
    for url in (
        "http://127.0.0.1:3006",
        "http://localhost:3006",
        "http://app.fizzy.localhost",
        "http://[::1]:3006",
        "https://fizzy.example.com",
    ):
        assert connect(layers_for(url, WRITE_TOKEN)).base_url == url


async def test_a_page_token_must_come_from_the_same_list(agent: Agent) -> None:
    """Tokens are paths on FIZZY_URL: a foreign URL or another list's token is refused."""
    for token in (
        "https://evil.example/897362094/boards?page=2",
        "//evil.example/897362094/boards",
        f"/{SLUG}/users?page=2",
        f"/{SLUG}/boards#skip=x",
    ):
        message = await agent.fail("list_projects", page_token=token)
        assert "page_token is not a next_page_token of this list" in message
    assert agent.fake.seen == []


async def test_an_id_too_long_for_a_url_is_a_clear_input_error_sent_nowhere(agent: Agent) -> None:
    """A 100 KB project id or account (digits) cannot make a URL: a tool error, not a crash."""
    message = await agent.fail("get_project", project_id="a" * 100_000)
    assert message.startswith("cannot ask Fizzy for") and "URL too long" in message
    message = await agent.fail("list_projects", account="9" * 100_000)
    assert "too long for a URL" in message
    assert all(len(seen.path) < 1000 for seen in agent.fake.seen)


async def test_an_account_of_non_ascii_digits_is_not_a_slug(agent: Agent) -> None:
    """Superscript or Arabic-Indic digits are digits to Python, not to Fizzy's URLs."""
    for account in ("\u00b9\u00b2", "\u0661\u0662\u0663"):
        message = await agent.fail("list_projects", account=account)
        assert "is not a Fizzy account slug" in message
    assert agent.fake.seen == []


async def test_a_link_to_another_origin_is_an_error_never_followed(agent: Agent) -> None:
    """Fizzy's SDK refuses a cross-origin next page: the token only ever goes to FIZZY_URL."""
    for i in range(20):
        agent.fake.account.add_card(agent.fake.board, f"c{i}", agent.fake.david)
    agent.fake.url = "http://fizzy.example.invalid"
    message = await agent.fail("list_tasks", limit=50)
    assert "Link: rel=next" in message and "another origin" in message
    assert "http://fizzy.example.invalid" in message and "not followed" in message
    assert len(agent.fake.requests("GET", "/cards")) == 1


async def test_a_same_origin_link_is_followed(agent: Agent) -> None:
    """The documented case: Link names FIZZY_URL itself."""
    for i in range(20):
        agent.fake.account.add_card(agent.fake.board, f"c{i}", agent.fake.david)
    page = await agent.call("list_tasks", limit=50)
    assert len(page["items"]) == 20 and len(agent.fake.requests("GET", "/cards")) == 2


async def test_a_location_to_another_origin_is_an_error_never_followed(agent: Agent) -> None:
    """A 201 without a body is read back from Location, but only on FIZZY_URL's origin."""
    agent.fake.create_bodies = False
    agent.fake.url = "https://fizzy.example.invalid"
    message = await agent.fail("create_project", name="Moved", account=SLUG)
    assert "Location header" in message and "another origin" in message
    assert agent.fake.requests("GET") == []


async def test_a_downgrade_to_http_is_refused_before_anything_is_sent() -> None:
    """An https FIZZY_URL never follows an http Link or Location, even on the same host."""
    client = FizzyClient(WRITE_TOKEN, "https://fizzy.example.com", SLUG)
    with pytest.raises(UpstreamError, match="downgrades https to http") as caught:
        client.same_origin("http://fizzy.example.com/1/cards?page=2", "the tasks", "Link")
    assert caught.value.code == "cross_origin"
    assert client.same_origin("/1/cards?page=2", "the tasks", "Link") == "/1/cards?page=2"
    assert (
        client.same_origin("https://FIZZY.example.com/1/cards?page=2", "the tasks", "Link")
        == "/1/cards?page=2"
    )
    await client.aclose()


async def test_every_call_is_recorded_with_its_output_and_writes_name_their_target(
    agent: Agent,
) -> None:
    """One ToolCall per call; a write carries write=True and the Fizzy path, never the token."""
    card = agent.fake.account.add_card(agent.fake.board, "Record me", agent.fake.david)
    await agent.call("close_task", task_number=card.number)
    await agent.fail("get_task", task_number=404)
    ok, failed = agent.recorder.calls
    assert ok.tool == "close_task" and ok.outcome == "ok" and ok.output["closed"] is True
    assert ok.meta == {"write": True, "target": f"fizzy:POST /{SLUG}/cards/{card.number}/closure"}
    assert failed.outcome == "error" and "task #404 not found" in failed.error
    assert WRITE_TOKEN not in repr(agent.recorder.calls)


async def test_requests_carry_bearer_json_accept_and_a_user_agent(agent: Agent) -> None:
    """Fizzy honours Bearer auth only on JSON-format requests."""
    await agent.call("list_tags", account=SLUG)
    headers = agent.fake.seen[0].headers
    assert headers["authorization"] == f"Bearer {WRITE_TOKEN}"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith("claude-agents-fizzy/")
