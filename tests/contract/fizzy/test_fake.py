"""The fake itself against the checklist of Fizzy's documented API, over raw HTTP,
so the contract tests above are judged against Fizzy's documented behaviour."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.fizzy import INACTIVE_TOKEN, READ_TOKEN, SLUG, WRITE_TOKEN, FakeFizzy

pytestmark = pytest.mark.contract
JSON = {"Authorization": f"Bearer {WRITE_TOKEN}", "Accept": "application/json"}


@pytest.fixture(name="http")
def _http(fake: FakeFizzy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers=JSON) as client:
        yield client


def test_paths_carry_the_account_slug_and_identity_is_untenanted(
    fake: FakeFizzy, http: httpx.Client
) -> None:
    """Unknown slug: 302 to the account menu; /my/identity with a slug: 302 to root."""
    assert http.get(f"/{SLUG}/boards").status_code == 200
    unknown = http.get("/111/boards")
    assert (unknown.status_code, unknown.headers["location"]) == (302, f"{fake.url}/session/menu")
    assert http.get(f"/{SLUG}/my/identity").headers["location"] == f"{fake.url}/"
    slugs = [a["slug"] for a in http.get("/my/identity").json()["accounts"]]
    assert slugs == [f"/{SLUG}", "/686465299"]


def test_authentication_answers_302_401_and_403_as_fizzy_does(fake: FakeFizzy) -> None:
    """No credentials: 302 login; bad token, read token writing, or non-JSON: 401; inactive: 403."""
    url = f"{fake.url}/{SLUG}/boards"
    none = httpx.get(url)
    assert (none.status_code, none.headers["location"]) == (302, f"{fake.url}/session/new")
    bad = httpx.get(url, headers={**JSON, "Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == 'Token realm="Application"'
    html = httpx.get(url, headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
    assert html.status_code == 401
    assert httpx.get(f"{url}.json", headers={"Authorization": JSON["Authorization"]}).is_success
    read = {"Authorization": f"Bearer {READ_TOKEN}", "Accept": "application/json"}
    assert httpx.get(url, headers=read).status_code == 200
    assert httpx.post(url, headers=read, json={"board": {"name": "x"}}).status_code == 401
    inactive = httpx.get(url, headers={**JSON, "Authorization": f"Bearer {INACTIVE_TOKEN}"})
    assert (inactive.status_code, inactive.content) == (403, b"")


def test_cards_are_addressed_by_number_not_id(fake: FakeFizzy, http: httpx.Client) -> None:
    """GET /cards/{number} works; the string id is a 404 with Rails' JSON body."""
    card = fake.account.add_card(fake.board, "A", fake.david)
    assert http.get(f"/{SLUG}/cards/{card.number}").json()["id"] == card.id
    missing = http.get(f"/{SLUG}/cards/{card.id}")
    assert (missing.status_code, missing.json()) == (404, {"status": 404, "error": "Not Found"})


def test_lists_are_paged_15_30_50_100_with_link_and_total_count(
    fake: FakeFizzy, http: httpx.Client
) -> None:
    """Geared pagination: page sizes grow; Link rel=next only while items remain."""
    for i in range(200):
        fake.account.add_card(fake.board, f"c{i}", fake.david)
    sizes, url = [], f"/{SLUG}/cards"
    while url:
        resp = http.get(url)
        assert resp.headers["x-total-count"] == "200"
        sizes.append(len(resp.json()))
        url = resp.links.get("next", {}).get("url", "")
    assert sizes == [15, 30, 50, 100, 5]
    assert "link" not in http.get(f"/{SLUG}/boards/{fake.board.id}/columns").headers


def test_bodies_may_be_nested_or_flat_but_not_missing(fake: FakeFizzy, http: httpx.Client) -> None:
    """wrap_parameters: flat JSON works; no wrapper and no known field is a 400."""
    nested = http.post(f"/{SLUG}/boards", json={"board": {"name": "Nested"}})
    flat = http.post(f"/{SLUG}/boards", json={"name": "Flat"})
    assert (nested.status_code, flat.status_code) == (201, 201)
    assert flat.headers["location"].endswith(f"/boards/{flat.json()['id']}.json")
    missing = http.post(f"/{SLUG}/boards", json={"title": "wrong"})
    assert (missing.status_code, missing.json()) == (400, {"status": 400, "error": "Bad Request"})
    card = fake.account.add_card(fake.board, "Untagged", fake.david)
    assert http.post(f"/{SLUG}/cards/{card.number}/taggings", json={}).status_code == 400


def test_card_lifecycle_follows_fizzys_model_rules(fake: FakeFizzy, http: httpx.Client) -> None:
    """close keeps the column; postpone clears it and reopens; triage resumes; actions are 204."""
    column = fake.columns[0]
    card = fake.account.add_card(fake.board, "Life", fake.david, column_id=column.id)
    base = f"/{SLUG}/cards/{card.number}"
    assert http.post(f"{base}/closure").status_code == 204
    shown = http.get(base).json()
    assert shown["closed"] and shown["column"]["id"] == column.id
    assert http.post(f"{base}/not_now").status_code == 204
    shown = http.get(base).json()
    assert (shown["closed"], shown["postponed"], "column" in shown) == (False, True, False)
    assert http.post(f"{base}/triage", json={"column_id": column.id}).status_code == 204
    shown = http.get(base).json()
    assert (shown["postponed"], shown["column"]["color"]) == (
        False,
        {"name": "Blue", "value": column.color},
    )
    assert http.delete(f"{base}/triage").status_code == 204
    assert "column" not in http.get(base).json()


def test_card_json_has_the_documented_fields(fake: FakeFizzy, http: httpx.Client) -> None:
    """At most 5 assignees plus has_more_assignees, sorted tag titles, steps on show only."""
    people = [fake.david, fake.jason, fake.kevin, *fake.people]
    card = fake.account.add_card(fake.board, "F", fake.david, assignee_ids=[p.id for p in people])
    for title in ("zeta", "alpha"):
        fake.account.toggle_tag(card, title)
    shown = http.get(f"/{SLUG}/cards/{card.number}").json()
    assert len(shown["assignees"]) == 5 and shown["has_more_assignees"] is True
    assert shown["tags"] == ["alpha", "zeta"] and shown["steps"] == []
    listed = http.get(f"/{SLUG}/cards").json()[0]
    assert "steps" not in listed and {"closed", "postponed", "golden"} <= listed.keys()


def test_toggles_flip_state_and_creates_answer_201_with_location(
    fake: FakeFizzy, http: httpx.Client
) -> None:
    """taggings/assignments toggle (204 each time); a comment create is 201 + Location + body."""
    card = fake.account.add_card(fake.board, "T", fake.david)
    base = f"/{SLUG}/cards/{card.number}"
    for expected in (["bug"], []):
        assert http.post(f"{base}/taggings", json={"tag_title": "#bug"}).status_code == 204
        assert http.get(base).json()["tags"] == expected
    created = http.post(f"{base}/comments", json={"comment": {"body": "hi"}})
    assert created.status_code == 201 and created.json()["body"]["plain_text"] == "hi"
    assert created.headers["location"] == f"{created.json()['url']}.json"


def test_faults_answer_with_retry_after_then_stop(fake: FakeFizzy, http: httpx.Client) -> None:
    """fail() injects a proxy's 429 with Retry-After for the next matching requests only."""
    fake.fail(429, retry_after="3", method="GET")
    limited = http.get(f"/{SLUG}/boards")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    assert http.get(f"/{SLUG}/boards").status_code == 200
